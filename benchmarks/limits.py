"""Section 1, the limit: the bare fitted pipeline on pre-split sentences.

Nothing the product does per sentence can be faster than
``pipeline.predict_proba`` on a list of sentences (tf-idf with the project's
normaliser, then logistic regression), so every other section is read as a
fraction of this number. scikit-learn does this in one thread; the CPU/wall
ratio recorded with each run shows it, and the figure is per core.
"""

from __future__ import annotations

from typing import Sequence

from threadpoolctl import threadpool_limits

from benchmarks.common import spread, timed
from model.classifier import Classifier


def sentences_per_s(clf: Classifier, sentences: Sequence[str], batch: int,
                    repeats: int, blas_threads: int | None = 1) -> dict:
    """Sentences/s of ``pipeline.predict_proba`` in batches of ``batch``.

    Each repeat scores all of ``sentences`` (a whole number of batches), after
    one unmeasured warm-up pass. ``blas_threads=1`` (the default) pins
    OpenBLAS/OpenMP to one thread, so the figure is truly per core; ``None``
    leaves them as the product runs them (one per core).
    """
    pipeline = clf.pipeline
    usable = list(sentences)[: max(batch, len(sentences) // batch * batch)]
    batches = [usable[i:i + batch] for i in range(0, len(usable), batch)]

    def one_pass() -> None:
        for b in batches:
            pipeline.predict_proba(b)

    rates, cpu_share = [], []
    with threadpool_limits(blas_threads):
        one_pass()
        for _ in range(repeats):
            wall, cpu = timed(one_pass)
            rates.append(len(usable) / wall)
            cpu_share.append(cpu / wall)
    return {
        "batch": batch,
        "blas_threads": blas_threads or "default",
        "sentences_per_repeat": len(usable),
        "sentences_per_s": spread(rates),
        "cpu_per_wall": spread(cpu_share),
    }


def run(clf: Classifier, sentences: Sequence[str], quick: bool = False) -> dict:
    """The limit at batch sizes 1, 64 and 10,000 (5 repeats each, 3 when quick).

    A last row repeats batch 10,000 with the BLAS thread pools left at their
    default (one thread per core), which is how the API and the batch scorer
    run: on a busy 2-core machine the extra thread costs more than it gives.
    """
    repeats = 3 if quick else 5
    n_single = 300 if quick else 1000
    big = sentences[:10_000]
    rows = [
        sentences_per_s(clf, sentences[:n_single], 1, repeats),
        sentences_per_s(clf, sentences[: 64 * (20 if quick else 60)], 64, repeats),
        sentences_per_s(clf, big, len(big), repeats),
        sentences_per_s(clf, big, len(big), repeats, blas_threads=None),
    ]
    return {
        "what": "pipeline.predict_proba on pre-split sentences of the batch articles, "
                "one process; per core (one BLAS thread) unless the row says default",
        "n_sentences": len(big),
        "n_distinct_sentences": len(set(big)),
        "batches": rows,
        "limit_sentences_per_s": rows[2]["sentences_per_s"]["median"],
    }
