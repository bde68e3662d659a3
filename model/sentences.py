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
_BULLET_MARKS = "-\u2022\u2013\u2014*\u25cf\u25aa>"
_BULLET = re.compile(rf"[^\S\n]*[{re.escape(_BULLET_MARKS)}]+[^\S\n]+")
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


# A first character on which _trim may move a sentence's start: white space
# or what _BULLET can start with once white space is skipped (no character
# above U+3000 is white space).
_TRIM_FIRST = frozenset(_BULLET_MARKS) | frozenset(
    chr(c) for c in range(0x3001) if chr(c).isspace())


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


# Blingfire always ends a sentence at U+2029 (paragraph separator) and keeps
# it at the end of that sentence, so a document's blocks joined by it go
# through blingfire in one call (its per-call cost in Python is most of the
# splitter's time), and every sentence still belongs to one block. The space
# after it makes the next block read as the start of a text ("Rep. Adam
# Smith" stays whole, as it does block by block).
_BLOCK_BREAK = "\u2029 "
# Blingfire also reads past a block's end: a block that does not end in a
# word and at most a little closing punctuation ('!" ?', '? -', a control
# character) can split differently before a break than at the end of a text.
# Such documents (rare in news) go block by block.
_CLEAN_END = re.compile(r"[^\W_][.!?\u2026\"'\u201d\u2019)\]\u00bb:;,%]{0,3}\Z")


def _document_offsets(safe: str, blocks: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """Sentence offsets for all blocks at once, as :func:`_sentence_offsets` gives them per block.

    None when a block could split differently before a break (see
    ``_CLEAN_END``) or blingfire's answer cannot be mapped back cleanly (a
    sentence altered or across a block break); the caller then goes block by
    block.
    """
    parts = [safe[start:end].rstrip() for start, end in blocks]
    if any(not _CLEAN_END.search(part[-4:]) for part in parts[:-1]):  # its match is 1 to 4 characters
        return None
    joined = _BLOCK_BREAK.join(parts)
    try:
        sentences = blingfire.text_to_sentences(joined).split("\n")
    except Exception:  # blingfire asserts on some degenerate input
        return None
    offsets: list[tuple[int, int]] = []
    brk, last = len(_BLOCK_BREAK), len(parts) - 1
    k, base = 0, 0  # the block being read and its start in ``joined``
    block_end = len(parts[0])
    origin = blocks[0][0]  # joined offset + origin = offset in the text, inside block k
    cursor = 0
    blocks_seen, seen_k = 0, -1
    find, append = joined.find, offsets.append
    for sentence in sentences:
        if not sentence:
            continue
        start = find(sentence, cursor)
        if start < 0:
            return None
        end = start + len(sentence)
        while start >= block_end + brk and k < last:  # past this block and its break
            base = block_end + brk
            k += 1
            block_end = base + len(parts[k])
            origin = blocks[k][0] - base
        if end > block_end + (brk if k < last else 0):
            return None  # a sentence across a block break
        append((origin + start, origin + (end if end < block_end else block_end)))
        if k != seen_k:  # k never goes back, so this counts the blocks with sentences
            blocks_seen, seen_k = blocks_seen + 1, k
        cursor = end
    # Block by block, a block without sentences is kept whole; let that path decide.
    return offsets if blocks_seen == len(parts) else None


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentences; never raises, offsets always slice back."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    safe = _UNSAFE.sub(" ", text)
    blocks = [(a, b) for a, b in _blocks(safe) if safe[a:b].strip()]
    if not blocks:
        return []
    found = _document_offsets(safe, blocks)
    if found is None:
        found = [(block_start + rel_start, block_start + rel_end)
                 for block_start, block_end in blocks
                 for rel_start, rel_end in _sentence_offsets(safe[block_start:block_end])]
    spans: list[Span] = []
    for start, end in found:
        # Blingfire's sentences rarely need trimming: test that in line, it is
        # done once per sentence of every text scored.
        if start >= end or safe[start] in _TRIM_FIRST or safe[end - 1].isspace():
            start, end = _trim(safe, start, end)
            if start >= end:
                continue
        spans.append(Span(start, end, text[start:end]))
    return spans
