"""Load and validate labeled sentences (the bundled corpus or a user's own).

Validation is strict because the model can only be as consistent as its data:
every row must be one sentence as the project's splitter would produce it, with
one of the three labels, and no text may appear twice.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import click

from model.labels import LABELS
from model.sentences import split_sentences

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
# The real-news dev set, read from beside the checkout when it is there (never committed).
DEFAULT_DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "dev" / "dev.jsonl"
REQUIRED_COLUMNS = ("doc_id", "text", "label")


class DatasetError(ValueError):
    """Invalid labeled data; ``problems`` lists every ``file:line: reason``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:20]
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} problem(s) in the labeled data:\n" + "\n".join(shown) + more
        )


@dataclass(frozen=True)
class Example:
    source: str
    line: int
    doc_id: str
    text: str
    label: str
    kind: str | None = None  # register of an evaluation row (headline, subheading...), if given


def as_paths(paths: Path | str | Sequence[Path | str]) -> list[Path]:
    """One path or several (``framing-train --data`` repeated)."""
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def data_files(paths: Path | Sequence[Path]) -> list[Path]:
    """Each file given, and every ``*.csv``/``*.jsonl`` below each directory, in sorted order."""
    files: list[Path] = []
    for path in as_paths(paths):
        for file in _files(path):
            if file not in files:
                files.append(file)
    return files


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".csv", ".jsonl"))
        if not files:
            raise DatasetError([f"{path}: no .csv or .jsonl files"])
        return files
    if not path.is_file():
        raise DatasetError([f"{path}: no such file or directory"])
    return [path]


def _read_rows(path: Path) -> Iterable[tuple[int, dict]]:
    """Yield ``(line_number, row)``; raises DatasetError for unreadable files."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            if path.suffix == ".jsonl":
                for number, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DatasetError([f"{path}:{number}: invalid JSON ({exc.msg})"]) from exc
                    if not isinstance(row, dict):
                        raise DatasetError([f"{path}:{number}: not a JSON object"])
                    yield number, row
            else:
                reader = csv.DictReader(fh)
                missing = [c for c in ("text", "label") if c not in (reader.fieldnames or [])]
                if missing:
                    raise DatasetError([f"{path}:1: missing column(s) {', '.join(missing)}"])
                for row in reader:
                    yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise DatasetError([f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})"]) from exc


def load_examples(
    path: Path | Sequence[Path], require_doc_id: bool = True, check_sentences: bool = True
) -> list[Example]:
    """Read and validate every row of one or more paths; raises DatasetError listing all problems.

    A text found in two places is a problem even across paths, so a user's
    labels cannot silently repeat (or contradict) the bundled corpus.

    Args:
        require_doc_id: training needs ``doc_id`` to keep an article's sentences
            in one cross-validation fold; evaluation files may omit it.
        check_sentences: training rows must split to exactly themselves;
            evaluation data is scored one row per unit and is not re-split.
    """
    problems: list[str] = []
    examples: list[Example] = []
    for file in data_files(path):
        for number, row in _read_rows(file):
            where = f"{file}:{number}"
            text = row.get("text")
            label = row.get("label")
            doc_id = row.get("doc_id") or row.get("id")
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where}: empty text")
                continue
            if label not in LABELS:
                problems.append(
                    f"{where}: unknown label {label!r} (expected one of {', '.join(LABELS)})"
                )
                continue
            if require_doc_id and not doc_id:
                problems.append(f"{where}: empty doc_id")
                continue
            if check_sentences:
                spans = split_sentences(text)
                if len(spans) != 1 or spans[0].text != text.strip():
                    problems.append(
                        f"{where}: not exactly one sentence (the splitter finds "
                        f"{len(spans)}: {[s.text for s in spans][:3]})"
                    )
                    continue
            kind = row.get("kind") or row.get("style") or None
            examples.append(Example(str(file), number, str(doc_id or where), text.strip(), label, kind))
    problems.extend(_duplicate_problems(examples))
    if problems:
        raise DatasetError(problems)
    return examples


def _duplicate_problems(examples: list[Example]) -> list[str]:
    """Same text twice: a label conflict, or a copy that would leak across folds."""
    first: dict[str, Example] = {}
    problems = []
    for ex in examples:
        key = " ".join(ex.text.lower().split())
        seen = first.get(key)
        if seen is None:
            first[key] = ex
        elif seen.label != ex.label:
            problems.append(
                f"{ex.source}:{ex.line}: conflicting label {ex.label!r} for the same "
                f"text labeled {seen.label!r} at {seen.source}:{seen.line}"
            )
        else:
            problems.append(
                f"{ex.source}:{ex.line}: duplicate of {seen.source}:{seen.line}"
            )
    return problems


def data_sha256(files: list[Path]) -> str:
    """One digest over the data files' names and bytes, in sorted order."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def summary(examples: list[Example]) -> dict:
    counts = Counter(ex.label for ex in examples)
    return {
        "n_sentences": len(examples),
        "n_documents": len({ex.doc_id for ex in examples}),
        "label_counts": {label: counts.get(label, 0) for label in LABELS},
    }


@click.command()
@click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=DEFAULT_DATA_DIR
)
def main(path: Path) -> None:
    """Validate labeled data (a CSV/JSONL file or a directory of them).

    Exits 1 and lists every problem with its file and line.

    \b
    Example:
        framing-validate training/data
    """
    try:
        examples = load_examples(path)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    info = summary(examples)
    counts = ", ".join(f"{k} {v}" for k, v in info["label_counts"].items())
    click.echo(
        f"ok: {info['n_sentences']} sentences in {info['n_documents']} documents ({counts})",
        err=False,
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
