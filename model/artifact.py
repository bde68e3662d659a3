"""Save and load a model directory: ``model.joblib`` + ``metadata.json``.

A pickle executes code when it is loaded, so :func:`load_artifact` checks the
file's sha256 against the metadata *before* unpickling, and refuses models
whose labels or scikit-learn version differ from what this code expects.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from model.labels import LABELS

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
MODEL_DIR_ENV = "FRAMING_MODEL_DIR"
# Found from this package, never from the working directory, so every command
# and the app find the same model wherever they are started.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "artifacts" / "default"
HOW_TO_BUILD = (
    "build the default model with `make install` (or `framing-train`), or point "
    f"--model / {MODEL_DIR_ENV} at a model directory"
)


class ArtifactError(RuntimeError):
    """A model directory that must not be served; the message names the file."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write(path: Path, write) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp makes 0600 files; a model must be readable by the service user.
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Artifact(NamedTuple):
    pipeline: Any
    metadata: dict[str, Any]
    # The fitted off-topic check (model.scope.Relevance); None in models
    # saved before it existed, which then flag languages only.
    relevance: Any = None


def save_artifact(directory: Path, pipeline: Any, metadata: dict[str, Any], relevance: Any = None) -> dict:
    """Write the pipeline (and relevance check) and metadata; returns the metadata as written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    bundle = {"framing": pipeline, "relevance": relevance}
    _atomic_write(model_path, lambda fh: joblib.dump(bundle, fh, compress=3))
    metadata = {
        **metadata,
        "labels": list(pipeline.classes_),
        "sklearn_version": sklearn.__version__,
        "model_sha256": sha256_file(model_path),
    }
    write_metadata(directory, metadata)
    return metadata


def write_metadata(directory: Path, metadata: dict[str, Any]) -> None:
    """Replace metadata.json atomically (the model file and its sha256 stay as they are)."""
    payload = json.dumps(metadata, indent=2, sort_keys=True).encode() + b"\n"
    _atomic_write(Path(directory) / METADATA_FILE, lambda fh: fh.write(payload))


def resolve_model_dir(explicit: str | Path | None = None) -> Path:
    """The one answer to "which model?": explicit, else $FRAMING_MODEL_DIR, else the default."""
    if explicit not in (None, ""):
        return Path(explicit)
    from_env = os.environ.get(MODEL_DIR_ENV, "").strip()
    return Path(from_env) if from_env else DEFAULT_MODEL_DIR


def read_metadata(directory: Path) -> dict[str, Any]:
    path = Path(directory) / METADATA_FILE
    if not Path(directory).is_dir():
        raise ArtifactError(f"{directory}: no model directory here; {HOW_TO_BUILD}")
    if not path.is_file():
        raise ArtifactError(f"{path}: metadata file is missing; {HOW_TO_BUILD}")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict):
        raise ArtifactError(f"{path}: metadata must be a JSON object")
    for key in ("labels", "sklearn_version", "model_sha256"):
        if key not in metadata:
            raise ArtifactError(f"{path}: metadata lacks {key!r}")
    return metadata


def load_artifact(directory: Path) -> Artifact:
    """Return ``(pipeline, metadata, relevance)`` after every check passes."""
    directory = Path(directory)
    metadata = read_metadata(directory)
    meta_path = directory / METADATA_FILE
    model_path = directory / MODEL_FILE
    if sorted(metadata["labels"]) != sorted(LABELS):
        raise ArtifactError(
            f"{meta_path}: labels {metadata['labels']} differ from {list(LABELS)}"
        )
    if metadata["sklearn_version"] != sklearn.__version__:
        raise ArtifactError(
            f"{meta_path}: model was trained with scikit-learn "
            f"{metadata['sklearn_version']} but {sklearn.__version__} is installed; "
            "retrain it (framing-train)"
        )
    if not model_path.is_file():
        raise ArtifactError(f"{model_path}: model file is missing")
    actual = sha256_file(model_path)
    if actual != metadata["model_sha256"]:
        raise ArtifactError(
            f"{model_path}: sha256 {actual[:12]}… does not match metadata "
            f"({str(metadata['model_sha256'])[:12]}…); the file was changed or truncated"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            loaded = joblib.load(model_path)
    except InconsistentVersionWarning as exc:
        raise ArtifactError(f"{model_path}: {exc}") from exc
    except Exception as exc:  # a corrupt pickle that still matched its hash
        raise ArtifactError(f"{model_path}: cannot be loaded ({exc})") from exc
    # Models saved before the relevance check are the bare pipeline.
    bundle = loaded if isinstance(loaded, dict) else {"framing": loaded, "relevance": None}
    pipeline = bundle.get("framing")
    if list(getattr(pipeline, "classes_", ())) != list(metadata["labels"]):
        raise ArtifactError(f"{model_path}: estimator classes differ from {metadata['labels']}")
    return Artifact(pipeline, metadata, bundle.get("relevance"))
