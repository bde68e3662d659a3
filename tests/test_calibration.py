"""Temperature fitting: the pooled fit and the worst-group fit that `framing-train` uses."""

import numpy as np
import pytest
from scipy.special import softmax

from model.calibration import (
    apply_inverse_temperature,
    fit_inverse_temperature,
    fit_inverse_temperature_worst_group,
)


def _sample(rng, n: int, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose labels are drawn from softmax(beta * scores): the true inverse temperature is beta."""
    scores = rng.normal(scale=2.0, size=(n, 3))
    truth = np.array([rng.choice(3, p=p) for p in softmax(beta * scores, axis=1)])
    return softmax(scores, axis=1), truth


def test_pooled_fit_recovers_the_temperature_and_keeps_the_ranking():
    proba, truth = _sample(np.random.default_rng(0), 4000, 0.5)
    beta = fit_inverse_temperature(proba, truth)
    assert beta == pytest.approx(0.5, abs=0.06)
    scaled = apply_inverse_temperature(proba, beta)
    assert np.allclose(scaled.sum(axis=1), 1.0)
    assert (scaled.argmax(axis=1) == proba.argmax(axis=1)).all()


def test_worst_group_fit_holds_for_the_noisiest_group():
    rng = np.random.default_rng(1)
    easy, easy_truth = _sample(rng, 3000, 1.0)
    hard, hard_truth = _sample(rng, 1000, 0.4)
    proba, truth = np.vstack([easy, hard]), np.concatenate([easy_truth, hard_truth])
    groups = ["easy"] * 3000 + ["hard"] * 1000
    pooled = fit_inverse_temperature(proba, truth)
    beta, worst = fit_inverse_temperature_worst_group(proba, truth, groups)
    assert worst == ["hard"]
    assert beta < pooled
    assert beta == pytest.approx(fit_inverse_temperature(hard, hard_truth), abs=0.02)


def test_worst_group_fit_leaves_out_groups_too_small_to_judge():
    rng = np.random.default_rng(2)
    big, big_truth = _sample(rng, 2000, 1.0)
    tiny, tiny_truth = _sample(rng, 20, 0.2)
    proba, truth = np.vstack([big, tiny]), np.concatenate([big_truth, tiny_truth])
    groups = ["big"] * 2000 + ["tiny"] * 20
    beta, worst = fit_inverse_temperature_worst_group(proba, truth, groups, min_rows=50)
    assert worst == ["big"] and beta == pytest.approx(fit_inverse_temperature(big, big_truth), abs=0.02)
    # With no group large enough, all of them count.
    _, worst = fit_inverse_temperature_worst_group(proba, truth, groups, min_rows=5000)
    assert worst == ["tiny"]
