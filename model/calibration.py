"""Temperature scaling: the pipeline's probabilities, softened or sharpened by one
fitted scalar, so that a reported confidence means what it says."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin


def fit_inverse_temperature(proba: np.ndarray, truth: Sequence[int]) -> float:
    """The beta minimising log loss of softmax(beta * log p) on held-out rows.

    ``log p`` differs from the logits only by a per-row constant, which softmax
    ignores, so out-of-fold probabilities are all that is needed.
    """
    logits = np.log(np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0))
    rows = np.arange(len(truth))
    truth = np.asarray(truth)

    def nll(log_beta: float) -> float:
        return float(-log_softmax(np.exp(log_beta) * logits, axis=1)[rows, truth].mean())

    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def apply_inverse_temperature(proba: np.ndarray, beta: float) -> np.ndarray:
    logits = np.log(np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0))
    return softmax(beta * logits, axis=1)


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
