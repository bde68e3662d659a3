"""Request ids, one JSON log line per request, and Prometheus metrics.

Under gunicorn, ``gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR`` before
any worker imports this module, so counters from all workers add up.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "framing_http_requests_total", "HTTP requests by endpoint, method and status",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "framing_http_request_duration_seconds", "Request latency by endpoint", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SENTENCES = Counter("framing_sentences_scored_total", "Sentences scored")
PREDICTIONS = Counter("framing_predictions_total", "Sentence predictions by label", ["label"])
MODEL_INFO = Gauge(
    "framing_model_info", "The loaded model (value 1)", ["name", "version", "sha256"],
    multiprocess_mode="livemax",
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
log = logging.getLogger("framing.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; request fields arrive through ``extra``."""

    FIELDS = ("request_id", "method", "route", "status", "duration_ms", "sentences", "documents", "model_version")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self.FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    root = logging.getLogger("framing")
    if not any(getattr(h, "_framing", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._framing = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level)


def record_predictions(labels: list[str]) -> None:
    SENTENCES.inc(len(labels))
    for label in set(labels):
        PREDICTIONS.labels(label=label).inc(labels.count(label))
    g.sentences = getattr(g, "sentences", 0) + len(labels)


def metrics_response() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    # content_type, not mimetype: CONTENT_TYPE_LATEST carries its own charset,
    # and mimetype= would append a second one.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Request id in, X-Request-ID / X-Model-Version / security headers out."""

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        response.headers["X-Request-ID"] = getattr(g, "request_id", "-")
        classifier = app.extensions.get("framing")
        if classifier is not None:
            response.headers["X-Model-Version"] = classifier.info["version"]
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if rule != "/metrics":
            REQUESTS.labels(endpoint=rule, method=request.method, status=str(response.status_code)).inc()
            LATENCY.labels(endpoint=rule).observe(elapsed)
        log.info(
            "request",
            extra={
                "request_id": g.request_id,
                "method": request.method,
                "route": rule,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "sentences": getattr(g, "sentences", 0),
                "model_version": response.headers.get("X-Model-Version"),
            },
        )
        return response


# No inline script or style anywhere; everything comes from the app itself.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
