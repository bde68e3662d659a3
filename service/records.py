"""The per-document result record shared by the API and the batch scorer.

Its shape is defined by ``PredictResponseSchema`` (which documents it in
OpenAPI); building it directly costs a fraction of a marshmallow dump, and
``tests/test_records.py`` checks that both give the same JSON.
"""

from __future__ import annotations

from typing import Any

from model.classifier import SentencePrediction, summarize


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


def document_record(doc_id: str | None, model_info: dict, predictions: list[SentencePrediction]) -> dict[str, Any]:
    return {
        "id": doc_id,
        "model": model_info,
        "sentences": [sentence_record(p) for p in predictions],
        "document": summarize(predictions),
    }
