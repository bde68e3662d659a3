"""The report as one self-contained HTML file: Plotly charts with plotly.js
embedded once, tables with the exact numbers, no request to anywhere."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape
from plotly.offline import get_plotlyjs

from model.labels import DISPLAY, LABELS

TEMPLATES = Path(__file__).resolve().parent / "templates"
COLOURS = {label: DISPLAY[label]["colour"] for label in LABELS}
_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png"}}
MAX_DISTRIBUTION_GROUPS = 8


def _name(label: str) -> str:
    return DISPLAY[label]["name"]


def _div(fig: go.Figure, chart_id: str) -> str:
    fig.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 40, "b": 50}, height=380,
                      legend={"orientation": "h", "y": -0.2})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id, config=_CONFIG)


def _ci_error(values: list, cis: list) -> dict:
    plus = [(ci[1] - v) if ci and v is not None else None for v, ci in zip(values, cis)]
    minus = [(v - ci[0]) if ci and v is not None else None for v, ci in zip(values, cis)]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


def time_charts(periods: dict[str, dict]) -> list[str]:
    names = list(periods)
    shares = go.Figure()
    for label in LABELS:
        shares.add_trace(go.Scatter(
            x=names, y=[periods[p]["label_shares"][label] for p in names], mode="lines+markers",
            name=_name(label), line={"color": COLOURS[label]},
            error_y=_ci_error([periods[p]["label_shares"][label] for p in names],
                              [periods[p]["label_shares_ci"][label] for p in names])))
    shares.update_layout(title="Label shares per period (sentences in scope)", yaxis={"tickformat": ".0%"})
    score = go.Figure()
    score.add_trace(go.Bar(x=names, y=[periods[p]["documents"] for p in names], name="documents",
                           marker={"color": "#d9e2ec"}, yaxis="y2"))
    values = [periods[p]["mean_score"] for p in names]
    score.add_trace(go.Scatter(x=names, y=values, mode="lines+markers", name="mean framing score",
                               line={"color": "#1f2933"},
                               error_y=_ci_error(values, [periods[p]["mean_score_ci"] for p in names])))
    score.update_layout(title="Mean document framing score per period (95 % interval) and volume",
                        yaxis={"title": "framing score", "range": [-1, 1]},
                        yaxis2={"title": "documents", "overlaying": "y", "side": "right", "showgrid": False})
    return [_div(shares, "chart-time-shares"), _div(score, "chart-time-score")]


def group_charts(groups: dict[str, dict]) -> list[str]:
    names = list(groups)
    values = [groups[g]["mean_score"] for g in names]
    labels = [f"{g} (n={groups[g]['documents']}{', small' if groups[g]['small'] else ''})" for g in names]
    score = go.Figure(go.Scatter(
        x=values, y=labels, mode="markers", marker={"color": "#1f2933", "size": 9},
        error_x=_ci_error(values, [groups[g]["mean_score_ci"] for g in names]), name="mean framing score"))
    score.update_layout(title="Mean document framing score by group (95 % interval)",
                        xaxis={"range": [-1, 1], "zeroline": True}, height=max(300, 40 * len(names) + 120))
    shares = go.Figure()
    for label in LABELS:
        shares.add_trace(go.Bar(y=labels, x=[groups[g]["label_shares"][label] for g in names], orientation="h",
                                name=_name(label), marker={"color": COLOURS[label]}))
    shares.update_layout(barmode="stack", title="Label shares by group", xaxis={"tickformat": ".0%"},
                         height=max(300, 40 * len(names) + 120))
    return [_div(score, "chart-group-score"), _div(shares, "chart-group-shares")]


def distribution_chart(result: dict) -> str:
    bins = result["bins"]
    centres = [(a + b) / 2 for a, b in zip(bins, bins[1:])]
    fig = go.Figure()
    series = [("all documents", result["overall"])]
    by_size = sorted(result["groups"].items(), key=lambda kv: -kv[1]["documents"])[:MAX_DISTRIBUTION_GROUPS]
    series += by_size
    for name, stats in series:
        total = sum(stats["histogram"]) or 1
        fig.add_trace(go.Bar(x=centres, y=[c / total for c in stats["histogram"]], name=str(name), opacity=0.6))
    fig.update_layout(barmode="overlay", title="Distribution of document framing scores (share of documents)",
                      xaxis={"title": "framing score", "range": [-1, 1]}, yaxis={"tickformat": ".0%"})
    return _div(fig, "chart-distribution")


def render(result: dict[str, Any], *, title: str, inputs: list[str], by: str | None, time: str | None,
           freq: str, comparison: dict | None, validation: dict | None, model_note: str) -> str:
    charts: dict[str, list[str]] = {"time": [], "group": [], "distribution": []}
    if result["periods"]:
        charts["time"] = time_charts(result["periods"])
    if result["groups"]:
        charts["group"] = group_charts(result["groups"])
    if result["overall"]["scored_documents"]:
        charts["distribution"] = [distribution_chart(result)]
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = lambda v, digits=1: "–" if v is None else f"{100 * v:.{digits}f} %"
    env.filters["num"] = lambda v, digits=3: "–" if v is None else f"{v:+.{digits}f}"
    env.filters["ci"] = lambda ci, pct=False: "–" if not ci else (
        f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f} %" if pct else f"{ci[0]:+.3f} to {ci[1]:+.3f}")
    env.filters["count"] = lambda v: f"{v:,}"
    env.filters["meta"] = _meta_cell
    return env.get_template("report.html").render(
        title=title, result=result, charts=charts, labels=LABELS, names={lab: _name(lab) for lab in LABELS},
        colours=COLOURS, inputs=inputs, by=by, time=time, freq=freq, comparison=comparison, validation=validation,
        model_note=model_note, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js=get_plotlyjs(),
    )


def _meta_cell(meta: dict, key: str) -> str:
    value = (meta or {}).get(key)
    return "" if value is None else str(value)

