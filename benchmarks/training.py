"""Section 5, training: wall time and peak RSS of `framing-train` as the corpus grows.

The corpus is repeated 1x, 2x, 4x and 8x with lightly perturbed copies under
new doc_ids (benchmarks.corpus.scaled_corpus), and each size is trained by the
real CLI in a subprocess (``--no-dev --quiet``, with and without the grid
search), so the figures include everything a user waits for.

Training is the slowest thing here, so the section runs against a time
budget: sizes are tried from small to large, the next size's time is
extrapolated from the growth measured so far, and a size that would not fit
is skipped and reported as such, with the estimate, never as a measurement.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from math import log
from pathlib import Path

from benchmarks.common import WORK, Budget, console_script, run_measured
from benchmarks.corpus import load_rows, scaled_corpus, sliced_corpus

FACTORS = (1, 2, 4, 8)
# Cheapest first, so a tight budget still gets both curves' first points.
PLAN = [("no search", 1), ("search", 1), ("no search", 2), ("search", 2),
        ("no search", 4), ("search", 4), ("no search", 8), ("search", 8)]
SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def train_once(data_dir, search: bool, extra_env: dict | None = None) -> dict:
    out = tempfile.mkdtemp(prefix="train-", dir=WORK)
    cmd = [*console_script("framing-train"), "--data", str(data_dir), "--out", out,
           "--no-dev", "--quiet", *([] if search else ["--no-search"])]
    env = {**os.environ, **(extra_env or {})}
    env.pop("FRAMING_DEV_DATA", None)
    try:
        result = run_measured(cmd, env=env, timeout=1200)
        meta = json.loads((Path(out) / "metadata.json").read_text())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "wall_s": result["wall_s"],
        "peak_rss_mib": result["peak_rss_mib"],
        "calibration": meta["calibration"]["method"],
        "cv_macro_f1": meta["metrics"]["cross_validated"]["macro_f1"],
        "params": meta["params"],
    }


def _estimate(points: list[dict], factor: int) -> float:
    """Extrapolate wall time to ``factor``, at least linearly in the corpus size."""
    last = points[-1]
    growth = 1.0
    if len(points) >= 2:
        prev = points[-2]
        growth = max(1.0, log(last["wall_s"] / prev["wall_s"]) / log(last["factor"] / prev["factor"]))
    return last["wall_s"] * (factor / last["factor"]) ** growth


def run(budget_s: float, quick: bool = False) -> dict:
    budget = Budget(budget_s)
    curves: dict[str, list[dict]] = {"no search": [], "search": []}
    skipped: list[dict] = []
    sizes = {}
    if quick:
        data_dir, n = sliced_corpus(1000)
        point = train_once(data_dir, search=False)
        curves["no search"].append({"factor": n / len(load_rows()), "sentences": n, **point})
        return {"what": "quick: framing-train --no-search on the first ~1,000 corpus sentences",
                "budget_s": budget_s, "curves": curves, "single_thread_blas": [],
                "skipped": [], "sentences_by_factor": {}}
    for curve, factor in PLAN:
        points = curves[curve]
        if any(s["curve"] == curve for s in skipped):
            skipped.append({"curve": curve, "factor": factor, "reason": "a smaller size was skipped"})
            continue
        if points:
            estimate = _estimate(points, factor)
        elif curve == "search" and curves["no search"]:
            estimate = 2.2 * curves["no search"][0]["wall_s"]
        else:
            estimate = 60.0
        if estimate > budget.left:
            skipped.append({"curve": curve, "factor": factor, "estimated_s": estimate,
                            "reason": f"estimated {estimate:.0f}s > {max(budget.left, 0):.0f}s left"})
            continue
        data_dir, n = scaled_corpus(factor)
        sizes[factor] = n
        point = train_once(data_dir, search=(curve == "search"))
        points.append({"factor": factor, "sentences": n, **point})
    extra = []
    base = curves["no search"][0]["wall_s"] if curves["no search"] else None
    if not quick and base and budget.left > 1.3 * base:
        # The same 1x run with BLAS pinned to one thread: on 2 busy cores the
        # main process's OpenBLAS threads were seen to slow a fit down 5x.
        data_dir, n = scaled_corpus(1)
        point = train_once(data_dir, search=False, extra_env=SINGLE_THREAD_ENV)
        extra.append({"curve": "no search, OPENBLAS/OMP_NUM_THREADS=1", "factor": 1,
                      "sentences": n, **point})
    return {
        "what": "framing-train --no-dev --quiet as a subprocess (its default --jobs -1: all cores); "
                "one run per point",
        "budget_s": budget_s,
        "curves": curves,
        "single_thread_blas": extra,
        "skipped": skipped,
        "sentences_by_factor": sizes,
    }
