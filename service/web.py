"""The analyst web page at ``/`` (plain HTML/CSS/JS served by the app)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from model.labels import DISPLAY, LABELS
from model.scope import FLAG_DISPLAY

bp = Blueprint("web", __name__)


@bp.route("/")
def index():
    """Paste an article, see its framing sentence by sentence."""
    return render_template(
        "index.html",
        max_chars=current_app.config["MAX_TEXT_CHARS"],
        auth_required=bool(current_app.config["API_KEYS"]),
        labels=DISPLAY,
        # A list keeps LABELS order through JSON (objects may be key-sorted).
        label_list=[{"label": label, **DISPLAY[label]} for label in LABELS],
        flags=FLAG_DISPLAY,
    )
