"""Result records built from the model's predictions: one sentence, one document.

The API and the batch scorer both return these, so their outputs agree field
for field. The shape is documented by ``service.schemas.PredictResponseSchema``
(the OpenAPI source); building dicts directly costs a fraction of a marshmallow
dump, and ``tests/test_records.py`` checks that both give the same JSON.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from model.classifier import SentencePrediction
from model.labels import LABELS
from model.scope import FLAGS, NOT_ENGLISH, OFF_TOPIC


def sentence_record(p: SentencePrediction) -> dict[str, Any]:
    record = {
        "index": p.index,
        "start": p.start,
        "end": p.end,
        "text": p.text,
        "label": p.label,
        "confidence": p.confidence,
        "probabilities": p.probabilities,
        "flags": p.flags,
    }
    if p.top_terms is not None:
        record["top_terms"] = p.top_terms
    return record


def summarize(predictions: Sequence[SentencePrediction]) -> dict[str, Any]:
    """The document-level view, over the sentences in scope (unflagged).

    Label counts and shares, mean probabilities, framing score and dominant
    label leave flagged sentences out, so a Russian caption block or a recipe
    box cannot move an article's score; with none in scope they are null.
    """
    n = len(predictions)
    scored = [p for p in predictions if not p.flags]
    k = len(scored)
    counts = {label: 0 for label in LABELS}
    for p in scored:
        counts[p.label] += 1
    mean = {lab: float(np.mean([p.probabilities[lab] for p in scored])) for lab in LABELS} if k else None
    return {
        "n_sentences": n,
        "n_flagged": n - k,
        "label_counts": counts,
        "label_shares": {lab: counts[lab] / k for lab in LABELS} if k else None,
        "mean_probabilities": mean,
        "framing_score": mean["pro_ukraine"] - mean["pro_russia"] if mean else None,
        "dominant_label": max(LABELS, key=lambda lab: (counts[lab], mean[lab])) if mean else None,
        "warnings": document_warnings(predictions, n - k),
    }


def document_warnings(predictions: Sequence[SentencePrediction], n_flagged: int) -> list[dict[str, str]]:
    """A warning when more than half of a document's sentences are flagged."""
    n = len(predictions)
    if not n or 2 * n_flagged <= n:
        return []
    by_flag = {flag: sum(flag in p.flags for p in predictions) for flag in FLAGS}
    what = f"{n_flagged} of {n} sentences"
    left_out = "their labels are not meaningful and the summary leaves them out"
    if 2 * by_flag[NOT_ENGLISH] > n:
        code, message = "mostly_not_english", f"{what} are not in English; the model reads English only, so {left_out}."
    elif 2 * by_flag[OFF_TOPIC] > n:
        code, message = (
            "mostly_off_topic",
            f"{what} are not about the Russia-Ukraine war or its diplomacy; {left_out}.",
        )
    else:
        code, message = (
            "mostly_out_of_scope",
            f"{what} are not English or not about the Russia-Ukraine war; {left_out}.",
        )
    return [{"code": code, "message": message}]


def document_record(
    doc_id: str | None, model_info: dict, predictions: list[SentencePrediction], meta: dict | None = None
) -> dict[str, Any]:
    """``meta`` (the caller's own fields, echoed) is there only when given."""
    record: dict[str, Any] = {"id": doc_id}
    if meta is not None:
        record["meta"] = meta
    record.update(model=model_info, sentences=[sentence_record(p) for p in predictions],
                  document=summarize(predictions))
    return record
