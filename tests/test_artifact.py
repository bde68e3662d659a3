"""A model directory is verified before it is unpickled, and refused loudly."""

import json
import shutil

import pytest

from model.artifact import ArtifactError, load_artifact, read_metadata
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
    pipeline, meta = load_artifact(tiny_model)
    assert list(pipeline.classes_) == meta["labels"]
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
