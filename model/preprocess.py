"""Text normalisation plugged into the vectorizer (it replaces sklearn's own).

It is a module-level function so joblib pickles it by import path, and the
fitted pipeline applies exactly the same steps at training and serving time.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

# Tokens are runs of word characters after normalize(): single letters and
# "0" (every number) included.
TOKEN_PATTERN = r"(?u)\b\w+\b"

# Quote marks carry framing (scare quotes around "special military operation"
# or "invasion"), but the default token pattern drops punctuation, so every
# quote mark becomes the word-like token ``qq``.
_QUOTES = re.compile(
    r"[\"\u201c\u201d\u201e\u00ab\u00bb\u2018\u2019']+(?=\W|$)"
    r"|(?<=\W)[\"\u201c\u201d\u201e\u00ab\u00bb\u2018']+"
    r"|^[\"\u201c\u201d\u201e\u00ab\u00bb\u2018']+"
)
# One pass for what used to be two substitutions: curly apostrophes and
# backticks become "'", and every decimal digit (Unicode category Nd, what
# the regex ``\d`` matches) becomes "0". The full table takes ~0.1 s to
# build, so it is built on the first non-ASCII text only.
_ASCII_FOLD = str.maketrans("123456789`", "000000000'")


@functools.cache
def _unicode_fold() -> dict[int, str]:
    digits = {c: "0" for c in range(sys.maxunicode + 1) if chr(c).isdecimal()}
    return digits | {ord("\u2019"): "'", ord("\u2018"): "'", ord("`"): "'"}


def normalize(text: str) -> str:
    """Lower-case, fold Unicode variants, mark quotes, and map digits to 0.

    Numbers rarely carry framing, and collapsing them keeps "1,600" and "2,300"
    from becoming separate rare features. Runs once per sentence on every
    path, so it is written for speed (ASCII text skips NFKC, which leaves it
    unchanged; ``str.split`` splits on exactly the regex whitespace class);
    tests/test_preprocess.py holds it to the plain regex version.
    """
    if text.isascii():
        fold = _ASCII_FOLD
    else:
        text, fold = unicodedata.normalize("NFKC", text), _unicode_fold()
    return " ".join(_QUOTES.sub(" qq ", text).translate(fold).split()).lower()
