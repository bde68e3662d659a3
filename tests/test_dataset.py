"""Validation names the file and line of every bad row."""

import pytest
from click.testing import CliRunner

from training.dataset import DEFAULT_DATA_DIR, DEFAULT_DEV, DatasetError, load_examples, main

HEADER = "doc_id,text,label\n"


def _write(tmp_path, body, name="data.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "body, message",
    [
        ("d1,Kyiv said talks would resume.,positive\n", "data.csv:2: unknown label 'positive'"),
        ("d1,,neutral\n", "data.csv:2: empty text"),
        ("d1,   ,neutral\n", "data.csv:2: empty text"),
        ("d1,Talks resumed. Both sides attended.,neutral\n", "data.csv:2: not exactly one sentence"),
        (",Talks resumed on Monday.,neutral\n", "data.csv:2: empty doc_id"),
        ("d1,Talks resumed on Monday.,neutral\nd2,Talks resumed on Monday.,pro_ukraine\n",
         "data.csv:3: conflicting label 'pro_ukraine' for the same text labeled 'neutral' at"),
        ("d1,Talks resumed on Monday.,neutral\nd2,talks  resumed on monday.,neutral\n",
         "data.csv:3: duplicate of"),
    ],
    ids=["unknown-label", "empty", "blank", "two-sentences", "no-doc-id", "conflict", "duplicate"],
)
def test_bad_rows_are_named(tmp_path, body, message):
    with pytest.raises(DatasetError) as info:
        load_examples(_write(tmp_path, body))
    assert any(message in problem for problem in info.value.problems), info.value.problems


def test_missing_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("doc_id,sentence,label\nd1,Hi there.,neutral\n")
    with pytest.raises(DatasetError, match="x.csv:1: missing column"):
        load_examples(path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(HEADER.encode() + b"d1,caf\xe9 talks.,neutral\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_examples(path)


def test_all_problems_reported_at_once(tmp_path):
    path = _write(tmp_path, "d1,,neutral\nd1,Fine sentence here.,bogus\nd2,Good one here.,neutral\n")
    with pytest.raises(DatasetError) as info:
        load_examples(path)
    assert len(info.value.problems) == 2


def test_valid_file(tmp_path):
    examples = load_examples(_write(tmp_path, 'd1,"U.S. aid arrived on Feb. 3, officials said.",neutral\n'))
    assert examples[0].text == "U.S. aid arrived on Feb. 3, officials said."


def test_cli_ok_and_error(tmp_path):
    runner = CliRunner()
    good = _write(tmp_path, "d1,Talks resumed on Monday.,neutral\n", "good.csv")
    result = runner.invoke(main, [str(good)])
    assert result.exit_code == 0
    assert result.output == "ok: 1 sentences in 1 documents (pro_russia 0, neutral 1, pro_ukraine 0)\n"
    bad = _write(tmp_path, "d1,Talks resumed on Monday.,maybe\n", "bad.csv")
    result = runner.invoke(main, [str(bad)])
    assert result.exit_code == 1
    assert "bad.csv:2: unknown label 'maybe'" in result.output


def test_bundled_corpus_is_valid_and_large_enough():
    from training.dataset import DEFAULT_DATA_DIR, summary

    info = summary(load_examples(DEFAULT_DATA_DIR))
    assert info["n_sentences"] >= 3000
    assert all(count >= 700 for count in info["label_counts"].values()), info


# ------------------------------------------------ the corpus against real news
DEV = DEFAULT_DEV
NEAR_COPY = 0.6  # character 3-5-gram tf-idf cosine


@pytest.mark.skipif(not DEV.is_file(), reason="../shared/dev is not beside this checkout")
def test_no_corpus_sentence_is_a_near_copy_of_a_dev_sentence():
    """The dev set measures generalisation only if the corpus never paraphrases it."""
    import json

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    corpus = load_examples(DEFAULT_DATA_DIR)
    dev = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    vectorizer.fit([ex.text for ex in corpus] + dev)
    similarity = cosine_similarity(vectorizer.transform([ex.text for ex in corpus]), vectorizer.transform(dev))
    closest = similarity.max(axis=1)
    near = [f"{ex.source}:{ex.line} ({closest[i]:.2f})" for i, ex in enumerate(corpus) if closest[i] >= NEAR_COPY]
    assert near == [], "corpus rows too close to a dev sentence: " + ", ".join(near)
