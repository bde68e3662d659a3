"""marshmallow schemas: the one definition of request/response shape and of the
OpenAPI document. Label fields are generated from ``model.labels.LABELS``.

Responses are built by ``model.records`` (shared with the batch scorer), whose
output ``tests/test_records.py`` checks against these schemas' dumps."""

from __future__ import annotations

from flask import current_app, has_app_context
from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates

from model.labels import LABELS
from model.scope import FLAGS
from service.config import DEFAULTS


def _limit(name: str) -> int:
    return current_app.config[name] if has_app_context() else DEFAULTS[name]


def check_text(value: str) -> None:
    """Shared by single and batch requests: non-blank and within the char limit."""
    if not value.strip():
        raise ValidationError("Text is empty or only white space.")
    limit = _limit("MAX_TEXT_CHARS")
    if len(value) > limit:
        raise ValidationError(f"Text is {len(value)} characters long; the limit is {limit} (FRAMING_MAX_TEXT_CHARS).")


def check_batch_size(value: list) -> None:
    """Shared by scoring and import batches: at most FRAMING_MAX_BATCH_DOCUMENTS."""
    limit = _limit("MAX_BATCH_DOCUMENTS")
    if len(value) > limit:
        raise ValidationError(f"{len(value)} documents; the limit is {limit} (FRAMING_MAX_BATCH_DOCUMENTS).")


def _meta_field() -> fields.Dict:
    """The caller's own fields, on one document of a request."""
    return fields.Dict(
        keys=fields.String(),
        load_default=None,
        allow_none=True,
        metadata={"description": "Your own fields (outlet, date, URL...), echoed back untouched as `meta`."},
    )


class _Request(Schema):
    explain = fields.Boolean(
        load_default=False,
        metadata={"description": "Add, for each sentence, the n-grams that pushed most toward its label."},
    )
    top_terms = fields.Integer(
        load_default=5,
        validate=validate.Range(min=1),
        metadata={
            "description": "How many terms to list per sentence with explain "
            "(at most FRAMING_MAX_TOP_TERMS, default 20)."
        },
    )

    @validates("top_terms")
    def _top_terms_limit(self, value: int, **kwargs) -> None:
        limit = _limit("MAX_TOP_TERMS")
        if value > limit:
            raise ValidationError(f"Must be at most {limit}.")


class PredictRequestSchema(_Request):
    text = fields.String(
        required=True,
        validate=check_text,
        metadata={"description": "The article (or any text); split into sentences by the service."},
    )
    id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Your identifier, echoed back (at most 200 characters)."},
    )
    meta = _meta_field()


class DocumentSchema(Schema):
    id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Your identifier for this document, echoed back."},
    )
    text = fields.String(required=True, validate=check_text, metadata={"description": "The document text."})
    meta = _meta_field()


class PredictBatchRequestSchema(_Request):
    documents = fields.List(
        fields.Nested(DocumentSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Documents to score, at most FRAMING_MAX_BATCH_DOCUMENTS (default 100)."},
    )

    @validates("documents")
    def _batch_limit(self, value: list, **kwargs) -> None:
        check_batch_size(value)


def _probability(description: str) -> fields.Float:
    return fields.Float(required=True, metadata={"description": description})


def _per_label(name: str, field) -> type[Schema]:
    """A schema with one field per label, in LABELS order."""
    return Schema.from_dict({label: field(label) for label in LABELS}, name=f"{name}Schema")


ProbabilitiesSchema = _per_label("Probabilities", lambda label: _probability(f"P({label})"))


class TopTermSchema(Schema):
    term = fields.String(required=True, metadata={"description": "A word n-gram after normalisation."})
    weight = fields.Float(
        required=True, metadata={"description": "tf-idf value times the centred coefficient for the label."}
    )


class SentencePredictionSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Position of the sentence, from 0."})
    start = fields.Integer(
        required=True, metadata={"description": "Offset of the first character in the submitted text."}
    )
    end = fields.Integer(
        required=True, metadata={"description": "Offset after the last character: text[start:end] is the sentence."}
    )
    text = fields.String(required=True, metadata={"description": "The sentence."})
    label = fields.String(
        required=True, validate=validate.OneOf(LABELS), metadata={"description": "Most probable label."}
    )
    confidence = fields.Float(required=True, metadata={"description": "The largest of the three probabilities."})
    probabilities = fields.Nested(
        ProbabilitiesSchema,
        required=True,
        metadata={"description": "Calibrated probability of each label; they sum to 1."},
    )
    flags = fields.List(
        fields.String(validate=validate.OneOf(FLAGS)),
        required=True,
        metadata={
            "description": "Empty when the sentence is in scope. not_english: not English text; off_topic: "
            "English, but not about the Russia-Ukraine war or its diplomacy. The label and probabilities "
            "are still given, but mean little, and the document summary leaves the sentence out."
        },
    )

    top_terms = fields.List(
        fields.Nested(TopTermSchema),
        metadata={"description": "With explain only: n-grams that pushed most toward the label."},
    )
    @post_dump
    def _drop_absent_terms(self, data: dict, **kwargs) -> dict:
        if data.get("top_terms") is None:
            data.pop("top_terms", None)
        return data


LabelCountsSchema = _per_label(
    "LabelCounts",
    lambda label: fields.Integer(required=True, metadata={"description": f"Sentences labeled {label}."}),
)


class WarningSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.OneOf(["mostly_not_english", "mostly_off_topic", "mostly_out_of_scope"]),
        metadata={"description": "Stable identifier of the warning."},
    )
    message = fields.String(required=True, metadata={"description": "What it means, in plain words."})


_UNFLAGGED = "over the sentences without flags; null when every sentence is flagged"


class DocumentSummarySchema(Schema):
    n_sentences = fields.Integer(required=True, metadata={"description": "Number of sentences, flagged or not."})
    n_flagged = fields.Integer(
        required=True, metadata={"description": "Sentences with a scope flag, left out of everything below."}
    )
    label_counts = fields.Nested(
        LabelCountsSchema, required=True, metadata={"description": "Sentences per label, over the unflagged ones."}
    )
    label_shares = fields.Nested(
        ProbabilitiesSchema,
        required=True,
        allow_none=True,
        metadata={"description": f"Share of sentences per label, {_UNFLAGGED}."},
    )
    mean_probabilities = fields.Nested(
        ProbabilitiesSchema,
        required=True,
        allow_none=True,
        metadata={"description": f"Mean probability of each label, {_UNFLAGGED}."},
    )
    framing_score = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": f"Mean of P(pro_ukraine) - P(pro_russia), in [-1, 1], {_UNFLAGGED}."},
    )
    dominant_label = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Label with most unflagged sentences (ties: higher mean probability); "
            "null when every sentence is flagged."
        },
    )
    warnings = fields.List(
        fields.Nested(WarningSchema),
        required=True,
        metadata={"description": "Set when more than half of the sentences are flagged; else empty."},
    )


class ModelRefSchema(Schema):
    name = fields.String(required=True, metadata={"description": "Model name."})
    version = fields.String(required=True, metadata={"description": "Model version."})
    sha256 = fields.String(required=True, metadata={"description": "sha256 of model.joblib."})


class PredictResponseSchema(Schema):
    id = fields.String(allow_none=True, metadata={"description": "The id you sent, or null."})
    meta = fields.Dict(
        keys=fields.String(),
        metadata={"description": "The `meta` object you sent, unchanged; absent when you sent none."},
    )
    model = fields.Nested(ModelRefSchema, required=True, metadata={"description": "The model that scored the text."})
    sentences = fields.List(
        fields.Nested(SentencePredictionSchema),
        required=True,
        metadata={"description": "One entry per sentence, in order."},
    )
    document = fields.Nested(DocumentSummarySchema, required=True, metadata={"description": "Document-level summary."})


class PredictBatchResponseSchema(Schema):
    results = fields.List(
        fields.Nested(PredictResponseSchema),
        required=True,
        metadata={"description": "One result per document, in request order."},
    )


class ModelInfoSchema(ModelRefSchema):
    labels = fields.List(
        fields.String(), required=True, metadata={"description": "Labels in the order the API reports them."}
    )
    created_at = fields.String(required=True, metadata={"description": "When the model was trained (UTC, ISO 8601)."})
    calibration = fields.Dict(metadata={"description": "Calibration method and raw out-of-fold ECE."})
    params = fields.Dict(metadata={"description": "Chosen hyper-parameters."})
    training_data = fields.Dict(
        metadata={"description": "Training data summary: sentences, documents, label counts, sha256."}
    )
    metrics = fields.Dict(
        metadata={
            "description": "Cross-validated and dev metrics (accuracy, macro_f1, per_label, confusion_matrix, ece)."
        }
    )
    library_versions = fields.Dict(metadata={"description": "Library versions the model was trained with."})
    scope = fields.Dict(
        metadata={
            "description": "How sentences are flagged not_english and off_topic (method, threshold) and the "
            "flag rates measured when the model was trained; empty for models without the checks."
        }
    )


class StatusSchema(Schema):
    status = fields.String(required=True, metadata={"description": "ok (health) or ready (ready)."})
    model = fields.Nested(ModelRefSchema, metadata={"description": "The loaded model (ready only)."})
