"""Inter-annotator agreement: Cohen's kappa per pair, Krippendorff's alpha overall.

Krippendorff's alpha (nominal) is used for the whole project because it takes
any number of annotators per sentence, with gaps, where Fleiss' kappa needs the
same number on every item.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Mapping

from sklearn.metrics import cohen_kappa_score

from model.labels import LABELS

# sentence id -> {annotator: label}
Matrix = Mapping[int, Mapping[str, str]]


def pairwise(matrix: Matrix) -> list[dict]:
    """n, raw agreement and Cohen's kappa for every pair who labeled a sentence in common."""
    annotators = sorted({a for row in matrix.values() for a in row})
    pairs = []
    for first, second in combinations(annotators, 2):
        both = [(row[first], row[second]) for row in matrix.values() if first in row and second in row]
        if not both:
            continue
        a, b = zip(*both)
        raw = sum(x == y for x, y in both) / len(both)
        pairs.append({
            "annotators": [first, second],
            "n": len(both),
            "agreement": round(raw, 4),
            "cohen_kappa": _kappa(a, b),
        })
    return pairs


def _kappa(a, b) -> float | None:
    """None when undefined: both annotators used one and the same label throughout."""
    if len(set(a) | set(b)) < 2:
        return None
    return round(float(cohen_kappa_score(a, b, labels=list(LABELS))), 4)


def krippendorff_alpha(matrix: Matrix) -> float | None:
    """Nominal alpha over sentences with two or more labels; None when undefined."""
    coincidence: Counter = Counter()
    for row in matrix.values():
        values = list(row.values())
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c in counts:
            for k in counts:
                pairs = counts[c] * (counts[k] - (c == k))
                coincidence[c, k] += pairs / (m - 1)
    n = sum(coincidence.values())
    if n <= 1:
        return None
    totals: Counter = Counter()
    for (c, _k), value in coincidence.items():
        totals[c] += value
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n - 1)
    if expected == 0:
        return None
    return round(1 - observed / expected, 4)


def conflicts(matrix: Matrix) -> list[int]:
    """Sentences whose annotators do not all agree."""
    return [sid for sid, row in matrix.items() if len(set(row.values())) > 1]


def majority(labels: list[str]) -> str | None:
    """The most frequent label, or None on a tie for first place."""
    ranked = Counter(labels).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]
