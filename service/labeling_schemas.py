"""marshmallow schemas of the labeling endpoints (``/v1/projects/...``)."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, post_load, validate, validates

from model.labels import LABELS
from service.schemas import check_batch_size, check_text

_LABEL = fields.String(required=True, validate=validate.OneOf(LABELS),
                       metadata={"description": f"One of {', '.join(LABELS)}."})
_ANNOTATOR_DESCRIPTION = (
    "Who is labeling. Required unless the API key is named (FRAMING_API_KEYS entry name:key): "
    "then it is the key's name, and any other value is refused (403)."
)


def _annotator(**kwargs) -> fields.String:
    return fields.String(validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$"),
                         metadata={"description": _ANNOTATOR_DESCRIPTION}, **kwargs)


class ImportDocumentSchema(Schema):
    """Fields other than id and text are kept as the document's metadata."""

    class Meta:
        unknown = INCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                       metadata={"description": "The document's id, unique in the project; "
                                 "a known id is not imported twice."})
    text = fields.String(required=True, validate=check_text, metadata={"description": "The document's text."})

    @post_load
    def _split_meta(self, data: dict, **kwargs) -> dict:
        meta = {k: v for k, v in data.items() if k not in ("id", "text")}
        return {"id": data["id"], "text": data["text"], "meta": meta}


class ImportRequestSchema(Schema):
    documents = fields.List(fields.Nested(ImportDocumentSchema), required=True, validate=validate.Length(min=1),
                            metadata={"description": "Documents to split, score and store "
                                      "(at most FRAMING_MAX_BATCH_DOCUMENTS per call)."})
    overlap = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=20),
                             metadata={"description": "Annotators wanted per sentence (sets the project's "
                                       "overlap; default 1 for a new project)."})

    @validates("documents")
    def _batch_limit(self, value: list, **kwargs) -> None:
        check_batch_size(value)


class RefusedSchema(Schema):
    id = fields.String(metadata={"description": "The document id."})
    reason = fields.String(metadata={"description": "Why it was not imported."})


class ImportResponseSchema(Schema):
    project = fields.String(metadata={"description": "The project (created if it was new)."})
    added = fields.Integer(metadata={"description": "Documents imported."})
    sentences = fields.Integer(metadata={"description": "Sentences stored, scored by the current model."})
    unchanged = fields.Integer(metadata={"description": "Documents whose id and text were already there."})
    refused = fields.List(fields.Nested(RefusedSchema), metadata={"description": "Documents not imported."})


class ProjectSchema(Schema):
    name = fields.String(metadata={"description": "Project name."})
    overlap = fields.Integer(metadata={"description": "Annotators wanted per sentence."})
    documents = fields.Integer(metadata={"description": "Documents in the project."})


class ProjectListSchema(Schema):
    projects = fields.List(fields.Nested(ProjectSchema), metadata={"description": "Every project, by name."})


class QueueArgsSchema(Schema):
    annotator = _annotator()
    n = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100),
                       metadata={"description": "How many items (1-100)."})
    strategy = fields.String(load_default="uncertainty", validate=validate.OneOf(["uncertainty", "random"]),
                             metadata={"description": "uncertainty: smallest gap between the two most probable "
                                       "labels first; random: any order."})


class SuggestionSchema(Schema):
    label = fields.String(metadata={"description": "The model's label when the document was imported."})
    confidence = fields.Float(metadata={"description": "Its probability."})
    probabilities = fields.Dict(keys=fields.String(), values=fields.Float(),
                                metadata={"description": "Probability of each label."})
    model_version = fields.String(metadata={"description": "The model that scored it."})


class QueueItemSchema(Schema):
    sentence_id = fields.Integer(metadata={"description": "Id to label."})
    doc_id = fields.String(metadata={"description": "The document's id."})
    text = fields.String(metadata={"description": "The sentence."})
    context_before = fields.String(metadata={"description": "Up to two sentences before it."})
    context_after = fields.String(metadata={"description": "Up to two sentences after it."})
    flags = fields.List(fields.String(), metadata={"description": "Scope flags (not_english, off_topic)."})
    suggestion = fields.Nested(SuggestionSchema, metadata={"description": "The model's prediction."})


class QueueSchema(Schema):
    items = fields.List(fields.Nested(QueueItemSchema),
                        metadata={"description": "Held for this annotator for FRAMING_LABEL_HOLD_SECONDS."})


class LabelRequestSchema(Schema):
    sentence_id = fields.Integer(required=True, strict=True, metadata={"description": "The sentence to label."})
    label = _LABEL
    annotator = _annotator()


class SkipRequestSchema(Schema):
    sentence_id = fields.Integer(required=True, strict=True, metadata={"description": "The sentence to skip."})
    annotator = _annotator()


class AnnotatorArgsSchema(Schema):
    annotator = _annotator()


class LabelSchema(Schema):
    sentence_id = fields.Integer(metadata={"description": "The sentence."})
    annotator = fields.String(metadata={"description": "Who labeled it."})
    label = fields.String(metadata={"description": "The label."})
    created_at = fields.DateTime(metadata={"description": "First labeled (UTC)."})
    updated_at = fields.DateTime(metadata={"description": "Last changed (UTC)."})


class GoldRequestSchema(Schema):
    label = _LABEL
    annotator = _annotator()


class GoldSchema(Schema):
    sentence_id = fields.Integer(metadata={"description": "The sentence."})
    label = fields.String(metadata={"description": "The adjudicated label; export prefers it to the majority."})
    adjudicator = fields.String(metadata={"description": "Who adjudicated."})
    updated_at = fields.DateTime(metadata={"description": "When (UTC)."})


class AnnotatorProgressSchema(Schema):
    annotator = fields.String(metadata={"description": "Annotator."})
    labels = fields.Integer(metadata={"description": "Sentences they labeled."})
    last_labeled_at = fields.DateTime(allow_none=True, metadata={"description": "Their latest label (UTC)."})


class AnnotatorCountSchema(Schema):
    annotator = fields.String(metadata={"description": "Annotator (the key's name, or the query's)."})
    labels = fields.Integer(metadata={"description": "Sentences they labeled."})


class ProgressSchema(Schema):
    project = fields.String(metadata={"description": "Project."})
    overlap = fields.Integer(metadata={"description": "Annotators wanted per sentence."})
    documents = fields.Integer(metadata={"description": "Documents imported."})
    sentences = fields.Integer(metadata={"description": "Sentences imported."})
    labeled = fields.Integer(metadata={"description": "Sentences with at least one label or a gold label."})
    complete = fields.Integer(metadata={"description": "Sentences with `overlap` labels, or adjudicated."})
    gold = fields.Integer(metadata={"description": "Adjudicated sentences."})
    conflicts = fields.Integer(metadata={"description": "Sentences whose annotators disagree."})
    annotators = fields.List(fields.Nested(AnnotatorProgressSchema), metadata={"description": "Per annotator."})
    annotator = fields.Nested(AnnotatorCountSchema, metadata={"description": "The annotator asked about, if any."})


class PairSchema(Schema):
    annotators = fields.List(fields.String(), metadata={"description": "The two annotators."})
    n = fields.Integer(metadata={"description": "Sentences both labeled."})
    agreement = fields.Float(metadata={"description": "Share of those with the same label."})
    cohen_kappa = fields.Float(allow_none=True, metadata={"description": "Cohen's kappa (null when undefined)."})


class ConflictSchema(Schema):
    sentence_id = fields.Integer(metadata={"description": "The sentence."})
    doc_id = fields.String(metadata={"description": "Its document."})
    text = fields.String(metadata={"description": "The sentence."})
    labels = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "annotator: label."})
    gold = fields.String(allow_none=True, metadata={"description": "The adjudicated label, if any."})
    suggestion = fields.String(metadata={"description": "The model's label."})


class AgreementSchema(Schema):
    project = fields.String(metadata={"description": "Project."})
    pairs = fields.List(fields.Nested(PairSchema), metadata={"description": "Per annotator pair."})
    krippendorff_alpha = fields.Float(allow_none=True, metadata={
        "description": "Krippendorff's alpha (nominal) over sentences with 2+ labels; null when undefined."})
    sentences_with_two_or_more_labels = fields.Integer(metadata={"description": "Sentences the figures use."})
    n_conflicts = fields.Integer(metadata={"description": "Sentences whose annotators disagree."})
    conflicts = fields.List(fields.Nested(ConflictSchema), metadata={"description": "The first 200 of them."})


class HistoryEventSchema(Schema):
    annotator = fields.String(metadata={"description": "Who."})
    action = fields.String(metadata={"description": "label, change, undo or gold."})
    label = fields.String(allow_none=True, metadata={"description": "The label set (none for undo)."})
    previous = fields.String(allow_none=True, metadata={"description": "The label it replaced or removed."})
    at = fields.DateTime(metadata={"description": "When (UTC)."})


class HistorySchema(Schema):
    events = fields.List(fields.Nested(HistoryEventSchema), metadata={"description": "Oldest first."})
