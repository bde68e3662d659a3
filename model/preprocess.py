"""Text normalisation plugged into the vectorizer (it replaces sklearn's own).

It is a module-level function so joblib pickles it by import path, and the
fitted pipeline applies exactly the same steps at training and serving time.
"""

from __future__ import annotations

import re
import unicodedata

# Quote marks carry framing (scare quotes around "special military operation"
# or "invasion"), but the default token pattern drops punctuation, so every
# quote mark becomes the word-like token ``qq``.
_QUOTES = re.compile(
    r"[\"\u201c\u201d\u201e\u00ab\u00bb\u2018\u2019']+(?=\W|$)"
    r"|(?<=\W)[\"\u201c\u201d\u201e\u00ab\u00bb\u2018']+"
    r"|^[\"\u201c\u201d\u201e\u00ab\u00bb\u2018']+"
)
_APOSTROPHE = re.compile(r"[\u2019\u2018`]")
_DIGITS = re.compile(r"\d")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case, fold Unicode variants, mark quotes, and map digits to 0.

    Numbers rarely carry framing, and collapsing them keeps "1,600" and "2,300"
    from becoming separate rare features.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _QUOTES.sub(" qq ", text)
    text = _APOSTROPHE.sub("'", text)
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip().lower()
