"""The label set: the only copy of the label strings in the project."""

LABELS: tuple[str, ...] = ("pro_russia", "neutral", "pro_ukraine")

# How people read the labels (the web page and the report): a name, a short
# badge that works without colour, the underline style that marks the label in
# print, and its colour (service/static/app.css holds the same, as --ru/--ne/--ua).
DISPLAY: dict[str, dict[str, str]] = {
    "pro_russia": {"name": "pro-Russia", "badge": "RU", "underline": "solid", "colour": "#d73027"},
    "neutral": {"name": "neutral", "badge": "N", "underline": "dotted", "colour": "#82828c"},
    "pro_ukraine": {"name": "pro-Ukraine", "badge": "UA", "underline": "double", "colour": "#2166ac"},
}
assert tuple(DISPLAY) == LABELS
