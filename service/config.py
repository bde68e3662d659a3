"""Configuration from ``FRAMING_*`` environment variables, checked at start-up.

| variable | default | effect |
|---|---|---|
| ``FRAMING_MODEL_DIR`` | the package's ``model/artifacts/default`` | model directory (verified before use) |
| ``FRAMING_MAX_CONTENT_LENGTH`` | ``1000000`` | request body limit in bytes (413 above) |
| ``FRAMING_MAX_TEXT_CHARS`` | ``100000`` | characters per text (422 above) |
| ``FRAMING_MAX_SENTENCES`` | ``2000`` | sentences per text (422 above) |
| ``FRAMING_MAX_BATCH_DOCUMENTS`` | ``100`` | documents per ``/v1/predict/batch`` call (422 above) |
| ``FRAMING_MAX_TOP_TERMS`` | ``20`` | largest ``top_terms`` a request may ask for |
| ``FRAMING_API_KEYS`` | empty (no auth) | comma-separated keys; ``/v1/*`` then needs ``Authorization: Bearer <key>`` |
| | | (an entry ``name:key`` makes ``name`` the annotator of that key's labels) |
| ``FRAMING_DATABASE_URL`` | SQLite in ``FRAMING_DATA_DIR`` (default ``var/``) | the label database (``labeling.db``) |
| ``FRAMING_LABEL_HOLD_SECONDS`` | ``600`` | how long a queue item stays reserved for the annotator it was handed to |
| ``FRAMING_LOG_LEVEL`` | ``INFO`` | log level of the JSON request log |
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from model.artifact import resolve_model_dir

DEFAULTS: dict[str, Any] = {
    "MODEL_DIR": "",  # empty: model.artifact.resolve_model_dir() decides
    "MAX_CONTENT_LENGTH": 1_000_000,
    "MAX_TEXT_CHARS": 100_000,
    "MAX_SENTENCES": 2_000,
    "MAX_BATCH_DOCUMENTS": 100,
    "MAX_TOP_TERMS": 20,
    "API_KEYS": "",
    "DATABASE_URL": "",
    "LABEL_HOLD_SECONDS": 600,
    "LOG_LEVEL": "INFO",
}

_POSITIVE_INTS = (
    "MAX_CONTENT_LENGTH",
    "MAX_TEXT_CHARS",
    "MAX_SENTENCES",
    "MAX_BATCH_DOCUMENTS",
    "MAX_TOP_TERMS",
    "LABEL_HOLD_SECONDS",
)


def check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and validate; raises ValueError naming the bad variable."""
    fixed: dict[str, Any] = {}
    for key in _POSITIVE_INTS:
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"FRAMING_{key} must be a positive integer, got {value!r}"
            )
    keys = config.get("API_KEYS")
    if isinstance(keys, (list, tuple)):
        key_list = [str(k).strip() for k in keys]
    elif keys in (None, ""):
        key_list = []
    else:
        # from_prefixed_env json-decodes values, so a numeric key arrives as int.
        key_list = [k.strip() for k in str(keys).split(",")]
    if any(not k for k in key_list):
        raise ValueError("FRAMING_API_KEYS must be comma-separated non-empty keys")
    names, secrets = [], []
    for entry in key_list:
        name, sep, secret = entry.partition(":")
        if sep and not (name.strip() and secret.strip()):
            raise ValueError("FRAMING_API_KEYS entries are key or name:key, both parts non-empty")
        names.append(name.strip() if sep else None)
        secrets.append(secret.strip() if sep else entry)
    fixed["API_KEYS"] = tuple(secrets)
    fixed["API_KEY_NAMES"] = tuple(names)
    url = config.get("DATABASE_URL")
    if not isinstance(url, str):
        raise ValueError("FRAMING_DATABASE_URL must be a database URL")
    fixed["DATABASE_URL"] = url.strip()
    level = str(config.get("LOG_LEVEL", "INFO")).upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"FRAMING_LOG_LEVEL must be a logging level name, got {level!r}")
    fixed["LOG_LEVEL"] = level
    model_dir = config.get("MODEL_DIR")
    if not isinstance(model_dir, str):
        raise ValueError("FRAMING_MODEL_DIR must be a directory path")
    fixed["MODEL_DIR"] = str(resolve_model_dir(model_dir.strip() or None))
    return fixed
