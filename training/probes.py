"""`python -m training.probes`: model variants scored the way `framing-train`
chooses (each corpus part held out in turn) and on the real-news dev set,
each against the default settings with a paired bootstrap.

Why it exists: dev has 307 sentences, so a variant that gains two points of
macro-F1 there may be another draw of the same text. This prints, for every
variant, what the selection rule sees (held-out-part macro-F1 and log loss,
on all parts and on the part the others predict worst) beside the dev
change and its interval, so a decision can rest on both. It trains one
leave-one-part-out run per variant: about a minute each on 2 cores.

    python -m training.probes                      # every variant
    python -m training.probes --only min_df_3 --only trigrams
    python -m training.probes --json out/probes.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import click
import numpy as np

from model.artifact import ArtifactError, read_metadata, resolve_model_dir
from model.calibration import TemperatureScaled
from model.classifier import Classifier
from model.labels import LABELS
from model.pipeline import build_pipeline
from training import dataset
from training.dataset import DatasetError
from training.evaluate import predict_rows
from training.metrics import classification_metrics, paired_difference
from training.train import DEFAULT_DEV, _part_folds, out_of_fold, temperature_on_worst_part


def _default_params(model_dir: Path | None) -> dict[str, Any]:
    """The default model's chosen parameters, so "base" is what `make install` built."""
    params = read_metadata(resolve_model_dir(model_dir))["params"]
    return {key: tuple(v) if isinstance(v, list) else v for key, v in params.items()}


# Words with no stance of their own; in the corpus they still lean toward the
# sides (longer prose), which is what "function_words" tests.
FUNCTION_WORDS = ("the of to and a an in on at is are was were that it as by for with from be this its s has "
                  "have had been will would which who he she they their his her we our up out than more").split()

# name -> (what it changes, parameter overrides). Each is one change from base.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "base": ("the default model's parameters", {}),
    "min_df_3": ("n-grams in at least 3 sentences", {"tfidf__min_df": 3}),
    "min_df_5": ("n-grams in at least 5 sentences", {"tfidf__min_df": 5}),
    "trigrams": ("word 1-3-grams", {"tfidf__ngram_range": (1, 3)}),
    "binary_tf": ("presence instead of sublinear counts", {"tfidf__binary": True}),
    "max_df_0.3": ("drop n-grams in over 30 % of sentences", {"tfidf__max_df": 0.3}),
    "C_100": ("weaker regularisation", {"clf__C": 100.0}),
    "C_10": ("stronger regularisation", {"clf__C": 10.0}),
    "no_idf": ("term frequency without idf", {"tfidf__use_idf": False}),
    "function_words": ("function words dropped before n-grams", {"tfidf__stop_words": FUNCTION_WORDS}),
}


def probe(
    examples, dev_examples, params: dict[str, Any], jobs: int, worst: list[str] | None = None,
) -> tuple[dict[str, Any], np.ndarray, list[str]]:
    """Held-out-part and dev figures for one parameter set, calibrated as
    `framing-train` calibrates (a temperature for the worst held-out part).
    The worst-part figures are on ``worst`` when given (base's worst part, so
    every variant is judged on the same rows), else on this variant's own."""
    texts, y = [ex.text for ex in examples], [ex.label for ex in examples]
    truth = [LABELS.index(label) for label in y]
    part_proba = out_of_fold(build_pipeline(random_state=0, **params), texts, y, _part_folds(examples), jobs)
    beta, own_worst = temperature_on_worst_part(examples, part_proba, truth)
    worst = worst or own_worst
    rows = [i for i, ex in enumerate(examples) if Path(ex.source).name in worst]
    pipeline = build_pipeline(random_state=0, **params).fit(texts, y)
    model = Classifier(TemperatureScaled(pipeline, beta), {"version": "probe"}, check_language=False)
    dev_proba = predict_rows(model, [ex.text for ex in dev_examples])
    parts = classification_metrics(y, part_proba)
    worst_part = classification_metrics([y[i] for i in rows], part_proba[rows])
    dev = classification_metrics([ex.label for ex in dev_examples], dev_proba)
    figures = {
        "parts_macro_f1": parts["macro_f1"], "parts_log_loss": parts["log_loss"],
        "worst_part_macro_f1": worst_part["macro_f1"], "worst_part_log_loss": worst_part["log_loss"],
        "inverse_temperature": beta,
        "dev_macro_f1": dev["macro_f1"], "dev_accuracy": dev["accuracy"], "dev_ece": dev["ece"],
        "dev_f1": {label: dev["per_label"][label]["f1"] for label in LABELS},
    }
    return figures, dev_proba, worst


def _row(name: str, f: dict[str, Any], d: dict[str, Any] | None) -> str:
    change = "" if d is None else (
        f"{d['macro_f1']['difference']:+.3f} [{d['macro_f1']['interval'][0]:+.3f}, "
        f"{d['macro_f1']['interval'][1]:+.3f}]{' *' if d['macro_f1']['beyond_noise'] else ''}")
    return (f"{name:14s} {f['parts_macro_f1']:.4f} {f['parts_log_loss']:.4f} {f['worst_part_macro_f1']:.4f} "
            f"{f['worst_part_log_loss']:.4f} {f['inverse_temperature']:.3f} {f['dev_macro_f1']:.3f} "
            f"{f['dev_ece']:.3f}  {change}")


def run(data: Path, dev: Path, only: list[str], jobs: int, model_dir: Path | None,
        echo: Callable[[str], None]) -> dict:
    # The cheap checks first: a bad model or dev file should not wait for a
    # minute of training to be reported.
    base_params = _default_params(model_dir)
    dev_examples = dataset.load_examples(dev, require_doc_id=False, check_sentences=False)
    if not dev_examples:
        raise click.ClickException(f"{dev}: no labeled rows")
    examples = dataset.load_examples(data)
    if _part_folds(examples) is None:
        raise click.ClickException(f"{data}: probes need a corpus in at least 3 part files")
    y_dev = [ex.label for ex in dev_examples]
    names = ["base"] + [n for n in (only or VARIANTS) if n != "base"]
    echo(f"{len(examples)} corpus sentences, {len(dev_examples)} dev sentences; base = {base_params}")
    echo("variant        parts-F1 parts-LL worst-F1 worst-LL beta  dev-F1 dev-ECE  dev-F1 change [95 %]")
    results: dict[str, Any] = {}
    base_proba = worst = None
    for name in names:
        started = time.perf_counter()
        # The worst part is base's, so every variant's worst-part figures are
        # measured on the same rows.
        figures, dev_proba, worst = probe(examples, dev_examples, {**base_params, **VARIANTS[name][1]},
                                             jobs, worst)
        if base_proba is None:  # base runs first: the others are measured against it
            base_proba, diff = dev_proba, None
        else:
            diff = paired_difference(y_dev, dev_proba, base_proba)
        results[name] = {"change": VARIANTS[name][0], **figures, "dev_difference": diff,
                         "seconds": time.perf_counter() - started}
        echo(_row(name, figures, diff))
    echo("* the paired interval excludes 0; among several variants one such by a hair is expected "
         "by chance (each interval has a 5 % false-alarm rate). The selection rule reads parts-F1 (ties "
         "within 0.005 go to the lower parts-LL); dev is for measuring, not choosing.")
    return {"data": str(data), "dev": dev.name, "base_params": {k: list(v) if isinstance(v, tuple) else v
                                             for k, v in base_params.items()},
            "worst_parts": worst, "variants": results}


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), default=dataset.DEFAULT_DATA_DIR,
              show_default=True, help="Corpus directory, one file per part.")
@click.option("--dev", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_DEV,
              show_default=True, help="Real-news labeled set to measure on (read in place, never trained on).")
@click.option("--only", multiple=True, type=click.Choice(sorted(VARIANTS)), help="Run these variants (and base).")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model whose parameters are base [default: model/artifacts/default].")
@click.option("--jobs", type=int, default=2, show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every figure here.")
def main(data: Path, dev: Path, only: tuple[str, ...], model_dir: Path | None, jobs: int,
         json_out: Path | None) -> None:
    """Score model variants against the default on held-out parts and dev."""
    try:
        result = run(data, dev, list(only), jobs, model_dir, click.echo)
    except (DatasetError, ArtifactError) as exc:
        raise click.ClickException(str(exc)) from exc
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
