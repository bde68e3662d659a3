"""`framing-evaluate`: score a labeled file with a saved model, one row per unit.

Rows are *not* re-split: a headline or a sentence from a real article is
scored as given, which is how the dev and hold-out sets are defined.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from model.artifact import ArtifactError
from model.classifier import Classifier
from model.labels import LABELS
from training.dataset import DatasetError, load_examples
from training.metrics import classification_metrics


def evaluate(model_dir: Path, data: Path) -> dict:
    classifier = Classifier.from_dir(model_dir)
    examples = load_examples(data, require_doc_id=False, check_sentences=False)
    proba = classifier.predict_proba([ex.text for ex in examples])
    metrics = classification_metrics([ex.label for ex in examples], proba)
    return {"model": classifier.info, "data": str(data), "labels": list(LABELS), **metrics}


@click.command()
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default="model/artifacts/default", show_default=True, envvar="FRAMING_MODEL_DIR",
              help="Model directory (verified before loading).")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="CSV or JSONL with text and label fields.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def main(model_dir: Path, data: Path, as_json: bool) -> None:
    """Report accuracy, macro-F1, per-label P/R/F1, confusion matrix and ECE.

    \b
    Example:
        framing-evaluate --model model/artifacts/default --data ../shared/dev/dev.jsonl --json
    """
    try:
        result = evaluate(model_dir, data)
    except (DatasetError, ArtifactError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        result.pop("calibration_bins", None)
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"model {result['model']['name']} {result['model']['version']} on {data}")
    click.echo(
        f"n={result['n']}  accuracy={result['accuracy']:.3f}  macro-F1={result['macro_f1']:.3f}  "
        f"ECE={result['ece']:.3f}"
    )
    click.echo(f"{'label':>12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}")
    for label in LABELS:
        p = result["per_label"][label]
        click.echo(f"{label:>12} {p['precision']:9.3f} {p['recall']:7.3f} {p['f1']:6.3f} {p['support']:7d}")
    click.echo("confusion (rows true, columns predicted): " + json.dumps(result["confusion_matrix"]))


if __name__ == "__main__":
    main()
