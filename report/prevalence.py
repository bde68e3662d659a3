"""Label shares corrected for the model's measured confusions.

Shares counted from the model's labels are biased whenever the model errs
unevenly: if half the truly neutral sentences are called a side, a neutral
corpus looks partisan. With sentences of the same corpus labeled by people,
the confusion matrix P(predicted | true) is estimated, and the observed
shares are taken back through it: adjusted classify-and-count (Forman 2008;
Vaz, Izbicki and Stern 2019). Intervals resample both the documents (the
report's bootstrap replicates of the observed shares) and the labeled
sentences (per true label, multinomially).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from model.labels import LABELS


def confusion(true: Sequence[str], predicted: Sequence[str]) -> np.ndarray:
    """Counts, rows = true label, columns = predicted label, in LABELS order."""
    index = {label: i for i, label in enumerate(LABELS)}
    matrix = np.zeros((len(LABELS), len(LABELS)))
    for t, p in zip(true, predicted):
        matrix[index[t], index[p]] += 1
    return matrix


def adjust(observed: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
    """True shares from observed shares and a confusion count matrix.

    Solves ``observed = M @ true`` with ``M[p, t] = P(predicted p | true t)``
    by least squares, then clips to [0, 1] and renormalises; None when a true
    label has no labeled sentence (its column of M is unknown).
    """
    per_true = counts.sum(axis=1)
    if (per_true == 0).any():
        return None
    m = (counts / per_true[:, None]).T
    solution, *_ = np.linalg.lstsq(m, np.asarray(observed, dtype=float), rcond=None)
    solution = np.clip(solution, 0.0, None)
    total = solution.sum()
    return solution / total if total > 0 else None


def adjusted_shares(observed: np.ndarray, observed_replicates: np.ndarray, counts: np.ndarray,
                    seed: int = 0) -> dict | None:
    """Point estimate and 95 % interval per label.

    Args:
        observed: the corpus's label shares from the model, LABELS order.
        observed_replicates: bootstrap replicates of those shares (R x 3).
        counts: the confusion counts of the labeled sentences.
    """
    point = adjust(observed, counts)
    if point is None:
        return None
    rng = np.random.default_rng(seed)
    per_true = counts.sum(axis=1)
    probs = counts / per_true[:, None]
    replicates = []
    for shares in observed_replicates:
        if not np.isfinite(shares).all():
            continue
        resampled = np.array([rng.multinomial(int(n), p) for n, p in zip(per_true, probs)], dtype=float)
        value = adjust(shares, resampled)
        if value is not None:
            replicates.append(value)
    reps = np.array(replicates) if replicates else np.empty((0, len(LABELS)))
    out = {}
    for i, label in enumerate(LABELS):
        interval = np.percentile(reps[:, i], [2.5, 97.5]).tolist() if len(reps) else None
        out[label] = {"share": float(point[i]), "ci": interval}
    return out
