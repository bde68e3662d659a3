"""`python -m benchmarks.corpus_report`: `framing-report` time and peak memory at 100,000 and 1,000,000 documents.

The scored documents are generated (framing-score's document shape, 3 to 12
sentences each, 40 outlets, dates over two years, sentence texts drawn from
the team's corpus) and written once to ``benchmarks/work/``; the report runs
as a subprocess, timed from outside with its peak RSS sampled, grouped by
outlet and by month. Memory should stay flat as documents grow: only
per-group counters, the vocabulary and the drill-down tables are kept.
Writes ``benchmarks/results/corpus_report.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import orjson

from benchmarks.common import WORK, log, run_measured, save_result
from benchmarks.corpus import load_rows
from benchmarks.report import machine
from model.classifier import SentencePrediction
from model.labels import LABELS
from model.records import document_record

SIZES = (100_000, 1_000_000)


def scores_file(n_docs: int, seed: int = 0) -> Path:
    path = WORK / f"report-scores-{n_docs}-s{seed}.jsonl"
    if path.is_file():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    texts = [row.text for row in load_rows()]
    sources = [f"Outlet {i:02d}" for i in range(40)]
    start = date(2025, 1, 1)
    log(f"writing {n_docs:,} scored documents to {path.name}")
    partial = path.with_suffix(".partial")
    model = {"name": "framing-tfidf-lr", "version": "bench", "sha256": ""}
    with open(partial, "wb") as fh:
        for i in range(n_docs):
            predictions = []
            for j in range(rng.randint(3, 12)):
                raw = [rng.random() for _ in LABELS]
                total = sum(raw)
                probs = {lab: r / total for lab, r in zip(LABELS, raw)}
                label = max(probs, key=probs.get)
                predictions.append(SentencePrediction(j, 0, 0, rng.choice(texts), label, probs[label], probs))
            day = (start + timedelta(days=rng.randrange(730))).isoformat()
            meta = {"source": rng.choice(sources), "date": day, "title": f"Document {i}",
                    "url": f"https://example.org/{i}"}
            # framing-score's own record builder, so the shape cannot drift from the real output.
            fh.write(orjson.dumps(document_record(f"doc-{i}", model, predictions, meta)) + b"\n")
    partial.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpus_report", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="documents [%(default)s]")
    args = parser.parse_args(argv)
    runs = []
    for n in args.sizes:
        path = scores_file(n)
        out = WORK / f"report-{n}.html"
        cmd = [sys.executable, "-m", "report.cli", str(path), "-o", str(out), "--by", "meta.source",
               "--time", "meta.date", "--csv", str(WORK / f"report-{n}.csv"), "--no-progress"]
        log(f"framing-report on {n:,} documents")
        started = time.perf_counter()
        result = run_measured(cmd, timeout=3600)
        runs.append({"documents": n, "input_mib": round(path.stat().st_size / 2**20, 1),
                     "wall_s": round(result["wall_s"], 1), "documents_per_s": round(n / result["wall_s"]),
                     "peak_rss_mib": round(result["peak_rss_mib"], 1),
                     "report_mib": round(out.stat().st_size / 2**20, 2)})
        print(json.dumps(runs[-1]), flush=True)
        log(f"done in {time.perf_counter() - started:.0f}s")
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
              "command": "framing-report SCORES -o report.html --by meta.source --time meta.date --csv aggregates.csv",
              "runs": runs}
    save_result("corpus_report.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
