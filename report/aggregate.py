"""Streaming aggregation of `framing-score` document lines.

Memory grows with the number of groups and periods, the vocabulary and the
drill-down tables, never with the number of documents: each document adds to
per-group counters and is forgotten. Intervals are 95 % percentile intervals
of a Poisson bootstrap over documents (each document gets a Poisson(1)
weight per replicate, drawn as it streams past), which needs no second pass
and no stored documents.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable

import numpy as np

from model.labels import LABELS

REPLICATES = 200
BATCH = 2_000  # documents whose bootstrap weights are drawn in one call
BINS = np.linspace(-1.0, 1.0, 41)  # document framing score histogram
FREQS = ("week", "month", "quarter")
ALL = "(all)"
_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*[^\W_]|[^\W\d_]")
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as into over after before about against between "
    "is are was were be been being has have had do does did will would shall should can could may might must "
    "it its this that these those there here he she they them his her their we our you your i me my "
    "not no nor so than then too very also just only more most such what which who whom whose when where "
    "why how all any both each few other some own same up down out off again further once said says say "
    "s t mr ms mrs".split()
)


def get_path(record: dict, path: str) -> Any:
    """``meta.source`` style lookup; None when any step is missing."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def period_of(value: Any, freq: str) -> str | None:
    """The period an ISO date (or date-time) falls in: 2026-W09 (its Monday), 2026-03, 2026-Q1."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    if freq == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if freq == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass
class Stats:
    """Counters of one group (or period): exact sums plus bootstrap replicates."""

    docs: int = 0
    scored_docs: int = 0  # documents with a framing score (not every sentence flagged)
    sentences: int = 0
    flagged: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(len(LABELS)))
    score_sum: float = 0.0
    hist: np.ndarray = field(default_factory=lambda: np.zeros(len(BINS) - 1, dtype=np.int64))
    # replicates: weights of scored documents, weighted score sums, weighted label counts
    r_weight: np.ndarray = field(default_factory=lambda: np.zeros(REPLICATES))
    r_score: np.ndarray = field(default_factory=lambda: np.zeros(REPLICATES))
    r_counts: np.ndarray = field(default_factory=lambda: np.zeros((REPLICATES, len(LABELS))))

    def score_replicates(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.r_score / self.r_weight

    def share_replicates(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.r_counts / self.r_counts.sum(axis=1, keepdims=True)

    def shares(self) -> np.ndarray:
        in_scope = self.counts.sum()
        return self.counts / in_scope if in_scope else np.full(len(LABELS), np.nan)

    def summary(self) -> dict[str, Any]:
        in_scope = self.counts.sum()
        shares = self.shares()
        r_scores = self.score_replicates()
        r_shares = self.share_replicates()
        return {
            "documents": self.docs,
            "scored_documents": self.scored_docs,
            "sentences": self.sentences,
            "flagged": self.flagged,
            "flagged_share": self.flagged / self.sentences if self.sentences else None,
            "mean_score": self.score_sum / self.scored_docs if self.scored_docs else None,
            "mean_score_ci": _interval(r_scores) if self.scored_docs else None,
            "label_counts": {label: int(c) for label, c in zip(LABELS, self.counts)},
            "label_shares": {label: (float(s) if in_scope else None) for label, s in zip(LABELS, shares)},
            "label_shares_ci": {label: _interval(r_shares[:, i]) if in_scope else None
                                for i, label in enumerate(LABELS)},
            "histogram": self.hist.tolist(),
        }


def _interval(replicates: np.ndarray) -> list[float] | None:
    values = replicates[np.isfinite(replicates)]
    if not len(values):
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return [float(low), float(high)]


@dataclass
class Doc:
    """What the report keeps of one document while it streams past."""

    id: str
    meta: dict
    score: float | None
    counts: np.ndarray
    sentences: int
    flagged: int
    group: str | None
    period: str | None


class Aggregator:
    """Feed it document records (`add`), then read `result()`."""

    def __init__(self, by: str | None = None, time: str | None = None, freq: str = "month",
                 top: int = 25, seed: int = 0):
        if freq not in FREQS:
            raise ValueError(f"freq must be one of {', '.join(FREQS)}")
        self.by, self.time, self.freq, self.top = by, time, freq, top
        self.rng = np.random.default_rng(seed)
        self.overall = Stats()
        self.groups: dict[str, Stats] = {}
        self.periods: dict[str, Stats] = {}
        self.terms = {label: Counter() for label in LABELS}
        self.models: Counter = Counter()
        self.undated = 0
        self._pending: list[Doc] = []
        # drill-down heaps: (key, tiebreak, row)
        self._docs_heaps: dict[str, list] = {"pro_russia": [], "pro_ukraine": []}
        self._sent_heaps: dict[str, list] = {"pro_russia": [], "pro_ukraine": []}
        self._seq = 0

    def add(self, record: dict) -> None:
        summary = record.get("document") or {}
        sentences = record.get("sentences") or []
        meta = record.get("meta") or {}
        model = record.get("model") or {}
        self.models[f"{model.get('name', '?')} {model.get('version', '?')}"] += 1
        counts = np.array([(summary.get("label_counts") or {}).get(label, 0) for label in LABELS], dtype=float)
        score = summary.get("framing_score")
        group = None
        if self.by:
            value = get_path(record, self.by)
            group = "(none)" if value in (None, "") else str(value)
        period = None
        if self.time:
            period = period_of(get_path(record, self.time), self.freq)
            if period is None:
                self.undated += 1
        doc = Doc(str(record.get("id")), meta, score, counts, int(summary.get("n_sentences", len(sentences))),
                  int(summary.get("n_flagged", 0)), group, period)
        self._exact(doc)
        self._drill(doc, sentences)
        for s in sentences:
            if not s.get("flags"):
                self.terms[s["label"]].update(_words(s.get("text", "")))
        self._pending.append(doc)
        if len(self._pending) >= BATCH:
            self._flush()

    def _stats_of(self, doc: Doc) -> list[Stats]:
        out = [self.overall]
        if doc.group is not None:
            out.append(self.groups.setdefault(doc.group, Stats()))
        if doc.period is not None:
            out.append(self.periods.setdefault(doc.period, Stats()))
        return out

    def _exact(self, doc: Doc) -> None:
        for stats in self._stats_of(doc):
            stats.docs += 1
            stats.sentences += doc.sentences
            stats.flagged += doc.flagged
            stats.counts += doc.counts
            if doc.score is not None:
                stats.scored_docs += 1
                stats.score_sum += doc.score
                stats.hist[min(np.searchsorted(BINS, doc.score, side="right") - 1, len(BINS) - 2)] += 1

    def _flush(self) -> None:
        """Draw the pending documents' bootstrap weights and add them in, one
        matrix product per group and period touched."""
        if not self._pending:
            return
        weights = self.rng.poisson(1.0, size=(len(self._pending), REPLICATES)).astype(float)
        scores = np.array([d.score if d.score is not None else 0.0 for d in self._pending])
        scored = np.array([d.score is not None for d in self._pending], dtype=float)
        counts = np.array([d.counts for d in self._pending])
        members: dict[int, tuple[Stats, list[int]]] = {}
        for i, doc in enumerate(self._pending):
            for stats in self._stats_of(doc):
                members.setdefault(id(stats), (stats, []))[1].append(i)
        for stats, rows in members.values():
            w = weights[rows].T  # replicates x documents
            stats.r_weight += w @ scored[rows]
            stats.r_score += w @ scores[rows]
            stats.r_counts += w @ counts[rows]
        self._pending = []

    def _drill(self, doc: Doc, sentences: list[dict]) -> None:
        self._seq += 1
        row = {"id": doc.id, "meta": doc.meta, "score": doc.score, "sentences": doc.sentences,
               "group": doc.group, "period": doc.period}
        if doc.score is not None:
            _push(self._docs_heaps["pro_russia"], -doc.score, self._seq, row, self.top)
            _push(self._docs_heaps["pro_ukraine"], doc.score, self._seq, row, self.top)
        for s in sentences:
            if s.get("flags"):
                continue
            probs = s.get("probabilities") or {}
            for label in ("pro_russia", "pro_ukraine"):
                p = probs.get(label)
                if p is None:
                    continue
                heap = self._sent_heaps[label]
                if len(heap) < self.top or p > heap[0][0]:
                    self._seq += 1
                    _push(heap, p, self._seq, {"id": doc.id, "meta": doc.meta, "text": s.get("text", ""),
                                               "probability": p, "label": s.get("label")}, self.top)

    def stats(self, name: str) -> Stats | None:
        """A group, else a period, by name (for --compare)."""
        self._flush()
        return self.groups.get(name) or self.periods.get(name)

    def result(self, min_docs: int = 30, top_terms: int = 20) -> dict[str, Any]:
        self._flush()
        groups = {name: {**stats.summary(), "small": stats.docs < min_docs} for name, stats in self.groups.items()}
        periods = {name: stats.summary() for name, stats in sorted(self.periods.items())}
        return {
            "overall": self.overall.summary(),
            "groups": dict(sorted(groups.items(), key=lambda kv: _order(kv[1]))),
            "periods": periods,
            "terms": distinctive_terms(self.terms, top_terms),
            "top_documents": {label: _sorted(heap) for label, heap in self._docs_heaps.items()},
            "top_sentences": {label: _sorted(heap) for label, heap in self._sent_heaps.items()},
            "models": dict(self.models),
            "undated": self.undated,
            "bins": BINS.tolist(),
            "min_docs": min_docs,
        }


def compare(a: Stats, b: Stats) -> dict[str, Any]:
    """B minus A: mean framing score and label shares, with bootstrap intervals
    (the two sets of documents are resampled independently)."""
    sa, sb = a.summary(), b.summary()
    score = (sb["mean_score"] - sa["mean_score"]) if sa["mean_score"] is not None and sb["mean_score"] is not None \
        else None
    diff_shares = b.share_replicates() - a.share_replicates()
    return {
        "mean_score": score,
        "mean_score_ci": _interval(b.score_replicates() - a.score_replicates()) if score is not None else None,
        "label_shares": {label: float(b.shares()[i] - a.shares()[i]) for i, label in enumerate(LABELS)},
        "label_shares_ci": {label: _interval(diff_shares[:, i]) for i, label in enumerate(LABELS)},
    }


def _order(summary: dict) -> tuple:
    score = summary["mean_score"]
    return (score is None, score if score is not None else 0.0)


def _push(heap: list, key: float, seq: int, row: dict, size: int) -> None:
    item = (key, -seq, row)  # ties: the earlier document stays
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item[:2] > heap[0][:2]:
        heapq.heapreplace(heap, item)


def _sorted(heap: list) -> list[dict]:
    return [row for _key, _seq, row in sorted(heap, key=lambda item: item[:2], reverse=True)]


def _words(text: str) -> Iterable[str]:
    return (w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS and len(w) > 2)


def distinctive_terms(terms: dict[str, Counter], n: int) -> dict[str, list[dict]]:
    """Per label, the words most over-represented in its sentences against the
    other labels': log-odds with an informative Dirichlet prior (Monroe, Colaresi
    and Quinn 2008), as a z-score, among words seen at least 5 times."""
    total = Counter()
    for counter in terms.values():
        total.update(counter)
    vocab = [w for w, c in total.items() if c >= 5]
    if not vocab:
        return {label: [] for label in LABELS}
    prior_total = np.array([total[w] for w in vocab], dtype=float)
    a0 = prior_total.sum()
    alpha = prior_total / a0 * min(a0, 1000.0)  # a prior worth 1,000 words at most
    alpha_sum = alpha.sum()
    out = {}
    for label in LABELS:
        y_i = np.array([terms[label][w] for w in vocab], dtype=float)
        y_j = prior_total - y_i
        n_i, n_j = y_i.sum(), y_j.sum()
        if not n_i or not n_j:
            out[label] = []
            continue
        delta = (np.log((y_i + alpha) / (n_i + alpha_sum - y_i - alpha))
                 - np.log((y_j + alpha) / (n_j + alpha_sum - y_j - alpha)))
        z = delta / np.sqrt(1.0 / (y_i + alpha) + 1.0 / (y_j + alpha))
        best = np.argsort(-z)[:n]
        out[label] = [{"term": vocab[k], "z": round(float(z[k]), 2), "count": int(y_i[k])} for k in best if z[k] > 0]
    return out
