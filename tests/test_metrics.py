"""Bootstrap intervals and paired differences: the counting shortcut must give
exactly what the ordinary metrics give on each resample."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.labels import LABELS
from training.evaluate import main as evaluate_main
from training.metrics import (
    _bootstrap,
    bootstrap_intervals,
    classification_metrics,
    paired_difference,
)


def _fake(n: int, skill: float, seed: int) -> tuple[list[str], np.ndarray]:
    """Labels and probabilities that lean toward the truth by ``skill``."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), truth] += skill
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return [LABELS[i] for i in truth], proba


def test_resample_statistics_equal_the_ordinary_metrics():
    y, proba = _fake(200, 1.0, 1)
    stats = _bootstrap(y, [proba], replicates=5, seed=3)[0]
    indices = np.random.default_rng(3).integers(0, 200, size=(5, 200))  # the same draws
    for r, rows in enumerate(indices):
        m = classification_metrics([y[i] for i in rows], proba[rows])
        assert stats["accuracy"][r] == pytest.approx(m["accuracy"])
        assert stats["macro_f1"][r] == pytest.approx(m["macro_f1"])
        assert stats["ece"][r] == pytest.approx(m["ece"])
        for i, label in enumerate(LABELS):
            assert stats["f1"][r, i] == pytest.approx(m["per_label"][label]["f1"])


def test_intervals_hold_the_estimate_repeat_and_narrow_with_more_rows():
    y, proba = _fake(300, 1.5, 2)
    m = classification_metrics(y, proba)
    ci = bootstrap_intervals(y, proba)
    for key in ("accuracy", "macro_f1"):
        assert ci[key][0] < m[key] < ci[key][1]
    for label in LABELS:
        assert ci["f1"][label][0] < m["per_label"][label]["f1"] < ci["f1"][label][1]
    assert bootstrap_intervals(y, proba) == ci
    y_big, proba_big = _fake(3000, 1.5, 2)
    wide = ci["macro_f1"][1] - ci["macro_f1"][0]
    big = bootstrap_intervals(y_big, proba_big)
    assert big["macro_f1"][1] - big["macro_f1"][0] < wide / 2


def test_paired_difference_tells_a_real_change_from_none():
    y, proba = _fake(400, 1.0, 4)
    same = paired_difference(y, proba, proba)
    assert same["macro_f1"] == {"difference": 0.0, "interval": [0.0, 0.0], "beyond_noise": False}
    truth = np.array([LABELS.index(label) for label in y])
    better = proba.copy()
    better[np.arange(len(y)), truth] += 0.5  # right more often
    better /= better.sum(axis=1, keepdims=True)
    diff = paired_difference(y, better, proba)
    expected = classification_metrics(y, better)["macro_f1"] - classification_metrics(y, proba)["macro_f1"]
    assert diff["macro_f1"]["difference"] == pytest.approx(expected)
    assert diff["macro_f1"]["beyond_noise"] and diff["macro_f1"]["interval"][0] > 0
    assert diff["accuracy"]["beyond_noise"]


def test_resamples_in_several_chunks_are_the_same_draws(monkeypatch):
    """Large sets are resampled a chunk at a time; the chunking must not
    change the draws or the statistics."""
    import training.metrics as metrics

    y, proba = _fake(150, 1.0, 5)
    whole = _bootstrap(y, [proba], replicates=40, seed=7)[0]
    monkeypatch.setattr(metrics, "_CHUNK_CELLS", 150 * 3)  # three resamples per chunk
    chunked = _bootstrap(y, [proba], replicates=40, seed=7)[0]
    for key in ("accuracy", "macro_f1", "ece"):
        assert len(chunked[key]) == 40
    # The generator is consumed in the same order, so the chunks draw the same rows.
    np.testing.assert_allclose(chunked["macro_f1"], whole["macro_f1"])


def test_empty_set_and_mismatched_models_are_refused():
    with pytest.raises(ValueError, match="empty"):
        bootstrap_intervals([], np.zeros((0, 3)))
    y, proba = _fake(10, 1.0, 6)
    with pytest.raises(ValueError, match="different rows"):
        paired_difference(y, proba, proba[:5])


def test_evaluate_cli_compares_with_a_baseline(runner, tiny_model, default_model, tmp_path):
    rows = [
        ("Russian forces shelled a school in Kharkiv overnight, killing two teachers.", "pro_ukraine"),
        ("The Kiev regime keeps shelling the peaceful residents of Donetsk.", "pro_russia"),
        ("The talks are due to resume in Istanbul on Tuesday, officials said.", "neutral"),
        ("Ukraine's heroic defenders repelled another assault near Bakhmut.", "pro_ukraine"),
        ("Western sponsors of the Kiev junta are prolonging the bloodshed.", "pro_russia"),
        ("Grain prices rose 3 % after the corridor closed, traders said.", "neutral"),
    ]
    data = tmp_path / "eval.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows))
    args = ["--model", str(default_model), "--baseline", str(tiny_model), "--data", str(data)]
    result = runner.invoke(evaluate_main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["baseline"]["model"]["sha256"] != report["model"]["sha256"]
    diff = report["difference"]["macro_f1"]
    assert diff["difference"] == pytest.approx(report["macro_f1"] - report["baseline"]["macro_f1"])
    lo, hi = diff["interval"]
    assert lo <= diff["difference"] <= hi
    assert report["intervals"]["macro_f1"][0] <= report["macro_f1"] <= report["intervals"]["macro_f1"][1]
    table = runner.invoke(evaluate_main, args)
    assert table.exit_code == 0, table.output
    verdict = "beyond noise" if diff["beyond_noise"] else "within noise"
    macro_line = next(line for line in table.output.splitlines() if "macro-F1 difference" in line)
    assert macro_line.endswith(verdict) and f"{diff['difference']:+.3f}" in macro_line
    assert "(lower is better)" in next(line for line in table.output.splitlines() if "ECE difference" in line)


def test_evaluate_refuses_an_empty_file_and_a_missing_baseline(runner, tiny_model, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(evaluate_main, ["--model", str(tiny_model), "--data", str(empty)])
    assert result.exit_code == 1 and "no labeled rows" in result.output
    data = tmp_path / "one.jsonl"
    data.write_text('{"text": "Talks resume on Tuesday.", "label": "neutral"}\n')
    result = runner.invoke(evaluate_main, ["--model", str(tiny_model), "--baseline", str(tmp_path / "nope"),
                                           "--data", str(data)])
    assert result.exit_code == 1 and "nope" in result.output and "Traceback" not in result.output
