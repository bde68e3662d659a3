"""normalize() is written for speed; it must give exactly what the plain
regex version gives (the one the shipped models were trained with)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.preprocess import _QUOTES, normalize


def reference(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _QUOTES.sub(" qq ", text)
    text = re.sub(r"[\u2019\u2018`]", "'", text)
    text = re.sub(r"\d", "0", text)
    return re.sub(r"\s+", " ", text).strip().lower()


CASES = [
    "",
    "   ",
    "Russia's \u201cspecial military operation\u201d began on 24 February 2022.",
    "Kyiv\u2019s mayor said 1,600 people were evacuated \u2018overnight\u2019.",
    "`quoted` and 'single' and \u00abguillemets\u00bb and \u201elow\u201c",
    "\uff11\uff12\uff13 full-width digits, \u0661\u0662 Arabic-Indic, \u096a Devanagari",
    "tabs\tand\nnew\r\nlines\x0b\x0cand\x1c\x1d\x1e\x1f separators\x85\xa0\u2028\u3000end",
    "\ufb01ligature \u2460 circled \u00bd half \u2167 roman",
    "\u0130stanbul \u1e9e Stra\u00dfe \u03a3\u039f\u03a3",
    "zero\u200bwidth and \u202eright-to-left\u202c",
    "lone \ud800 surrogate \udfff 42",
]


@pytest.mark.parametrize("text", CASES)
def test_normalize_equals_the_regex_version(text):
    assert normalize(text) == reference(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
       | st.text(alphabet=" \t\n\"'`\u2018\u2019\u201c\u201d0123456789\uff10\u0660abcXYZ.,", max_size=40))
def test_normalize_equals_the_regex_version_on_any_text(text):
    assert normalize(text) == reference(text)
