"""Section 4, the HTTP API under gunicorn with the project's own config.

The server is started the way `make run` starts it (``python -m gunicorn -c
gunicorn.conf.py``, 2 workers on 127.0.0.1 and a free port) and driven by a
bounded load generator: a fixed number of requests per concurrency level,
threads each with their own keep-alive ``http.client`` connection, 127.0.0.1
only. The load generator shares the 2 cores with the server, as a client on
the same host would; its CPU share is recorded because it is part of what
the ratio shows.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil

from benchmarks import limits
from benchmarks.common import DEFAULT_MODEL, WORK, MiB, cores, spread
from benchmarks.splitter import make_articles
from model.classifier import Classifier
from model.sentences import split_sentences
from service.runner import Server

LEVELS_FULL = [(1, 300), (8, 1000), (32, 1000)]
LEVELS_QUICK = [(1, 60), (8, 200), (32, 200)]
ROUNDS = 5  # each level is sent in rounds, giving repeated throughput figures


class Gunicorn(Server):
    """The API under gunicorn (service/runner.py); always ``stop()`` it."""

    def __init__(self, workers: int = 2, model_dir=DEFAULT_MODEL):
        # Measured without auth, like `make run`.
        super().__init__(model_dir, env={"FRAMING_API_KEYS": ""}, workers=workers)

    def start(self) -> "Gunicorn":
        WORK.mkdir(parents=True, exist_ok=True)
        super().start(WORK / "gunicorn.log")
        return self

    def worker_rss_mib(self) -> list[float]:
        try:
            children = psutil.Process(self.proc.pid).children()
        except psutil.Error:
            return []
        out = []
        for child in children:
            try:
                out.append(child.memory_info().rss / MiB)
            except psutil.Error:
                pass
        return sorted(out)



def load(port: int, body: bytes, concurrency: int, n_requests: int) -> dict:
    """Send exactly ``n_requests`` POSTs from ``concurrency`` threads.

    Each thread keeps one keep-alive ``http.client`` connection and sends the
    same pre-encoded body; only every 25th response is parsed as JSON (the
    rest are checked for status 200 and read whole), so the client spends as
    little of the shared cores as it can. Its CPU time is recorded.
    """
    local = threading.local()
    latencies: list[float] = []
    errors: list[str] = []
    sentences: list[int] = []
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}

    def one(i: int) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.perf_counter()
        n, err = None, None
        try:
            conn.request("POST", "/v1/predict", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                err = f"HTTP {resp.status}"
            elif i % 25 == 0:
                n = json.loads(data)["document"]["n_sentences"]
        except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
            err = type(exc).__name__
            conn.close()
            local.conn = None
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)
            if err:
                errors.append(err)
            if n is not None:
                sentences.append(n)

    cpu0, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(n_requests)))
    wall = time.perf_counter() - started
    return {"wall_s": wall, "client_cpu_s": time.process_time() - cpu0, "latencies": latencies,
            "errors": errors, "ok": n_requests - len(errors), "sentences_seen": sentences}


def _percentile(values: list[float], q: float) -> float:
    vals = sorted(values)
    k = (len(vals) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def run(clf: Classifier, quick: bool = False) -> dict:
    article = make_articles(1, seed=11)[0]
    n_sent = len(split_sentences(article))
    sentences = [s.text for s in split_sentences(article)]
    limit = limits.sentences_per_s(clf, (sentences * (10_000 // n_sent + 1))[:10_000], 10_000,
                                   3 if quick else 5)
    limit_rate = limit["sentences_per_s"]["median"]
    n_cores = cores()
    body = json.dumps({"id": "bench", "text": article}).encode("utf-8")
    levels = LEVELS_QUICK if quick else LEVELS_FULL
    server = Gunicorn(workers=2)
    rows = []
    try:
        server.start()
        warm = load(server.port, body, 4, 20)  # imports, first-request caches
        if warm["errors"]:
            raise RuntimeError(f"warm-up requests failed: {warm['errors'][:3]}")
        rss_start = server.worker_rss_mib()
        for concurrency, n_requests in levels:
            per_round = n_requests // ROUNDS
            rounds = [load(server.port, body, concurrency, per_round) for _ in range(ROUNDS)]
            lat = [x for r in rounds for x in r["latencies"]]
            seen = {n for r in rounds for n in r["sentences_seen"]}
            if seen - {n_sent}:
                raise RuntimeError(f"the API found {seen} sentences, the splitter {n_sent}")
            rps = [r["ok"] / r["wall_s"] for r in rounds]
            sps = [r["ok"] * n_sent / r["wall_s"] for r in rounds]
            rows.append({
                "concurrency": concurrency,
                "requests": per_round * ROUNDS,
                "rounds": ROUNDS,
                "requests_per_s": spread(rps),
                "sentences_per_s": spread(sps),
                "latency_ms": {f"p{int(q * 100)}": 1000 * _percentile(lat, q) for q in (0.5, 0.95, 0.99)},
                "client_cpu_share": sum(r["client_cpu_s"] for r in rounds)
                / sum(r["wall_s"] for r in rounds),
                "errors": sum(len(r["errors"]) for r in rounds),
                "error_kinds": sorted({e for r in rounds for e in r["errors"]}),
            })
        rss_end = server.worker_rss_mib()
    finally:
        server.stop()
    c8 = next(r for r in rows if r["concurrency"] == 8)
    ratio = c8["sentences_per_s"]["median"] / (limit_rate * n_cores)
    return {
        "what": "POST /v1/predict (JSON) with an ~800-word article, gunicorn 2 sync workers, "
                "load generator on the same host",
        "article_words": len(article.split()),
        "article_sentences": n_sent,
        "workers": 2,
        "cores": n_cores,
        "limit_batch_10000_sentences_per_s": limit["sentences_per_s"],
        "levels": rows,
        "worker_rss_mib_start": rss_start,
        "worker_rss_mib_end": rss_end,
        "ratio_c8_to_limit_x_cores": ratio,
        "goals": {"c=8 sentences/s / (limit x cores) >= 0.6": ratio},
    }
