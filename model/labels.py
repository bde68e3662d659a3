"""The label set: the only copy of the label strings in the project."""

LABELS: tuple[str, ...] = ("pro_russia", "neutral", "pro_ukraine")

# How people read the labels (the web page): a name, a short badge that works
# without colour, and the underline style that marks the label in print.
DISPLAY: dict[str, dict[str, str]] = {
    "pro_russia": {"name": "pro-Russia", "badge": "RU", "underline": "solid"},
    "neutral": {"name": "neutral", "badge": "N", "underline": "dotted"},
    "pro_ukraine": {"name": "pro-Ukraine", "badge": "UA", "underline": "double"},
}
assert tuple(DISPLAY) == LABELS
