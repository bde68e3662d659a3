"""Optional bearer-key authentication for ``/v1/*``."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from flask_smorest import abort


def _digest(value: str) -> bytes:
    # Hashing first makes every comparison the same length, so timing reveals
    # neither a key's length nor a matching prefix.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def key_is_valid(given: str, keys: tuple[str, ...]) -> bool:
    """Constant-time check against every configured key (no early exit)."""
    given_digest = _digest(given)
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given_digest, _digest(key))
    return matched


def require_api_key() -> None:
    """``before_request`` hook for the v1 blueprint."""
    keys = current_app.config["API_KEYS"]
    if not keys:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not key_is_valid(token.strip(), keys):
        abort(401, message="A valid API key is required (Authorization: Bearer <key>).")
