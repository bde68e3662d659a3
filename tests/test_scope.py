"""Scope flags (not_english, off_topic) on team-written texts, and what they do
to document summaries, the API, the batch output and explanations.

The rates asserted here are the ones the model card reports: sentences in
twelve other languages, English war news, team-written off-topic sentences
held out from the relevance check's training data, and (when ../shared is
beside the checkout) the real-news dev set.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from model.classifier import Classifier, SentencePrediction, display_term
from model.records import summarize
from model.scope import NOT_ENGLISH, OFF_TOPIC, LanguageCheck, english_word_counts, in_context
from training.dataset import DEFAULT_DATA_DIR, DEFAULT_DEV, load_examples

SCOPE = Path(__file__).resolve().parent / "data" / "scope"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "articles"


def _rows(name: str) -> list[dict]:
    with open(SCOPE / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def model(default_model) -> Classifier:
    return Classifier.from_dir(default_model)


def _flag_rate(predictions, flag: str) -> float:
    flat = [p for doc in predictions for p in doc]
    return sum(flag in p.flags for p in flat) / len(flat)


def test_other_languages_are_flagged(model):
    rows = _rows("other_languages.csv")
    assert len({r["lang"] for r in rows}) >= 6
    predictions = model.predict_texts([r["text"] for r in rows], split=False)
    by_lang = defaultdict(list)
    for r, doc in zip(rows, predictions):
        by_lang[r["lang"]].append(NOT_ENGLISH in doc[0].flags)
    rate = _flag_rate(predictions, NOT_ENGLISH)
    print(f"not_english on {len(rows)} sentences in {len(by_lang)} languages: {rate:.1%}")
    assert rate >= 0.95
    for lang in ("ru", "uk", "de", "fr", "es", "zh"):
        assert np.mean(by_lang[lang]) >= 0.9, lang


def test_english_war_news_is_not_flagged_as_another_language(model):
    texts = [ex.text for ex in load_examples(DEFAULT_DATA_DIR)]
    rate = _flag_rate(model.predict_texts(texts, split=False), NOT_ENGLISH)
    print(f"not_english on {len(texts)} corpus sentences: {rate:.2%}")
    assert rate <= 0.02


def test_held_out_off_topic_documents_are_flagged(model):
    docs = defaultdict(list)
    for r in _rows("off_topic_heldout.csv"):
        docs[r["doc_id"]].append(r["text"])
    subjects = {r["subject"] for r in _rows("off_topic_heldout.csv")}
    assert len(subjects) >= 10
    in_documents = _flag_rate(model.predict_texts(["\n".join(v) for v in docs.values()]), OFF_TOPIC)
    alone = _flag_rate(model.predict_texts([t for v in docs.values() for t in v], split=False), OFF_TOPIC)
    print(f"off_topic on held-out off-topic sentences: {in_documents:.1%} in their documents, {alone:.1%} alone")
    assert in_documents >= 0.85


@pytest.mark.skipif(not DEFAULT_DEV.is_file(), reason="../shared/dev is not beside this checkout")
def test_real_news_dev_sentences_are_rarely_flagged(model):
    texts = [json.loads(line)["text"] for line in DEFAULT_DEV.read_text(encoding="utf-8").splitlines() if line]
    predictions = model.predict_texts(texts, split=False)
    flagged = sum(bool(doc[0].flags) for doc in predictions) / len(texts)
    print(f"dev sentences flagged: {flagged:.1%} of {len(texts)}")
    assert flagged <= 0.05


@pytest.mark.parametrize(
    "name, code",
    [("ru_news_article.txt", "mostly_not_english"), ("uk_news_article.txt", "mostly_not_english"),
     ("recipe_blog.txt", "mostly_off_topic"), ("match_report.txt", "mostly_off_topic")],
)
def test_out_of_scope_articles_get_a_warning_and_no_score(model, name, code):
    document = summarize(model.predict_text((EXAMPLES / name).read_text(encoding="utf-8")))
    assert [w["code"] for w in document["warnings"]] == [code]
    assert document["n_flagged"] > document["n_sentences"] / 2


@pytest.mark.parametrize("name", ["diplomacy_brief.txt", "frontline_report.txt", "state_tv_segment.txt"])
def test_war_articles_are_in_scope(model, name):
    predictions = model.predict_text((EXAMPLES / name).read_text(encoding="utf-8"))
    assert sum(bool(p.flags) for p in predictions) <= 1
    assert summarize(predictions)["warnings"] == []


def test_a_russian_quote_inside_an_english_story():
    text_flags = LanguageCheck().not_english([
        "Residents said the blast woke the whole street shortly after 3 a.m.",
        "«Мы проснулись от взрыва и сразу побежали в подвал», — рассказала жительница.",
    ])
    assert text_flags == [False, True]


def test_english_word_counts_from_features_equal_counts_from_text(model):
    """The classifier counts English words on its tf-idf matrix; standalone
    callers count them from the text: both must see the same words."""
    texts = [r["text"] for r in _rows("other_languages.csv")] + [
        "Officials said, after the talks, that the deal was off.",  # words next to punctuation
        "It's the “end” of an era — and of the war's first phase.",
        "", "   ", "THE AND OF", "1,600 troops (the 3rd brigade) were moved.",
    ]
    texts += [ex.text for ex in load_examples(DEFAULT_DATA_DIR)][:2000]
    from_features = english_word_counts(model._features(texts), model._english_word_weights)
    check = LanguageCheck()
    assert np.array_equal(from_features, check.word_counts(texts))
    assert model.flags(texts, lengths=[1] * len(texts)) == model.flags(texts, model._features(texts),
                                                                        [1] * len(texts))
    assert [NOT_ENGLISH in f for f in model.flags(texts, lengths=[1] * len(texts))] == check.not_english(texts)


def _p(index: int, label: str, flags: list[str]) -> SentencePrediction:
    probs = {"pro_russia": 0.1, "neutral": 0.1, "pro_ukraine": 0.1, label: 0.8}
    return SentencePrediction(index, 0, 1, "x", label, 0.8, probs, None, flags)


def test_summary_leaves_flagged_sentences_out():
    doc = summarize([_p(0, "pro_russia", [NOT_ENGLISH]), _p(1, "pro_ukraine", []), _p(2, "neutral", [OFF_TOPIC])])
    assert doc["n_sentences"] == 3 and doc["n_flagged"] == 2
    assert doc["label_shares"] == {"pro_russia": 0.0, "neutral": 0.0, "pro_ukraine": 1.0}
    assert doc["dominant_label"] == "pro_ukraine"
    assert doc["framing_score"] == pytest.approx(0.7)
    assert [w["code"] for w in doc["warnings"]] == ["mostly_out_of_scope"]


def test_summary_with_every_sentence_flagged_is_null():
    doc = summarize([_p(0, "neutral", [NOT_ENGLISH]), _p(1, "neutral", [NOT_ENGLISH])])
    assert doc["label_shares"] is None and doc["mean_probabilities"] is None
    assert doc["framing_score"] is None and doc["dominant_label"] is None
    assert doc["warnings"][0]["code"] == "mostly_not_english"
    assert "2 of 2 sentences" in doc["warnings"][0]["message"]


def test_context_keeps_generic_sentences_of_war_stories():
    # on-topic scores of a war story with one generic sentence, then a recipe box
    scores = np.array([0.95, 0.97, 0.2, 0.9, 0.93, 0.1, 0.15, 0.05, 0.2, 0.1])
    assert in_context(scores, 0.5).tolist() == [False] * 5 + [True] * 5
    assert in_context(np.array([0.3]), 0.5).tolist() == [True]
    assert in_context(np.array([]), 0.5).tolist() == []


def test_quote_token_is_shown_as_quote_marks(model):
    assert display_term("qq special qq") == "\u201cquote marks\u201d special \u201cquote marks\u201d"
    text = 'The so-called "referendum" in the "liberated" territories was a sham, Kyiv said.'
    terms = [t["term"] for p in model.predict_text(text, explain=True, top_terms=20) for t in p.top_terms]
    assert terms and not any("qq" in term.split() for term in terms)


@pytest.fixture(scope="module")
def default_client(default_model):
    from service.app import create_app

    return create_app({"TESTING": True, "MODEL_DIR": str(default_model)}).test_client()


def test_api_reports_flags_warnings_and_null_scores(default_client):
    from service.schemas import PredictBatchResponseSchema

    docs = [{"id": name, "text": (EXAMPLES / f"{name}.txt").read_text(encoding="utf-8")}
            for name in ("ru_news_article", "recipe_blog", "frontline_report")]
    r = default_client.post("/v1/predict/batch", json={"documents": docs})
    assert r.status_code == 200
    body = r.get_json()
    assert PredictBatchResponseSchema().validate(body) == {}
    russian, recipe, war = (res["document"] for res in body["results"])
    assert russian["warnings"][0]["code"] == "mostly_not_english"
    assert russian["framing_score"] is None and russian["dominant_label"] is None
    assert russian["label_shares"] is None and russian["n_flagged"] == russian["n_sentences"]
    assert recipe["warnings"][0]["code"] == "mostly_off_topic"
    assert war["warnings"] == [] and war["framing_score"] is not None
    assert all(s["flags"] == [NOT_ENGLISH] for s in body["results"][0]["sentences"])
    single = default_client.post("/v1/predict", json={"text": docs[0]["text"]}).get_json()
    assert single["document"] == russian


def test_batch_output_carries_flags_and_warnings(runner, default_model, tmp_path):
    from batch.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text("".join(
        json.dumps({"id": name, "text": (EXAMPLES / f"{name}.txt").read_text(encoding="utf-8")}) + "\n"
        for name in ("uk_news_article", "match_report", "diplomacy_brief")), encoding="utf-8")
    out = tmp_path / "docs.jsonl"
    result = runner.invoke(main, [str(src), "-o", str(out), "--model", str(default_model)])
    assert result.exit_code == 0, result.output
    ukrainian, match, brief = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert ukrainian["document"]["framing_score"] is None
    assert ukrainian["document"]["warnings"][0]["code"] == "mostly_not_english"
    assert match["document"]["warnings"][0]["code"] == "mostly_off_topic"
    assert brief["document"]["warnings"] == []
    rows_path = tmp_path / "rows.csv"
    result = runner.invoke(main, [str(src), "-o", str(rows_path), "--granularity", "sentence",
                                  "--model", str(default_model)])
    assert result.exit_code == 0, result.output
    with open(rows_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["flags"] for r in rows if r["id"] == "uk_news_article"} == {NOT_ENGLISH}
    assert {r["flags"] for r in rows if r["id"] == "diplomacy_brief"} == {""}
