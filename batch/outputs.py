"""Crash-safe batch output: whole-record appends, fsync checkpoints, resume scan.

Each document's output (one JSON line, or all its sentence rows) goes to the
file in a single write, so a crash can only cut the last document short. On
``--resume`` the file is scanned, that possibly-cut last document is truncated
away, and the ids already present are skipped.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterator

import orjson

from batch.inputs import PROBABILITY_COLUMNS, SENTENCE_COLUMNS, BadRecord


def json_line(obj: Any) -> bytes:
    """One compact JSON line (no newline) in UTF-8.

    orjson writes a scored document about 5x faster than ``json.dumps``
    (``benchmarks/batch_speed.py``); text it refuses (a lone surrogate, which
    the readers already turn into a bad record) falls back to ``json``.
    """
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


class OutputError(RuntimeError):
    """Writing failed (disk full, permissions); the output stays resumable."""


def _fsync(fh) -> None:
    """fsync a regular file; pipes and /dev/null cannot be synced and need not be."""
    try:
        os.fsync(fh.fileno())
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise


def _lines_with_offsets(path: Path) -> Iterator[tuple[int, int, bytes]]:
    with open(path, "rb") as fh:
        pos = 0
        for line in fh:
            yield pos, pos + len(line), line
            pos += len(line)


def _scan_jsonl(path: Path, id_key: str) -> list[tuple[int, int, str]]:
    """``(start, end, id)`` for every complete, parseable line."""
    rows = []
    for start, end, line in _lines_with_offsets(path):
        if not line.endswith(b"\n"):
            break
        try:
            rows.append((start, end, str(json.loads(line)[id_key])))
        except (ValueError, KeyError, TypeError):
            break
    return rows


def sentence_columns(keep_fields: frozenset[str] | None) -> list[str]:
    """CSV/Parquet sentence columns: the fixed ones, then the input's metadata:
    one ``meta.NAME`` column per --keep-fields name, else one ``meta`` column
    holding the whole object as JSON (rows differ in their fields; none is lost)."""
    if keep_fields is None:
        return [*SENTENCE_COLUMNS, "meta"]
    return [*SENTENCE_COLUMNS, *(f"meta.{name}" for name in sorted(keep_fields))]


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return "" if value is None else value
    return json_line(value).decode("utf-8")


def flat_row(row: dict[str, Any], columns: list[str]) -> list[Any]:
    """A sentence row (executors._sentence_rows) as the values of ``columns``."""
    meta = row.get("meta") or {}
    out = []
    for column in columns:
        if column == "meta":
            out.append(json_line(meta).decode("utf-8"))
        elif column.startswith("meta."):
            out.append(_cell(meta.get(column[5:])))
        else:
            out.append(row[column])
    return out


def _scan_csv(path: Path, columns: list[str]) -> list[tuple[int, int, str]]:
    rows = []
    state = {"pos": 0}

    def lines():
        for _start, end, line in _lines_with_offsets(path):
            state["pos"] = end
            yield line.decode("utf-8", "replace")

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        return rows
    if header != columns:
        raise OutputError(f"{path}: its columns are not this run's ({','.join(header)} against "
                          f"{','.join(columns)}: same --keep-fields?); cannot resume")
    previous = state["pos"]
    try:
        for row in reader:
            if len(row) != len(columns):
                break
            rows.append((previous, state["pos"], row[0]))
            previous = state["pos"]
    except csv.Error:
        pass
    return rows


def resume_scan(path: Path, fmt: str, granularity: str, keep_fields: frozenset[str] | None = None) -> set[str]:
    """Truncate a possibly partial tail and return the ids fully written."""
    if not path.exists() or path.stat().st_size == 0:
        return set()
    rows = _scan_csv(path, sentence_columns(keep_fields)) if fmt == "csv" else _scan_jsonl(path, "id")
    if fmt == "csv" and not rows:
        keep = _csv_header_end(path)
    elif granularity == "sentence" and rows:
        # The last document may have been cut between its rows: drop it whole.
        last_id = rows[-1][2]
        first = len(rows) - 1
        while first > 0 and rows[first - 1][2] == last_id:
            first -= 1
        keep = rows[first][0]
        rows = rows[:first]
    else:
        keep = rows[-1][1] if rows else 0
    with open(path, "r+b") as fh:
        fh.truncate(keep)
    return {row[2] for row in rows}


def _csv_header_end(path: Path) -> int:
    with open(path, "rb") as fh:
        first = fh.readline()
    return len(first) if first.endswith(b"\n") else 0


def errors_seen(path: Path) -> set[tuple[str, int]]:
    """(source, line) of bad records already reported; truncates a cut last line."""
    if not path.exists():
        return set()
    seen, keep = set(), 0
    for _start, end, line in _lines_with_offsets(path):
        try:
            obj = json.loads(line)
            seen.add((obj["source"], obj["line"]))
        except (ValueError, KeyError, TypeError):
            break
        if not line.endswith(b"\n"):
            break
        keep = end
    with open(path, "r+b") as fh:
        fh.truncate(keep)
    return seen


class Writer:
    """Appends whole documents; ``checkpoint`` flushes and fsyncs."""

    def __init__(self, path: str, fmt: str, granularity: str, append: bool,
                 keep_fields: frozenset[str] | None = None):
        self.path, self.fmt, self.granularity = path, fmt, granularity
        self.columns = sentence_columns(keep_fields)
        self._parquet = None
        try:
            if path == "-":
                self._fh = sys.stdout.buffer
            elif fmt == "parquet":
                self._fh = None
                self._partial = f"{path}.partial"
                self._rows: list[dict[str, Any]] = []
            else:
                self._fh = open(path, "ab" if append else "wb")
            if fmt == "csv" and (path == "-" or self._fh.tell() == 0):
                self._write(self._csv_bytes([self.columns]))
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc

    @staticmethod
    def _csv_bytes(rows: list[list[Any]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue().encode("utf-8", "surrogatepass")

    def _write(self, data: bytes) -> None:
        try:
            self._fh.write(data)
        except OSError as exc:
            raise OutputError(
                f"cannot write {self.path}: {exc.strerror or exc}; the output so far is "
                "intact: free space and rerun with --resume"
            ) from exc

    def write(self, payload: Any) -> None:
        if self.fmt == "parquet":
            self._rows.extend(dict(zip(self.columns, flat_row(row, self.columns))) for row in payload)
            if len(self._rows) >= 50_000:
                self._flush_parquet()
        elif self.granularity == "document":
            self._write(payload + b"\n")  # already a JSON line (executors.score_chunk)
        elif self.fmt == "csv":
            self._write(self._csv_bytes([flat_row(row, self.columns) for row in payload]))
        else:
            self._write(b"".join(json_line(row) + b"\n" for row in payload))

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows and self._parquet is not None:
            return
        table = pa.Table.from_pylist(self._rows, schema=_parquet_schema(self.columns))
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._partial, table.schema)
        self._parquet.write_table(table)
        self._rows = []

    def checkpoint(self) -> None:
        if self._fh is None:
            return
        try:
            self._fh.flush()
            if self.path != "-":
                _fsync(self._fh)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        if self.fmt == "parquet":
            self._flush_parquet()
            self._parquet.close()
            os.replace(self._partial, self.path)
            return
        self.checkpoint()
        if self.path != "-":
            self._fh.close()


def _parquet_schema(columns: list[str]):
    import pyarrow as pa

    return pa.schema(
        [("id", pa.string()), ("index", pa.int32()), ("start", pa.int64()), ("end", pa.int64()),
         ("text", pa.string()), ("label", pa.string()), ("confidence", pa.float64())]
        + [(c, pa.float64()) for c in PROBABILITY_COLUMNS]
        + [("flags", pa.string())]
        + [(c, pa.string()) for c in columns[len(SENTENCE_COLUMNS):]]
    )


class ErrorLog:
    """Bad records, one JSON line each, skipping those a resumed run already logged."""

    def __init__(self, path: str, resume: bool):
        self.path = path
        self.count = 0
        self._seen = errors_seen(Path(path)) if resume else set()
        try:
            self._fh = open(path, "a" if resume else "w", encoding="utf-8", errors="surrogatepass")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def add(self, bad: BadRecord) -> None:
        self.count += 1
        if (bad.source, bad.line) in self._seen:
            return
        self._fh.write(bad.as_json() + "\n")

    def close(self) -> None:
        self._fh.flush()
        _fsync(self._fh)
        self._fh.close()
