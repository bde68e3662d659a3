"""Section 2, the splitter: split_sentences on ~800-word articles.

Every text the product scores goes through ``split_sentences`` first, so its
speed caps the API and the batch scorer as much as the model does. The share
is measured against ``Classifier.predict_text`` on the same articles in the
same repeats, so that machine noise moves both numbers together.
"""

from __future__ import annotations

from benchmarks.common import spread, timed
from benchmarks.corpus import ArticleMaker, load_rows
from model.classifier import Classifier
from model.sentences import split_sentences


def make_articles(n: int, words: int = 800, seed: int = 7) -> list[str]:
    maker = ArticleMaker(load_rows(), seed)
    return [maker.article_of_words(words) for _ in range(n)]


def run(clf: Classifier, quick: bool = False) -> dict:
    articles = make_articles(40 if quick else 150)
    repeats = 3 if quick else 5
    n_sentences = sum(len(split_sentences(a)) for a in articles)
    n_bytes = sum(len(a.encode("utf-8")) for a in articles)
    n_words = sum(len(a.split()) for a in articles)

    def split_all() -> None:
        for a in articles:
            split_sentences(a)

    def predict_all() -> None:
        for a in articles:
            clf.predict_text(a)

    split_all()
    predict_all()
    split_s, predict_s, shares = [], [], []
    for _ in range(repeats):
        s, _ = timed(split_all)
        p, _ = timed(predict_all)
        split_s.append(s)
        predict_s.append(p)
        shares.append(s / p)
    return {
        "what": "split_sentences on ~800-word articles built from the team's corpus",
        "articles": len(articles),
        "mean_words": n_words / len(articles),
        "mean_sentences": n_sentences / len(articles),
        "bytes": n_bytes,
        "split_sentences_per_s": spread([n_sentences / s for s in split_s]),
        "split_mb_per_s": spread([n_bytes / 1e6 / s for s in split_s]),
        "predict_text_sentences_per_s": spread([n_sentences / p for p in predict_s]),
        "split_share_of_predict_text": spread(shares),
    }
