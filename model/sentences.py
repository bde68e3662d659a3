"""Sentence splitting with character offsets into the original text.

Training, the API and the batch scorer all call :func:`split_sentences`, so a
sentence looks the same wherever it is scored. Blingfire does the in-paragraph
work (fast, rule-based, no downloads, good on abbreviations and decimals); this
module adds what blingfire does not do for news text: line-based boundaries for
headlines, datelines and bullet lists, and sanitising so that no Unicode input
can make it raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import blingfire

# A line break ends a sentence unless it looks like hard-wrapped prose: the line
# ends mid-clause (letter, comma, hyphen...) and the next line starts lowercase.
_LINE = re.compile(r"[^\n]*(?:\n|$)")
_BULLET = re.compile(r"[^\S\n]*[\-\u2022\u2013\u2014*\u25cf\u25aa>]+[^\S\n]+")
_CONTINUES = re.compile(r"[a-z,;:\-\u2013\u2014(]\s*$")
_STARTS_LOWER = re.compile(r"^\s*[a-z(]")
# Characters that blingfire's C core cannot take; each is replaced by one
# character so offsets are unchanged.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Span:
    """One sentence: ``text == original[start:end]``."""

    start: int
    end: int
    text: str


def _blocks(text: str) -> list[tuple[int, int]]:
    """Cut text into line-based blocks (paragraphs, headlines, bullet items)."""
    blocks: list[tuple[int, int]] = []
    start = None
    prev_line = ""
    pos = 0
    for match in _LINE.finditer(text):
        line = match.group()
        if not line:
            break
        is_blank = not line.strip()
        joins = (
            start is not None
            and not is_blank
            and _CONTINUES.search(prev_line)
            and _STARTS_LOWER.match(line)
            and not _BULLET.match(line)
        )
        if start is not None and not joins:
            blocks.append((start, pos))
            start = None
        if not is_blank and start is None:
            start = pos
        prev_line = line if not is_blank else ""
        pos = match.end()
    if start is not None:
        blocks.append((start, len(text)))
    return blocks


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past surrounding white space and a bullet marker."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    bullet = _BULLET.match(text, start, end)
    if bullet and bullet.end() < end:
        start = bullet.end()
        while start < end and text[start].isspace():
            start += 1
    return start, end


def _sentence_offsets(block: str) -> list[tuple[int, int]]:
    """Blingfire's sentence ends, located in the block.

    ``text_to_sentences`` runs in C; its offsets variant maps bytes to
    characters in Python and is several times slower, so sentences are found
    with ``str.find`` and the offsets API is only the fallback for the rare
    block whose sentences blingfire returns altered.
    """
    # Blingfire turns a trailing line break into a space, which would defeat
    # the search below; trailing white space is never part of a sentence.
    block = block.rstrip()
    try:
        sentences = blingfire.text_to_sentences(block).split("\n")
    except Exception:  # blingfire asserts on some degenerate input
        return [(0, len(block))]
    offsets, cursor = [], 0
    for sentence in sentences:
        if not sentence:
            continue
        start = block.find(sentence, cursor)
        if start < 0:
            try:
                found = blingfire.text_to_sentences_and_offsets(block)[1]
            except Exception:
                found = []
            return found or [(0, len(block))]
        cursor = start + len(sentence)
        offsets.append((start, cursor))
    return offsets or [(0, len(block))]


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentences; never raises, offsets always slice back."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    safe = _UNSAFE.sub(" ", text)
    spans: list[Span] = []
    for block_start, block_end in _blocks(safe):
        block = safe[block_start:block_end]
        if not block.strip():
            continue
        for rel_start, rel_end in _sentence_offsets(block):
            start, end = _trim(safe, block_start + rel_start, block_start + rel_end)
            if start < end:
                spans.append(Span(start, end, text[start:end]))
    return spans
