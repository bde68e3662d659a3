"""Where batch chunks are scored: in-process, local worker processes, or Dask.

Every backend runs the same :func:`score_chunk` (``Classifier.predict_texts``
and the API's result records), keeps a bounded number of chunks in flight, and yields results
in input order, so the output is identical whatever runs it.
"""

from __future__ import annotations

import json
import tempfile
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Iterator

from batch.inputs import Record
from batch.outputs import json_line
from model.artifact import METADATA_FILE, MODEL_FILE
from model.classifier import Classifier, SentencePrediction
from model.labels import LABELS
from model.records import document_record, sentence_record

_MODELS: dict[str, Classifier] = {}


def _model(source: dict[str, Any]) -> Classifier:
    """Load once per process: from a path, or from bytes shipped to a Dask worker."""
    key = source["sha256"]
    model = _MODELS.get(key)
    if model is None:
        if "path" in source:
            model = Classifier.from_dir(source["path"])
        else:
            # Bytes sent once per worker: written out and loaded through the
            # same verified loader (the sha256 check still applies).
            with tempfile.TemporaryDirectory(prefix="framing-model-") as tmp:
                directory = Path(tmp)
                (directory / MODEL_FILE).write_bytes(source["files"][MODEL_FILE])
                (directory / METADATA_FILE).write_bytes(source["files"][METADATA_FILE])
                model = Classifier.from_dir(directory)
        _MODELS[key] = model
    return model


def model_source(model_dir: Path, ship_bytes: bool) -> dict[str, Any]:
    meta = json.loads((model_dir / METADATA_FILE).read_text())
    source: dict[str, Any] = {"sha256": meta["model_sha256"]}
    if ship_bytes:
        source["files"] = {
            MODEL_FILE: (model_dir / MODEL_FILE).read_bytes(),
            METADATA_FILE: (model_dir / METADATA_FILE).read_bytes(),
        }
    else:
        source["path"] = str(model_dir.resolve())
    return source


def _sentence_rows(doc_id: str, predictions: list[SentencePrediction], meta: dict) -> list[dict[str, Any]]:
    """The API's sentence record, flattened to one row (SENTENCE_COLUMNS, then ``meta``)."""
    rows = []
    for p in predictions:
        row = {"id": doc_id, **sentence_record(p)}
        probabilities = row.pop("probabilities")
        row.update({f"p_{label}": probabilities[label] for label in LABELS})
        row["flags"] = ";".join(row.pop("flags"))  # one column, as in the CSV and Parquet rows
        if meta:
            row["meta"] = meta
        rows.append(row)
    return rows


def score_chunk(source: dict[str, Any], records: list[Record], granularity: str) -> list[tuple[str, int, Any]]:
    """Score records; returns ``(id, n_sentences, payload)`` per record.

    The payload is a JSON line as bytes (document granularity) or a list of row dicts.
    """
    model = _model(source)
    out = []
    for record, predictions in zip(records, model.predict_texts([r.text for r in records])):
        if granularity == "document":
            payload: Any = json_line(document_record(record.id, model.info, predictions, record.meta or None))
        else:
            payload = _sentence_rows(record.id, predictions, record.meta)
        out.append((record.id, len(predictions), payload))
    return out


def _ordered(submit, chunks: Iterable[list[Record]], window: int) -> Iterator[list]:
    """Submit chunks keeping ``window`` in flight; yield results in order."""
    pending: deque = deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def run_local(source, chunks, granularity: str) -> Iterator[list]:
    for chunk in chunks:
        yield score_chunk(source, chunk, granularity)


def run_processes(source, chunks, granularity: str, jobs: int) -> Iterator[list]:
    with ProcessPoolExecutor(max_workers=jobs, initializer=_model, initargs=(source,)) as pool:
        yield from _ordered(lambda c: pool.submit(score_chunk, source, c, granularity), chunks, 2 * jobs)


def run_dask(source, chunks, granularity: str, scheduler: str, jobs: int) -> Iterator[list]:
    from distributed import Client, LocalCluster
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
            dashboard_address=None, host="127.0.0.1", silence_logs=40,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="30s")
    try:
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        # The model travels once per worker, not once per task.
        shipped = client.scatter(source, broadcast=True)
        yield from _ordered(
            lambda c: client.submit(score_chunk, shipped, c, granularity, pure=False),
            chunks, 3 * n_workers,
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

