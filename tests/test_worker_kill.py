"""A gunicorn worker killed mid-load is replaced and costs at most its in-flight requests.

Bounded: 600 requests at concurrency 8 against the tiny model on 127.0.0.1.
Throughput, latency and memory under load are measured by ``benchmarks/load.py``.
"""

from __future__ import annotations

import pytest
import requests

from benchmarks.load import kill_one_worker_mid_load

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_sigkill_one_worker_mid_load(tiny_model, make_server):
    concurrency = 8
    srv = make_server(tiny_model, workers=2)
    outcome = kill_one_worker_mid_load(srv.port, srv.proc.pid, concurrency=concurrency, n=600, kill_at=150)
    assert outcome["worker_killed"]
    assert outcome["finished"] == 600
    assert outcome["worker_replaced"], outcome
    assert srv.proc.poll() is None, "the master died"
    # Only the requests on the killed worker can fail: at most half of those in flight.
    assert outcome["failed"] <= concurrency // 2, outcome["failures"]
    assert requests.get(srv.url + "/ready", timeout=10).status_code == 200
    assert "SIGKILL" in srv.log_text() or "signal 9" in srv.log_text()
