"""`python -m benchmarks.labeling_sim`: does the labeling loop's uncertainty queue beat random?

A simulated annotator works through the real labeling loop (``labeling.store``
on a fresh SQLite database) and labels every sentence it is handed with the
team's own label for it (the oracle). Oracle data: a corpus part held out
whole. For each target part:

1. Base corpus: every other part. The base model is the training pipeline
   (``model.pipeline.build_pipeline`` with DEFAULT_PARAMS) fitted on it in
   memory and wrapped in ``Classifier``: no search, no calibration, no scope
   check, which would cost minutes and barely move the margins' order.
2. The part's documents (grouped by ``doc_id``; sentences joined with a space
   in row order) are split with a fixed seed into a pool (70 %) and a test set
   (30 %). The pool is imported into one project per strategy run, split and
   scored by the base model (``store.import_documents``).
3. The annotator asks ``store.queue`` for batches of 10 (the API's default)
   with strategy ``uncertainty`` (smallest margin first) or ``random``, and
   labels each item with its corpus row's label; an item whose text is no
   corpus row (the splitter joined or cut rows differently) is skipped with
   ``store.skip`` and counted, not labeled.
4. At each budget (0, 50, 100, 200, 300, 500 labels), the labels so far
   (``store.export_rows``) plus the base corpus train a fresh pipeline
   (``model.pipeline.build_pipeline`` with DEFAULT_PARAMS, fitted in memory:
   the same pipeline and parameters as training; its temperature scaling does
   not move the argmax, so macro-F1 is the same), scored on the part's test
   set with ``training.metrics.classification_metrics``.

The queue orders by the margins stored at import (the base model's): the
loop never rescores after a retrain, and neither does this simulation.
Random runs use the queue's seeded shuffle (``seed``, ``seed + 1``, ...), so a
run repeats exactly; they are repeated (3 by default) and reported as mean
and min-max.

Writes ``benchmarks/results/labeling_sim.json`` (``--quick``: one target,
budgets 0, 100, 300, written to the git-ignored ``quick.labeling_sim.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from joblib import Parallel, delayed

from benchmarks import report
from benchmarks.common import RESULTS, cores, log, spread
from labeling import store
from labeling.db import Database
from model.classifier import Classifier
from model.labels import LABELS
from model.pipeline import DEFAULT_PARAMS, build_pipeline
from training import dataset
from training.metrics import classification_metrics

# Parts of 1,300+ article-style rows (sentences end in a full stop, so documents
# re-split into the same rows): pools hold 500+ labels, test sets 400 sentences.
DEFAULT_TARGETS = ("part17_disinfo_fringe_tabloid.csv", "part18_long_and_quotes.csv", "part20_bulletins_voices.csv")
QUICK_TARGET = "part17_disinfo_fringe_tabloid.csv"
DEFAULT_BUDGETS = (0, 50, 100, 200, 300, 500)
QUICK_BUDGETS = (0, 100, 300)
STRATEGIES = ("uncertainty", "random")
BATCH = 10  # the queue API's default n
POOL_SHARE = 0.7
RANDOM_REPEATS = 3
FIRST = 100  # label distribution of the first FIRST labels picked
ANNOTATOR = "sim"
NOTE = ("The uncertainty queue orders by the margins stored at import (the base model's); the loop does "
        "not rescore the pool after a retrain, and neither does this simulation.")


@dataclass
class Split:
    """A held-out part: pool documents to import, the oracle, and the test sentences."""

    pool_docs: list[tuple[str, str, dict]]
    oracle: dict[tuple[str, str], str]
    test_texts: list[str]
    test_labels: list[str]
    n_pool_rows: int
    n_test_docs: int


def split_part(rows: Sequence[dataset.Example], seed: int, pool_share: float = POOL_SHARE) -> Split:
    """Pool and test documents (seeded, grouped by doc_id); each pool document is its rows joined by spaces."""
    by_doc: dict[str, list[dataset.Example]] = {}
    for row in rows:
        by_doc.setdefault(row.doc_id, []).append(row)
    docs = sorted(by_doc)
    random.Random(seed).shuffle(docs)
    n_pool = min(len(docs) - 1, max(1, round(pool_share * len(docs))))
    pool, test = docs[:n_pool], docs[n_pool:]
    return Split(
        pool_docs=[(d, " ".join(r.text for r in by_doc[d]), {"source": "labeling_sim"}) for d in pool],
        oracle={(d, r.text): r.label for d in pool for r in by_doc[d]},
        test_texts=[r.text for d in test for r in by_doc[d]],
        test_labels=[r.label for d in test for r in by_doc[d]],
        n_pool_rows=sum(len(by_doc[d]) for d in pool),
        n_test_docs=len(test),
    )


def simulate(db: Database, project_name: str, classifier: Classifier, split: Split, strategy: str,
             budgets: Sequence[int], batch: int = BATCH, seed: int | None = None) -> dict:
    """One annotator labels up to max(budgets) sentences; snapshots of the exported labels at each budget."""
    with db.session() as session:
        project = store.ensure_project(session, project_name)
        imported = store.import_documents(session, project, split.pool_docs, classifier)
    checkpoints = sorted({b for b in budgets if b > 0})
    snapshots: dict[int, list[tuple[str, str]]] = {}
    picked: list[str] = []
    wrong_suggestion: list[bool] = []
    queue_ms: list[float] = []
    skipped = 0
    exhausted = False
    for budget in checkpoints:
        while len(picked) < budget and not exhausted:
            with db.session() as session:
                project = store.get_project(session, project_name)
                started = time.perf_counter()
                items = store.queue(session, project, ANNOTATOR, n=min(batch, budget - len(picked)),
                                    strategy=strategy, seed=seed)
                queue_ms.append((time.perf_counter() - started) * 1000)
                exhausted = not items
                for item in items:
                    label = split.oracle.get((item["doc_id"], item["text"]))
                    if label is None:
                        store.skip(session, project, item["sentence_id"], ANNOTATOR)
                        skipped += 1
                        continue
                    store.set_label(session, project, item["sentence_id"], ANNOTATOR, label)
                    picked.append(label)
                    wrong_suggestion.append(item["suggestion"]["label"] != label)
        with db.session() as session:
            rows, ties = store.export_rows(session, store.get_project(session, project_name))
        snapshots[budget] = [(r.text, r.label) for r in rows]
    first = Counter(picked[:FIRST])
    return {
        "project": project_name,
        "strategy": strategy,
        "imported_sentences": imported.sentences,
        "labels": len(picked),
        "skipped_unmatched": skipped,
        "pool_exhausted": exhausted,
        "first_labels": {label: first.get(label, 0) for label in LABELS},
        "first_n": min(FIRST, len(picked)),
        "first_suggestion_wrong": (round(sum(wrong_suggestion[:FIRST]) / len(wrong_suggestion[:FIRST]), 4)
                                   if wrong_suggestion else None),
        "queue_ms": spread(queue_ms),
        "snapshots": snapshots,
    }


def fit_score(base_texts: Sequence[str], base_labels: Sequence[str], extra: Sequence[tuple[str, str]],
              test_texts: Sequence[str], test_labels: Sequence[str], seed: int) -> dict:
    """Fit DEFAULT_PARAMS on base + extra in memory; macro-F1 and accuracy on the test sentences."""
    pipeline = build_pipeline(random_state=seed, **DEFAULT_PARAMS)
    pipeline.fit([*base_texts, *(t for t, _ in extra)], [*base_labels, *(lab for _, lab in extra)])
    return _score(Classifier(pipeline, {"version": "sim"}, check_language=False), test_texts, test_labels)


def _score(classifier: Classifier, texts: Sequence[str], labels: Sequence[str]) -> dict:
    m = classification_metrics(labels, classifier.predict_proba(list(texts)))
    return {"macro_f1": round(m["macro_f1"], 4), "accuracy": round(m["accuracy"], 4)}


def run_target(name: str, base_texts: Sequence[str], base_labels: Sequence[str],
               target_rows: Sequence[dataset.Example], classifier: Classifier, *, budgets: Sequence[int],
               workdir: Path, random_repeats: int = RANDOM_REPEATS, seed: int = 0, jobs: int = 1,
               batch: int = BATCH) -> dict:
    """The whole simulation for one held-out part, with the base model already trained.

    The label database is ``workdir/sim.sqlite``: one project per strategy run.
    """
    split = split_part(target_rows, seed)
    db = Database(f"sqlite:///{workdir / 'sim.sqlite'}")
    db.ensure_schema()
    started = time.perf_counter()
    runs = [("uncertainty", "uncertainty")] + [(f"random-{i + 1}", "random") for i in range(random_repeats)]
    try:
        sims = [simulate(db, project, classifier, split, strategy, budgets, batch, seed=seed + i)
                for i, (project, strategy) in enumerate(runs)]
    finally:
        db.dispose()
    sim_s = time.perf_counter() - started

    # One fit per distinct training set (an exhausted pool repeats its last snapshot).
    jobs_list, keys = [], {}
    for i, sim in enumerate(sims):
        for snap in sim["snapshots"].values():
            key = (i, len(snap))
            if key not in keys:
                keys[key] = len(jobs_list)
                jobs_list.append(snap)
    started = time.perf_counter()
    scores = Parallel(n_jobs=jobs)(
        delayed(fit_score)(base_texts, base_labels, snap, split.test_texts, split.test_labels, seed)
        for snap in jobs_list)
    fit_s = time.perf_counter() - started
    zero = _score(classifier, split.test_texts, split.test_labels)

    for i, sim in enumerate(sims):
        snaps = sim.pop("snapshots")
        sim["checkpoints"] = {0: {"labels": 0, "reached": True, **zero}}
        for budget, snap in snaps.items():
            sim["checkpoints"][budget] = {"labels": len(snap), "reached": len(snap) >= budget,
                                          **scores[keys[(i, len(snap))]]}

    curve = []
    randoms = [s for s in sims if s["strategy"] == "random"]
    unc = sims[0]
    for budget in sorted(set(budgets) | {0}):
        u = unc["checkpoints"][budget]
        r = [s["checkpoints"][budget] for s in randoms]
        r_f1 = [c["macro_f1"] for c in r]
        curve.append({
            "budget": budget,
            "reached": u["reached"] and all(c["reached"] for c in r),
            "labels": {"uncertainty": u["labels"], "random": [c["labels"] for c in r]},
            "uncertainty": u["macro_f1"],
            "random_mean": round(statistics.mean(r_f1), 4) if r_f1 else None,
            "random_min": min(r_f1) if r_f1 else None,
            "random_max": max(r_f1) if r_f1 else None,
            "uncertainty_accuracy": u["accuracy"],
            "random_accuracy_mean": round(statistics.mean(c["accuracy"] for c in r), 4) if r else None,
        })
    first_random = Counter()
    for s in randoms:
        first_random.update(s["first_labels"])
    test_counts = Counter(split.test_labels)
    return {
        "part": name,
        "pool": {"documents": len(split.pool_docs), "rows": split.n_pool_rows,
                 "sentences_after_split": sims[0]["imported_sentences"],
                 "labels": dict(Counter(split.oracle.values()))},
        "test": {"documents": split.n_test_docs, "sentences": len(split.test_texts),
                 "labels": {label: test_counts.get(label, 0) for label in LABELS},
                 # classification_metrics counts an absent label as F1 0, so this caps macro-F1.
                 "macro_f1_ceiling": round(sum(1 for lab in LABELS if test_counts.get(lab)) / len(LABELS), 4)},
        "runs": sims,
        "curve": curve,
        "first_labels": {
            "uncertainty": unc["first_labels"],
            "random_mean": {lab: round(first_random[lab] / max(1, len(randoms)), 1) for lab in LABELS},
            "pool_share": {lab: round(n / max(1, len(split.oracle)), 3)
                           for lab, n in ((lab, Counter(split.oracle.values()).get(lab, 0)) for lab in LABELS)},
        },
        "simulation_s": round(sim_s, 1),
        "fits": len(jobs_list),
        "fit_s": round(fit_s, 1),
    }


def train_base(files: Sequence[Path], out: Path, seed: int, jobs: int) -> Classifier:
    """The base model fitted in memory with training's DEFAULT_PARAMS: the same
    pipeline ``framing-train`` builds, without its search and calibration (which
    do not change the labels or their order by margin much, and cost minutes)."""
    rows = dataset.load_examples(list(files))
    pipeline = build_pipeline(random_state=seed, **DEFAULT_PARAMS).fit([r.text for r in rows], [r.label for r in rows])
    return Classifier(pipeline, {"name": "labeling-sim-base", "version": f"base-{len(rows)}"}, check_language=False)


def average(targets: list[dict], budgets: Sequence[int]) -> list[dict]:
    """Per budget, the mean over the targets whose pools held that many labels for every run."""
    rows = []
    for budget in sorted(set(budgets) | {0}):
        points = [p for t in targets for p in t["curve"] if p["budget"] == budget and p["reached"]]
        if not points:
            rows.append({"budget": budget, "n_targets": 0})
            continue
        u = statistics.mean(p["uncertainty"] for p in points)
        r = statistics.mean(p["random_mean"] for p in points)
        rows.append({"budget": budget, "n_targets": len(points), "parts": [t["part"] for t in targets
                                                                         for p in t["curve"]
                                                                         if p["budget"] == budget and p["reached"]],
                     "uncertainty": round(u, 4), "random_mean": round(r, 4), "difference": round(u - r, 4)})
    return rows


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def target_md(t: dict) -> str:
    pool, test = t["pool"], t["test"]
    skipped = t["runs"][0]["skipped_unmatched"]
    lines = [
        f"### {t['part']}",
        "",
        f"Pool: {pool['documents']} documents, {pool['rows']} corpus rows, {pool['sentences_after_split']} sentences "
        f"after splitting ({skipped} skipped by the uncertainty run as no corpus row); test: {test['documents']} "
        f"documents, {test['sentences']} sentences {test['labels']}"
        + (f" (no {', '.join(lab for lab, n in test['labels'].items() if not n)}: macro-F1 at most "
           f"{test['macro_f1_ceiling']:.3f})" if test["macro_f1_ceiling"] < 1 else "") + ".",
        "",
        report.table(
            ["labels", "uncertainty", f"random, mean (min–max of {len(t['runs']) - 1})", "uncertainty − random"],
            [[f"{p['budget']}" if p["reached"] else
              f"{p['budget']} (pool exhausted: {p['labels']['uncertainty']} / {max(p['labels']['random'])})",
              _f(p["uncertainty"]), f"{_f(p['random_mean'])} ({_f(p['random_min'])}–{_f(p['random_max'])})",
              f"{p['uncertainty'] - p['random_mean']:+.3f}"] for p in t["curve"]]),
        "",
    ]
    fl = t["first_labels"]
    unc = t["runs"][0]
    rand = [r for r in t["runs"] if r["strategy"] == "random"]
    wrong_r = [r["first_suggestion_wrong"] for r in rand if r["first_suggestion_wrong"] is not None]
    lines += [
        report.table(
            [f"first {unc['first_n']} labels", *LABELS, "import-time suggestion wrong"],
            [["uncertainty", *(str(fl["uncertainty"][lab]) for lab in LABELS),
              f"{unc['first_suggestion_wrong']:.0%}" if unc["first_suggestion_wrong"] is not None else "–"],
             ["random (mean)", *(str(fl["random_mean"][lab]) for lab in LABELS),
              f"{statistics.mean(wrong_r):.0%}" if wrong_r else "–"],
             ["pool share", *(f"{fl['pool_share'][lab]:.0%}" for lab in LABELS), ""]]),
        "",
        f"store.queue per call: median {unc['queue_ms'].get('median', 0):.0f} ms (uncertainty), "
        f"{statistics.median(r['queue_ms'].get('median', 0) for r in rand):.0f} ms (random), on "
        f"{t['pool']['sentences_after_split']} sentences. Base model trained in {t.get('base_train_s', 0):.0f}s; "
        f"simulation {t['simulation_s']:.0f}s; {t['fits']} fits in {t['fit_s']:.0f}s.",
        "",
    ]
    return "\n".join(lines)


def mean_md(rows: list[dict], n_targets: int) -> str:
    return report.table(
        ["labels", "targets", "uncertainty", "random (mean of runs)", "uncertainty − random"],
        [[str(r["budget"]), f"{r['n_targets']} of {n_targets}", _f(r.get("uncertainty")),
          _f(r.get("random_mean")), f"{r['difference']:+.3f}" if "difference" in r else "–"] for r in rows])


def run(*, targets: Sequence[str] = DEFAULT_TARGETS, budgets: Sequence[int] = DEFAULT_BUDGETS,
        random_repeats: int = RANDOM_REPEATS, seed: int = 0, jobs: int = 2, batch: int = BATCH,
        data_dir: Path = dataset.DEFAULT_DATA_DIR, quick: bool = False) -> dict:
    """Every target; returns the results (also printed as Markdown)."""
    if quick:
        targets, budgets = ([QUICK_TARGET] if tuple(targets) == DEFAULT_TARGETS else list(targets)[:1]), QUICK_BUDGETS
    started = time.perf_counter()
    files = dataset.data_files(data_dir)
    names = {f.name: f for f in files}
    missing = [t for t in targets if t not in names]
    if missing:
        raise FileNotFoundError(f"no corpus part {', '.join(missing)} in {data_dir}")
    results: dict = {"settings": {"targets": list(targets), "budgets": list(budgets), "batch": batch,
                                  "pool_share": POOL_SHARE, "random_repeats": random_repeats, "seed": seed,
                                  "jobs": jobs, "params": {k: list(v) if isinstance(v, tuple) else v
                                                           for k, v in DEFAULT_PARAMS.items()}},
                     "note": NOTE, "targets": []}
    for name in targets:
        base_files = [f for f in files if f.name != name]
        base = dataset.load_examples(base_files)
        target_rows = dataset.load_examples(names[name])
        with tempfile.TemporaryDirectory(prefix="labeling-sim-") as tmp:
            log(f"labeling_sim {name}: training the base model on {len(base):,} sentences")
            t0 = time.perf_counter()
            classifier = train_base(base_files, Path(tmp) / "base", seed, jobs)
            base_train_s = time.perf_counter() - t0
            log(f"labeling_sim {name}: simulating (base model {base_train_s:.0f}s)")
            result = run_target(name, [ex.text for ex in base], [ex.label for ex in base], target_rows, classifier,
                                budgets=budgets, workdir=Path(tmp), random_repeats=random_repeats, seed=seed,
                                jobs=jobs, batch=batch)
        result["base_train_s"] = round(base_train_s, 1)
        result["base_version"] = classifier.info["version"]
        results["targets"].append(result)
        log(f"labeling_sim {name}: done ({result['simulation_s']:.0f}s simulating, {result['fit_s']:.0f}s fitting)")
    results["mean"] = average(results["targets"], budgets)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    return results


def results_md(results: dict) -> str:
    """The tables for every target, then the mean over targets (printed, and by benchmarks.run)."""
    s = results["settings"]
    return "\n".join([
        f"Targets held out: {', '.join(s['targets'])}; queue batch {s['batch']}; {s['random_repeats']} random "
        f"run(s); seed {s['seed']}; retrained with DEFAULT_PARAMS {s['params']}. Macro-F1 on each target's "
        "test documents.",
        "",
        *(target_md(t) for t in results["targets"]),
        "### Mean over targets (each budget: the targets whose pools held that many labels)",
        "",
        mean_md(results["mean"], len(results["targets"])),
        "",
        NOTE,
        "",
        f"Wall time {results['wall_s']:.0f}s ({cores()} cores, {s['jobs']} parallel fits).",
    ])


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.labeling_sim", description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                        help="comma-separated corpus part file names held out as oracle data [%(default)s]")
    parser.add_argument("--budgets", default=",".join(map(str, DEFAULT_BUDGETS)),
                        help="comma-separated label counts at which to retrain and score [%(default)s]")
    parser.add_argument("--repeats", type=int, default=RANDOM_REPEATS, help="random-strategy runs [%(default)s]")
    parser.add_argument("--batch", type=int, default=BATCH, help="queue batch size [%(default)s]")
    parser.add_argument("--seed", type=int, default=0, help="pool/test split and training seed [%(default)s]")
    parser.add_argument("--jobs", type=int, default=cores(), help="parallel fits [%(default)s]")
    parser.add_argument("--data", type=Path, default=dataset.DEFAULT_DATA_DIR, help="corpus directory [%(default)s]")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: one target ({QUICK_TARGET}), budgets {','.join(map(str, QUICK_BUDGETS))}")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.batch < 1:
        parser.error("--repeats and --batch must be at least 1")
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    argv = sys.argv[1:] if argv is None else argv
    results = {"command": " ".join(["python -m benchmarks.labeling_sim", *argv]),
               "machine": report.machine()}
    results.update(run(targets=targets, budgets=_ints(args.budgets), random_repeats=args.repeats, seed=args.seed,
                       jobs=args.jobs, batch=args.batch, data_dir=args.data, quick=args.quick))
    results["machine"]["load_average_end"] = os.getloadavg()
    print(results_md(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    # quick.* is git-ignored, like benchmarks.run --quick's files: a smoke run never replaces the full one.
    out = RESULTS / ("quick.labeling_sim.json" if args.quick else "labeling_sim.json")
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
