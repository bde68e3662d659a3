"""Optional bearer-key authentication for ``/v1/*``.

An entry of FRAMING_API_KEYS written ``name:key`` names its holder: the
labeling endpoints then take the annotator from the key, not from the request.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, g, request
from flask_smorest import abort


def _digest(value: str) -> bytes:
    # Hashing first makes every comparison the same length, so timing reveals
    # neither a key's length nor a matching prefix.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def key_is_valid(given: str, keys: tuple[str, ...]) -> bool:
    """Constant-time check against every configured key (no early exit)."""
    return key_index(given, keys) is not None


def key_index(given: str, keys: tuple[str, ...]) -> int | None:
    """Which key matched, compared against all of them in constant time."""
    given_digest = _digest(given)
    found = None
    for index, key in enumerate(keys):
        if hmac.compare_digest(given_digest, _digest(key)) and found is None:
            found = index
    return found


def require_api_key() -> None:
    """``before_request`` hook for the v1 blueprint."""
    keys = current_app.config["API_KEYS"]
    if not keys:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    index = key_index(token.strip(), keys) if scheme.lower() == "bearer" and token.strip() else None
    if index is None:
        abort(401, message="A valid API key is required (Authorization: Bearer <key>).")
    g.key_name = current_app.config["API_KEY_NAMES"][index]
