"""`framing-score` end to end: formats, bad records, resume, processes and Dask."""

import csv
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from batch.cli import main

ARTICLES = [
    "Russian forces shelled Kharkiv overnight, officials said.\nTalks resume on Wednesday.",
    "The Kyiv regime keeps shelling Donetsk. Western weapons prolong the conflict.",
    "U.S. aid worth $1.2 billion arrived on Feb. 3. Allies pledged more air defence.",
    "Refugees crossed into Poland. The grain corridor reopened after a pause.",
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _score(runner, model, *args):
    return runner.invoke(main, [*map(str, args), "--model", str(model)], catch_exceptions=False)


def _read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_documents_match_the_api(runner, tiny_model, tmp_path, client):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": t} for i, t in enumerate(ARTICLES)])
    out = tmp_path / "out.jsonl"
    result = _score(runner, tiny_model, src, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.startswith("scored 4 documents (8 sentences) in ")
    assert result.stderr.rstrip().endswith(f"0 bad records -> {out}.errors.jsonl")
    rows = _read_jsonl(out)
    assert [r["id"] for r in rows] == ["d0", "d1", "d2", "d3"]
    api = client.post("/v1/predict", json={"text": ARTICLES[1], "id": "d1"}).get_json()
    assert rows[1] == api  # same fields, same numbers as the HTTP API


def test_txt_files_directories_csv_and_gzip(runner, tiny_model, tmp_path):
    docs = tmp_path / "docs" / "sub"
    docs.mkdir(parents=True)
    (docs.parent / "a.txt").write_text(ARTICLES[0])
    (docs / "b.txt").write_text(ARTICLES[1])
    (docs / "skip.md").write_text("not picked by the glob")
    single = tmp_path / "single.txt"
    single.write_text(ARTICLES[2])
    with gzip.open(tmp_path / "in.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"doc": "g1", "body": ARTICLES[3]}) + "\n")
    with open(tmp_path / "in.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["doc", "body"], ["c1", ARTICLES[0]]])
    out = tmp_path / "out.jsonl"
    result = _score(runner, tiny_model, tmp_path / "docs", single, tmp_path / "in.jsonl.gz", tmp_path / "in.csv",
                    "-o", out, "--id-field", "doc", "--text-field", "body")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in _read_jsonl(out)] == ["a.txt", "sub/b.txt", "single.txt", "g1", "c1"]


def test_sentence_rows_csv_and_parquet(runner, tiny_model, tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "d0", "text": ARTICLES[0]}, {"id": "d1", "text": ARTICLES[1]}])
    out_csv = tmp_path / "s.csv"
    assert _score(runner, tiny_model, src, "-o", out_csv, "--granularity", "sentence").exit_code == 0
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id", "index", "start", "end", "text", "label", "confidence",
                             "p_pro_russia", "p_neutral", "p_pro_ukraine", "flags", "meta"]
    assert {r["meta"] for r in rows} == {"{}"}
    assert [(r["id"], r["index"]) for r in rows] == [("d0", "0"), ("d0", "1"), ("d1", "0"), ("d1", "1")]
    assert ARTICLES[0][int(rows[1]["start"]):int(rows[1]["end"])] == rows[1]["text"]
    pq = pytest.importorskip("pyarrow.parquet")
    out_pq = tmp_path / "s.parquet"
    assert _score(runner, tiny_model, src, "-o", out_pq, "--granularity", "sentence").exit_code == 0
    table = pq.read_table(out_pq).to_pylist()
    assert [(r["id"], r["index"], r["label"]) for r in table] == [(r["id"], int(r["index"]), r["label"]) for r in rows]


def test_input_fields_are_kept_as_meta(runner, tiny_model, tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", [
        {"id": "d0", "text": ARTICLES[0], "source": "Wire A", "date": "2026-03-01", "tags": ["war", "talks"]},
        {"id": "d1", "text": ARTICLES[1], "source": "Site B", "url": "https://example.org/b"},
        {"id": "d2", "text": ARTICLES[2]},
    ])
    out = tmp_path / "out.jsonl"
    assert _score(runner, tiny_model, src, "-o", out).exit_code == 0
    rows = _read_jsonl(out)
    assert rows[0]["meta"] == {"source": "Wire A", "date": "2026-03-01", "tags": ["war", "talks"]}
    assert rows[1]["meta"] == {"source": "Site B", "url": "https://example.org/b"}
    assert "meta" not in rows[2]  # nothing to keep: the API's shape exactly
    assert list(rows[0]) == ["id", "meta", "model", "sentences", "document"]
    # --keep-fields restricts; '' keeps none
    assert _score(runner, tiny_model, src, "-o", out, "--keep-fields", "source, date").exit_code == 0
    assert [r.get("meta") for r in _read_jsonl(out)] == [
        {"source": "Wire A", "date": "2026-03-01"}, {"source": "Site B"}, None]
    assert _score(runner, tiny_model, src, "-o", out, "--keep-fields", "").exit_code == 0
    assert all("meta" not in r for r in _read_jsonl(out))
    # a directory's files carry their path; CSV columns are strings
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(ARTICLES[3])
    with open(tmp_path / "in.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["id", "text", "outlet", "published"], ["c1", ARTICLES[0], "Paper C", "2026-02-02"]])
    assert _score(runner, tiny_model, tmp_path / "docs", tmp_path / "in.csv", "-o", out).exit_code == 0
    rows = _read_jsonl(out)
    assert rows[0]["meta"] == {"path": str(tmp_path / "docs" / "a.txt")}
    assert rows[1]["meta"] == {"outlet": "Paper C", "published": "2026-02-02"}


def test_meta_in_sentence_rows(runner, tiny_model, tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", [
        {"id": "d0", "text": ARTICLES[0], "source": "Wire A", "n": 3},
        {"id": "d1", "text": ARTICLES[1], "source": "Site B", "extra": {"k": "v"}},
    ])
    out = tmp_path / "s.jsonl"
    assert _score(runner, tiny_model, src, "-o", out, "--granularity", "sentence").exit_code == 0
    assert [r["meta"]["source"] for r in _read_jsonl(out)] == ["Wire A", "Wire A", "Site B", "Site B"]
    # CSV: one meta.NAME column per kept field, missing ones empty, others as JSON
    out_csv = tmp_path / "s.csv"
    assert _score(runner, tiny_model, src, "-o", out_csv, "--granularity", "sentence",
                  "--keep-fields", "source,n,extra").exit_code == 0
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[-3:] == ["meta.extra", "meta.n", "meta.source"]
    assert [(r["meta.source"], r["meta.n"], r["meta.extra"]) for r in rows] == [
        ("Wire A", "3", ""), ("Wire A", "3", ""), ("Site B", "", '{"k":"v"}'), ("Site B", "", '{"k":"v"}')]
    # without --keep-fields: the whole object as JSON in one column, nothing lost
    assert _score(runner, tiny_model, src, "-o", out_csv, "--granularity", "sentence").exit_code == 0
    with open(out_csv, newline="") as fh:
        assert [json.loads(r["meta"]) for r in csv.DictReader(fh)][2] == {"source": "Site B", "extra": {"k": "v"}}
    # resuming with other columns is refused, not mixed into one file
    result = _score(runner, tiny_model, src, "-o", out_csv, "--granularity", "sentence", "--resume",
                    "--keep-fields", "source")
    assert result.exit_code == 1 and "same --keep-fields?" in result.output
    pq = pytest.importorskip("pyarrow.parquet")
    out_pq = tmp_path / "s.parquet"
    assert _score(runner, tiny_model, src, "-o", out_pq, "--granularity", "sentence",
                  "--keep-fields", "source").exit_code == 0
    assert [r["meta.source"] for r in pq.read_table(out_pq).to_pylist()] == ["Wire A", "Wire A", "Site B", "Site B"]


def test_a_meta_field_that_cannot_be_written_is_a_bad_record(runner, tiny_model, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Talks resumed.", "note": "\\ud800"}\n'
                   '{"id": "b", "text": "Kyiv said it would respond.", "note": "fine"}\n')
    out = tmp_path / "out.jsonl"
    assert _score(runner, tiny_model, src, "-o", out).exit_code == 0
    assert [r["id"] for r in _read_jsonl(out)] == ["b"]
    bad = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert bad == [{"source": str(src), "line": 1, "id": "a",
                    "error": "field 'note' is not valid Unicode (lone surrogate escape)"}]


def test_stdin_to_stdout(runner, tiny_model):
    result = runner.invoke(main, ["-", "-o", "-", "--model", str(tiny_model), "--errors", os.devnull],
                           input=json.dumps({"id": "x", "text": ARTICLES[0]}) + "\n")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"] == "x"


def test_bad_records_are_logged_and_the_run_goes_on(runner, tiny_model, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "ok1", "text": "Talks resumed."}\n'
        b'{"id": "empty", "text": "  "}\n'
        b"not json\n"
        b'{"id": "notext"}\n'
        b'{"id": "num", "text": 5}\n'
        b'{"id": "ok1", "text": "Same id again."}\n'
        b'{"id": "bad", "text": "caf\xe9"}\n'
        b"[1, 2]\n"
        b'{"id": "ok2", "text": "Kyiv said it would respond."}\n'
    )
    out = tmp_path / "out.jsonl"
    result = _score(runner, tiny_model, src, "-o", out)
    assert result.exit_code == 0
    assert [r["id"] for r in _read_jsonl(out)] == ["ok1", "ok2"]
    errors = _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [(e["line"], e["id"], e["error"]) for e in errors] == [
        (2, "empty", "empty text"),
        (3, None, "invalid JSON: Expecting value"),
        (4, "notext", "missing text field 'text'"),
        (5, "num", "text field 'text' is not a string"),
        (6, "ok1", f"duplicate id (first at {src}:1); not scored"),
        (7, None, "not UTF-8 (byte 26)"),
        (8, None, "not a JSON object"),
    ]
    assert all(e["source"] == str(src) for e in errors)
    assert "7 bad records" in result.stderr
    strict = _score(runner, tiny_model, src, "-o", tmp_path / "o2.jsonl", "--strict")
    assert strict.exit_code == 1


def test_oversized_and_gzip_bomb_lines_are_bad_records(runner, tiny_model, tmp_path):
    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb") as fh:
        fh.write(b'{"id": "a", "text": "Fine text."}\n')
        fh.write(b'{"id": "huge", "text": "' + b"A" * 20_000_000 + b'"}\n')
        fh.write(b'{"id": "b", "text": "Also fine."}\n')
    assert bomb.stat().st_size < 100_000
    out = tmp_path / "out.jsonl"
    result = _score(runner, tiny_model, bomb, "-o", out, "--max-bytes", "100000")
    assert result.exit_code == 0
    assert [r["id"] for r in _read_jsonl(out)] == ["a", "b"]
    assert _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")[0]["error"] == "line longer than 100000 bytes"


def test_csv_bad_rows(runner, tiny_model, tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b"id,text\nc1,Talks resumed.\nc2,caf\xe9 closed\nc3,\nc4,Fine again.\n")
    out = tmp_path / "out.jsonl"
    assert _score(runner, tiny_model, src, "-o", out).exit_code == 0
    assert [r["id"] for r in _read_jsonl(out)] == ["c1", "c4"]
    assert [(e["line"], e["error"]) for e in _read_jsonl(tmp_path / "out.jsonl.errors.jsonl")] == [
        (3, "not UTF-8"), (4, "empty text")]


@pytest.mark.parametrize(
    "args, code, message",
    # 1: click.ClickException (the run cannot start); 2: usage error.
    [(["missing.jsonl", "-o", "out.jsonl"], 1, "Error: input not found: missing.jsonl"),
     (["in.jsonl", "-o", "no/such/dir/out.jsonl"], 1, "Error: cannot write no/such/dir/out.jsonl: directory no/such/dir does not exist"),
     (["in.jsonl", "-o", "out.txt"], 2, "cannot tell the output format from 'out.txt'; use --format"),
     (["in.jsonl", "-o", "out.csv"], 2, "--granularity document writes JSON lines; use --granularity sentence for csv")],
    ids=["missing-input", "unwritable-output", "unknown-format", "csv-documents"],
)
def test_clear_errors_before_work(runner, tiny_model, tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Hi."}])
    result = runner.invoke(main, [*args, "--model", str(tiny_model)])
    assert result.exit_code == code
    assert message in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_jobs_give_identical_output(runner, tiny_model, tmp_path):
    rows = [{"id": f"d{i}", "text": ARTICLES[i % 4] + f" Item {i}."} for i in range(300)]
    src = _jsonl(tmp_path / "in.jsonl", rows)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert _score(runner, tiny_model, src, "-o", one, "--chunk-size", "7").exit_code == 0
    assert _score(runner, tiny_model, src, "-o", two, "--jobs", "2", "--chunk-size", "7").exit_code == 0
    assert one.read_bytes() == two.read_bytes()


def _corpus(tmp_path, n):
    rng = random.Random(7)
    rows = [{"id": f"doc-{i:05d}", "text": " ".join(rng.choice(ARTICLES) for _ in range(3))} for i in range(n)]
    return _jsonl(tmp_path / "corpus.jsonl", rows), rows


@pytest.mark.slow
@pytest.mark.parametrize("granularity, suffix", [("document", "jsonl"), ("sentence", "csv")])
def test_sigkill_then_resume_gives_every_document_once(tiny_model, tmp_path, granularity, suffix):
    src, rows = _corpus(tmp_path, 3000)
    reference = tmp_path / f"ref.{suffix}"
    cmd = [sys.executable, "-m", "batch.cli", str(src), "--model", str(tiny_model),
           "--granularity", granularity, "--chunk-size", "16"]
    subprocess.run(cmd + ["-o", str(reference)], check=True, capture_output=True)
    out = tmp_path / f"out.{suffix}"
    kills = 0
    for delay in (0.6, 0.9, 1.2, 1.5, 1.8):  # five different points in the run
        proc = subprocess.Popen(cmd + ["-o", str(out), "--resume"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    subprocess.run(cmd + ["-o", str(out), "--resume"], check=True, capture_output=True)
    assert kills >= 3
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.dask
def test_dask_local_cluster_matches_single_process(tiny_model, tmp_path):
    pytest.importorskip("distributed")
    src, _ = _corpus(tmp_path, 400)
    single, clustered = tmp_path / "single.jsonl", tmp_path / "dask.jsonl"
    base = [sys.executable, "-m", "batch.cli", str(src), "--model", str(tiny_model), "--chunk-size", "25"]
    subprocess.run(base + ["-o", str(single)], check=True, capture_output=True)
    result = subprocess.run(base + ["-o", str(clustered), "--scheduler", "local", "--jobs", "2"],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "scored 400 documents" in result.stderr
    assert clustered.read_bytes() == single.read_bytes()


@pytest.mark.dask
def test_dask_scheduler_address_ships_model_bytes(tiny_model, tmp_path):
    distributed = pytest.importorskip("distributed")
    src, _ = _corpus(tmp_path, 60)
    single = tmp_path / "single.jsonl"
    base = [sys.executable, "-m", "batch.cli", str(src), "--model", str(tiny_model)]
    subprocess.run(base + ["-o", str(single)], check=True, capture_output=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        out = tmp_path / "remote.jsonl"
        result = subprocess.run(base + ["-o", str(out), "--scheduler", cluster.scheduler_address],
                                capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_bytes() == single.read_bytes()


def test_dask_scheduler_without_dask_is_one_line(runner, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import now fails as if not installed
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Talks resumed."}])
    result = runner.invoke(main, [str(src), "-o", str(tmp_path / "out.jsonl"), "--model", str(tiny_model),
                                  "--scheduler", "local"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --scheduler needs Dask, which is not installed: ")
    assert result.output.rstrip().endswith("-m pip install -e '" + str(ROOT) + "[dask]'")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.jsonl").exists()


def test_meta_beyond_64_bit_integers_is_kept(runner, tiny_model, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Talks resumed.", "n": 123456789012345678901234567890}\n')
    out = tmp_path / "s.csv"
    assert _score(runner, tiny_model, src, "-o", tmp_path / "d.jsonl").exit_code == 0
    assert _read_jsonl(tmp_path / "d.jsonl")[0]["meta"] == {"n": 123456789012345678901234567890}
    assert _score(runner, tiny_model, src, "-o", out, "--granularity", "sentence", "--keep-fields", "n").exit_code == 0
    assert list(csv.DictReader(open(out, newline="")))[0]["meta.n"] == "123456789012345678901234567890"
