"""The web pages: the analyst view at ``/`` and the annotators' review page at
``/review`` (plain HTML/CSS/JS served by the app)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory

from model.labels import DISPLAY, LABELS
from model.scope import FLAG_DISPLAY

bp = Blueprint("web", __name__)


def _label_list() -> list[dict[str, str]]:
    # A list keeps LABELS order through JSON (objects may be key-sorted).
    return [{"label": label, **DISPLAY[label]} for label in LABELS]


@bp.route("/")
def index():
    """Paste an article, see its framing sentence by sentence."""
    return render_template(
        "index.html",
        max_chars=current_app.config["MAX_TEXT_CHARS"],
        auth_required=bool(current_app.config["API_KEYS"]),
        labels=DISPLAY,
        label_list=_label_list(),
        flags=FLAG_DISPLAY,
    )


@bp.route("/review")
def review():
    """Label the sentences the model is least sure of, one at a time, and adjudicate conflicts."""
    return render_template(
        "review.html",
        auth_required=bool(current_app.config["API_KEYS"]),
        label_list=_label_list(),
        flags=FLAG_DISPLAY,
    )


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; answer with the SVG icon."""
    return send_from_directory(current_app.static_folder, "favicon.svg",
                               mimetype="image/svg+xml", max_age=86400)
