"""`python -m benchmarks.batch_speed`: batch scoring against the bare model, before and after.

Two checkouts score the same generated articles with the same model, in the
same run, interleaved round by round so machine noise hits both:

- **before**: a git worktree of ``--baseline`` (default: the last commit
  before the batch speed work), made under ``benchmarks/work/``;
- **after**: this checkout.

For each, in a subprocess whose ``PYTHONPATH`` is that checkout (so the
pickled model's preprocessor, the splitter and the scorer are that
checkout's code):

- **the limit**: ``predict_proba`` of the model on pre-split sentences (the
  first 100,000 sentences of the articles, split by that checkout, in batches
  of 10,000, one BLAS thread), sentences/s;
- **end to end**: ``python -m batch.cli`` (``framing-score``) on all the
  articles in one process, timed from outside (start-up and model load
  included), sentences/s and peak RSS.

The ratio end to end / limit is the figure issue 16 sets at >= 0.75. Both
outputs are parsed and compared record by record: the speed work must not
change a single label, probability, offset or flag. Then this checkout is
timed stage by stage in one process (``--stages-only`` does only that),
with blingfire and fastText also timed alone: what the goal leaves beside
the model against what native code alone takes. Writes
``benchmarks/results/batch_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import DEFAULT_MODEL, ROOT, WORK, log, run_measured, save_result, spread
from benchmarks.corpus import articles_file
from benchmarks.report import machine

# The last commit before the batch speed work (splitter, normalize(), JSON).
BASELINE = "b77ea83"
LIMIT_SENTENCES = 100_000
GOAL = 0.75  # issue 16: framing-score in one process >= 0.75 x the limit

_LIMIT_SNIPPET = r"""
import json, sys, time
from threadpoolctl import threadpool_limits
import model
from model.classifier import Classifier
from model.sentences import split_sentences
path, model_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sentences = []
with open(path, encoding="utf-8") as fh:
    for line in fh:
        sentences += [s.text for s in split_sentences(json.loads(line)["text"])]
        if len(sentences) >= n:
            break
sentences = sentences[:n]
pipeline = Classifier.from_dir(model_dir).pipeline
with threadpool_limits(1):
    pipeline.predict_proba(sentences[:10000])  # warm-up
    started = time.perf_counter()
    for i in range(0, len(sentences), 10000):
        pipeline.predict_proba(sentences[i:i + 10000])
    wall = time.perf_counter() - started
print(json.dumps({"sentences": len(sentences), "seconds": wall, "module": model.__file__}))
"""


# Where one process's time goes, stage by stage, on the same articles (this
# checkout only): the native parts (blingfire, fastText) timed on their own
# too, since no Python work around them can be cheaper than they are.
_STAGES_SNIPPET = r"""
import json, sys, time
started = time.perf_counter()
import blingfire
from threadpoolctl import threadpool_limits
from batch.outputs import json_line
from model.classifier import Classifier
from model.records import document_record
from model.scope import english_word_counts, has_english_words
from model.sentences import split_sentences
path, model_dir = sys.argv[1], sys.argv[2]
model = Classifier.from_dir(model_dir)
seconds = {"start-up (imports, model load)": time.perf_counter() - started}

def timed(name, fn):
    t = time.perf_counter()
    result = fn()
    seconds[name] = time.perf_counter() - t
    return result

with open(path, "rb") as fh:
    lines = fh.readlines()
texts = timed("reading JSON", lambda: [json.loads(line)["text"] for line in lines])
timed("blingfire alone", lambda: [blingfire.text_to_sentences(t) for t in texts])
spans = timed("split_sentences", lambda: [split_sentences(t) for t in texts])
sentences = [s.text for doc in spans for s in doc]
lengths = [len(doc) for doc in spans]
with threadpool_limits(1):
    timed("the limit (predict_proba)",
          lambda: [model.pipeline.predict_proba(sentences[i:i + 10000]) for i in range(0, len(sentences), 10000)])
    features = model._features(sentences)
    counts = english_word_counts(features, model._english_word_weights)
    not_english = timed("language check", lambda: model.language.not_english(sentences, counts))
    asked = [model.language.fasttext_line(s) for s, settled in zip(sentences, has_english_words(counts))
             if not settled]
    fasttext = model.language._fasttext
    timed("fastText alone", lambda: [fasttext.predict(line, k=3) for line in asked if line])
    timed("off-topic check", lambda: model.relevance.off_topic(features, lengths, not_english))
    predictions = [p for i in range(0, len(texts), 64) for p in model.predict_texts(texts[i:i + 64])]
timed("records and JSON", lambda: [json_line(document_record(str(i), model.info, p))
                                   for i, p in enumerate(predictions)])
print(json.dumps({"sentences": len(sentences), "asked_fasttext": len(asked), "seconds": seconds}))
"""


def checkout(ref: str) -> Path:
    """A detached worktree of ``ref`` under benchmarks/work (made once, reused)."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    path = WORK / f"baseline-{sha}"
    if not (path / "batch" / "cli.py").is_file():
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)
        subprocess.run(["git", "worktree", "add", "--detach", "--force", str(path), sha], cwd=ROOT,
                       check=True, capture_output=True)
    return path


def _env(root: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(root), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _run_snippet(root: Path, snippet: str, *args) -> dict:
    """Run ``snippet`` with ``root``'s code; its last line of output, as JSON."""
    out = subprocess.run([sys.executable, "-c", snippet, *map(str, args)],
                         cwd=root, env=_env(root), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def limit(root: Path, articles: Path, model_dir: Path) -> dict:
    result = _run_snippet(root, _LIMIT_SNIPPET, articles, model_dir, LIMIT_SENTENCES)
    if not result["module"].startswith(str(root)):
        raise RuntimeError(f"{root}: imported {result['module']}, not that checkout's code")
    return {"sentences_per_s": result["sentences"] / result["seconds"]}


def stages(articles: Path, model_dir: Path) -> dict:
    """This checkout's time per stage in one process, and the goal's floor."""
    result = _run_snippet(ROOT, _STAGES_SNIPPET, articles, model_dir)
    sec = result["seconds"]
    model = sec["the limit (predict_proba)"]
    native = sec["blingfire alone"] + sec["fastText alone"] + sec["start-up (imports, model load)"]
    return {**result, "goal_allows_s": model / GOAL - model, "native_parts_s": native,
            "best_possible_ratio": model / (model + native)}


def end_to_end(root: Path, articles: Path, model_dir: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "batch.cli", str(articles), "-o", str(out), "--errors", f"{out}.errors",
           "--model", str(model_dir), "--no-progress"]
    out.unlink(missing_ok=True)
    result = run_measured(cmd, env=_env(root), cwd=root)
    n_sentences = 0
    with open(out, "rb") as fh:
        for line in fh:
            n_sentences += json.loads(line)["document"]["n_sentences"]
    return {"wall_s": result["wall_s"], "sentences": n_sentences,
            "sentences_per_s": n_sentences / result["wall_s"], "peak_rss_mib": result["peak_rss_mib"]}


def same_records(a: Path, b: Path) -> tuple[int, int]:
    """(documents compared, documents that differ) between two document JSONL outputs."""
    compared = differ = 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for line_a, line_b in zip(fa, fb, strict=True):
            compared += 1
            differ += json.loads(line_a) != json.loads(line_b)
    return compared, differ


def _print_stages(where: dict) -> None:
    print(f"one process, {where['sentences']:,} sentences ({where['asked_fasttext']:,} asked fastText):")
    for name, sec in where["seconds"].items():
        print(f"  {name:34} {sec:6.2f} s")
    print(f"the goal ({GOAL}) allows {where['goal_allows_s']:.2f} s beside the model; blingfire, fastText and "
          f"start-up alone take {where['native_parts_s']:.2f} s "
          f"(best possible ratio {where['best_possible_ratio']:.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the 'before' code [%(default)s]")
    parser.add_argument("--docs", type=int, default=20_000, help="generated articles [%(default)s]")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds [%(default)s]")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model directory [%(default)s]")
    parser.add_argument("--stages-only", action="store_true",
                        help="only this checkout's time per stage (printed, not saved)")
    args = parser.parse_args(argv)
    model_dir = args.model.resolve()
    articles = articles_file(args.docs)
    if args.stages_only:
        _print_stages(stages(articles, model_dir))
        return 0
    sides = {"before": checkout(args.baseline), "after": ROOT}
    runs: dict[str, dict[str, list]] = {side: {"limit": [], "batch": []} for side in sides}
    started = time.perf_counter()
    for r in range(args.rounds):
        for side, root in sides.items():
            log(f"round {r + 1}/{args.rounds}: {side}: limit")
            runs[side]["limit"].append(limit(root, articles, model_dir))
            log(f"round {r + 1}/{args.rounds}: {side}: framing-score on {args.docs:,} articles")
            runs[side]["batch"].append(end_to_end(root, articles, model_dir, WORK / f"speed-{side}.jsonl"))
    compared, differ = same_records(WORK / "speed-before.jsonl", WORK / "speed-after.jsonl")
    log("this checkout, stage by stage")
    where = stages(articles, model_dir)
    summary = {}
    for side, r in runs.items():
        limit_rate = spread([x["sentences_per_s"] for x in r["limit"]])
        batch_rate = spread([x["sentences_per_s"] for x in r["batch"]])
        summary[side] = {
            "code": args.baseline if side == "before" else "this checkout",
            "limit_sentences_per_s": limit_rate,
            "batch_sentences_per_s": batch_rate,
            "batch_wall_s": spread([x["wall_s"] for x in r["batch"]]),
            "batch_peak_rss_mib": spread([x["peak_rss_mib"] for x in r["batch"]]),
            "ratio_batch_to_limit": batch_rate["median"] / limit_rate["median"],
        }
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "articles": args.docs,
        "sentences": runs["after"]["batch"][0]["sentences"],
        "rounds": args.rounds,
        "model": str(model_dir),
        "sides": summary,
        "speed_up": {
            "limit": summary["after"]["limit_sentences_per_s"]["median"]
            / summary["before"]["limit_sentences_per_s"]["median"],
            "batch": summary["after"]["batch_sentences_per_s"]["median"]
            / summary["before"]["batch_sentences_per_s"]["median"],
        },
        "outputs": {"documents_compared": compared, "documents_that_differ": differ},
        "stages": where,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"{'':8} {'limit (sent/s)':>16} {'framing-score (sent/s)':>24} {'ratio':>7} {'peak RSS':>10}")
    for side, s in summary.items():
        print(f"{side:8} {s['limit_sentences_per_s']['median']:>16,.0f} {s['batch_sentences_per_s']['median']:>24,.0f} "
              f"{s['ratio_batch_to_limit']:>7.2f} {s['batch_peak_rss_mib']['median']:>7.0f} MiB")
    print(f"speed-up: limit x{result['speed_up']['limit']:.2f}, framing-score x{result['speed_up']['batch']:.2f}; "
          f"outputs: {differ} of {compared:,} documents differ")
    _print_stages(where)
    save_result("batch_speed.json", result)
    for side in sides:
        (WORK / f"speed-{side}.jsonl").unlink(missing_ok=True)
        Path(f"{WORK / f'speed-{side}.jsonl'}.errors").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
