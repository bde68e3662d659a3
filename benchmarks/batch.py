"""Section 3, batch scoring end to end: the real `framing-score` CLI.

Each run is a subprocess, timed from outside (interpreter start, model load,
reading JSONL, splitting, scoring, writing JSON lines: what a user waits for),
with its process tree's peak RSS sampled. The limit is re-measured on the
same sentences just before, so the ratio compares numbers from one moment.
"""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks import limits
from benchmarks.common import DEFAULT_MODEL, WORK, Budget, console_script, run_measured, spread
from benchmarks.corpus import articles_file, head_file, read_texts
from model.classifier import Classifier
from model.sentences import split_sentences

_SUMMARY = re.compile(r"scored ([\d,]+) documents \(([\d,]+) sentences\) in ([\d.]+)s")

MODES = {
    "1 process": [],
    "--jobs 2": ["--jobs", "2"],
    "--scheduler local --jobs 2": ["--scheduler", "local", "--jobs", "2"],
}


def score_once(path: Path, extra: list[str], model_dir: Path = DEFAULT_MODEL) -> dict:
    """One `framing-score` run; returns outside wall time, peak RSS and its summary."""
    out = WORK / "scores.jsonl"  # deleted after each run: it is large and never read
    errors = WORK / "scores.errors.jsonl"
    cmd = [*console_script("framing-score"), str(path), "-o", str(out), "--errors", str(errors),
           "--model", str(model_dir), "--no-progress", *extra]
    try:
        out.unlink(missing_ok=True)
        result = run_measured(cmd)
    finally:
        out.unlink(missing_ok=True)
        errors.unlink(missing_ok=True)
    match = None
    for line in result["stderr"].splitlines():
        match = _SUMMARY.search(line) or match
    if match is None:
        raise RuntimeError(f"no summary line from framing-score: {result['stderr'][-1000:]}")
    docs, sents = (int(g.replace(",", "")) for g in match.groups()[:2])
    return {
        "wall_s": result["wall_s"],
        "cli_s": float(match.group(3)),
        "documents": docs,
        "sentences": sents,
        "peak_rss_mib": result["peak_rss_mib"],
    }


def mode_summary(name: str, path: Path, runs: list[dict]) -> dict:
    docs, sents = runs[0]["documents"], runs[0]["sentences"]
    return {
        "mode": name,
        "input": path.name,
        "documents": docs,
        "sentences": sents,
        "repeats": len(runs),
        "wall_s": spread([r["wall_s"] for r in runs]),
        "documents_per_s": spread([docs / r["wall_s"] for r in runs]),
        "sentences_per_s": spread([sents / r["wall_s"] for r in runs]),
        "cli_reported_sentences_per_s": spread([sents / r["cli_s"] for r in runs]),
        "peak_rss_mib": spread([r["peak_rss_mib"] for r in runs]),
    }


def run(clf: Classifier, quick: bool = False, budget_s: float = 300) -> dict:
    """Rounds of (1 process, --jobs 2, Dask), interleaved so noise hits all three.

    1 process and --jobs 2 score the full 20,000 articles (2,000 when quick);
    Dask scores the first quarter of them, because its runs would not fit
    into the suite's 10 minutes (and its cluster start-up is part of its
    time). Up to 3 rounds, as many as ``budget_s`` allows after the first.
    """
    budget = Budget(budget_s)
    n_docs = 2_000 if quick else 20_000
    full = articles_file(n_docs)
    subset = head_file(full, n_docs // 4)
    inputs = {"1 process": full, "--jobs 2": full, "--scheduler local --jobs 2": subset}
    sentences = [s.text for t in read_texts(full, 600) for s in split_sentences(t)][:10_000]
    limit = limits.sentences_per_s(clf, sentences, len(sentences), 3 if quick else 5)
    limit_rate = limit["sentences_per_s"]["median"]

    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    wanted = 1 if quick else 3
    round_s = 0.0
    while len(runs["1 process"]) < wanted and (not round_s or budget.left > round_s * 1.05):
        started = budget.left
        for mode, extra in MODES.items():
            runs[mode].append(score_once(inputs[mode], extra))
        round_s = started - budget.left
    notes = [f"--scheduler local --jobs 2: measured on the first {n_docs // 4:,} of the "
             f"{n_docs:,} articles to keep the suite under 10 minutes"]
    if len(runs["1 process"]) < wanted:
        notes.append(f"{len(runs['1 process'])} round(s) instead of {wanted}: time budget")
    results = {mode: mode_summary(mode, inputs[mode], r) for mode, r in runs.items()}
    for r in results.values():
        r["ratio_to_limit"] = r["sentences_per_s"]["median"] / limit_rate
    one = results["1 process"]["sentences_per_s"]["median"]
    two = results["--jobs 2"]["sentences_per_s"]["median"]
    dask = results["--scheduler local --jobs 2"]["sentences_per_s"]["median"]
    return {
        "what": "framing-score (JSONL in, document JSONL out) as a subprocess, timed from outside",
        "articles": n_docs,
        "sentences_per_article": results["1 process"]["sentences"] / results["1 process"]["documents"],
        "limit_batch_10000_sentences_per_s": limit["sentences_per_s"],
        "modes": list(results.values()),
        "scaling_2_processes": two / one,
        "scaling_dask_2_workers": dask / one,
        "goals": {
            "1 process: sentences/s / limit >= 0.8": results["1 process"]["ratio_to_limit"],
            "1 -> 2 processes (--jobs 2) >= 1.8x": two / one,
        },
        "notes": notes,
    }
