"""Start the API under real gunicorn on 127.0.0.1, as `make run` starts it.

Used by the test fixtures (tests/conftest.py) and the benchmarks, so both
exercise the same invocation as `make run` and the Dockerfile's CMD.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The one gunicorn invocation: `make run`, the Dockerfile's CMD and these tests.
GUNICORN_ARGS = ["-c", "gunicorn.conf.py"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the project's config on a free port; ``stop()`` always."""

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
        given = env or {}
        if "FRAMING_DATABASE_URL" not in given:
            # Never the user's label database: a throwaway SQLite file per server.
            self.env.pop("FRAMING_DATABASE_URL", None)
            if "FRAMING_DATA_DIR" not in given:
                self._data_dir = tempfile.TemporaryDirectory(prefix="framing-data-")
                self.env["FRAMING_DATA_DIR"] = self._data_dir.name
        self.log_path: Path | None = None
        self.proc: subprocess.Popen | None = None

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
                with urllib.request.urlopen(self.url + path, timeout=1) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
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
