"""The project's one splitter: a table of tricky news text and offset invariants."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from model import sentences
from model.sentences import split_sentences

CASES = [
    ("abbreviations", "U.S. officials met in Kyiv on Feb. 24. They said Gen. Smith would attend.",
     ["U.S. officials met in Kyiv on Feb. 24.", "They said Gen. Smith would attend."]),
    ("titles", "Mr. Blinken spoke first. The U.N. vote was 141 to 5.",
     ["Mr. Blinken spoke first.", "The U.N. vote was 141 to 5."]),
    ("decimals", "About 1.6 million people fled. Prices rose 3.5 per cent.",
     ["About 1.6 million people fled.", "Prices rose 3.5 per cent."]),
    ("quoted speech", 'He said: "We will not give up." Then he left the podium.',
     ['He said: "We will not give up."', "Then he left the podium."]),
    ("curly quotes", "“This is an invasion,” she said. Moscow disagreed.",
     ["“This is an invasion,” she said.", "Moscow disagreed."]),
    ("question", "Is Beijing quietly backing Moscow? Analysts are divided.",
     ["Is Beijing quietly backing Moscow?", "Analysts are divided."]),
    ("ellipsis", "The talks stalled... nobody knew why. Officials left.",
     ["The talks stalled... nobody knew why.", "Officials left."]),
    ("headline line", "Russia Launches New Strikes On Kyiv\nOfficials say dozens were injured overnight.",
     ["Russia Launches New Strikes On Kyiv", "Officials say dozens were injured overnight."]),
    ("bullets", "- Troops advanced near Bakhmut\n- Shelling continued in Kherson\n• Grain exports resumed",
     ["Troops advanced near Bakhmut", "Shelling continued in Kherson", "Grain exports resumed"]),
    ("initials", "J. R. Smith wrote the report. It was long.",
     ["J. R. Smith wrote the report.", "It was long."]),
    ("hard wrap", "The army said it had\nwithdrawn from the town. Residents returned.",
     ["The army said it had\nwithdrawn from the town.", "Residents returned."]),
    ("blank lines", "First paragraph ends here.\n\n\nSecond paragraph.",
     ["First paragraph ends here.", "Second paragraph."]),
    ("no final punctuation", "Zelensky visits front-line troops in Donetsk region",
     ["Zelensky visits front-line troops in Donetsk region"]),
    ("crlf", "Line one is a headline\r\nLine two is a sentence.",
     ["Line one is a headline", "Line two is a sentence."]),
    ("cyrillic", "Київ — столиця. Second sentence.", ["Київ — столиця.", "Second sentence."]),
    ("empty", "", []),
    ("whitespace", " \n\t ", []),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_split_table(text, expected):
    spans = split_sentences(text)
    assert [s.text for s in spans] == expected
    for span in spans:
        assert text[span.start:span.end] == span.text


def test_rejects_non_string():
    with pytest.raises(TypeError):
        split_sentences(b"bytes")


@pytest.mark.parametrize(
    "text",
    ["nul\x00byte. Next.", "lone \ud800 surrogate. Next.", "rtl \u202e text. ok.", "zero\u200bwidth. Next.",
     "x" * 100_000, ". . . ! ? ...", "\x0b\x0c\x1c"],
    ids=["nul", "surrogate", "rtl", "zero-width", "long-run", "punctuation", "odd-space"],
)
def test_hostile_input_never_raises(text):
    for span in split_sentences(text):
        assert text[span.start:span.end] == span.text
        assert span.text.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_offsets_slice_back_for_any_text(text):
    spans = split_sentences(text)
    previous_end = 0
    for span in spans:
        assert text[span.start:span.end] == span.text
        assert span.start >= previous_end and span.end > span.start
        assert span.text == span.text.strip()
        previous_end = span.end


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Kyiv said it would respond.", "U.S. aid arrived\n",
                                 "Gen. Ivanov resigned!", "\n\n", " ", "Is it over?"]), max_size=12))
def test_no_word_is_lost(parts):
    text = "".join(parts)
    spans = split_sentences(text)
    covered = "".join(text[s.start:s.end] for s in spans)
    assert "".join(covered.split()) == "".join(text.split()).replace("\u2022", "")


def _block_by_block(text: str) -> list:
    """The splitter as it was before one blingfire call per document: one per block."""
    safe = sentences._UNSAFE.sub(" ", text)
    spans = []
    for block_start, block_end in sentences._blocks(safe):
        if not safe[block_start:block_end].strip():
            continue
        for rel_start, rel_end in sentences._sentence_offsets(safe[block_start:block_end]):
            start, end = sentences._trim(safe, block_start + rel_start, block_start + rel_end)
            if start < end:
                spans.append(sentences.Span(start, end, text[start:end]))
    return spans


_PIECES = ["Rep. Adam Smith said so.", "Sen. Graham wrote on X.", "U.S. aid arrived", "\n", "\n\n", "- ",
           "Mr. Peskov told reporters: \"No.\"", "The 1.5 billion loan", "e.g. drones", "KYIV, March 3 -",
           "\u2029", "\u2028", "  ", "it was cold", "(AP)", "\u2022 Item one", "Dr.", "...", "?", "!\""]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map(" ".join) | st.text(max_size=300)
       | st.lists(st.sampled_from(_PIECES) | st.text(max_size=5), max_size=20).map("".join))
@example('!" ? \n -  KYIV, March 3 -')  # blocks ending in punctuation alone, or a control
@example("\n Rep. Adam Smith said so. ? -  \n\n Rep. Adam Smith said so.")  # character, split differently
@example('!" !" \n Mr. Peskov told reporters: "No." \n')  # before a break: they go block by block
@example("0.\x7f\n0")
def test_one_call_per_document_splits_as_block_by_block(text):
    """Held to the block-by-block splitter; 40,000 examples of this strategy passed when it was written."""
    assert split_sentences(text) == _block_by_block(text)


def test_headlines_and_titles_split_as_block_by_block():
    text = ("U.S. Threatens Chinese Banks\n\nRep. Michael McCaul: \"History will judge us\"\n"
            "Rep. Matt Gaetz says no\n\nSen. Lindsey Graham wrote that aid must pass. Talks resume.")
    assert [s.text for s in split_sentences(text)] == [
        "U.S. Threatens Chinese Banks", "Rep. Michael McCaul: \"History will judge us\"",
        "Rep. Matt Gaetz says no", "Sen. Lindsey Graham wrote that aid must pass.", "Talks resume."]
    assert split_sentences(text) == _block_by_block(text)
