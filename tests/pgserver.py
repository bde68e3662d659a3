"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, start on a
free 127.0.0.1 port, remove it all afterwards. Tests then run against a real server
rather than a mock, with nothing to configure beforehand."""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

USER = "framing"
NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
MISSING = ("PostgreSQL server binaries not found; install Debian's postgresql package "
           "(scripts/install-system-deps.sh does)")


def find_bindir() -> Path:
    """`pg_config --bindir` first (it may come from libpq-dev alone, hence the initdb check),
    then the newest Debian /usr/lib/postgresql/<version>/bin."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").is_file():
            return bindir
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.parent.parent.name.isdigit()]
    if not found:
        raise RuntimeError(MISSING)
    return max(found, key=lambda p: int(p.parent.name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """One private cluster per test session; ``stop()`` is idempotent and also runs at exit."""

    def __init__(self) -> None:
        self.port = 0
        self.tmp: Path | None = None
        self.bindir: Path | None = None

    @property
    def url(self) -> str:
        return self._url(USER)

    def _url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, tool: str, *args: str | Path) -> None:
        """PostgreSQL refuses to run as root, so as root run its tools as `postgres`."""
        cmd = [str(self.bindir / tool), *map(str, args)]
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if not runuser:
                raise RuntimeError("running as root and `runuser` is missing: cannot run PostgreSQL as `postgres`")
            cmd = [runuser, "-u", "postgres", "--", *cmd]
        # cwd="/": the postgres user may not be allowed into the caller's directory.
        result = subprocess.run(cmd, cwd="/", capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)} exited {result.returncode}:\n{result.stdout}{result.stderr}")

    def _log_tail(self, chars: int = 3000) -> str:
        log = self.tmp / "server.log" if self.tmp else None
        return log.read_text(errors="replace")[-chars:] if log and log.is_file() else "(no server log)"

    def start(self) -> "ThrowawayPostgres":
        """initdb + pg_ctl start with durability off: the data never outlives the session."""
        self.bindir = find_bindir()
        self.tmp = Path(tempfile.mkdtemp(prefix="framing-pg-"))
        atexit.register(self.stop)
        try:
            if os.geteuid() == 0:
                shutil.chown(self.tmp, "postgres", "postgres")
            data = self.tmp / "data"
            # --no-locale: the host's LANG may name a locale that is not installed.
            self._run("initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
            self.port = free_port()
            opts = (f"-k {shlex.quote(str(self.tmp))} -p {self.port} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            self._opts = opts
            self.resume()
            self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(USER)))
        except Exception as exc:
            tail = self._log_tail()
            self.stop()
            raise RuntimeError(f"throwaway PostgreSQL failed to start: {exc}\n--- server log tail ---\n{tail}") from exc
        return self

    def pause(self) -> None:
        """Shut the server down but keep its data: an outage to recover from."""
        self._run("pg_ctl", "-D", self.tmp / "data", "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        self._run("pg_ctl", "-D", self.tmp / "data", "-o", self._opts, "-l", self.tmp / "server.log",
                  "-w", "-t", "60", "start")

    def _execute(self, statement: sql.Composable) -> None:
        """CREATE DATABASE cannot run inside a transaction, hence autocommit."""
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def create_database(self, name: str) -> str:
        """A fresh empty database, so each test starts from nothing; returns its SQLAlchemy URL."""
        if not NAME.fullmatch(name):
            raise ValueError(f"not a plain lower-case identifier: {name!r}")
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self._url(name)

    def stop(self) -> None:
        """Immediate shutdown: the data is thrown away anyway."""
        tmp, self.tmp = self.tmp, None
        if tmp is None:
            return
        atexit.unregister(self.stop)
        try:
            if (tmp / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", tmp / "data", "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
