"""`make run` itself serves the API (the README's first command)."""

import os
import signal
import subprocess
import time

import pytest
import requests
from conftest import ROOT, free_port

pytestmark = pytest.mark.integration


def test_make_run_answers_health(tmp_path):
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "make-run.log", "wb")
    proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code
                if status == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        assert status == 200, (tmp_path / "make-run.log").read_text()[-2000:]
        assert requests.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
