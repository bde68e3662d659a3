"""The directly built result record is exactly what PredictResponseSchema dumps."""

import json

import pytest

from model.classifier import Classifier, summarize
from service.records import document_record
from service.schemas import PredictResponseSchema

TEXT = "The Kyiv regime shelled Donetsk.\nTalks resumed on Monday. Russia's invasion goes on."


@pytest.mark.parametrize("explain", [False, True], ids=["plain", "explain"])
def test_record_equals_schema_dump(tiny_model, explain):
    model = Classifier.from_dir(tiny_model)
    predictions = model.predict_text(TEXT, explain=explain, top_terms=3)
    built = document_record("doc-1", model.info, predictions)
    dumped = PredictResponseSchema().dump(
        {"id": "doc-1", "model": model.info, "sentences": predictions, "document": summarize(predictions)}
    )
    assert json.dumps(built) == json.dumps(dumped)
    assert ("top_terms" in built["sentences"][0]) is explain
    assert PredictResponseSchema().validate(built) == {}


def test_batch_prediction_equals_one_by_one(tiny_model):
    model = Classifier.from_dir(tiny_model)
    texts = [TEXT, "Sanctions hurt Europe.", "U.S. aid arrived on Feb. 3. Allies pledged more."]
    assert model.predict_texts(texts) == [model.predict_text(t) for t in texts]
