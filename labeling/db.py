"""Where the label database is, how to connect to it, and how to migrate it.

``FRAMING_DATABASE_URL`` picks the database (any SQLAlchemy URL, e.g.
``postgresql+psycopg://user@host/db``); without it, a SQLite file in
``FRAMING_DATA_DIR`` (default: ``var/`` in the project checkout, git-ignored),
so the same database is found whatever the working directory.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "FRAMING_DATABASE_URL"
DATA_DIR_ENV = "FRAMING_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "var"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseError(RuntimeError):
    """The database cannot be used; the message names no password."""


def database_url(explicit: str | None = None) -> str:
    """The one answer to "which database?": explicit, else the environment, else SQLite."""
    url = (explicit or os.environ.get(DATABASE_URL_ENV, "")).strip()
    if url:
        return url
    data_dir = Path(os.environ.get(DATA_DIR_ENV, "").strip() or DEFAULT_DATA_DIR)
    return f"sqlite:///{data_dir / 'labels.sqlite'}"


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def describe(exc: BaseException) -> str:
    """The driver's first line of complaint, without SQLAlchemy's SQL echo or URL."""
    reason = getattr(exc, "orig", None) or exc
    text = str(reason).strip()
    return text.splitlines()[0] if text else type(reason).__name__


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling is switched off so that "BEGIN
    # IMMEDIATE" below takes the write lock at the start: a queue hand-out
    # reads, then writes, and two workers must not both read first.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default :func:`database_url`); SQLite's folder is created."""
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"{DATABASE_URL_ENV} is not a database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pre_ping: a connection the server dropped is replaced, not handed out.
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


class Database:
    """An engine plus a session factory; ``with db.session() as s:`` commits or rolls back."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._checked = False
        self._lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ensure_schema(self) -> None:
        """Migrate to the newest revision once per process (cheap when already there)."""
        with self._lock:
            if not self._checked:
                migrate(self.engine)
                self._checked = True

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Upgrade to the newest revision; returns (before, after)."""
    before = current_revision(engine)
    head = head_revision()
    if before != head:
        command.upgrade(_alembic_config(engine), "head")
    return before, head
