"""The labeling endpoints: import, queue, labels, undo, skip, gold, progress, agreement.

Each request is one database transaction (``labeling.store`` does the work).
A database that cannot be reached is a 503 JSON answer naming no secrets; the
pool replaces dead connections, so the service recovers when it returns.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from flask import current_app, g, jsonify
from flask_smorest import abort
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from labeling import store
from labeling.db import Database, DatabaseError, describe
from service.api import classifier
from service.auth import require_api_key
from service.errors import COMMON_ERROR_DOCS
from service.labeling_schemas import (
    AgreementSchema,
    AnnotatorArgsSchema,
    GoldRequestSchema,
    GoldSchema,
    HistorySchema,
    ImportRequestSchema,
    ImportResponseSchema,
    LabelRequestSchema,
    LabelSchema,
    ProgressSchema,
    ProjectListSchema,
    QueueArgsSchema,
    QueueSchema,
    SkipRequestSchema,
)
from service.parsing import ArticleBlueprint

log = logging.getLogger("framing.labeling")

blp = ArticleBlueprint(
    "labeling", __name__, url_prefix="/v1/projects",
    description="The labeling loop: review the sentences the model is least sure of, store labels, adjudicate.",
)
blp.before_request(require_api_key)

_ERRORS = {
    400: "Malformed JSON, an empty body, or bytes that are not UTF-8.",
    **COMMON_ERROR_DOCS,
    403: "The API key is named and the request asks to act as another annotator.",
    404: "No such project, sentence or label.",
    409: "A concurrent change to the same item; retry.",
    415: "A content type other than application/json.",
    422: "Missing, wrong-typed or invalid fields.",
    503: "The label database cannot be reached (or, for imports, no model is loaded).",
}


def _errors(*codes: int):
    def wrap(func):
        for code in codes:
            func = blp.alt_response(code, schema=ErrorSchema, description=_ERRORS[code])(func)
        return func
    return wrap


def database() -> Database:
    db = current_app.extensions.get("labels_db")
    if db is None:
        try:
            db = Database(current_app.config["DATABASE_URL"] or None)
        except DatabaseError as exc:
            log.error("label database refused: %s", exc)
            abort(503, message="The label database is not configured correctly; see the server log.")
        current_app.extensions["labels_db"] = db
    return db


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction; store errors become their HTTP answer, database outages a 503."""
    db = database()
    try:
        db.ensure_schema()
        with db.session() as session:
            yield session
    except store.LabelingError as exc:
        abort(exc.code, message=str(exc))
    except IntegrityError:
        abort(409, message="A concurrent change to the same item; retry the request.")
    except (SQLAlchemyError, OSError) as exc:
        log.warning("label database unavailable: %s", describe(exc))
        abort(503, message="The label database cannot be reached; try again shortly.")


def annotator(given: str | None, location: str = "json") -> str:
    """The key's name when the key is named (another name is a 403), else the request's."""
    named = g.get("key_name")
    if named:
        if given not in (None, named):
            abort(403, message=f"This API key labels as {named!r}; it cannot act as {given!r}.")
        return named
    if not given:
        abort(422, message="Invalid request body.",
              errors={location: {"annotator": ["Missing data for required field."]}})
    return given


def _project(session: Session, name: str):
    return store.get_project(session, name)


@blp.route("", methods=["GET"])
@blp.response(200, ProjectListSchema)
@_errors(401, 503)
def list_projects():
    """Every project, with its document count (the review page's picker)."""
    with transaction() as session:
        return {"projects": store.list_projects(session)}


@blp.route("/<project>/documents", methods=["POST"])
@blp.arguments(ImportRequestSchema)
@blp.response(201, ImportResponseSchema)
@_errors(400, 408, 413, 415, 401, 422, 503)
def import_documents(body: dict, project: str):
    """Split and score documents with the loaded model and store them for labeling.

    The project is created if new. A document id already in the project is not
    imported twice (same text: counted as unchanged; other text: refused).
    """
    model = classifier()
    with transaction() as session:
        target = store.ensure_project(session, project, body.get("overlap"))
        result = store.import_documents(
            session, target, [(d["id"], d["text"], d["meta"]) for d in body["documents"]], model)
    return {
        "project": project, "added": result.added, "sentences": result.sentences, "unchanged": result.unchanged,
        "refused": [{"id": doc_id, "reason": reason} for doc_id, reason in result.refused],
    }


@blp.route("/<project>/queue", methods=["GET"])
@blp.arguments(QueueArgsSchema, location="query")
@blp.response(200, QueueSchema)
@_errors(401, 403, 404, 422, 503)
def queue(args: dict, project: str):
    """The next sentences for this annotator, least certain first (or random).

    Never one they labeled or skipped, nor a near-identical twin of one they
    labeled, nor two near-identical ones in a batch. Items are held for them
    for FRAMING_LABEL_HOLD_SECONDS, so another annotator does not get the same
    item unless the project's overlap asks for it; asking again returns
    the held items first.
    """
    who = annotator(args.get("annotator"), "query")
    with transaction() as session:
        items = store.queue(session, _project(session, project), who, args["n"], args["strategy"],
                            current_app.config["LABEL_HOLD_SECONDS"])
    return jsonify({"items": items})


@blp.route("/<project>/labels", methods=["POST"])
@blp.arguments(LabelRequestSchema)
@blp.response(201, LabelSchema)
@blp.alt_response(200, schema=LabelSchema, description="The annotator changed an earlier label.")
@_errors(400, 408, 413, 415, 401, 403, 404, 409, 422, 503)
def label(body: dict, project: str):
    """Label a sentence: 201 for a new label, 200 when the annotator changes theirs (history kept)."""
    who = annotator(body.get("annotator"))
    with transaction() as session:
        record, created = store.set_label(session, _project(session, project), body["sentence_id"], who,
                                          body["label"])
    return record, 201 if created else 200


@blp.route("/<project>/labels/<int:sentence_id>", methods=["DELETE"])
@blp.arguments(AnnotatorArgsSchema, location="query")
@blp.response(200, LabelSchema)
@_errors(401, 403, 404, 422, 503)
def undo(args: dict, project: str, sentence_id: int):
    """Undo this annotator's label (the removed label is returned and kept in history)."""
    who = annotator(args.get("annotator"), "query")
    with transaction() as session:
        return store.undo_label(session, _project(session, project), sentence_id, who)


@blp.route("/<project>/skips", methods=["POST"])
@blp.arguments(SkipRequestSchema)
@blp.response(204)
@_errors(400, 408, 413, 415, 401, 403, 404, 422, 503)
def skip(body: dict, project: str):
    """Skip a sentence: never offered to this annotator again; others may still get it."""
    who = annotator(body.get("annotator"))
    with transaction() as session:
        store.skip(session, _project(session, project), body["sentence_id"], who)
    return "", 204


@blp.route("/<project>/sentences/<int:sentence_id>/gold", methods=["PUT"])
@blp.arguments(GoldRequestSchema)
@blp.response(201, GoldSchema)
@blp.alt_response(200, schema=GoldSchema, description="An earlier adjudication was replaced.")
@_errors(400, 408, 413, 415, 401, 403, 404, 422, 503)
def gold(body: dict, project: str, sentence_id: int):
    """Adjudicate: the gold label wins over the annotators' majority in export."""
    who = annotator(body.get("annotator"))
    with transaction() as session:
        record, created = store.set_gold(session, _project(session, project), sentence_id, body["label"], who)
    return record, 201 if created else 200


@blp.route("/<project>/sentences/<int:sentence_id>/history", methods=["GET"])
@blp.response(200, HistorySchema)
@_errors(401, 404, 503)
def history(project: str, sentence_id: int):
    """Every label, change, undo and adjudication of a sentence, oldest first."""
    with transaction() as session:
        return {"events": store.history(session, _project(session, project), sentence_id)}


@blp.route("/<project>/progress", methods=["GET"])
@blp.arguments(AnnotatorArgsSchema, location="query")
@blp.response(200, ProgressSchema)
@_errors(401, 404, 422, 503)
def progress(args: dict, project: str):
    """How much is labeled, complete and adjudicated; per annotator."""
    who = args.get("annotator") or g.get("key_name")
    with transaction() as session:
        return store.progress(session, _project(session, project), who)


@blp.route("/<project>/agreement", methods=["GET"])
@blp.response(200, AgreementSchema)
@_errors(401, 404, 503)
def agreement(project: str):
    """Cohen's kappa per annotator pair, Krippendorff's alpha, and the conflicting sentences."""
    with transaction() as session:
        return store.agreement_report(session, _project(session, project))
