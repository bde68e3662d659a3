"""`python -m benchmarks.features`: word n-grams alone against a word + character n-gram union.

The union is adopted only if it earns at least +0.015 dev macro-F1 (real news,
``../shared/dev``) and its scoring cost is acceptable (batch scoring must stay
within 2x of the word-only model). Both are fitted here on the same corpus with
the default model's parameters, uncalibrated, so the comparison is like for
like; sentences/s is ``predict_proba`` at batch 64 on one core.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from benchmarks.common import DEFAULT_MODEL, DEV_SET, RESULTS
from model.artifact import read_metadata
from model.labels import LABELS
from model.pipeline import build_pipeline
from model.preprocess import normalize
from training import dataset
from training.metrics import classification_metrics

GAIN_NEEDED = 0.015
BATCH = 64


def _params() -> dict:
    params = read_metadata(DEFAULT_MODEL)["params"]
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def _union(pipeline):
    """The same pipeline with a character 2-5-gram tf-idf beside the word one."""
    words = pipeline.named_steps["tfidf"]
    chars = TfidfVectorizer(preprocessor=normalize, analyzer="char_wb", ngram_range=(2, 5),
                            sublinear_tf=True, min_df=2, dtype=np.float32)
    pipeline.steps[0] = ("tfidf", FeatureUnion([("words", words), ("chars", chars)]))
    return pipeline


def _speed(pipeline, sentences: list[str]) -> float:
    started = time.perf_counter()
    for i in range(0, len(sentences), BATCH):
        pipeline.predict_proba(sentences[i:i + BATCH])
    return len(sentences) / (time.perf_counter() - started)


def run() -> dict:
    corpus = dataset.load_examples(dataset.DEFAULT_DATA_DIR)
    texts, y = [ex.text for ex in corpus], [ex.label for ex in corpus]
    dev = dataset.load_examples(DEV_SET, require_doc_id=False, check_sentences=False)
    sample = texts[:5000]
    out = {}
    for name, make in (("words", lambda: build_pipeline(**_params())),
                       ("words+chars", lambda: _union(build_pipeline(**_params())))):
        started = time.perf_counter()
        pipeline = make().fit(texts, y)
        fit_s = time.perf_counter() - started
        classes = list(pipeline.classes_)
        proba = pipeline.predict_proba([ex.text for ex in dev])[:, [classes.index(lab) for lab in LABELS]]
        m = classification_metrics([ex.label for ex in dev], proba)
        out[name] = {"fit_s": round(fit_s, 1), "dev_macro_f1": round(m["macro_f1"], 4),
                     "dev_ece": round(m["ece"], 4), "sentences_per_s": round(_speed(pipeline, sample))}
        print(f"{name:12s} fit {fit_s:6.1f}s  dev macro-F1 {m['macro_f1']:.3f}  ECE {m['ece']:.3f}  "
              f"{out[name]['sentences_per_s']:,} sentences/s (batch {BATCH})", flush=True)
    gain = out["words+chars"]["dev_macro_f1"] - out["words"]["dev_macro_f1"]
    cost = out["words"]["sentences_per_s"] / max(out["words+chars"]["sentences_per_s"], 1)
    out["gain"], out["slowdown"] = round(gain, 4), round(cost, 2)
    out["adopt"] = bool(gain >= GAIN_NEEDED and cost <= 2.0)
    print(f"gain {gain:+.3f} dev macro-F1 (needed {GAIN_NEEDED:+.3f}); scoring {cost:.1f}x slower "
          f"(allowed 2x): {'adopt' if out['adopt'] else 'keep words only'}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.features", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    if not DEV_SET.is_file():
        print(f"needs the dev set at {DEV_SET}")
        return 2
    result = run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "features.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
