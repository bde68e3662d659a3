"""Bounded load on gunicorn (2 sync workers, tiny model) from 127.0.0.1 only.

1. 10,000 POST /v1/predict of a ~600-word article at concurrency 1, 8 and 32:
   no request may fail, and the workers' RSS may not grow more than 10% from
   the first thousand requests to the last. Throughput and p50/p95/p99 per
   level go to benchmarks/results/load.json.
2. SIGKILL one worker in the middle of a run: the master starts a new one, and
   at most the requests in flight on the killed worker fail (bound:
   concurrency/2).

Worker recycling (``max_requests`` in gunicorn.conf.py) is switched off for
run 1 through GUNICORN_CMD_ARGS: a recycled worker starts small again and
would hide a leak.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import signal
import threading
import time
from datetime import datetime, timezone

import numpy as np
import psutil
import pytest
import requests
from conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RESULTS = ROOT / "benchmarks" / "results" / "load.json"
LEVELS = [(1, 1_000), (8, 3_000), (32, 6_000)]  # (concurrency, requests): 10,000 in all
MIN_TOTAL = 10_000
RSS_WINDOW = 1_000
RSS_GROWTH_MAX = 0.10
TIME_LIMIT_S = 240  # every run stops by itself, whatever happens

# Invented, but shaped like a wire report: dateline, quotes, claims from both sides.
ARTICLE = """\
Kyiv, March 14 - Air raid sirens sounded across the capital before dawn on Thursday as Ukrainian air \
defence units engaged a wave of drones and cruise missiles, the city's military administration said.
Officials reported that debris fell on two residential buildings in the Solomianskyi district. Rescue \
teams worked through the morning to clear rubble, and emergency services said four people were taken \
to hospital with minor injuries.
The Ukrainian air force said it had intercepted most of the incoming drones over the central and \
northern regions. A spokesman told reporters that the attack was one of the largest in several weeks.
In Moscow, the defence ministry described the strikes as a response to what it called terrorist attacks \
on Russian border regions. A ministry statement said the targets were military facilities and energy \
infrastructure used by the armed forces of Ukraine.
Russian state television repeated the claim that Western weapons were prolonging the conflict and that \
the government in Kyiv had refused every offer of negotiations.
Ukrainian officials rejected that account. The foreign minister said the strikes hit civilian homes and \
a power substation, leaving thousands of families without electricity during a cold spell.
Energy company engineers said repairs could take several days. Hospitals in the affected districts \
switched to backup generators, and schools moved classes online for the rest of the week.
European leaders condemned the attack. In Brussels, a senior diplomat said the bloc would discuss a new \
package of sanctions and additional air defence systems at a meeting next month.
The United States announced a further round of military aid on Wednesday, including ammunition for \
artillery and spare parts for armoured vehicles. A Pentagon official said deliveries would begin within weeks.
Analysts in Warsaw and London said the pattern of strikes suggested an effort to exhaust Ukrainian air \
defences ahead of spring. Others cautioned that the front line had barely moved in recent months.
Near Bakhmut and Avdiivka, fighting continued along a wide stretch of the front. Ukrainian commanders \
reported repeated assaults by infantry groups supported by artillery and glide bombs.
The Russian side claimed to have captured a village south of the town, a claim that could not be \
independently verified. Ukrainian military bloggers said the village remained contested.
Humanitarian groups warned that civilians in front-line towns faced growing shortages of water and \
medicine. An aid convoy reached the town of Kupiansk on Tuesday after a delay caused by shelling.
In the Black Sea, grain shipments continued from the port of Odesa despite the threat of mines. Port \
officials said more than forty ships had left the harbour this month.
Talks on a prisoner exchange resumed through intermediaries in the Gulf, according to officials on both \
sides. No date has been set for the next round.
In a televised address, the Ukrainian president said the country needed more air defence systems, not \
statements of concern. The Kremlin spokesman told reporters that the West bore responsibility for the \
escalation and accused Kyiv of using civilians as shields, an allegation Ukrainian officials dismissed \
as propaganda meant to justify attacks on cities far from the front.
Meanwhile, residents of the capital returned to work as the metro resumed normal service. Many said \
they had grown used to the sirens but still took shelter when warnings sounded at night.
City authorities urged people to keep phones charged and to store drinking water in case of further \
outages. Volunteers distributed blankets and hot meals at several points across the city. The mayor said \
the capital would not be intimidated and thanked the air defence crews who worked through the night.
"""
BODY = json.dumps({"text": ARTICLE}).encode()


def worker_rss(master_pid: int) -> dict[int, int]:
    out = {}
    for child in psutil.Process(master_pid).children():
        try:
            out[child.pid] = child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return out


class Load:
    """Threads sending POST /v1/predict until ``n`` requests are done (or time runs out)."""

    def __init__(self, port: int, expected_sentences: int):
        self.port = port
        self.expected = expected_sentences
        self.lock = threading.Lock()
        self.completed = 0  # over every run of this object
        self.in_flight = 0
        self.failures: list[str] = []

    def one(self) -> tuple[bool, float, str]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", "/v1/predict", body=BODY, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                return False, time.perf_counter() - started, f"HTTP {response.status}: {data[:200]!r}"
            if json.loads(data)["document"]["n_sentences"] != self.expected:
                return False, time.perf_counter() - started, "wrong answer"
            return True, time.perf_counter() - started, ""
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return False, time.perf_counter() - started, repr(exc)
        finally:
            conn.close()

    def run(self, concurrency: int, n: int, on_progress=None) -> dict:
        latencies: list[float] = []
        issued = 0
        deadline = time.monotonic() + TIME_LIMIT_S

        def worker():
            nonlocal issued
            while time.monotonic() < deadline:
                with self.lock:
                    if issued >= n:
                        return
                    issued += 1
                    self.in_flight += 1
                ok, latency, detail = self.one()
                with self.lock:
                    self.in_flight -= 1
                    self.completed += 1
                    latencies.append(latency)
                    if not ok:
                        self.failures.append(detail)
                    done = self.completed
                if on_progress is not None:
                    on_progress(done)

        failures_before = len(self.failures)
        started = time.perf_counter()
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=TIME_LIMIT_S + 60)
        wall = time.perf_counter() - started
        assert len(latencies) == n, f"only {len(latencies)} of {n} requests finished in {TIME_LIMIT_S}s"
        ms = np.array(latencies) * 1000
        return {
            "concurrency": concurrency,
            "requests": n,
            "failed": len(self.failures) - failures_before,
            "seconds": round(wall, 2),
            "throughput_rps": round(n / wall, 1),
            "latency_ms": {q: round(float(np.percentile(ms, int(q[1:]))), 1) for q in ("p50", "p95", "p99")},
        }


class RssSampler(threading.Thread):
    """RSS of every worker every 0.25 s, tagged with the requests completed so far."""

    def __init__(self, master_pid: int, load: Load):
        super().__init__(daemon=True)
        self.master_pid, self.load = master_pid, load
        self.samples: list[tuple[int, dict[int, int]]] = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.25):
            self.samples.append((self.load.completed, worker_rss(self.master_pid)))


def machine() -> dict:
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), model)
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def record(section: str, value) -> None:
    """Merge one section into benchmarks/results/load.json."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        data = {}
    data.update(
        {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "server": "gunicorn -c gunicorn.conf.py, 2 sync workers, tiny test model (tests/data/tiny.csv)",
            "article_words": len(ARTICLE.split()),
            section: value,
        }
    )
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def _expected_sentences(url: str) -> int:
    r = requests.post(url + "/v1/predict", json={"text": ARTICLE}, timeout=10)
    r.raise_for_status()
    return r.json()["document"]["n_sentences"]


def test_load_levels_no_failures_flat_rss(tiny_model, make_server):
    assert 550 <= len(ARTICLE.split()) <= 650
    assert sum(n for _, n in LEVELS) >= MIN_TOTAL
    srv = make_server(tiny_model, workers=2, env={"GUNICORN_CMD_ARGS": "--max-requests 0"})
    load = Load(srv.port, _expected_sentences(srv.url))
    pids_before = set(worker_rss(srv.proc.pid))
    assert len(pids_before) == 2
    sampler = RssSampler(srv.proc.pid, load)
    sampler.start()
    try:
        levels = [load.run(concurrency, n) for concurrency, n in LEVELS]
    finally:
        sampler.stop.set()
        sampler.join(timeout=5)
    total = load.completed
    first = [sum(rss.values()) for done, rss in sampler.samples if done <= RSS_WINDOW and len(rss) == 2]
    last = [sum(rss.values()) for done, rss in sampler.samples if done >= total - RSS_WINDOW and len(rss) == 2]
    assert first and last, f"too few RSS samples: {len(sampler.samples)}"
    pids_after = set(worker_rss(srv.proc.pid))
    rss = {
        "first_1000_mib": round(max(first) / 2**20, 1),
        "last_1000_mib": round(max(last) / 2**20, 1),
        "growth": round(max(last) / max(first) - 1, 4),
        "samples": len(sampler.samples),
        "workers_replaced": len(pids_before - pids_after),
    }
    record("load", {"total_requests": total, "failed": len(load.failures), "levels": levels,
                    "worker_rss_all_workers": rss})
    print(f"\n{json.dumps(levels)}\n{rss}")
    assert total >= MIN_TOTAL
    assert load.failures == []
    assert pids_after == pids_before  # no worker died or was recycled
    assert rss["growth"] <= RSS_GROWTH_MAX, rss


def test_sigkill_one_worker_mid_load(tiny_model, make_server):
    concurrency, n, kill_at = 8, 1_200, 300
    srv = make_server(tiny_model, workers=2)
    load = Load(srv.port, _expected_sentences(srv.url))
    workers = sorted(worker_rss(srv.proc.pid))
    victim = workers[0]
    killed = threading.Event()
    state: dict = {}

    def on_progress(done: int) -> None:
        if done >= kill_at and not killed.is_set():
            with load.lock:
                if killed.is_set():
                    return
                killed.set()
                state["in_flight_at_kill"] = load.in_flight
                state["completed_at_kill"] = load.completed
                state["killed_at"] = time.monotonic()
            os.kill(victim, signal.SIGKILL)

    result = load.run(concurrency, n, on_progress=on_progress)
    assert killed.is_set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = set(worker_rss(srv.proc.pid))
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.1)
    replacement = sorted(now - set(workers))
    assert srv.proc.poll() is None, "the master died"
    assert victim not in now and len(now) == 2 and len(replacement) == 1, (workers, sorted(now))
    assert requests.get(srv.url + "/ready", timeout=10).status_code == 200
    outcome = {
        "concurrency": concurrency,
        "requests": n,
        "failed": len(load.failures),
        "failures": sorted(set(load.failures)),
        "client_requests_in_flight_at_kill": state["in_flight_at_kill"],
        "bound": concurrency // 2,
        "worker_replaced": True,
        "throughput_rps": result["throughput_rps"],
    }
    record("worker_sigkill", outcome)
    print(f"\n{outcome}")
    assert len(load.failures) <= concurrency // 2, load.failures
    assert "SIGKILL" in srv.log_text() or "signal 9" in srv.log_text()
