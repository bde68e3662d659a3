"""The v1 endpoints plus health, readiness and metrics."""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import current_app, jsonify
from flask_smorest import abort
from flask_smorest.error_handler import ErrorSchema

from model.classifier import Classifier, SentenceLimitError
from model.labels import LABELS
from model.records import document_record
from service import observability
from service.auth import require_api_key
from service.errors import COMMON_ERROR_DOCS
from service.parsing import ArticleBlueprint
from service.schemas import (
    ModelInfoSchema,
    PredictBatchRequestSchema,
    PredictBatchResponseSchema,
    PredictRequestSchema,
    PredictResponseSchema,
    StatusSchema,
)

blp = ArticleBlueprint(
    "v1", __name__, url_prefix="/v1", description="Per-sentence framing predictions."
)
blp.before_request(require_api_key)
ops = ArticleBlueprint("ops", __name__, description="Liveness, readiness and metrics.")

_ERRORS = {
    400: (
        "Malformed JSON or chunked encoding, an empty body, a body shorter than its "
        "Content-Length, or bytes that are not UTF-8."
    ),
    **COMMON_ERROR_DOCS,
    415: "A content type other than application/json or text/plain; charset=utf-8.",
    422: "Missing, wrong-typed, empty or too long fields, unknown fields, or too many sentences.",
    503: "No verified model is loaded.",
}
_TEXT_BODY = {
    "requestBody": {
        "content": {
            "text/plain": {
                "schema": {"type": "string", "minLength": 1},
                "example": "Russian forces shelled Kharkiv overnight. Officials said two people were hurt.",
            }
        }
    }
}


def _document_errors(func):
    for code, description in _ERRORS.items():
        func = blp.alt_response(code, schema=ErrorSchema, description=description)(func)
    return func


def classifier() -> Classifier:
    model = current_app.extensions.get("framing")
    if model is None:
        abort(503, message=current_app.extensions.get("framing_error") or "The model is not loaded.")
    return model


def score(model: Classifier, text: str, doc_id, explain: bool, top_terms: int, where: dict,
          meta: dict | None = None) -> dict:
    """Predict (within the sentence limit) and summarise: one API result."""
    try:
        predictions = model.predict_text(
            text, max_sentences=current_app.config["MAX_SENTENCES"], explain=explain, top_terms=top_terms
        )
    except SentenceLimitError as exc:
        message = f"{exc.n_sentences} sentences; the limit is {exc.limit} (FRAMING_MAX_SENTENCES)."
        abort(422, message="Invalid request body.", errors={"json": _nest(where, [message])})
    if not predictions:
        abort(422, message="Invalid request body.", errors={"json": _nest(where, ["Text has no sentences."])})
    observability.record_predictions([p.label for p in predictions])
    return document_record(doc_id, model.info, predictions, meta)


def _nest(where: dict, messages: list[str]) -> dict:
    """``{"documents": {"3": ...}}`` style error location ending at ``text``."""
    if not where:
        return {"text": messages}
    return {"documents": {str(where["index"]): {"text": messages}}}


@blp.route("/predict", methods=["POST"])
@blp.doc(**_TEXT_BODY)
@blp.arguments(PredictRequestSchema)
@blp.response(200, PredictResponseSchema)
@_document_errors
def predict(body: dict):
    """Score one text, sentence by sentence.

    Send JSON (`{"text": ...}`) or the article itself as `text/plain; charset=utf-8`.
    """
    model = classifier()
    # Built as PredictResponseSchema describes it; returned as a Response so
    # flask-smorest skips a second, slower marshmallow pass (tests/test_records.py).
    return jsonify(score(model, body["text"], body.get("id"), body["explain"], body["top_terms"], {}, body.get("meta")))


@blp.route("/predict/batch", methods=["POST"])
@blp.arguments(PredictBatchRequestSchema)
@blp.response(200, PredictBatchResponseSchema)
@_document_errors
def predict_batch(body: dict):
    """Score up to FRAMING_MAX_BATCH_DOCUMENTS documents in one call, results in order."""
    model = classifier()
    return jsonify({
        "results": [
            score(model, doc["text"], doc.get("id"), body["explain"], body["top_terms"], {"index": i}, doc.get("meta"))
            for i, doc in enumerate(body["documents"])
        ]
    })


@blp.route("/model", methods=["GET"])
@blp.response(200, ModelInfoSchema)
@blp.alt_response(401, schema=ErrorSchema, description=_ERRORS[401])
@blp.alt_response(503, schema=ErrorSchema, description=_ERRORS[503])
def model_info():
    """Describe the loaded model: version, training data, held-out metrics and scope flags."""
    model = classifier()
    meta = model.metadata
    metrics = {
        name: {k: v for k, v in values.items() if k != "calibration_bins"}
        for name, values in meta.get("metrics", {}).items()
        if name != "raw_cross_validated" and isinstance(values, dict)
    }
    return {
        **model.info,
        "labels": list(LABELS),
        "created_at": meta.get("created_at", ""),
        "calibration": meta.get("calibration", {}),
        "params": meta.get("params", {}),
        "training_data": meta.get("training_data", {}),
        "metrics": metrics,
        "library_versions": meta.get("library_versions", {}),
        "scope": meta.get("scope", {}),
    }


@ops.route("/health", methods=["GET"])
@ops.response(200, StatusSchema)
def health():
    """The process is alive (no model needed)."""
    return {"status": "ok"}


@ops.route("/ready", methods=["GET"])
@ops.response(200, StatusSchema)
@ops.alt_response(503, schema=ErrorSchema, description=_ERRORS[503])
def ready():
    """A verified model is loaded and requests can be served."""
    return {"status": "ready", "model": classifier().info}


metrics_blp = FlaskBlueprint("metrics", __name__)


@metrics_blp.route("/metrics")
def metrics():
    """Prometheus text format (not in the OpenAPI document: it is not JSON)."""
    return observability.metrics_response()
