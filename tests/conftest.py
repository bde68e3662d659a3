"""Shared fixtures: a tiny model trained by the real training code, the app, a
gunicorn server on 127.0.0.1, the default model built by `make install`, and an
empty database on SQLite and on a throwaway PostgreSQL server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.artifact import DEFAULT_MODEL_DIR
from service.app import create_app
from service.runner import GUNICORN_ARGS, Server, free_port  # noqa: F401 (re-exported)
from training.train import train

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL = DEFAULT_MODEL_DIR
ARTIFACTS = ROOT / "test-artifacts"


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
def app(tiny_model, tmp_path):
    return create_app({"TESTING": True, "MODEL_DIR": str(tiny_model),
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'labels.sqlite'}"})


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


@pytest.fixture(scope="session")
def postgres():
    """One throwaway PostgreSQL cluster per session: initdb and start cost about a second.
    Imported here so the rest of the suite does not need psycopg."""
    from pgserver import ThrowawayPostgres

    pg = ThrowawayPostgres().start()
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty database per test, once per backend; PostgreSQL starts only when a test asks."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'labels.sqlite'}"
    return request.getfixturevalue("postgres").create_database(f"test_{uuid.uuid4().hex}")
