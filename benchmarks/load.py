"""`python -m benchmarks.load`: bounded load on gunicorn from 127.0.0.1, in figures.

1. 10,000 POST /v1/predict of a ~600-word article at concurrency 1, 8 and 32
   (2 workers of the configured gevent class): failed requests, throughput, p50/p95/p99 per level, and
   the workers' RSS over the first and the last thousand requests (worker
   recycling is off through GUNICORN_CMD_ARGS: a recycled worker starts small
   again and would hide a leak).
2. SIGKILL one worker in the middle of a run: failed requests against the
   requests in flight, and whether the master replaced the worker.
3. The same levels with gunicorn's sync workers (the setup before gevent), so
   the choice of worker class rests on figures from the same run.

Prints the figures and writes ``benchmarks/results/load.json``. That a killed
worker is replaced and few requests fail is tested in
``tests/test_worker_kill.py``; this script only measures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import psutil

from benchmarks.common import DEFAULT_MODEL, save_result
from benchmarks.report import machine
from service.runner import Server

LEVELS = [(1, 1_000), (8, 3_000), (32, 6_000)]  # (concurrency, requests): 10,000 in all
RSS_WINDOW = 1_000
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

        ms = np.array(latencies or [0.0]) * 1000
        return {
            "concurrency": concurrency,
            "requests": n,
            "finished": len(latencies),
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


def expected_sentences(url: str) -> int:
    request = urllib.request.Request(
        url + "/v1/predict", data=BODY, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["document"]["n_sentences"]


def workers_settled(master_pid: int, n: int, gone: int | None = None, timeout: float = 30) -> set[int]:
    """Worker pids once there are ``n`` of them (and ``gone`` is not among them)."""
    deadline = time.monotonic() + timeout
    while True:
        now = set(worker_rss(master_pid))
        if (len(now) == n and gone not in now) or time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def kill_one_worker_mid_load(port: int, master_pid: int, concurrency: int, n: int, kill_at: int) -> dict:
    """Run ``n`` requests and SIGKILL one worker after ``kill_at`` of them."""
    load = Load(port, expected_sentences(f"http://127.0.0.1:{port}"))
    workers = sorted(worker_rss(master_pid))
    victim = workers[0]
    killed = threading.Event()
    state: dict = {}

    def on_progress(done: int) -> None:
        with load.lock:
            if done < kill_at or killed.is_set():
                return
            killed.set()
            state["in_flight_at_kill"] = load.in_flight
        os.kill(victim, signal.SIGKILL)

    result = load.run(concurrency, n, on_progress=on_progress)
    now = workers_settled(master_pid, len(workers), gone=victim)
    return {
        "concurrency": concurrency,
        "requests": n,
        "finished": result["finished"],
        "failed": len(load.failures),
        "failures": sorted(set(load.failures)),
        "client_requests_in_flight_at_kill": state.get("in_flight_at_kill"),
        "worker_killed": killed.is_set(),
        "worker_replaced": victim not in now and len(now) == len(workers),
        "throughput_rps": result["throughput_rps"],
    }


def run_levels(model_dir: Path, log_dir: Path, worker_class: str | None = None) -> dict:
    args = "--max-requests 0" + (f" --worker-class {worker_class}" if worker_class else "")
    srv = Server(model_dir, env={"GUNICORN_CMD_ARGS": args, "FRAMING_API_KEYS": ""}, workers=2)
    srv.start(log_dir / f"load-{worker_class or 'configured'}.log")
    try:
        load = Load(srv.port, expected_sentences(srv.url))
        pids_before = set(worker_rss(srv.proc.pid))
        sampler = RssSampler(srv.proc.pid, load)
        sampler.start()
        try:
            levels = []
            for concurrency, n in LEVELS:
                levels.append(load.run(concurrency, n))
                print(json.dumps(levels[-1]), flush=True)
        finally:
            sampler.stop.set()
            sampler.join(timeout=5)
        total = load.completed
        first = [sum(r.values()) for done, r in sampler.samples if done <= RSS_WINDOW and len(r) == 2]
        last = [sum(r.values()) for done, r in sampler.samples if done >= total - RSS_WINDOW and len(r) == 2]
        rss = {
            "first_1000_mib": round(max(first) / 2**20, 1) if first else None,
            "last_1000_mib": round(max(last) / 2**20, 1) if last else None,
            "growth": round(max(last) / max(first) - 1, 4) if first and last else None,
            "samples": len(sampler.samples),
            "workers_replaced": len(pids_before - set(worker_rss(srv.proc.pid))),
        }
        return {"total_requests": total, "failed": len(load.failures), "levels": levels,
                "worker_rss_all_workers": rss}
    finally:
        srv.stop()


def run_kill(model_dir: Path, log_dir: Path) -> dict:
    srv = Server(model_dir, env={"FRAMING_API_KEYS": ""}, workers=2)
    srv.start(log_dir / "kill.log")
    try:
        return kill_one_worker_mid_load(srv.port, srv.proc.pid, concurrency=8, n=1_200, kill_at=300)
    finally:
        srv.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model directory [%(default)s]")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="framing-load-") as tmp:
        load = run_levels(args.model, Path(tmp))
        print(json.dumps(load["worker_rss_all_workers"]), flush=True)
        kill = run_kill(args.model, Path(tmp))
        print(json.dumps(kill), flush=True)
        print("the same levels with sync workers:", flush=True)
        sync = run_levels(args.model, Path(tmp), worker_class="sync")
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "server": f"gunicorn -c gunicorn.conf.py, 2 gevent workers (service.worker), model {args.model}",
        "article_words": len(ARTICLE.split()),
        "load": load,
        "worker_sigkill": kill,
        "sync_workers_for_comparison": {"levels": sync["levels"], "failed": sync["failed"]},
    }
    save_result("load.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
