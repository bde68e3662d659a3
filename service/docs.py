"""A readable API reference page rendered from the generated OpenAPI document.

Rendered on the server from ``api.spec`` so there is one source of truth and
no JavaScript, CDN or network access is needed to read it.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template
from markupsafe import Markup, escape

bp = Blueprint("docs", __name__)
_CODE_SPAN = re.compile(r"(`{1,2})([^`\n]+?)\1")


@bp.app_template_filter("code_spans")
def code_spans(text) -> Markup:
    """Docstrings mark names with backticks; show them as code, escape the rest."""
    return Markup(_CODE_SPAN.sub(lambda m: f"<code>{m.group(2)}</code>", str(escape(text or ""))))


def _resolve(spec: dict, node):
    """Follow a local ``$ref`` (components/schemas/...)."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _fields(spec: dict, schema) -> list[dict]:
    schema = _resolve(spec, schema) or {}
    if schema.get("type") == "string" and "properties" not in schema:
        return [{"name": "(body)", "type": "string", "required": True, "description": "The article as plain text."}]
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        target = _resolve(spec, prop)
        kind = target.get("type", "object")
        if kind == "array":
            item = prop.get("items", {})
            ref = item.get("$ref", "")
            kind = f"array of {ref.rsplit('/', 1)[-1] or _resolve(spec, item).get('type', 'object')}"
        elif "$ref" in prop:
            kind = prop["$ref"].rsplit("/", 1)[-1]
        rows.append(
            {
                "name": name,
                "type": kind,
                "required": name in required,
                "description": prop.get("description") or target.get("description", ""),
            }
        )
    return rows


@bp.route("/docs")
def api_docs():
    """Human-readable API reference."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            bodies = []
            for ctype, content in op.get("requestBody", {}).get("content", {}).items():
                bodies.append({"content_type": ctype, "fields": _fields(spec, content.get("schema", {}))})
            responses = []
            for code, resp in sorted(op.get("responses", {}).items()):
                resp = _resolve(spec, resp)
                schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
                responses.append(
                    {"code": code, "description": resp.get("description", ""), "fields": _fields(spec, schema)}
                )
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "bodies": bodies,
                    "responses": responses,
                    "anchor": f"{method}-{path.strip('/').replace('/', '-') or 'root'}",
                }
            )
    return render_template("docs.html", info=spec.get("info", {}), operations=operations)
