"""Behavioural tests of the default model (team-written cases, Made-With-ML style).

Minimum functionality on clear cases, directional changes for framing words,
and invariance to names that carry no framing.
"""

import pytest

from model.calibration import apply_inverse_temperature
from model.classifier import Classifier


@pytest.fixture(scope="module")
def model(default_model):
    return Classifier.from_dir(default_model)


def _p(model, text):
    return dict(zip(("pro_russia", "neutral", "pro_ukraine"), model.predict_proba([text])[0]))


def _evidence(model, text):
    """Probabilities before the temperature: directional tests read the linear
    model's evidence, so a change of calibration can neither pass nor fail them."""
    beta = model.metadata.get("calibration", {}).get("inverse_temperature") or 1.0
    raw = apply_inverse_temperature(model.predict_proba([text]), 1.0 / beta)[0]
    return dict(zip(("pro_russia", "neutral", "pro_ukraine"), raw))


@pytest.mark.parametrize(
    "text, label",
    [
        ("The Kyiv regime's neo-Nazi battalions keep shelling peaceful Donbas towns.", "pro_russia"),
        ("NATO's reckless expansion ignored Russia's legitimate security concerns.", "pro_russia"),
        ("Russia's brutal war of aggression must end with accountability for its war crimes.", "pro_ukraine"),
        ("Ukrainian defenders pushed the occupiers back from the village.", "pro_ukraine"),
        ("The two foreign ministers met in Geneva on Tuesday.", "neutral"),
        ("Sign up for our daily newsletter.", "neutral"),
    ],
    ids=["kyiv-regime", "nato-expansion", "war-crimes", "defenders", "meeting", "boilerplate"],
)
def test_clear_cases(model, text, label):
    probs = _p(model, text)
    assert max(probs, key=probs.get) == label, probs


@pytest.mark.parametrize(
    "kremlin, ukraine",
    [
        ("Russia launched its special military operation in February 2022.",
         "Russia launched its unprovoked invasion in February 2022."),
        ("Russian troops liberated the town after heavy fighting.",
         "Russian troops occupied the town after heavy fighting."),
        ("Residents voted in the referendum to join Russia.",
         "Residents voted in the sham referendum to join Russia."),
    ],
    ids=["operation-vs-invasion", "liberated-vs-occupied", "sham-referendum"],
)
def test_framing_words_move_the_prediction(model, kremlin, ukraine):
    a, b = _evidence(model, kremlin), _evidence(model, ukraine)
    assert b["pro_ukraine"] - b["pro_russia"] > a["pro_ukraine"] - a["pro_russia"] + 0.05, (a, b)


def test_so_called_creates_distance(model):
    plain = _evidence(model, "The Kremlin held a referendum in the region.")
    distanced = _evidence(model, "The Kremlin held a so-called referendum in the region.")
    assert distanced["pro_ukraine"] > plain["pro_ukraine"] + 0.05


def test_scare_quotes_alone_create_distance(model):
    """Was a known gap of the first corpus; corpus v2's neutral quotes and minimal pairs closed it."""
    plain = _evidence(model, "Moscow called it a special military operation.")
    quoted = _evidence(model, 'Moscow called it a "special military operation".')
    assert quoted["pro_russia"] < plain["pro_russia"] - 0.05


@pytest.mark.parametrize(
    "template, names",
    [
        ("Shelling damaged several buildings in {} overnight, the regional governor said.",
         ["Kharkiv", "Odesa", "Zaporizhzhia", "Sumy"]),
        ("The foreign minister of {} met his counterpart in Geneva on Monday.",
         ["Brazil", "Indonesia", "Kenya", "Mexico"]),
    ],
    ids=["cities", "countries"],
)
def test_names_without_framing_do_not_change_the_label(model, template, names):
    labels = set()
    scores = []
    for name in names:
        probs = _evidence(model, template.format(name))
        labels.add(max(probs, key=probs.get))
        scores.append(probs["pro_ukraine"] - probs["pro_russia"])
    assert len(labels) == 1, labels
    assert max(scores) - min(scores) < 0.25, scores


@pytest.mark.parametrize(
    "text",
    [
        "Enter your email address to get the morning briefing in your inbox.",
        "By signing up you accept our privacy policy and terms of use.",
        "This episode is brought to you by our listeners and sponsors.",
        "A firefighter works at the site of a strike in Dnipro, Ukraine, on Oct. 12.",
        "Washington will send Kiev another package of air-defence interceptors next month.",
        "Analysts expect wheat prices to stay volatile while the conflict continues.",
    ],
    ids=["newsletter", "terms", "sponsor", "caption", "kiev-aid", "conflict"],
)
def test_boilerplate_captions_and_cue_words_alone_are_neutral(model, text):
    probs = _p(model, text)
    assert max(probs, key=probs.get) == "neutral", probs


@pytest.mark.parametrize(
    "text, label",
    [
        ("Ukrainian defenders eliminated 870 invaders and 14 enemy tanks over the past day.", "pro_ukraine"),
        ("Russian units liberated two villages and destroyed up to 240 Ukrainian militants.", "pro_russia"),
    ],
    ids=["ua-tally", "ru-tally"],
)
def test_numbers_do_not_make_a_tally_neutral(model, text, label):
    probs = _p(model, text)
    assert max(probs, key=probs.get) == label, probs


def test_confidence_is_a_probability(model):
    preds = model.predict_text("Talks resumed. The Kyiv regime shelled Donetsk. Russia's invasion continues.")
    for p in preds:
        assert abs(sum(p.probabilities.values()) - 1) < 1e-6
        assert 1 / 3 <= p.confidence <= 1
