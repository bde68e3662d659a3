"""Batch scoring input and output: streaming readers, bad records, output rows.

Readers decode one record at a time, so one broken line is one bad record and
memory stays flat however large the corpus (lines and files are read with a
byte cap, which also defuses gzip bombs).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator, Union

from model.labels import LABELS

PROBABILITY_COLUMNS = [f"p_{label}" for label in LABELS]
# flags: the sentence's scope flags joined with ";" (empty when in scope).
SENTENCE_COLUMNS = ["id", "index", "start", "end", "text", "label", "confidence", *PROBABILITY_COLUMNS, "flags"]
FORMATS = ("jsonl", "csv", "parquet")


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    text: str
    source: str
    line: int
    # The input's other fields (JSONL keys, CSV columns; a directory's files:
    # ``path``), restricted by --keep-fields; written back under "meta".
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadRecord:
    source: str
    line: int
    id: str | None
    reason: str

    def as_json(self) -> str:
        return json.dumps(
            {"source": self.source, "line": self.line, "id": self.id, "error": self.reason},
            ensure_ascii=False,
        )


Item = Union[Record, BadRecord]


@dataclass(frozen=True)
class InputOptions:
    id_field: str = "id"
    text_field: str = "text"
    glob: str = "**/*.txt"
    stdin_format: str = "jsonl"
    max_bytes: int = 5_000_000
    # None keeps every field other than the id and the text; a set keeps those only.
    keep_fields: frozenset[str] | None = None

    def meta(self, fields: dict) -> dict:
        return {k: v for k, v in fields.items()
                if k != self.id_field and k != self.text_field and (self.keep_fields is None or k in self.keep_fields)}


def open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _kind(path: Path) -> str:
    """Format from the name, looking through a trailing ``.gz``."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    suffix = Path(name).suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "txt"}.get(suffix, "")


def check_inputs(inputs: list[str]) -> None:
    """Fail before any work on a missing or unknown input (a clear error, exit 1)."""
    for name in inputs:
        if name == "-":
            continue
        path = Path(name)
        if not path.exists():
            raise FileNotFoundError(f"input not found: {name}")
        if path.is_file() and not _kind(path):
            raise ValueError(f"{name}: unknown input type (use .txt, .jsonl, .csv, optionally .gz)")


def iter_items(inputs: list[str], options: InputOptions) -> Iterator[Item]:
    for name in inputs:
        if name == "-":
            stream = sys.stdin.buffer
            if options.stdin_format == "txt":
                yield from _read_txt(stream, "-", "-", options)
            elif options.stdin_format == "csv":
                yield from _read_csv(stream, "-", options)
            else:
                yield from _read_jsonl(stream, "-", options)
            continue
        path = Path(name)
        if path.is_dir():
            for file in sorted(p for p in path.glob(options.glob) if p.is_file()):
                with open_binary(file) as fh:
                    yield from _read_txt(fh, str(file), file.relative_to(path).as_posix(), options,
                                         options.meta({"path": str(file)}))
            continue
        kind = _kind(path)
        with open_binary(path) as fh:
            if kind == "txt":
                doc_id = path.name[:-3] if path.name.endswith(".gz") else path.name
                yield from _read_txt(fh, name, doc_id, options)
            elif kind == "csv":
                yield from _read_csv(fh, name, options)
            else:
                yield from _read_jsonl(fh, name, options)


def _decode(raw: bytes, source: str, line: int, doc_id: str | None) -> str | BadRecord:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadRecord(source, line, doc_id, f"not UTF-8 (byte {exc.start})")


def _read_txt(fh: IO[bytes], source: str, doc_id: str, options: InputOptions,
              meta: dict | None = None) -> Iterator[Item]:
    try:
        raw = fh.read(options.max_bytes + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield BadRecord(source, 1, doc_id, f"unreadable: {exc}")
        return
    if len(raw) > options.max_bytes:
        yield BadRecord(source, 1, doc_id, f"document larger than {options.max_bytes} bytes")
        return
    text = _decode(raw, source, 1, doc_id)
    if isinstance(text, BadRecord):
        yield text
    elif not text.strip():
        yield BadRecord(source, 1, doc_id, "empty text")
    else:
        yield Record(doc_id, text, source, 1, meta or {})


def _capped_lines(fh: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line_number, bytes)``; ``None`` for a line over ``limit`` bytes.

    An over-long line is skipped in bounded chunks, never held in memory.
    """
    number = 0
    while True:
        try:
            line = fh.readline(limit + 1)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise _Unreadable(number + 1, str(exc)) from exc
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = fh.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, line


class _Unreadable(Exception):
    def __init__(self, line: int, reason: str):
        self.line, self.reason = line, reason


def _record_from_object(obj, source: str, number: int, options: InputOptions) -> Item:
    if not isinstance(obj, dict):
        return BadRecord(source, number, None, "not a JSON object")
    raw_id = obj.get(options.id_field)
    doc_id = f"{source}:{number}" if raw_id in (None, "") else str(raw_id)
    text = obj.get(options.text_field)
    if options.text_field not in obj or text is None:
        return BadRecord(source, number, doc_id, f"missing text field {options.text_field!r}")
    if not isinstance(text, str):
        return BadRecord(source, number, doc_id, f"text field {options.text_field!r} is not a string")
    if not text.strip():
        return BadRecord(source, number, doc_id, "empty text")
    if _has_surrogates(text) or _has_surrogates(doc_id):
        # A "\ud800" escape decodes to a character UTF-8 cannot hold: it would
        # make the output unreadable (or crash the parquet writer).
        safe_id = None if _has_surrogates(doc_id) else doc_id
        return BadRecord(source, number, safe_id, "not valid Unicode (lone surrogate escape)")
    meta = options.meta(obj)
    if meta and _has_surrogates(json.dumps(meta, ensure_ascii=False)):
        # A "\ud800" escape in a field: the writers could not put it in UTF-8.
        bad = sorted(k for k, v in meta.items() if _has_surrogates(json.dumps({k: v}, ensure_ascii=False)))
        return BadRecord(source, number, doc_id, f"field {bad[0]!r} is not valid Unicode (lone surrogate escape)")
    return Record(doc_id, text, source, number, meta)


def _read_jsonl(fh: IO[bytes], source: str, options: InputOptions) -> Iterator[Item]:
    try:
        for number, raw in _capped_lines(fh, options.max_bytes):
            if raw is None:
                yield BadRecord(source, number, None, f"line longer than {options.max_bytes} bytes")
                continue
            if not raw.strip():
                continue
            text = _decode(raw, source, number, None)
            if isinstance(text, BadRecord):
                yield text
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield BadRecord(source, number, None, f"invalid JSON: {exc.msg}")
                continue
            except RecursionError:
                yield BadRecord(source, number, None, "invalid JSON: nested too deeply")
                continue
            yield _record_from_object(obj, source, number, options)
    except _Unreadable as exc:
        yield BadRecord(source, exc.line, None, f"unreadable from here on: {exc.reason}")


def _read_csv(fh: IO[bytes], source: str, options: InputOptions) -> Iterator[Item]:
    # surrogateescape keeps undecodable bytes visible per field, so one bad
    # row is one bad record instead of a crash of the whole file.
    text = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
    csv.field_size_limit(options.max_bytes)
    reader = csv.DictReader(text)
    try:
        header = reader.fieldnames or []
    except (csv.Error, OSError, EOFError) as exc:
        yield BadRecord(source, 1, None, f"unreadable CSV header: {exc}")
        return
    if options.text_field not in header:
        yield BadRecord(source, 1, None, f"no {options.text_field!r} column in the header")
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, OSError, EOFError) as exc:
            yield BadRecord(source, reader.line_num, None, f"unreadable CSV row: {exc}")
            return
        number = reader.line_num
        if any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
            yield BadRecord(source, number, None, "not UTF-8")
            continue
        if None in row:
            yield BadRecord(source, number, None, "more fields than the header")
            continue
        yield _record_from_object(row, source, number, options)


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def output_format(output: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    if output == "-":
        return "jsonl"
    suffix = Path(output).suffix.lower()
    fmt = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(suffix)
    if fmt is None:
        raise ValueError(f"cannot tell the output format from {output!r}; use --format")
    return fmt


def default_errors_path(output: str) -> str:
    return "framing-score.errors.jsonl" if output == "-" else f"{output}.errors.jsonl"


def check_writable(path: str) -> None:
    """Fail before any work when the output cannot be created."""
    if path == "-":
        return
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise PermissionError(f"cannot write {path}: directory {parent} does not exist")
    if target.is_dir():
        raise PermissionError(f"cannot write {path}: it is a directory")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise PermissionError(f"cannot write {path}: permission denied")
