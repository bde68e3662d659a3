"""Held-out metrics shared by training, evaluation and the model card."""

from __future__ import annotations

from typing import Any, Sequence

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


def calibration_bins(
    y_true: Sequence[str], proba: np.ndarray, n_bins: int = N_BINS
) -> list[dict[str, float]]:
    """Top-label reliability bins: mean confidence vs accuracy per bin."""
    proba = np.asarray(proba)
    truth = np.array([LABELS.index(y) for y in y_true])
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin i holds (edges[i], edges[i+1]]; confidences are never below 1/3.
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
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
