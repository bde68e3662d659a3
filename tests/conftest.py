"""Shared fixtures: a tiny model trained by the real training code, the app, a
gunicorn server on 127.0.0.1, and the default model built by `make install`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from service.app import create_app
from training.train import train

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL = ROOT / "model" / "artifacts" / "default"
ARTIFACTS = ROOT / "test-artifacts"
# The one gunicorn invocation: `make run`, the Dockerfile's CMD and these tests.
GUNICORN_ARGS = ["-c", "gunicorn.conf.py"]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Trained with training.train's own function on tests/data (about a second)."""
    out = tmp_path_factory.mktemp("tiny-model")
    train(DATA / "tiny.csv", out, do_search=False, folds=3, jobs=1, card=False, version="tiny-1")
    return out


@pytest.fixture(scope="session")
def default_model() -> Path:
    if not (DEFAULT_MODEL / "metadata.json").is_file():
        pytest.fail("the default model is missing: run `make install` first")
    return DEFAULT_MODEL


@pytest.fixture
def app(tiny_model):
    return create_app({"TESTING": True, "MODEL_DIR": str(tiny_model)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the project's config, started the way `make run` does."""

    def __init__(self, model_dir: Path, env: dict | None = None, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "FRAMING_MODEL_DIR": str(model_dir),
            **(env or {}),
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log_path = None
        self.proc = None

    def start(self, log_path: Path, wait_ready: bool = True) -> "Server":
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        path = "/ready" if wait_ready else "/health"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
            try:
                if requests.get(self.url + path, timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not become ready: {log_path.read_text()[-2000:]}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def start(model_dir: Path, env: dict | None = None, workers: int = 2, wait_ready: bool = True) -> Server:
        server = Server(model_dir, env, workers)
        servers.append(server)
        return server.start(tmp_path / f"gunicorn-{len(servers)}.log", wait_ready)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def server(tiny_model, tmp_path_factory):
    """One shared gunicorn (2 workers) serving the tiny model."""
    srv = Server(tiny_model).start(tmp_path_factory.mktemp("server") / "gunicorn.log")
    yield srv
    srv.stop()
