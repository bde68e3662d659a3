"""A model directory is verified before it is unpickled, and refused loudly."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import model
from model.artifact import (
    DEFAULT_MODEL_DIR,
    MODEL_DIR_ENV,
    ArtifactError,
    load_artifact,
    read_metadata,
    resolve_model_dir,
)
from model.classifier import Classifier


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target)
    return target


def _edit_metadata(directory, **changes):
    path = directory / "metadata.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


def test_loads_verified_model(tiny_model):
    pipeline, meta, relevance = load_artifact(tiny_model)
    assert list(pipeline.classes_) == meta["labels"]
    assert relevance is not None and meta["scope"]["off_topic"]["fitted"]
    assert meta["version"] == "tiny-1"


def test_tampered_model_is_refused(model_copy):
    with open(model_copy / "model.joblib", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ArtifactError, match=r"model\.joblib: sha256 .* does not match metadata"):
        load_artifact(model_copy)


def test_truncated_model_is_refused(model_copy):
    data = (model_copy / "model.joblib").read_bytes()
    (model_copy / "model.joblib").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="does not match metadata"):
        load_artifact(model_copy)


def test_missing_model_file(model_copy):
    (model_copy / "model.joblib").unlink()
    with pytest.raises(ArtifactError, match=r"model\.joblib: model file is missing"):
        load_artifact(model_copy)


def test_missing_metadata(model_copy):
    (model_copy / "metadata.json").unlink()
    with pytest.raises(ArtifactError, match=r"metadata\.json: metadata file is missing"):
        load_artifact(model_copy)


def test_corrupt_metadata(model_copy):
    (model_copy / "metadata.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_metadata(model_copy)


def test_sklearn_version_mismatch_is_refused(model_copy):
    _edit_metadata(model_copy, sklearn_version="0.24.2")
    with pytest.raises(ArtifactError, match=r"trained with scikit-learn 0\.24\.2 but .* installed"):
        load_artifact(model_copy)


def test_foreign_labels_are_refused(model_copy):
    _edit_metadata(model_copy, labels=["negative", "neutral", "positive"])
    with pytest.raises(ArtifactError, match="labels .* differ"):
        load_artifact(model_copy)


def test_probabilities_in_label_order_sum_to_one(tiny_model):
    clf = Classifier.from_dir(tiny_model)
    proba = clf.predict_proba(["The Kyiv regime shelled Donetsk.", "Talks resumed on Monday."])
    assert proba.shape == (2, 3)
    assert proba.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert clf.predict_proba([]).shape == (0, 3)


def test_artifact_files_are_world_readable(tiny_model):
    # The container serves the model as an unprivileged user.
    for name in ("model.joblib", "metadata.json"):
        assert (tiny_model / name).stat().st_mode & 0o044 == 0o044


# ------------------------------------------------- one resolver for every caller
def test_resolver_order(monkeypatch, tmp_path):
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    assert resolve_model_dir() == DEFAULT_MODEL_DIR
    assert DEFAULT_MODEL_DIR.parent.parent == Path(model.__file__).resolve().parent
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    assert resolve_model_dir() == tmp_path
    assert resolve_model_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_missing_model_says_how_to_build_one(tmp_path):
    for directory in (tmp_path / "absent", tmp_path):
        with pytest.raises(ArtifactError, match=r"make install.*framing-train.*FRAMING_MODEL_DIR"):
            Classifier.from_dir(directory)


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.mark.slow
def test_commands_and_app_find_the_default_model_from_anywhere(default_model, tmp_path):
    """Started outside the checkout, every caller finds the same default model."""
    env = {k: v for k, v in os.environ.items() if k != MODEL_DIR_ENV}
    out = tmp_path / "x.jsonl"
    score = subprocess.run([_bin("framing-score"), str(ROOT / "examples" / "news.jsonl"), "-o", str(out)],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert score.returncode == 0, score.stderr
    version = json.loads((default_model / "metadata.json").read_text())["version"]
    assert json.loads(out.read_text().splitlines()[0])["model"]["version"] == version

    data = tmp_path / "labeled.csv"
    data.write_text("text,label\nTalks resumed on Monday.,neutral\n")
    evaluate = subprocess.run([_bin("framing-evaluate"), "--data", str(data), "--json"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert evaluate.returncode == 0, evaluate.stderr
    assert json.loads(evaluate.stdout)["model"]["version"] == version

    app = subprocess.run([sys.executable, "-c", "from service.app import create_app; "
                          "print(create_app().test_client().get('/ready').status_code)"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert app.stdout.strip() == "200", app.stderr


@pytest.mark.slow
def test_commands_without_a_model_say_what_to_do(tmp_path):
    env = {**os.environ, MODEL_DIR_ENV: str(tmp_path / "no-model")}
    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "Talks resumed."}\n')
    data = tmp_path / "labeled.csv"
    data.write_text("text,label\nTalks resumed on Monday.,neutral\n")
    for cmd in ([_bin("framing-score"), "in.jsonl", "-o", "out.jsonl"],
                [_bin("framing-evaluate"), "--data", str(data)]):
        result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        assert "make install" in result.stderr and "FRAMING_MODEL_DIR" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
