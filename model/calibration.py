"""Temperature scaling: the pipeline's probabilities, softened or sharpened by one
fitted scalar, so that a reported confidence means what it says."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin


def _log_loss(logits: np.ndarray, truth: np.ndarray, beta: float) -> float:
    return float(-log_softmax(beta * logits, axis=1)[np.arange(len(truth)), truth].mean())


def _logits(proba) -> np.ndarray:
    return np.log(np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0))


def fit_inverse_temperature(proba: np.ndarray, truth: Sequence[int]) -> float:
    """The beta minimising log loss of softmax(beta * log p) on held-out rows.

    ``log p`` differs from the logits only by a per-row constant, which softmax
    ignores, so out-of-fold probabilities are all that is needed.
    """
    logits, truth = _logits(proba), np.asarray(truth)
    result = minimize_scalar(lambda t: _log_loss(logits, truth, np.exp(t)), bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def fit_inverse_temperature_worst_group(
    proba: np.ndarray, truth: Sequence[int], groups: Sequence[str], min_rows: int = 1,
) -> tuple[float, list[str]]:
    """The beta minimising the largest log loss of any group, and the group(s) at that maximum.

    A temperature fitted on all held-out rows holds for text like the average
    group; this one holds for the group least like the rest, so it over-states
    confidence less on text further still. Each group's log loss is convex in
    beta, so their maximum has a single minimum. Groups with fewer than
    ``min_rows`` rows (too few for a stable log loss) are left out unless none
    has that many.
    """
    logits, truth, groups = _logits(proba), np.asarray(truth), np.asarray(groups)
    names, counts = np.unique(groups, return_counts=True)
    kept = [n for n, c in zip(names, counts) if c >= min_rows] or list(names)
    rows = {n: np.flatnonzero(groups == n) for n in kept}

    def losses(beta: float) -> dict[str, float]:
        return {n: _log_loss(logits[r], truth[r], beta) for n, r in rows.items()}

    result = minimize_scalar(lambda t: max(losses(np.exp(t)).values()), bounds=(-3.0, 3.0), method="bounded")
    beta = float(np.exp(result.x))
    at_beta = losses(beta)
    top = max(at_beta.values())
    return beta, sorted(str(n) for n, loss in at_beta.items() if loss >= top - 1e-3)


def apply_inverse_temperature(proba: np.ndarray, beta: float) -> np.ndarray:
    return softmax(beta * _logits(proba), axis=1)


class TemperatureScaled(ClassifierMixin, BaseEstimator):
    """A fitted pipeline plus an inverse temperature; argmax is unchanged.

    Args:
        pipeline: the fitted tf-idf + logistic-regression pipeline.
        beta: inverse temperature (below 1 softens over-confident scores).
    """

    def __init__(self, pipeline: Any = None, beta: float = 1.0):
        self.pipeline = pipeline
        self.beta = beta

    @property
    def classes_(self) -> np.ndarray:
        return self.pipeline.classes_

    def fit(self, X, y):
        self.pipeline.fit(X, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.scale(self.pipeline.decision_function(X))

    def scale(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities from the linear model's decision scores."""
        return softmax(self.beta * scores, axis=1)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.pipeline.decision_function(X).argmax(axis=1)]
