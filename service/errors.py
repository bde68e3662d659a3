"""One error JSON shape for every non-2xx answer, never HTML or a traceback."""

from __future__ import annotations

import logging

from flask import g
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("framing.api")

# Messages shown for errors raised by Flask/werkzeug themselves; their own
# descriptions are HTML-flavoured prose written for browsers.
_MESSAGES = {
    400: "The request could not be read.",
    401: "A valid API key is required (Authorization: Bearer <key>).",
    404: "No such endpoint.",
    405: "This method is not allowed on this endpoint.",
    408: "The client stopped sending its request; send the whole body without long pauses.",
    413: "The request body is too large.",
    415: "Send application/json or text/plain; charset=utf-8.",
    422: "Invalid request body.",
    500: "Internal server error.",
    503: "The model is not loaded; the service is not ready.",
}

# OpenAPI descriptions of the errors every endpoint can give, whatever it
# does: authentication and the body's transport. Each blueprint adds its own.
COMMON_ERROR_DOCS = {
    401: "FRAMING_API_KEYS is set and the request has no valid bearer key.",
    408: "The client sent nothing of the body for FRAMING_CLIENT_TIMEOUT seconds (default 30).",
    413: "The body is larger than FRAMING_MAX_CONTENT_LENGTH.",
}


class FramingApi(Api):
    """flask-smorest's Api whose error payload always carries a ``message``."""

    def handle_http_exception(self, error: HTTPException):
        if isinstance(error, InternalServerError) or error.code == 500:
            original = getattr(error, "original_exception", None)
            log.error(
                "unhandled error (request id %s)",
                getattr(g, "request_id", "-"),
                exc_info=original or error,
            )
        payload, code, headers = super().handle_http_exception(error)
        if not payload.get("message"):
            payload["message"] = _MESSAGES.get(code, error.name)
        if code == 500:
            # Never leak exception text; the request id lets an operator find the log.
            payload = {
                "code": 500,
                "status": "Internal Server Error",
                "message": f"{_MESSAGES[500]} Reference: {getattr(g, 'request_id', '-')}.",
            }
        if code == 401:
            headers = {**headers, "WWW-Authenticate": 'Bearer realm="framing"'}
        return payload, code, headers
