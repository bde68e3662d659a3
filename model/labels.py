"""The label set: the only copy of the label strings in the project."""

LABELS: tuple[str, ...] = ("pro_russia", "neutral", "pro_ukraine")
