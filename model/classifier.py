"""The model wrapper every caller uses: sentences in, framing predictions out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from model.artifact import load_artifact, resolve_model_dir
from model.calibration import TemperatureScaled
from model.labels import LABELS
from model.scope import LanguageCheck, english_word_counts, english_word_weights, sentence_flags
from model.sentences import Span, split_sentences

# The vectorizer's internal token for a quote mark (model.preprocess), and how
# explanations show it to people.
QUOTE_TOKEN = "qq"
QUOTE_DISPLAY = "\u201cquote marks\u201d"


@dataclass(slots=True)  # not frozen: a frozen init costs 4x, on every sentence scored
class SentencePrediction:
    index: int
    start: int
    end: int
    text: str
    label: str
    confidence: float
    probabilities: dict[str, float]
    top_terms: list[dict[str, Any]] | None = field(default=None)
    # Empty when in scope; else model.scope.NOT_ENGLISH or OFF_TOPIC.
    flags: list[str] = field(default_factory=list)


class SentenceLimitError(ValueError):
    """A text splits into more sentences than the caller allows."""

    def __init__(self, index: int, n_sentences: int, limit: int):
        self.index, self.n_sentences, self.limit = index, n_sentences, limit
        super().__init__(f"{n_sentences} sentences; the limit is {limit}")


class Classifier:
    """A verified, loaded pipeline plus what callers need to describe it.

    Args:
        relevance: the fitted off-topic check (:class:`model.scope.Relevance`);
            without it only languages are flagged.
        check_language: ``False`` skips the language check (training's
            in-memory models, which never flag).
    """

    def __init__(
        self, pipeline: Any, metadata: dict[str, Any], relevance: Any = None, *, check_language: bool = True
    ):
        self.pipeline = pipeline
        self.metadata = metadata
        self.relevance = relevance
        self.language = LanguageCheck() if check_language else None
        classes = list(pipeline.classes_)
        # predict_proba's columns follow classes_; callers always get LABELS order.
        self._order = np.array([classes.index(label) for label in LABELS])

    @classmethod
    def from_dir(cls, directory: str | Path | None = None) -> "Classifier":
        """Load and verify a model directory (default: :func:`resolve_model_dir`)."""
        pipeline, metadata, relevance = load_artifact(resolve_model_dir(directory))
        return cls(pipeline, metadata, relevance)

    @property
    def info(self) -> dict[str, str]:
        return {
            "name": self.metadata.get("name", "framing"),
            "version": self.metadata.get("version", "unknown"),
            # A model fitted in memory (a learning-curve point) was never saved.
            "sha256": self.metadata.get("model_sha256", ""),
        }

    def predict_proba(self, sentences: Sequence[str]) -> np.ndarray:
        """Probabilities with columns in ``LABELS`` order (rows sum to 1)."""
        if not len(sentences):
            return np.zeros((0, len(LABELS)))
        return self._proba(self._features(sentences))

    def _features(self, sentences: Sequence[str]):
        """The tf-idf matrix: computed once per call, shared by labels, flags and terms."""
        return self._linear_pipeline.named_steps["tfidf"].transform(list(sentences))

    def _proba(self, features) -> np.ndarray:
        clf = self._linear_pipeline.named_steps["clf"]
        if isinstance(self.pipeline, TemperatureScaled):
            proba = self.pipeline.scale(clf.decision_function(features))
        else:
            proba = clf.predict_proba(features)
        return proba[:, self._order]

    def flags(self, sentences: Sequence[str], features=None, lengths: Sequence[int] | None = None) -> list[list[str]]:
        """Scope flags per sentence (see :mod:`model.scope`).

        ``lengths`` splits ``sentences`` into consecutive documents, whose
        sentences are judged in context; default: one document.
        """
        if not len(sentences):
            return []
        weights = None if self.language is None else self._english_word_weights
        if features is None and (weights is not None or self.relevance is not None):
            features = self._features(sentences)  # only when a check reads them
        if self.language is None:
            not_english = [False] * len(sentences)
        else:
            counts = None if weights is None else english_word_counts(features, weights)
            not_english = self.language.not_english(sentences, counts)
        if self.relevance is None:
            off_topic = [False] * len(sentences)
        else:
            off_topic = self.relevance.off_topic(features, lengths, not_english).tolist()
        return sentence_flags(not_english, off_topic)

    def predict_texts(
        self,
        texts: Sequence[str],
        *,
        max_sentences: int | None = None,
        explain: bool = False,
        top_terms: int = 5,
        split: bool = True,
    ) -> list[list[SentencePrediction]]:
        """Score every sentence of every text: the one entry point for all callers.

        The API, the batch scorer, the web page (through the API) and evaluation
        all come through here, so splitting and scoring cannot drift apart.
        One model call covers all texts, since the pipeline's per-call cost
        dominates at an article's few dozen sentences.

        Args:
            max_sentences: raise :class:`SentenceLimitError` (before any scoring)
                when a text splits into more sentences than this.
            split: ``False`` scores each text as one unit, as labeled
                evaluation rows (headlines, dev sentences) are defined.
        """
        spans = [
            split_sentences(text) if split else ([Span(0, len(text), text)] if text.strip() else [])
            for text in texts
        ]
        if max_sentences is not None:
            for i, doc in enumerate(spans):
                if len(doc) > max_sentences:
                    raise SentenceLimitError(i, len(doc), max_sentences)
        sentences = [span.text for doc in spans for span in doc]
        if sentences:
            features = self._features(sentences)
            probs = self._proba(features)
            flags = self.flags(sentences, features, [len(doc) for doc in spans])
        else:
            features, probs, flags = None, np.zeros((0, len(LABELS))), []
        terms = (
            self._top_terms(features, probs.argmax(axis=1), top_terms)
            if explain and sentences
            else [None] * len(sentences)
        )
        out, row = [], 0
        for doc in spans:
            n = len(doc)
            out.append(self._predictions(doc, probs[row:row + n], terms[row:row + n], flags[row:row + n]))
            row += n
        return out

    def predict_text(self, text: str, **options: Any) -> list[SentencePrediction]:
        """``predict_texts([text], **options)[0]``, for one text."""
        return self.predict_texts([text], **options)[0]

    @staticmethod
    def _predictions(spans, probs: np.ndarray, terms, flags) -> list[SentencePrediction]:
        # Python floats and argmaxes once per document, not numpy scalars per value.
        rows = probs.tolist()
        best = probs.argmax(axis=1).tolist() if len(rows) else []
        return [
            SentencePrediction(i, span.start, span.end, span.text, LABELS[b], row[b],
                               dict(zip(LABELS, row)), term, flag)
            for i, (span, row, b, term, flag) in enumerate(zip(spans, rows, best, terms, flags))
        ]

    @cached_property
    def _linear_pipeline(self) -> Any:
        """The tf-idf + LR pipeline, also when it is wrapped by a calibrator.

        Temperature scaling multiplies the scores by one positive number, so
        the inner coefficients still explain the calibrated prediction.
        """
        model = self.pipeline
        return model.pipeline if isinstance(model, TemperatureScaled) else model

    @cached_property
    def _english_word_weights(self) -> np.ndarray | None:
        return english_word_weights(self._linear_pipeline.named_steps["tfidf"].vocabulary_)

    @cached_property
    def _vocabulary(self) -> np.ndarray:
        return self._linear_pipeline.named_steps["tfidf"].get_feature_names_out()

    @cached_property
    def _centred_coef(self) -> np.ndarray:
        clf = self._linear_pipeline.named_steps["clf"]
        return clf.coef_ - clf.coef_.mean(axis=0, keepdims=True)

    def term_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Every n-gram and its weight toward each label (rows in LABELS order).

        Coefficients are centred across classes, so a weight says how much the
        term favours a label over the average of the three.
        """
        return self._vocabulary, self._centred_coef[self._order]

    @cached_property
    def _analyzer(self):
        return self._linear_pipeline.named_steps["tfidf"].build_analyzer()

    def analyze(self, text: str) -> list[str]:
        """The n-grams the model sees in ``text`` (after normalisation)."""
        return self._analyzer(text)

    def _top_terms(self, features, best: np.ndarray, n: int) -> list[list[dict[str, Any]]]:
        """n-grams whose tf-idf weight times centred coefficient pushed most to the label."""
        coef = self._centred_coef
        vocab = self._vocabulary
        matrix = features.tocsr()
        result = []
        for row, label_idx in enumerate(best):
            cls_idx = self._order[label_idx]
            lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
            cols = matrix.indices[lo:hi]
            weights = matrix.data[lo:hi] * coef[cls_idx, cols]
            keep = np.argsort(-weights)[:n]
            result.append(
                [
                    {"term": display_term(str(vocab[cols[k]])), "weight": round(float(weights[k]), 4)}
                    for k in keep
                    if weights[k] > 0
                ]
            )
        return result



def display_term(term: str) -> str:
    """An n-gram as people should read it: the quote token shown as quote marks."""
    return " ".join(QUOTE_DISPLAY if word == QUOTE_TOKEN else word for word in term.split(" "))
