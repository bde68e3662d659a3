"""The directly built result record is exactly what PredictResponseSchema dumps."""

import json

import pytest

from model.classifier import Classifier, SentenceLimitError
from model.records import document_record, summarize
from service.schemas import PredictResponseSchema

TEXT = "The Kyiv regime shelled Donetsk.\nTalks resumed on Monday. Russia's invasion goes on."


@pytest.mark.parametrize("explain, meta", [(False, None), (True, None), (False, {"source": "Wire", "n": [1, 2]})],
                         ids=["plain", "explain", "meta"])
def test_record_equals_schema_dump(tiny_model, explain, meta):
    model = Classifier.from_dir(tiny_model)
    predictions = model.predict_text(TEXT, explain=explain, top_terms=3)
    built = document_record("doc-1", model.info, predictions, meta)
    dumped = PredictResponseSchema().dump(
        {"id": "doc-1", **({"meta": meta} if meta is not None else {}), "model": model.info,
         "sentences": predictions, "document": summarize(predictions)}
    )
    assert json.dumps(built) == json.dumps(dumped)
    assert ("top_terms" in built["sentences"][0]) is explain
    assert PredictResponseSchema().validate(built) == {}


def test_batch_prediction_equals_one_by_one(tiny_model):
    model = Classifier.from_dir(tiny_model)
    texts = [TEXT, "Sanctions hurt Europe.", "U.S. aid arrived on Feb. 3. Allies pledged more."]
    assert model.predict_texts(texts) == [model.predict_text(t) for t in texts]


def test_unsplit_rows_and_the_sentence_limit(tiny_model):
    model = Classifier.from_dir(tiny_model)
    rows = ["Talks resumed. Shelling went on.", "Kyiv said so."]
    unsplit = model.predict_texts(rows, split=False)
    assert [[p.text for p in doc] for doc in unsplit] == [[rows[0]], [rows[1]]]
    assert unsplit[1] == model.predict_texts(rows)[1]
    with pytest.raises(SentenceLimitError) as info:
        model.predict_texts(rows, max_sentences=1)
    assert (info.value.index, info.value.n_sentences, info.value.limit) == (0, 2, 1)
    assert len(model.predict_text(rows[0], max_sentences=2)) == 2
