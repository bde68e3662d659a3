"""The Flask app factory: ``gunicorn 'service.app:create_app()'``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from model.artifact import ArtifactError
from model.classifier import Classifier
from service import observability
from service.config import DEFAULTS, check_config
from service.errors import FramingApi

log = logging.getLogger("framing.app")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; the model is loaded (and verified) once per process here."""
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("FRAMING")
    if test_config:
        app.config.update(test_config)
    app.config.update(check_config(app.config))
    app.config.update(
        API_TITLE="Framing classifier",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        # Debug can only be switched on in code, never by a request or variable.
        DEBUG=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    app.json.sort_keys = False  # keep the schema's field order in responses
    observability.configure_logging(app.config["LOG_LEVEL"])
    _load_model(app)

    api = FramingApi(app)
    api.spec.options["info"] = {
        "title": "Framing classifier",
        "version": "v1",
        "description": (
            "Per-sentence pro_russia / neutral / pro_ukraine framing of news about "
            "the Russia-Ukraine war, with calibrated probabilities."
        ),
    }
    from service import api as endpoints
    from service import docs, labeling_api, web

    api.register_blueprint(endpoints.blp)
    api.register_blueprint(labeling_api.blp)
    api.register_blueprint(endpoints.ops)
    app.register_blueprint(endpoints.metrics_blp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(web.bp)
    observability.init_app(app)
    return app


def _load_model(app: Flask) -> None:
    """Load FRAMING_MODEL_DIR; on failure stay up but not ready (``/ready`` 503)."""
    model_dir = Path(app.config["MODEL_DIR"])
    try:
        model = Classifier.from_dir(model_dir)
    except (ArtifactError, OSError) as exc:
        # The log names the file and the reason; clients only learn that it failed.
        log.error("model refused, not serving: %s", exc)
        app.extensions["framing_error"] = (
            "The model failed verification at start-up; see the server log."
        )
        return
    app.extensions["framing"] = model
    observability.MODEL_INFO.labels(**model.info).set(1)
    log.info("model loaded: %s %s from %s", model.info["name"], model.info["version"], model_dir)
