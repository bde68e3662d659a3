"""Held-out metrics shared by training, evaluation and the model card."""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from model.labels import LABELS

N_BINS = 10
COVERAGE_THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _bin_index(conf: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Each confidence's bin: bin i holds (i/n, (i+1)/n]; confidences are never below 1/3."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)


def calibration_bins(
    y_true: Sequence[str], proba: np.ndarray, n_bins: int = N_BINS
) -> list[dict[str, float]]:
    """Top-label reliability bins: mean confidence vs accuracy per bin."""
    proba = np.asarray(proba)
    truth = np.array([LABELS.index(y) for y in y_true])
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = _bin_index(conf, n_bins)
    bins = []
    for i in range(n_bins):
        mask = idx == i
        bins.append(
            {
                "lower": float(edges[i]),
                "upper": float(edges[i + 1]),
                "count": int(mask.sum()),
                "confidence": float(conf[mask].mean()) if mask.any() else 0.0,
                "accuracy": float(correct[mask].mean()) if mask.any() else 0.0,
            }
        )
    return bins


def expected_calibration_error(
    y_true: Sequence[str], proba: np.ndarray, n_bins: int = N_BINS
) -> float:
    """ECE over equal-width confidence bins (weighted |accuracy − confidence|)."""
    bins = calibration_bins(y_true, proba, n_bins)
    n = sum(b["count"] for b in bins)
    if not n:
        return 0.0
    return float(
        sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / n
    )


def coverage(y_true: Sequence[str], proba: np.ndarray) -> list[dict[str, float]]:
    """Accuracy against confidence: for each threshold, the share of sentences
    predicted at least that confidently and how often those are right."""
    proba = np.asarray(proba)
    truth = np.array([LABELS.index(y) for y in y_true])
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    rows = []
    for t in COVERAGE_THRESHOLDS:
        mask = conf >= t
        rows.append({
            "threshold": t,
            "count": int(mask.sum()),
            "coverage": float(mask.mean()) if len(conf) else 0.0,
            "accuracy": float(correct[mask].mean()) if mask.any() else None,
        })
    return rows


def _log_loss(y_true: Sequence[str], proba: np.ndarray) -> float:
    """Mean negative log-likelihood; sklearn's would reorder columns alphabetically."""
    rows = np.arange(len(y_true))
    truth = [LABELS.index(y) for y in y_true]
    return float(-np.log(np.clip(proba[rows, truth], 1e-15, 1.0)).mean())


def classification_metrics(y_true: Sequence[str], proba: np.ndarray) -> dict[str, Any]:
    """Everything the metadata, the model card and ``framing-evaluate`` report.

    ``proba`` has columns in ``LABELS`` order.
    """
    proba = np.asarray(proba, dtype=float)
    y_true = list(y_true)
    y_pred = [LABELS[i] for i in proba.argmax(axis=1)]
    p, r, f, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=list(LABELS), average="macro", zero_division=0)
        ),
        "per_label": {
            label: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(LABELS)
        },
        "confusion_matrix": confusion_matrix(
            y_true, y_pred, labels=list(LABELS)
        ).tolist(),
        "ece": expected_calibration_error(y_true, proba),
        "log_loss": _log_loss(y_true, proba),
        "calibration_bins": calibration_bins(y_true, proba),
        "coverage": coverage(y_true, proba),
    }


# Bootstrap settings: 2,000 resamples put the ends of a 95 % interval within
# about ±0.005 of where more resamples would; a fixed seed makes a card and
# an `framing-evaluate` run repeatable.
BOOTSTRAP_REPLICATES = 2000
BOOTSTRAP_LEVEL = 0.95
# Resample indices held at once: 32 MB of int64, and a few temporaries of
# that size while a chunk is counted (about 200 MB at the peak).
_CHUNK_CELLS = 4_000_000


class _Scored(NamedTuple):
    """What the resampling reads of one model's predictions, computed once."""

    truth: np.ndarray
    pred: np.ndarray
    conf: np.ndarray
    correct: np.ndarray
    bins: np.ndarray


def _scored(y_true: Sequence[str], probas: Sequence[np.ndarray]) -> list[_Scored]:
    truth = np.array([LABELS.index(y) for y in y_true])
    out = []
    for proba in probas:
        proba = np.asarray(proba, dtype=float)
        pred, conf = proba.argmax(axis=1), proba.max(axis=1)
        out.append(_Scored(truth, pred, conf, (pred == truth).astype(float), _bin_index(conf)))
    return out


def _resample_stats(s: _Scored, indices: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, per-label F1, macro-F1 and ECE of each resample (one row of
    ``indices`` each), from counts: no per-resample sklearn calls."""
    k, n_bins, reps = len(LABELS), N_BINS, len(indices)
    offsets = np.arange(reps)[:, None]
    cells = (offsets * k * k + s.truth[indices] * k + s.pred[indices]).ravel()
    cm = np.bincount(cells, minlength=reps * k * k).reshape(reps, k, k)
    tp = np.diagonal(cm, axis1=1, axis2=2).astype(float)
    denominator = cm.sum(axis=1) + cm.sum(axis=2)  # 2tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    # ECE as in calibration_bins: a bin's count * |accuracy - confidence| is
    # |sum of correct - sum of confidence| over its rows.
    slots = (offsets * n_bins + s.bins[indices]).ravel()
    gap = (np.bincount(slots, weights=s.correct[indices].ravel(), minlength=reps * n_bins)
           - np.bincount(slots, weights=s.conf[indices].ravel(), minlength=reps * n_bins))
    n = indices.shape[1]
    return {
        "accuracy": tp.sum(axis=1) / n,
        "macro_f1": f1.mean(axis=1),
        "f1": f1,
        "ece": np.abs(gap.reshape(reps, n_bins)).sum(axis=1) / n,
    }


def _bootstrap_scored(scored: list[_Scored], replicates: int, seed: int) -> list[dict[str, np.ndarray]]:
    """Per-resample statistics of each model on the *same* resamples of the
    rows, so differences between models are paired."""
    n = len(scored[0].truth)
    if n == 0:
        raise ValueError("cannot bootstrap an empty set")
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_CELLS // n)
    chunks: list[list[dict[str, np.ndarray]]] = [[] for _ in scored]
    for start in range(0, replicates, per_chunk):
        indices = rng.integers(0, n, size=(min(per_chunk, replicates - start), n))
        for out, s in zip(chunks, scored):
            out.append(_resample_stats(s, indices))
    return [{key: np.concatenate([c[key] for c in chunk]) for key in chunk[0]} for chunk in chunks]


def _bootstrap(y_true: Sequence[str], probas: Sequence[np.ndarray], replicates: int, seed: int):
    return _bootstrap_scored(_scored(y_true, probas), replicates, seed)


def _interval(values: np.ndarray, level: float) -> list[float]:
    tail = (1 - level) / 2 * 100
    return [float(v) for v in np.percentile(values, [tail, 100 - tail])]


def bootstrap_intervals(
    y_true: Sequence[str], proba: np.ndarray, replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0, level: float = BOOTSTRAP_LEVEL,
) -> dict[str, Any]:
    """Percentile intervals over rows resampled with replacement.

    On a few hundred sentences a change of a few points of macro-F1 is within
    what another draw of the same kind of text would give; the interval says
    how far the figure itself can be trusted.
    """
    stats = _bootstrap(y_true, [proba], replicates, seed)[0]
    return {
        "level": level,
        "replicates": replicates,
        "accuracy": _interval(stats["accuracy"], level),
        "macro_f1": _interval(stats["macro_f1"], level),
        "ece": _interval(stats["ece"], level),
        "f1": {label: _interval(stats["f1"][:, i], level) for i, label in enumerate(LABELS)},
    }


def paired_difference(
    y_true: Sequence[str], proba: np.ndarray, baseline: np.ndarray,
    replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0, level: float = BOOTSTRAP_LEVEL,
) -> dict[str, Any]:
    """``proba`` minus ``baseline`` on the same rows, each with a paired
    bootstrap interval: whether a change is more than a different draw of
    the same sentences would give. ``beyond_noise`` is true when the interval
    excludes 0."""
    if np.shape(proba) != np.shape(baseline):
        raise ValueError(f"the two models scored different rows: {np.shape(proba)} and {np.shape(baseline)}")
    scored = _scored(y_true, [proba, baseline])
    ours, theirs = _bootstrap_scored(scored, replicates, seed)
    everything = np.arange(len(y_true))[None, :]  # the rows as they are: the point estimates
    point_ours, point_theirs = (_resample_stats(s, everything) for s in scored)
    result: dict[str, Any] = {"level": level, "replicates": replicates}
    for key in ("accuracy", "macro_f1", "ece"):
        interval = _interval(ours[key] - theirs[key], level)
        result[key] = {
            "difference": float(point_ours[key][0] - point_theirs[key][0]),
            "interval": interval,
            "beyond_noise": bool(interval[0] > 0 or interval[1] < 0),
        }
    return result
