"""Fit the off-topic check (model.scope.Relevance) beside the framing model.

On topic: the framing corpus's sentences, except its page furniture and
off-topic rows (styles in OFF_TOPIC_STYLES), which exist to teach the framing
model that loaded words in other stories are neutral and are left out here
rather than guessed. Off topic: ``training/scope/*.csv``, team-written
sentences on many other subjects, a third of them using war words in another
sense ("an invasion of aphids", "sanctions against the club").

The threshold is the highest that flags at most ON_TOPIC_FLAG_RATE of the
corpus's on-topic sentences out of fold, judged inside their documents as
the service judges them (model.scope.in_context): a wrong flag hides a real
sentence from a document's summary, a missed one only leaves it in. The
report also gives the rates for sentences scored alone.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from model.scope import Relevance, in_documents

log = logging.getLogger("framing.train")

DEFAULT_SCOPE_DIR = Path(__file__).resolve().parent / "scope"
OFF_TOPIC_STYLES = frozenset({"off_topic", "boilerplate"})
ON_TOPIC_FLAG_RATE = 0.01
RELEVANCE_C = 3.0


class ScopeDataError(ValueError):
    """Unreadable off-topic data; the message names the file and line."""


def scope_files(path: Path) -> list[Path]:
    path = Path(path)
    return sorted(path.glob("*.csv")) if path.is_dir() else [path]


def off_topic_rows(path: Path) -> list[tuple[str, str]]:
    """``(doc_id, text)`` from every CSV under ``path`` (columns doc_id, text)."""
    files = scope_files(path)
    rows: list[tuple[str, str]] = []
    for file in files:
        try:
            with open(file, encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                if not {"doc_id", "text"} <= set(reader.fieldnames or []):
                    raise ScopeDataError(f"{file}:1: needs columns doc_id and text")
                for row in reader:
                    text = (row.get("text") or "").strip()
                    if not text:
                        raise ScopeDataError(f"{file}:{reader.line_num}: empty text")
                    rows.append((f"{file.name}:{row.get('doc_id') or reader.line_num}", text))
        except UnicodeDecodeError as exc:
            raise ScopeDataError(f"{file}: not UTF-8 ({exc.reason})") from exc
    return rows


def fit_relevance(examples, off_topic: list[tuple[str, str]], vectorizer, seed: int = 0) -> tuple[Any, dict]:
    """Fit on the framing vectorizer's features; returns the check and its report.

    Returns ``(None, reason)`` when there is nothing to learn from.
    """
    on = [(ex.doc_id, ex.text) for ex in examples if (ex.kind or "") not in OFF_TOPIC_STYLES]
    if not off_topic or not on:
        return None, {"fitted": False, "reason": "no off-topic sentences (training/scope/*.csv)"}
    texts = [t for _, t in on] + [t for _, t in off_topic]
    groups = [d for d, _ in on] + [d for d, _ in off_topic]
    y = np.array([1] * len(on) + [0] * len(off_topic))
    X = vectorizer.transform(texts)
    scores = np.zeros(len(y))
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for train_idx, test_idx in folds.split(X, y, groups):
        fold = Relevance(C=RELEVANCE_C).fit(X[train_idx], y[train_idx])
        scores[test_idx] = fold.on_topic_proba(X[test_idx])
    # Rows are in file order, so a document's sentences are consecutive.
    starts = [0] + [i for i in range(1, len(groups)) if groups[i] != groups[i - 1]] + [len(groups)]
    lengths = np.diff(starts).tolist()

    def on_topic_rate(threshold: float) -> float:
        return float(in_documents(scores, threshold, lengths)[y == 1].mean())

    # The rate only grows with the threshold: bisect for the last candidate within it.
    candidates = np.quantile(scores[y == 1], np.linspace(0.0, 0.2, 201))
    lo, hi = 0, len(candidates)
    while lo < hi:
        mid = (lo + hi) // 2
        if on_topic_rate(candidates[mid]) > ON_TOPIC_FLAG_RATE:
            hi = mid
        else:
            lo = mid + 1
    threshold = float(candidates[max(lo - 1, 0)])
    relevance = Relevance(C=RELEVANCE_C, threshold=threshold).fit(X, y)
    flagged = in_documents(scores, threshold, lengths)
    report = {
        "fitted": True,
        "method": "logistic regression on the framing model's tf-idf features",
        "C": RELEVANCE_C,
        "threshold": round(threshold, 4),
        "on_topic_sentences": int(y.sum()),
        "off_topic_sentences": int(len(y) - y.sum()),
        "out_of_fold": {
            "on_topic_flagged": round(float((scores[y == 1] < threshold).mean()), 4),
            "off_topic_flagged": round(float((scores[y == 0] < threshold).mean()), 4),
            "in_documents": {
                "on_topic_flagged": round(float(flagged[y == 1].mean()), 4),
                "off_topic_flagged": round(float(flagged[y == 0].mean()), 4),
            },
        },
    }
    docs = report["out_of_fold"]["in_documents"]
    log.info(
        "relevance check: threshold %.3f; out of fold, in documents, %.1f%% of on-topic and %.1f%% of "
        "off-topic sentences flagged", threshold, 100 * docs["on_topic_flagged"], 100 * docs["off_topic_flagged"],
    )
    return relevance, report


SCOPE_TESTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "scope"


def measure_scope(classifier, english: list[str], dev: list[str] | None) -> dict:
    """The flag rates the model card reports, through the callers' entry point.

    Team-written test texts (tests/data/scope: twelve other languages, and
    off-topic documents the relevance check never trained on), the corpus's
    English sentences, and real-news dev sentences when given.
    """
    from collections import defaultdict

    from model.scope import NOT_ENGLISH, OFF_TOPIC

    def rate(predictions, flag=None) -> float:
        flat = [p for doc in predictions for p in doc]
        hits = sum((flag in p.flags) if flag else bool(p.flags) for p in flat)
        return round(hits / len(flat), 4) if flat else 0.0

    out: dict[str, Any] = {"english_corpus_not_english": rate(classifier.predict_texts(english, split=False),
                                                              NOT_ENGLISH)}
    languages = SCOPE_TESTS / "other_languages.csv"
    if languages.is_file():
        with open(languages, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        out["other_languages"] = {
            "n": len(rows), "languages": sorted({r["lang"] for r in rows}),
            "not_english": rate(classifier.predict_texts([r["text"] for r in rows], split=False), NOT_ENGLISH),
        }
    held_out = SCOPE_TESTS / "off_topic_heldout.csv"
    if held_out.is_file():
        docs: dict[str, list[str]] = defaultdict(list)
        subjects = set()
        with open(held_out, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                docs[r["doc_id"]].append(r["text"])
                subjects.add(r["subject"])
        out["off_topic_held_out"] = {
            "n": sum(map(len, docs.values())), "subjects": len(subjects),
            "in_documents": rate(classifier.predict_texts(["\n".join(v) for v in docs.values()]), OFF_TOPIC),
            "alone": rate(classifier.predict_texts([t for v in docs.values() for t in v], split=False), OFF_TOPIC),
        }
    if dev:
        out["dev_flagged"] = {"n": len(dev), "any": rate(classifier.predict_texts(dev, split=False))}
    return out
