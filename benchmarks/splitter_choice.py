"""Why the project splits sentences the way it does: boundary accuracy on the
team's table of tricky news text (tests/test_sentences.py) and speed, for the
project splitter (blingfire plus line rules) and the alternatives considered.

    python -m benchmarks.splitter_choice
"""

from __future__ import annotations

import re
import statistics
import time

import blingfire

from model.sentences import split_sentences
from tests.test_sentences import CASES


def _blingfire_plain(text: str) -> list[str]:
    if not text.strip():
        return []
    return [s.strip() for s in blingfire.text_to_sentences(text).split("\n") if s.strip()]


def _regex(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip() for p in parts if p.strip()]


def _pysbd():
    try:
        import pysbd
    except ImportError:
        return None
    seg = pysbd.Segmenter(language="en", clean=False)
    return lambda text: [s.strip() for s in seg.segment(text) if s.strip()]


def _article() -> str:
    from training.dataset import DEFAULT_DATA_DIR, load_examples

    examples = load_examples(DEFAULT_DATA_DIR)[:400]
    paragraphs, current = [], []
    for i, ex in enumerate(examples):
        current.append(ex.text if ex.text[-1] in ".!?\"”" else ex.text)
        if i % 4 == 3:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)


def main() -> None:
    candidates = {
        "project (blingfire + line rules)": lambda t: [s.text for s in split_sentences(t)],
        "blingfire alone": _blingfire_plain,
        "regex on .!? and newlines": _regex,
    }
    pysbd_split = _pysbd()
    if pysbd_split:
        candidates["pysbd"] = pysbd_split
    text = _article()
    n_sentences = len(split_sentences(text))
    print(f"{'splitter':34} {'table cases right':>18} {'sentences/s':>12} {'MB/s':>6}")
    for name, split in candidates.items():
        right = sum(split(case[1]) == case[2] for case in CASES)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            split(text)
            times.append(time.perf_counter() - start)
        best = statistics.median(times)
        print(f"{name:34} {right:>10} / {len(CASES):<5} {n_sentences / best:>12,.0f} "
              f"{len(text.encode()) / best / 1e6:>6.2f}")


if __name__ == "__main__":
    main()
