"""`framing-evaluate`: score a labeled file with a saved model, one row per unit.

Rows are *not* re-split: a headline or a sentence from a real article is
scored as given, which is how the dev and hold-out sets are defined.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from model.artifact import ArtifactError
from model.classifier import Classifier
from model.labels import LABELS
from training.dataset import DatasetError, load_examples
from training.metrics import bootstrap_intervals, classification_metrics, paired_difference


def predict_rows(classifier: Classifier, texts: list[str]) -> np.ndarray:
    """Probabilities (LABELS order) of each row scored as one unit, through the
    same ``Classifier.predict_texts`` the API and the batch scorer call."""
    predictions = classifier.predict_texts(texts, split=False)
    return np.array([[doc[0].probabilities[label] for label in LABELS] for doc in predictions])


def evaluate_classifier(
    classifier: Classifier, data: Path, examples: list | None = None, proba: np.ndarray | None = None,
) -> dict:
    """Every metric for ``data`` (rows already loaded from it may be passed as
    ``examples``, and the classifier's probabilities for them as ``proba``)."""
    if examples is None:
        examples = load_examples(data, require_doc_id=False, check_sentences=False)
    if not examples:
        raise DatasetError([f"{data}: no labeled rows"])
    if proba is None:
        proba = predict_rows(classifier, [ex.text for ex in examples])
    y = [ex.label for ex in examples]
    metrics = classification_metrics(y, proba)
    result = {"model": classifier.info, "data": str(data), "labels": list(LABELS), **metrics,
              "intervals": bootstrap_intervals(y, proba)}
    kinds = sorted({ex.kind for ex in examples if ex.kind})
    if kinds:
        result["by_kind"] = {}
        for kind in kinds:
            rows = [i for i, ex in enumerate(examples) if ex.kind == kind]
            m = classification_metrics([y[i] for i in rows], proba[rows])
            result["by_kind"][kind] = {k: m[k] for k in ("n", "accuracy", "macro_f1", "ece")}
    return result


def evaluate(model_dir: Path | None, data: Path, baseline_dir: Path | None = None) -> dict:
    """Metrics of ``model_dir`` on ``data``; with ``baseline_dir``, also that
    model's and the paired difference (this model minus the baseline)."""
    examples = load_examples(data, require_doc_id=False, check_sentences=False)
    classifier = Classifier.from_dir(model_dir)
    baseline = None if baseline_dir is None else Classifier.from_dir(baseline_dir)  # refused before scoring
    texts, y = [ex.text for ex in examples], [ex.label for ex in examples]
    proba = predict_rows(classifier, texts) if examples else None
    result = evaluate_classifier(classifier, data, examples, proba)
    if baseline is not None:
        base_proba = predict_rows(baseline, texts)
        base = classification_metrics(y, base_proba)
        result["baseline"] = {"model": baseline.info, **{k: base[k] for k in ("accuracy", "macro_f1", "ece")}}
        result["difference"] = paired_difference(y, proba, base_proba)
    return result


def _interval(values: list[float]) -> str:
    return f"[{values[0]:.3f}, {values[1]:.3f}]"


@click.command()
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, envvar="FRAMING_MODEL_DIR",
              help="Model directory, verified before loading [default: $FRAMING_MODEL_DIR, else the "
              "project's model/artifacts/default].")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="CSV or JSONL with text and label fields.")
@click.option("--baseline", "baseline_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A second model directory: also report the difference (--model minus this one) "
              "with a paired bootstrap interval, to tell a change from noise.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def main(model_dir: Path, data: Path, baseline_dir: Path | None, as_json: bool) -> None:
    """Report accuracy, macro-F1, per-label P/R/F1, confusion matrix and ECE.

    \b
    Intervals are 95 % percentile bootstrap intervals over the rows (2,000
    resamples, seed 0).

    \b
    Examples:
        framing-evaluate --data ../shared/dev/dev.jsonl --json
        framing-evaluate --model out/candidate --baseline model/artifacts/default --data ../shared/dev/dev.jsonl
    """
    try:
        result = evaluate(model_dir, data, baseline_dir)
    except (DatasetError, ArtifactError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        result.pop("calibration_bins", None)
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"model {result['model']['name']} {result['model']['version']} on {data}")
    ci = result["intervals"]
    click.echo(
        f"n={result['n']}  accuracy={result['accuracy']:.3f} {_interval(ci['accuracy'])}  "
        f"macro-F1={result['macro_f1']:.3f} {_interval(ci['macro_f1'])}  "
        f"ECE={result['ece']:.3f} {_interval(ci['ece'])}  (95 % bootstrap intervals)"
    )
    click.echo(f"{'label':>12} {'precision':>9} {'recall':>7} {'f1':>6} {'f1 interval':>16} {'support':>7}")
    for label in LABELS:
        p = result["per_label"][label]
        click.echo(f"{label:>12} {p['precision']:9.3f} {p['recall']:7.3f} {p['f1']:6.3f} "
                   f"{_interval(ci['f1'][label]):>16} {p['support']:7d}")
    click.echo("confusion (rows true, columns predicted): " + json.dumps(result["confusion_matrix"]))
    if "difference" in result:
        base = result["baseline"]
        click.echo("differences are --model minus --baseline, paired over the same rows")
        click.echo(f"baseline {base['model']['name']} {base['model']['version']}: accuracy={base['accuracy']:.3f}  "
                   f"macro-F1={base['macro_f1']:.3f}  ECE={base['ece']:.3f}")
        for key, name in (("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("ece", "ECE")):
            d = result["difference"][key]
            verdict = "beyond noise" if d["beyond_noise"] else "within noise"
            better = " (lower is better)" if key == "ece" else ""
            click.echo(f"  {name:>9} difference {d['difference']:+.3f} {_interval(d['interval'])}: {verdict}{better}")


if __name__ == "__main__":
    main()
