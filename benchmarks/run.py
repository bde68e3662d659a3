"""`python -m benchmarks.run`: the whole benchmark suite in under 10 minutes.

Sections run in the order limit, splitter, batch, API, peer, training: the
cheap in-process measurements first, then the subprocess runs, and training
last because it takes whatever time is left of the suite's budget (its curve
is extended only while the next size fits). Results go to
``benchmarks/results/latest.{json,md}`` (``quick.*`` with --quick,
``only-NAME.*`` with --only NAME, so partial runs never overwrite the full one);
a full run also refreshes the figures in ``benchmarks/README.md``.

``--only labeling_sim`` runs the labeling-loop simulation
(:mod:`benchmarks.labeling_sim`), which is not part of the full run: its
three minutes would not fit the full run's time budget.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from benchmarks import api, batch, labeling_sim, limits, peer, report, splitter, training
from benchmarks.common import DEFAULT_MODEL, RESULTS, cores, log
from benchmarks.corpus import articles_file, prune_stale, read_texts
from model.classifier import Classifier
from model.sentences import split_sentences

ORDER = ["limit", "splitter", "batch", "api", "peer", "training"]
# Run only when asked for by --only (too long for the full run's time budget).
OPTIONAL = ["labeling_sim"]
TOTAL_BUDGET_S = 560  # leaves a margin under 10 minutes for noise and start-up
QUICK_BUDGET_S = 60
BATCH_BUDGET_S = 300


def _sentences(quick: bool) -> list[str]:
    """10,000 pre-split sentences of the batch articles (the limit's input)."""
    texts = read_texts(articles_file(2_000 if quick else 20_000), 600)
    return [s.text for t in texts for s in split_sentences(t)][:10_000]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about a minute: smaller inputs, fewer repeats")
    parser.add_argument("--only", choices=ORDER + OPTIONAL,
                        help="run one section (labeling_sim runs only this way)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="model directory [%(default)s]")
    args = parser.parse_args(argv)
    if not os.path.isfile(os.path.join(args.model, "metadata.json")):
        print(f"no model at {args.model}: run `make install` (or framing-train --quiet --out {args.model})",
              file=sys.stderr)
        return 2

    started = time.perf_counter()
    command = "python -m benchmarks.run" + (" --quick" if args.quick else "") + (
        f" --only {args.only}" if args.only else "")
    results: dict = {"command": command, "machine": report.machine(), "sections": {}}
    print(report.machine_md(results["machine"]))
    prune_stale()
    clf = Classifier.from_dir(args.model)
    results["model"] = {**clf.info, "dir": args.model}
    total = QUICK_BUDGET_S if args.quick else TOTAL_BUDGET_S
    sentences = _sentences(args.quick)

    def spent() -> float:
        return time.perf_counter() - started

    runners = {
        "limit": lambda: limits.run(clf, sentences, args.quick),
        "splitter": lambda: splitter.run(clf, args.quick),
        "batch": lambda: batch.run(clf, args.quick,
                                   budget_s=30 if args.quick else (total - 60 if args.only else BATCH_BUDGET_S)),
        "api": lambda: api.run(clf, args.quick),
        "peer": lambda: peer.run(clf, sentences, args.quick),
        "training": lambda: training.run(budget_s=max(60.0, total - spent()), quick=args.quick),
        "labeling_sim": lambda: labeling_sim.run(quick=args.quick, jobs=cores()),
    }
    failed = False
    for name in ORDER + OPTIONAL:
        if (args.only and name != args.only) or (not args.only and name in OPTIONAL):
            continue
        log(f"section {name} (at {spent():.0f}s)")
        t0 = time.perf_counter()
        try:
            result = runners[name]()
        except Exception as exc:  # one broken section must not hide the others
            traceback.print_exc()
            result = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
        result["section_s"] = time.perf_counter() - t0
        results["sections"][name] = result
        print(report.section_md(name, result), flush=True)

    results["total_s"] = spent()
    results["machine"]["load_average_end"] = os.getloadavg()
    stem = "quick" if args.quick else (f"only-{args.only}" if args.only else "latest")
    json_path, md_path = report.write(results, stem, RESULTS)
    if stem == "latest" and not failed:
        report.update_readme(results)
    log(f"done in {results['total_s']:.0f}s: {json_path.relative_to(RESULTS.parent.parent)}, "
        f"{md_path.relative_to(RESULTS.parent.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
