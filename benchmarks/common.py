"""Measurement helpers shared by every section: timing, statistics, memory.

One shared place for "how we measure" keeps the sections comparable: every
section reports medians over repeats with their spread, and every memory
figure is the peak of the summed RSS of a whole process tree.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import psutil

from model.artifact import resolve_model_dir
from training.dataset import DEFAULT_DEV

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"  # git-ignored scratch space
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_MODEL = resolve_model_dir()
DEV_SET = DEFAULT_DEV
MiB = 1024 * 1024


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min, max and quartiles of repeated measurements.

    The machine is shared and noisy, so a single run says little: the median
    is the headline and min–max shows how far a run can stray.
    """
    vals = sorted(float(v) for v in values)
    if not vals:
        return {"n": 0}
    if len(vals) >= 2:
        q1, _, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    else:
        q1 = q3 = vals[0]
    return {
        "n": len(vals),
        "median": statistics.median(vals),
        "min": vals[0],
        "max": vals[-1],
        "q1": q1,
        "q3": q3,
    }


def repeat(fn: Callable[[], float], times: int, warmup: int = 1) -> list[float]:
    """Call ``fn`` (which returns its own measurement) after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    return [fn() for _ in range(times)]


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call (CPU/wall near 1 means single-threaded)."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def tree_rss(proc: psutil.Process) -> int:
    """RSS of a process plus all its descendants, in bytes (0 once it is gone)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


class RssSampler:
    """Samples a process tree's summed RSS in a thread and keeps the peak.

    Sampling (every ``interval`` s) can miss a short spike, but the processes
    measured here hold their memory for seconds, so the peak is representative.
    """

    def __init__(self, pid: int, interval: float = 0.1):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.proc))
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(cmd: list[str], *, env: dict | None = None, timeout: float = 600,
                 cwd: Path = ROOT) -> dict:
    """Run a command, return wall time, peak tree RSS, exit code and stderr tail."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    with RssSampler(proc.pid) as sampler:
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
            raise RuntimeError(f"{cmd[0]} ran past {timeout}s") from None
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {stderr[-2000:]}")
    return {"wall_s": wall, "peak_rss_mib": sampler.peak / MiB, "stderr": stderr}


def save_result(name: str, result: dict) -> Path:
    """Write ``benchmarks/results/NAME`` (indented JSON) and say so."""
    import json

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path


def console_script(name: str) -> list[str]:
    """The project's installed entry point next to this interpreter."""
    path = Path(sys.executable).parent / name
    if path.is_file():
        return [str(path)]
    raise FileNotFoundError(f"{name} is not installed next to {sys.executable}: run `make install`")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Budget:
    """Wall-clock budget of a section, so the suite stays under its time limit."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started = time.perf_counter()

    @property
    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.started)


_T0 = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr, so long sections do not look hung."""
    print(f"[bench {time.perf_counter() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)
