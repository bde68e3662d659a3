"""`framing-score`: score corpora sentence by sentence, crash-safe and resumable."""

from __future__ import annotations

import itertools
import logging
import sys
import time
from pathlib import Path
from typing import Iterator

import click
from tqdm import tqdm

from batch import executors
from batch.inputs import (
    FORMATS,
    BadRecord,
    InputOptions,
    Record,
    check_inputs,
    check_writable,
    default_errors_path,
    iter_items,
    output_format,
)
from batch.outputs import ErrorLog, OutputError, Writer, resume_scan
from model.artifact import ArtifactError, read_metadata, resolve_model_dir

# This checkout, for the install hint (an editable install runs from it).
_PROJECT = Path(__file__).resolve().parent.parent
CHECKPOINT_DOCS = 1000
CHECKPOINT_SECONDS = 5.0


class Run:
    """Counts and the stream of records to score (bad ones diverted to the log)."""

    def __init__(self, errors: ErrorLog, done: set[str]):
        self.errors = errors
        self.done = done
        self.seen: dict[str, tuple[str, int]] = {}
        self.skipped = 0

    def records(self, items) -> Iterator[Record]:
        for item in items:
            if isinstance(item, BadRecord):
                self.errors.add(item)
                continue
            first = self.seen.get(item.id)
            if first is not None:
                self.errors.add(BadRecord(item.source, item.line, item.id,
                                          f"duplicate id (first at {first[0]}:{first[1]}); not scored"))
                continue
            self.seen[item.id] = (item.source, item.line)
            if item.id in self.done:
                self.skipped += 1
                continue
            yield item


def _check_dask() -> None:
    """Fail before any work, in one line, when the ``[dask]`` extra is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(
            "--scheduler needs Dask, which is not installed: "
            f"{sys.executable} -m pip install -e '{_PROJECT}[dask]'"
        ) from exc


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while chunk := list(itertools.islice(records, size)):
        yield chunk


_INPUT_OPTIONS = [
    click.option("--id-field", default="id", show_default=True, help="JSONL/CSV field holding the document id."),
    click.option("--text-field", default="text", show_default=True, help="JSONL/CSV field holding the text."),
    click.option("--glob", "glob_pattern", default="**/*.txt", show_default=True,
                 help="Files to take from directory inputs."),
    click.option("--stdin-format", type=click.Choice(["jsonl", "csv", "txt"]), default="jsonl",
                 show_default=True, help="What - (stdin) holds; txt means one document."),
    click.option("--max-bytes", type=click.IntRange(1), default=5_000_000, show_default=True,
                 help="Largest document or line; larger ones are bad records."),
    click.option("--keep-fields", default=None, metavar="A,B",
                 help="Input fields kept as the document's metadata (\"meta\"): comma-separated names; "
                 "'' keeps none [default: every field but the id and the text; a directory's files: path]."),
]


def keep_fields_option(value: str | None) -> frozenset[str] | None:
    """--keep-fields as InputOptions.keep_fields: None (all), or the names given."""
    if value is None:
        return None
    return frozenset(name.strip() for name in value.split(",") if name.strip())


def input_options(func):
    """The reader options every command that reads corpora takes (framing-score, framing-label import):
    id_field, text_field, glob_pattern, stdin_format, max_bytes, keep_fields."""
    for option in reversed(_INPUT_OPTIONS):
        func = option(func)
    return func


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--output", "-o", required=True, help="Output file (.jsonl, .csv, .parquet) or - for stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format [default: from the output's extension; jsonl for -].")
@click.option("--granularity", type=click.Choice(["document", "sentence"]), default="document",
              show_default=True, help="One line per document (the API's fields) or one row per sentence.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, envvar="FRAMING_MODEL_DIR",
              help="Model directory, verified before use [default: $FRAMING_MODEL_DIR, else the "
              "project's model/artifacts/default].")
@click.option("--errors", "errors_path", default=None,
              help="Bad records file [default: OUTPUT.errors.jsonl].")
@input_options
@click.option("--jobs", "-j", type=click.IntRange(1), default=1, show_default=True,
              help="Local worker processes (each loads the model once); workers for --scheduler local.")
@click.option("--scheduler", default=None,
              help="Dask scheduler address (tcp://host:8786), or 'local' to start a LocalCluster.")
@click.option("--chunk-size", type=click.IntRange(1), default=64, show_default=True,
              help="Documents per task.")
@click.option("--resume", is_flag=True, help="Keep the output, skip documents already in it.")
@click.option("--strict", is_flag=True, help="Exit 1 if any record was bad.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr [default: only on a terminal].")
def main(inputs, output, fmt, granularity, model_dir, errors_path, id_field, text_field, glob_pattern,
         stdin_format, max_bytes, keep_fields, jobs, scheduler, chunk_size, resume, strict, progress):
    """Score INPUT... (.txt files, directories, .jsonl, .csv, - for stdin; .gz too).

    Each document is split into sentences and scored with the same code as the
    HTTP API. Bad records go to the errors file and the run goes on. Output is
    appended whole document by whole document, so a killed run can be resumed
    with --resume and every document ends up exactly once.

    \b
    Example:
        framing-score articles/ news.jsonl.gz -o scores.jsonl
        framing-score news.csv -o sentences.csv --granularity sentence --jobs 2
        framing-score news.jsonl -o scores.jsonl --scheduler tcp://10.0.0.5:8786
    """
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        fmt = output_format(output, fmt)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if granularity == "document" and fmt != "jsonl":
        raise click.UsageError(f"--granularity document writes JSON lines; use --granularity sentence for {fmt}")
    if resume and (fmt == "parquet" or output == "-"):
        raise click.UsageError("--resume needs a .jsonl or .csv output file")
    errors_path = errors_path or default_errors_path(output)
    model_dir = resolve_model_dir(model_dir)
    if scheduler:
        _check_dask()
    try:
        check_inputs(list(inputs))
        check_writable(output)
        check_writable(errors_path)
        read_metadata(model_dir)
        if fmt == "parquet":
            import pyarrow  # noqa: F401
    except ImportError as exc:
        raise click.ClickException("parquet output needs pyarrow: pip install 'framing-classifier[parquet]'") from exc
    except (OSError, ValueError, ArtifactError) as exc:
        raise click.ClickException(str(exc)) from exc

    keep = keep_fields_option(keep_fields)
    started = time.perf_counter()
    try:
        done = resume_scan(Path(output), fmt, granularity, keep) if resume else set()
        errors = ErrorLog(errors_path, resume)
        writer = Writer(output, fmt, granularity, append=resume, keep_fields=keep)
    except OutputError as exc:
        raise click.ClickException(str(exc)) from exc

    ship = scheduler not in (None, "local")
    source = executors.model_source(model_dir, ship_bytes=ship)
    run = Run(errors, done)
    items = iter_items(list(inputs), InputOptions(id_field, text_field, glob_pattern, stdin_format, max_bytes, keep))
    chunks = _chunks(run.records(items), chunk_size)
    if scheduler:
        results = executors.run_dask(source, chunks, granularity, scheduler, jobs)
    elif jobs > 1:
        results = executors.run_processes(source, chunks, granularity, jobs)
    else:
        results = executors.run_local(source, chunks, granularity)

    n_docs = n_sents = 0
    last_checkpoint, since = time.monotonic(), 0
    bar = tqdm(unit=" docs", file=sys.stderr, disable=(not progress) if progress is not None else None,
               dynamic_ncols=True, mininterval=0.5)
    try:
        for chunk in results:
            for _doc_id, n, payload in chunk:
                writer.write(payload)
                n_docs += 1
                n_sents += n
                since += 1
            bar.update(len(chunk))
            elapsed = max(time.perf_counter() - started, 1e-9)
            bar.set_postfix_str(f"{n_sents / elapsed:,.0f} sentences/s, {run.errors.count} bad", refresh=False)
            if since >= CHECKPOINT_DOCS or time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                writer.checkpoint()
                last_checkpoint, since = time.monotonic(), 0
        writer.close()
    except OutputError as exc:
        raise click.ClickException(str(exc)) from exc
    except ArtifactError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        bar.close()
        errors.close()

    elapsed = max(time.perf_counter() - started, 1e-9)
    line = (
        f"scored {n_docs:,} documents ({n_sents:,} sentences) in {elapsed:.1f}s "
        f"({n_docs / elapsed:,.0f} docs/s, {n_sents / elapsed:,.0f} sentences/s); "
        f"{errors.count:,} bad records -> {errors_path}"
    )
    if run.skipped:
        line += f"; {run.skipped:,} already in the output (resumed)"
    click.echo(line, err=True)
    if strict and errors.count:
        sys.exit(1)


if __name__ == "__main__":
    main()
