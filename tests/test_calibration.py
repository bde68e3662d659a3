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


def _two_groups(seed: int, sizes: dict[str, int], betas: dict[str, float]):
    """Rows of two groups with different true temperatures, and each group's own rows."""
    rng = np.random.default_rng(seed)
    parts = {name: _sample(rng, sizes[name], betas[name]) for name in sizes}
    proba = np.vstack([p for p, _ in parts.values()])
    truth = np.concatenate([t for _, t in parts.values()])
    groups = [name for name in sizes for _ in range(sizes[name])]
    return proba, truth, groups, parts


def test_pooled_fit_recovers_the_temperature_and_keeps_the_ranking():
    proba, truth = _sample(np.random.default_rng(0), 4000, 0.5)
    beta = fit_inverse_temperature(proba, truth)
    assert beta == pytest.approx(0.5, abs=0.06)
    scaled = apply_inverse_temperature(proba, beta)
    assert np.allclose(scaled.sum(axis=1), 1.0)
    assert (scaled.argmax(axis=1) == proba.argmax(axis=1)).all()


def test_worst_group_fit_holds_for_the_noisiest_group():
    proba, truth, groups, parts = _two_groups(1, {"easy": 3000, "hard": 1000}, {"easy": 1.0, "hard": 0.4})
    beta, worst = fit_inverse_temperature_worst_group(proba, truth, groups)
    assert worst == ["hard"]
    assert beta < fit_inverse_temperature(proba, truth)
    assert beta == pytest.approx(fit_inverse_temperature(*parts["hard"]), abs=0.02)


def test_worst_group_fit_leaves_out_groups_too_small_to_judge():
    proba, truth, groups, parts = _two_groups(2, {"big": 2000, "tiny": 20}, {"big": 1.0, "tiny": 0.2})
    beta, worst = fit_inverse_temperature_worst_group(proba, truth, groups, min_rows=50)
    assert worst == ["big"] and beta == pytest.approx(fit_inverse_temperature(*parts["big"]), abs=0.02)
    # With no group large enough, all of them count.
    _, worst = fit_inverse_temperature_worst_group(proba, truth, groups, min_rows=5000)
    assert worst == ["tiny"]
