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


def sentence_record(p: SentencePrediction) -> dict[str, Any]:
    record = {
        "index": p.index,
        "start": p.start,
        "end": p.end,
        "text": p.text,
        "label": p.label,
        "confidence": p.confidence,
        "probabilities": p.probabilities,
    }
    if p.top_terms is not None:
        record["top_terms"] = p.top_terms
    return record


def summarize(predictions: Sequence[SentencePrediction]) -> dict[str, Any]:
    """The document-level view: label counts and shares, mean probabilities, framing score."""
    n = len(predictions)
    counts = {label: 0 for label in LABELS}
    for p in predictions:
        counts[p.label] += 1
    mean = {
        lab: float(np.mean([p.probabilities[lab] for p in predictions])) if n else 0.0
        for lab in LABELS
    }
    dominant = max(LABELS, key=lambda lab: (counts[lab], mean[lab])) if n else None
    return {
        "n_sentences": n,
        "label_counts": counts,
        "label_shares": {lab: (counts[lab] / n if n else 0.0) for lab in LABELS},
        "mean_probabilities": mean,
        "framing_score": mean["pro_ukraine"] - mean["pro_russia"],
        "dominant_label": dominant,
    }


def document_record(
    doc_id: str | None, model_info: dict, predictions: list[SentencePrediction]
) -> dict[str, Any]:
    return {
        "id": doc_id,
        "model": model_info,
        "sentences": [sentence_record(p) for p in predictions],
        "document": summarize(predictions),
    }
