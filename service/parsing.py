"""Request-body parsing: JSON or a plain-text article, with clean 4xx errors."""

from __future__ import annotations

import json

from flask_smorest import Blueprint, abort
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException


class ArticleParser(FlaskParser):
    """JSON bodies as usual; ``text/plain`` bodies become ``{"text": body}``.

    Anything else is a 415, undecodable bytes and unparseable JSON a 400, and
    JSON nested deeper than Python's recursion limit a 400 instead of a crash.
    """

    def _raw_load_json(self, req):
        mimetype = req.mimetype
        if mimetype == "text/plain":
            charset = req.mimetype_params.get("charset", "utf-8").lower()
            if charset not in ("utf-8", "utf8"):
                abort(415, message="text/plain bodies must be UTF-8 (charset=utf-8).")
            raw = _body(req)
            try:
                return {"text": raw.decode("utf-8")}
            except UnicodeDecodeError as exc:
                abort(400, message=f"The body is not valid UTF-8 (byte {exc.start}).")
        if not core.is_json(mimetype):
            abort(
                415,
                message=f"Unsupported content type {mimetype or 'none'!r}; "
                "send application/json or text/plain; charset=utf-8.",
            )
        raw = _body(req)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            abort(400, message=f"The body is not valid UTF-8 (byte {exc.start}).")
        if not text.strip():
            abort(400, message="The request body is empty.")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            abort(400, message=f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.")
        except RecursionError:
            abort(400, message="Malformed JSON: nested too deeply.")


def _body(req) -> bytes:
    """The body, refused when it ends before its Content-Length says.

    gunicorn marks its input as terminated and hands over what arrived before
    the client stopped sending; a cut body must not be scored as if whole.
    Broken chunked framing raises from the server's reader: a 400, not a 500;
    a chunked body over FRAMING_MAX_CONTENT_LENGTH is a 413, not a cut body;
    a client that went silent mid-body (service.worker's deadline) is a 408.
    """
    limit = req.max_content_length
    try:
        raw = req.get_data(cache=True)
        # A chunked body is cut at the limit without a 413: look for one byte more.
        over = req.content_length is None and limit is not None and len(raw) >= limit and (
            req.environ["wsgi.input"].read(1)
        )
    except Exception as exc:
        if _stalled(req):
            abort(408)
        if isinstance(exc, HTTPException):
            raise  # 413 over the size limit, 400 when the client went away
        abort(400, message="The request body could not be read (broken chunked transfer encoding).")
    if _stalled(req):
        abort(408)
    if over:
        abort(413)
    if req.content_length is not None and len(raw) < req.content_length:
        abort(400, message=f"The body ended after {len(raw)} of {req.content_length} bytes (Content-Length).")
    return raw


def _stalled(req) -> bool:
    return bool(getattr(req.environ.get("gunicorn.socket"), "stalled", False))


class ArticleBlueprint(Blueprint):
    ARGUMENTS_PARSER = ArticleParser()
