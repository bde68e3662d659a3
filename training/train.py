"""`framing-train`: validate the corpus, choose hyper-parameters, calibrate, save.

Every figure written into the metadata and the model card is measured on
sentences the scoring model did not see: out-of-fold predictions from
cross-validation grouped by ``doc_id`` (an article never straddles folds), and
optionally a separate real-news dev set.
"""

from __future__ import annotations

import logging
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import numpy as np
from sklearn.model_selection import (
    GridSearchCV,
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    cross_val_predict,
)

from model.artifact import save_artifact
from model.calibration import (
    TemperatureScaled,
    apply_inverse_temperature,
    fit_inverse_temperature,
)
from model.classifier import Classifier
from model.labels import LABELS
from model.pipeline import DEFAULT_PARAMS, build_pipeline
from training import dataset
from training.metrics import classification_metrics

log = logging.getLogger("framing.train")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "model" / "artifacts" / "default"
DEFAULT_DEV = REPO_ROOT.parent / "shared" / "dev" / "dev.jsonl"
# Above this out-of-fold ECE the raw probabilities are recalibrated.
ECE_TOLERANCE = 0.05

# Kept small so `make install` trains in about a minute on 2 cores. In a full
# 96-candidate search on the first 3,653 sentences, unigrams-only, C=1 and
# min_df=2 trailed the best by 0.020, 0.013 and 0.003 macro-F1, and sublinear tf
# and class weighting moved it by 0.003 or less; those are fixed (DEFAULT_PARAMS).
PARAM_GRID: dict[str, list[Any]] = {
    "tfidf__ngram_range": [(1, 2), (1, 3)],
    "clf__C": [10.0, 30.0, 100.0],
}


def _folds(y: list[str], groups: list[str], n_splits: int, seed: int) -> list:
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def _label_order(proba: np.ndarray) -> np.ndarray:
    """cross_val_predict returns columns in sorted class order; reorder to LABELS."""
    classes = sorted(LABELS)
    return proba[:, [classes.index(label) for label in LABELS]]


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(params.items())}


def search(texts, y, folds, seed: int, jobs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Grid search on macro-F1; returns the best params and the top candidates."""
    n_candidates = int(np.prod([len(v) for v in PARAM_GRID.values()]))
    log.info("grid search: %d candidates x %d folds", n_candidates, len(folds))
    grid = GridSearchCV(
        build_pipeline(random_state=seed),
        PARAM_GRID,
        scoring="f1_macro",
        cv=folds,
        n_jobs=jobs,
        refit=False,
    )
    grid.fit(texts, y)
    results = grid.cv_results_
    order = np.argsort(-results["mean_test_score"], kind="stable")[:5]
    top = [
        {
            "params": _jsonable(results["params"][i]),
            "macro_f1": round(float(results["mean_test_score"][i]), 4),
            "std": round(float(results["std_test_score"][i]), 4),
        }
        for i in order
    ]
    return dict(grid.best_params_), {"candidates": n_candidates, "folds": len(folds), "top": top}


def out_of_fold(estimator, texts, y, folds, jobs: int) -> np.ndarray:
    """Out-of-fold probabilities, columns in LABELS order."""
    proba = cross_val_predict(
        estimator, texts, y, cv=folds, method="predict_proba", n_jobs=jobs
    )
    return _label_order(proba)


def _part_folds(examples) -> list | None:
    """Leave-one-file-out folds: each corpus part was written by a different
    person on different topics, so scores on a held-out part show how the model
    behaves on text unlike its training data (real news is further still)."""
    sources = [ex.source for ex in examples]
    if len(set(sources)) < 3:
        return None
    splitter = LeaveOneGroupOut()
    return list(splitter.split(np.zeros(len(sources)), groups=sources))


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def library_versions() -> dict[str, str]:
    import joblib
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def train(
    data: Path,
    out: Path,
    *,
    seed: int = 0,
    folds: int = 5,
    do_search: bool = True,
    calibration: str = "auto",
    dev: Path | None = None,
    jobs: int = 1,
    name: str = "framing-tfidf-lr",
    version: str | None = None,
    card: bool = True,
) -> dict[str, Any]:
    """Train and save a model directory; returns its metadata."""
    started = time.perf_counter()
    files = dataset.data_files(data)
    examples = dataset.load_examples(data)
    info = dataset.summary(examples)
    log.info(
        "corpus: %d sentences, %d documents, %s",
        info["n_sentences"], info["n_documents"], info["label_counts"],
    )
    texts = [ex.text for ex in examples]
    y = [ex.label for ex in examples]
    groups = [ex.doc_id for ex in examples]
    smallest = min(info["label_counts"].values())
    if smallest < folds or info["n_documents"] < folds:
        raise dataset.DatasetError(
            [f"{data}: {folds}-fold cross-validation needs at least {folds} sentences per "
             f"label and {folds} documents (smallest label has {smallest}); use fewer --folds "
             "or add data"]
        )
    cv = _folds(y, groups, folds, seed)

    search_info: dict[str, Any] | None = None
    params = dict(DEFAULT_PARAMS)
    if do_search:
        best, search_info = search(texts, y, cv, seed, jobs)
        params.update(best)
    log.info("parameters: %s", _jsonable(params))
    pipeline = build_pipeline(random_state=seed, **params)

    log.info("out-of-fold evaluation (raw probabilities)")
    truth = [LABELS.index(label) for label in y]
    raw_proba = out_of_fold(pipeline, texts, y, cv, jobs)
    raw = classification_metrics(y, raw_proba)
    parts = _part_folds(examples)
    shift = None
    if parts is not None:
        log.info("leave-one-part-out evaluation (%d parts)", len(parts))
        shift_proba = out_of_fold(pipeline, texts, y, parts, jobs)
        shift = classification_metrics(y, shift_proba)
    shift_raw_ece = shift["ece"] if shift else None
    worst_ece = max(raw["ece"], shift_raw_ece or 0.0)
    method = calibration
    if calibration == "auto":
        # With several corpus parts, always fit the temperature on held-out-part
        # scores: text unlike the training data is what users send. With one
        # file, calibrate only when the out-of-fold ECE says it is needed.
        method = "temperature" if parts is not None or worst_ece > ECE_TOLERANCE else "none"
    beta = 1.0
    cv_metrics = raw
    if method == "temperature":
        # Fit the temperature on the held-out-part scores when there are parts:
        # they are the closer stand-in for real text. One scalar is fitted, on
        # other predictions than the doc-grouped ones it is then scored on.
        beta = fit_inverse_temperature(shift_proba if shift else raw_proba, truth)
        cv_metrics = classification_metrics(y, apply_inverse_temperature(raw_proba, beta))
        if shift:
            shift = classification_metrics(y, apply_inverse_temperature(shift_proba, beta))
        log.info("raw ECE %.3f (held-out parts %s); temperature scaling, beta %.3f",
                 raw["ece"], f"{shift_raw_ece:.3f}" if shift else "-", beta)
    log.info(
        "cross-validated: macro-F1 %.3f, accuracy %.3f, ECE %.3f",
        cv_metrics["macro_f1"], cv_metrics["accuracy"], cv_metrics["ece"],
    )
    log.info("fitting the final model on all %d sentences", len(texts))
    pipeline.fit(texts, y)
    estimator = TemperatureScaled(pipeline, beta) if method == "temperature" else pipeline

    data_sha = dataset.data_sha256(files)
    metadata: dict[str, Any] = {
        "name": name,
        "version": version or f"1.0.0+{data_sha[:8]}",
        "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "seed": seed,
        "git_commit": git_commit(),
        "library_versions": library_versions(),
        "training_data": {
            "path": str(data),
            "files": [f.name for f in files],
            "sha256": data_sha,
            **info,
        },
        "params": _jsonable(params),
        "calibration": {
            "method": method,
            "inverse_temperature": beta,
            "raw_cv_ece": raw["ece"],
            "raw_held_out_part_ece": shift_raw_ece,
            "tolerance": ECE_TOLERANCE,
        },
        "search": search_info,
        "metrics": {"cross_validated": cv_metrics, "raw_cross_validated": raw},
    }
    if dev is not None:
        dev_examples = dataset.load_examples(dev, require_doc_id=False, check_sentences=False)
        proba = Classifier(estimator, {"model_sha256": ""}).predict_proba(
            [ex.text for ex in dev_examples]
        )
        metadata["metrics"]["dev"] = {
            "path": dev.name,
            **classification_metrics([ex.label for ex in dev_examples], proba),
        }
        log.info("dev (%s): macro-F1 %.3f", dev.name, metadata["metrics"]["dev"]["macro_f1"])
    if shift is not None:
        metadata["metrics"]["held_out_parts"] = shift
    metadata["training_seconds"] = round(time.perf_counter() - started, 1)
    metadata = save_artifact(out, estimator, metadata)
    if card:
        from training.card import write_model_card

        write_model_card(out, metadata)
    log.info("saved %s in %.1fs", out, time.perf_counter() - started)
    return metadata


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path),
              default=dataset.DEFAULT_DATA_DIR, show_default=True,
              help="Labeled CSV/JSONL file or a directory of them.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_OUT, show_default=True, envvar="FRAMING_MODEL_DIR",
              help="Model directory to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for folds and solver.")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True,
              help="Cross-validation folds (grouped by doc_id).")
@click.option("--search/--no-search", default=True, show_default=True,
              help="Run the hyper-parameter grid search.")
@click.option("--calibration", type=click.Choice(["auto", "none", "temperature"]),
              default="auto", show_default=True,
              help="Temperature-scale probabilities; auto does so whenever the data has 3+ files "
              f"(fitted on held-out files), else when the out-of-fold ECE > {ECE_TOLERANCE}.")
@click.option("--dev", type=click.Path(dir_okay=False, path_type=Path), envvar="FRAMING_DEV_DATA",
              default=None, help=f"Extra held-out evaluation file (text,label). Default: {DEFAULT_DEV} if present.")
@click.option("--no-dev", is_flag=True, help="Skip the dev-set evaluation.")
@click.option("--jobs", "-j", type=int, default=-1, show_default=True, help="Parallel jobs for the search (-1: all cores).")
@click.option("--name", default="framing-tfidf-lr", show_default=True, help="Model name recorded in metadata.")
@click.option("--version", "model_version", default=None,
              help="Model version recorded in metadata [default: 1.0.0+<data sha256 prefix>].")
@click.option("--quiet", "-q", is_flag=True, help="Only warnings on stderr.")
def main(data, out, seed, folds, search, calibration, dev, no_dev, jobs, name, model_version, quiet):
    """Train the framing model from labeled sentences and save a model directory.

    Writes model.joblib, metadata.json and MODEL_CARD.md (with a confusion
    matrix and a reliability diagram) into --out.

    \b
    Example:
        framing-train --data training/data --out model/artifacts/default
    """
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if dev is None and not no_dev and DEFAULT_DEV.is_file():
        dev = DEFAULT_DEV
    if no_dev:
        dev = None
    try:
        metadata = train(
            data, out, seed=seed, folds=folds, do_search=search, calibration=calibration,
            dev=dev, jobs=jobs, name=name, version=model_version,
        )
    except dataset.DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    cv = metadata["metrics"]["cross_validated"]
    line = f"saved {out} (version {metadata['version']}): cross-validated macro-F1 {cv['macro_f1']:.3f}, ECE {cv['ece']:.3f}"
    if "dev" in metadata["metrics"]:
        line += f"; dev macro-F1 {metadata['metrics']['dev']['macro_f1']:.3f}"
    click.echo(line)


if __name__ == "__main__":
    main()
