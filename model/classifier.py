"""The model wrapper every caller uses: sentences in, framing predictions out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from model.artifact import load_artifact
from model.calibration import TemperatureScaled
from model.labels import LABELS
from model.sentences import Span, split_sentences


@dataclass(frozen=True, slots=True)
class SentencePrediction:
    index: int
    start: int
    end: int
    text: str
    label: str
    confidence: float
    probabilities: dict[str, float]
    top_terms: list[dict[str, Any]] | None = field(default=None)


class Classifier:
    """A verified, loaded pipeline plus what callers need to describe it."""

    def __init__(self, pipeline: Any, metadata: dict[str, Any]):
        self.pipeline = pipeline
        self.metadata = metadata
        classes = list(pipeline.classes_)
        # predict_proba's columns follow classes_; callers always get LABELS order.
        self._order = np.array([classes.index(label) for label in LABELS])

    @classmethod
    def from_dir(cls, directory: str | Path) -> "Classifier":
        return cls(*load_artifact(Path(directory)))

    @property
    def info(self) -> dict[str, str]:
        return {
            "name": self.metadata.get("name", "framing"),
            "version": self.metadata.get("version", "unknown"),
            "sha256": self.metadata["model_sha256"],
        }

    def predict_proba(self, sentences: Sequence[str]) -> np.ndarray:
        """Probabilities with columns in ``LABELS`` order (rows sum to 1)."""
        if not len(sentences):
            return np.zeros((0, len(LABELS)))
        return self.pipeline.predict_proba(list(sentences))[:, self._order]

    def predict_spans(
        self, spans: Sequence[Span], explain: bool = False, top_terms: int = 5
    ) -> list[SentencePrediction]:
        probs = self.predict_proba([span.text for span in spans])
        terms = (
            self._top_terms([s.text for s in spans], probs.argmax(axis=1), top_terms)
            if explain and len(spans)  # tf-idf refuses an empty batch
            else [None] * len(spans)
        )
        return self._predictions(spans, probs, terms)

    @staticmethod
    def _predictions(spans, probs: np.ndarray, terms) -> list[SentencePrediction]:
        rows = probs.tolist()  # Python floats once, not a numpy scalar per value
        out = []
        for i, (span, row) in enumerate(zip(spans, rows)):
            best = max(range(len(LABELS)), key=row.__getitem__)
            out.append(
                SentencePrediction(
                    index=i,
                    start=span.start,
                    end=span.end,
                    text=span.text,
                    label=LABELS[best],
                    confidence=row[best],
                    probabilities=dict(zip(LABELS, row)),
                    top_terms=terms[i],
                )
            )
        return out

    def predict_text(
        self, text: str, explain: bool = False, top_terms: int = 5
    ) -> list[SentencePrediction]:
        """Split ``text`` with the project splitter and score every sentence."""
        return self.predict_spans(split_sentences(text), explain, top_terms)

    def predict_texts(self, texts: Sequence[str]) -> list[list[SentencePrediction]]:
        """Like ``predict_text`` for many texts, with one model call for all.

        The pipeline's per-call cost dominates at an article's few dozen
        sentences; pooling a batch of documents brings throughput close to the
        model's own limit. Results equal ``[predict_text(t) for t in texts]``.
        """
        spans = [split_sentences(text) for text in texts]
        probs = self.predict_proba([span.text for doc in spans for span in doc])
        out, row = [], 0
        for doc in spans:
            out.append(self._predictions(doc, probs[row:row + len(doc)], [None] * len(doc)))
            row += len(doc)
        return out

    @cached_property
    def _linear_pipeline(self) -> Any:
        """The tf-idf + LR pipeline, also when it is wrapped by a calibrator.

        Temperature scaling multiplies the scores by one positive number, so
        the inner coefficients still explain the calibrated prediction.
        """
        model = self.pipeline
        return model.pipeline if isinstance(model, TemperatureScaled) else model

    @cached_property
    def _vocabulary(self) -> np.ndarray:
        return self._linear_pipeline.named_steps["tfidf"].get_feature_names_out()

    def _top_terms(
        self, sentences: list[str], best: np.ndarray, n: int
    ) -> list[list[dict[str, Any]]]:
        """n-grams whose tf-idf weight times coefficient pushed most to the label.

        Coefficients are centred across classes, so a term's weight says how much
        it favours this label over the average of the three.
        """
        tfidf = self._linear_pipeline.named_steps["tfidf"]
        clf = self._linear_pipeline.named_steps["clf"]
        coef = clf.coef_ - clf.coef_.mean(axis=0, keepdims=True)
        vocab = self._vocabulary
        matrix = tfidf.transform(sentences).tocsr()
        result = []
        for row, label_idx in enumerate(best):
            cls_idx = self._order[label_idx]
            lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
            cols = matrix.indices[lo:hi]
            weights = matrix.data[lo:hi] * coef[cls_idx, cols]
            keep = np.argsort(-weights)[:n]
            result.append(
                [
                    {"term": str(vocab[cols[k]]), "weight": round(float(weights[k]), 4)}
                    for k in keep
                    if weights[k] > 0
                ]
            )
        return result


def summarize(predictions: Sequence[SentencePrediction]) -> dict[str, Any]:
    """Document-level view used by the API and the batch scorer alike."""
    n = len(predictions)
    counts = {label: 0 for label in LABELS}
    for p in predictions:
        counts[p.label] += 1
    if n:
        mean = {
            lab: float(np.mean([p.probabilities[lab] for p in predictions]))
            for lab in LABELS
        }
    else:
        mean = {lab: 0.0 for lab in LABELS}
    dominant = max(LABELS, key=lambda lab: (counts[lab], mean[lab])) if n else None
    return {
        "n_sentences": n,
        "label_counts": counts,
        "label_shares": {lab: (counts[lab] / n if n else 0.0) for lab in LABELS},
        "mean_probabilities": mean,
        "framing_score": mean["pro_ukraine"] - mean["pro_russia"],
        "dominant_label": dominant,
    }
