"""Training is deterministic, writes a complete artifact, and its CLIs behave."""

import json

import pytest
from conftest import DATA

from model.artifact import load_artifact
from training.card import render_card
from training.evaluate import main as evaluate_main
from training.train import main as train_main
from training.train import train


def test_same_data_and_seed_give_same_model(tmp_path):
    a = train(DATA / "tiny.csv", tmp_path / "a", do_search=False, folds=3, jobs=1, card=False)
    b = train(DATA / "tiny.csv", tmp_path / "b", do_search=False, folds=3, jobs=1, card=False)
    assert a["model_sha256"] == b["model_sha256"]
    assert a["metrics"] == b["metrics"]


def test_metadata_is_complete(tiny_model):
    meta = json.loads((tiny_model / "metadata.json").read_text())
    for key in ("name", "version", "created_at", "labels", "library_versions", "training_data",
                "params", "metrics", "model_sha256", "sklearn_version", "calibration"):
        assert key in meta
    cv = meta["metrics"]["cross_validated"]
    assert set(cv["per_label"]) == {"pro_russia", "neutral", "pro_ukraine"}
    assert len(cv["confusion_matrix"]) == 3 and 0 <= cv["ece"] <= 1
    assert meta["training_data"]["n_sentences"] == 40


def test_search_and_card(tmp_path):
    meta = train(DATA / "tiny.csv", tmp_path / "m", do_search=True, folds=2, jobs=1, card=True)
    assert meta["search"]["candidates"] > 1 and meta["search"]["top"]
    card = (tmp_path / "m" / "MODEL_CARD.md").read_text()
    assert f"macro-F1 **{meta['metrics']['cross_validated']['macro_f1']:.3f}**" in card
    assert (tmp_path / "m" / "confusion_matrix.png").stat().st_size > 1000
    assert (tmp_path / "m" / "reliability.png").stat().st_size > 1000
    load_artifact(tmp_path / "m")
    # The card rendered again from the saved (key-sorted) metadata is the same card.
    saved = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert render_card(saved) == card


def test_train_cli(runner, tmp_path):
    out = tmp_path / "cli-model"
    result = runner.invoke(train_main, ["--data", str(DATA / "tiny.csv"), "--out", str(out),
                                        "--no-search", "--folds", "3", "--jobs", "1", "--no-dev", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"saved {out} (version 1.0.0+")
    assert "cross-validated macro-F1" in result.output


def test_train_cli_rejects_bad_data(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("doc_id,text,label\nd1,Two sentences here. Really two.,neutral\n")
    result = runner.invoke(train_main, ["--data", str(bad), "--out", str(tmp_path / "x"), "--no-dev"])
    assert result.exit_code == 1
    assert "bad.csv:2: not exactly one sentence" in result.output


def test_evaluate_cli_json(runner, tiny_model, tmp_path):
    data = tmp_path / "eval.jsonl"
    data.write_text(
        '{"text": "Kyiv regime forces shelled Donetsk again.", "label": "pro_russia"}\n'
        '{"text": "Two sentences. Scored as one unit.", "label": "neutral"}\n'
    )
    result = runner.invoke(evaluate_main, ["--model", str(tiny_model), "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 2
    for key in ("accuracy", "macro_f1", "per_label", "confusion_matrix", "ece"):
        assert key in report
    assert sum(map(sum, report["confusion_matrix"])) == 2


@pytest.mark.parametrize(
    "content, message",
    [('{"text": "x", "label": "other"}\n', "unknown label 'other'"),
     ('{"text": "x"\n', "invalid JSON")],
    ids=["unknown-label", "bad-json"],
)
def test_evaluate_cli_errors(runner, tiny_model, tmp_path, content, message):
    data = tmp_path / "eval.jsonl"
    data.write_text(content)
    result = runner.invoke(evaluate_main, ["--model", str(tiny_model), "--data", str(data)])
    assert result.exit_code == 1
    assert message in result.output


def _tiny_parts(tmp_path):
    """tests/data/tiny.csv dealt into four corpus part files (and its rows)."""
    import csv

    rows = list(csv.DictReader(open(DATA / "tiny.csv", encoding="utf-8")))
    data = tmp_path / "parts"
    data.mkdir()
    for k in range(4):
        with open(data / f"part{k}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows[k::4])
    return data, rows


def test_parts_drive_search_and_calibration(tmp_path):
    """With several corpus parts, candidates are scored leave-one-part-out and the
    temperature is fitted for the worst held-out part."""
    data, _ = _tiny_parts(tmp_path)
    meta = train(data, tmp_path / "model", folds=2, jobs=1, card=True)
    assert meta["search"]["by"] == "leave-one-part-out" and meta["search"]["folds"] == 4
    chosen = meta["search"]["chosen"]
    assert all(meta["params"][k] == v for k, v in chosen.items())
    assert [c["macro_f1"] for c in meta["search"]["top"]] == sorted(
        (c["macro_f1"] for c in meta["search"]["top"]), reverse=True)
    assert meta["calibration"]["method"] == "temperature"
    assert meta["calibration"]["fitted_on_parts"]
    assert set(meta["calibration"]["fitted_on_parts"]) <= {f"part{k}.csv" for k in range(4)}
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert "## Model selection" in card and "## Cue audit" in card and "## Accuracy against confidence" in card


def test_probes_compare_variants_with_the_default(runner, tmp_path):
    """`python -m training.probes` on a small corpus in parts: base first, each
    variant with its paired dev difference."""
    from training.probes import main as probes_main

    data, rows = _tiny_parts(tmp_path)
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps({"text": r["text"], "label": r["label"]}) + "\n" for r in rows[::3]))
    train(data, tmp_path / "model", do_search=False, folds=2, jobs=1, card=False)
    out = tmp_path / "probes.json"
    result = runner.invoke(probes_main, ["--data", str(data), "--dev", str(dev), "--model", str(tmp_path / "model"),
                                         "--only", "C_10", "--jobs", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2].startswith("base")
    report = json.loads(out.read_text())
    base, variant = report["variants"]["base"], report["variants"]["C_10"]
    assert base["dev_difference"] is None
    assert variant["dev_difference"]["macro_f1"]["difference"] == pytest.approx(
        variant["dev_macro_f1"] - base["dev_macro_f1"])
    assert report["worst_parts"]
    single = tmp_path / "single"
    single.mkdir()
    (single / "all.csv").write_text((DATA / "tiny.csv").read_text())
    refused = runner.invoke(probes_main, ["--data", str(single), "--dev", str(dev)])
    assert refused.exit_code == 1 and "at least 3 part files" in refused.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    refused = runner.invoke(probes_main, ["--data", str(data), "--dev", str(empty)])
    assert refused.exit_code == 1 and "no labeled rows" in refused.output
    refused = runner.invoke(probes_main, ["--data", str(data), "--dev", str(dev), "--model", str(tmp_path / "nope")])
    assert refused.exit_code == 1 and "Traceback" not in refused.output and "nope" in refused.output
