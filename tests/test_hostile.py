"""Hostile input, through the API under gunicorn, raw sockets, and the batch scorer.

Every answer is either a documented 4xx JSON error (``{code, status, message}``
plus ``errors`` for 422), a correct 200 for input that is odd but valid text,
or, in the batch scorer, a scored document or a recorded bad record; never a
5xx, a crash or a dead worker. After the table the shared gunicorn still
answers and its workers are the same processes (memory under load is measured
by ``benchmarks/load.py``, not asserted here).
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import time

import psutil
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.http import HTTP_STATUS_CODES

from batch.cli import main
from model.classifier import Classifier
from model.labels import LABELS
from model.sentences import split_sentences

ERROR_KEYS = {"code", "status", "message"}
ARTICLE = "Russian forces shelled Kharkiv overnight. Talks resume on Wednesday, officials said."


def _j(obj) -> bytes:
    """JSON as a client would send it (json.dumps writes lone surrogates as \\udXXX escapes)."""
    return json.dumps(obj).encode("ascii")


def _workers(server) -> set[int]:
    """pids of the gunicorn workers (children of the master)."""
    return {child.pid for child in psutil.Process(server.proc.pid).children()}


def assert_error_body(response, status: int) -> dict:
    """A documented error: JSON, {code, status, message} (+ errors), code == HTTP status."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict)
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"errors"}
    assert body["code"] == status
    assert body["status"] == HTTP_STATUS_CODES[status]
    assert isinstance(body["message"], str) and body["message"]
    return body


def assert_scored(body: dict, text: str) -> None:
    assert body["document"]["n_sentences"] == len(body["sentences"]) >= 1
    for i, s in enumerate(body["sentences"]):
        assert s["index"] == i
        assert text[s["start"]:s["end"]] == s["text"]
        assert sum(s["probabilities"].values()) == pytest.approx(1.0)
        assert s["confidence"] == max(s["probabilities"].values())


# --------------------------------------------------------------------------- API table
# (id, path, body bytes, content type, expected status, text the 200 is scored from or
# a substring the error message/errors must contain)
P, B = "/v1/predict", "/v1/predict/batch"
JSON, TEXT = "application/json", "text/plain; charset=utf-8"
NUL_TEXT = "Kyiv\x00 said it would respond. Next\x00 sentence."
SURROGATE_TEXT = "lone \ud800 surrogate here. Next \udfff one."
BIDI_TEXT = "\u202eKyiv said\u202c the talks failed. \u200f\u2067Moscow\u2069 disagreed.\u200e"
ZERO_WIDTH_TEXT = "Zero\u200bwidth\u200c joiners\u200d here. \u2060Word\ufeffjoiner."
ZALGO_TEXT = "Z" + "\u0336\u0301\u0316" * 3000 + "algo text."
NESTED_500 = b'{"text": ' + b"[" * 500 + b"]" * 500 + b"}"
API_CASES = [
    # NUL bytes: scored (the splitter neutralises them), offsets still slice back
    ("nul-json", P, _j({"text": NUL_TEXT}), JSON, 200, NUL_TEXT),
    ("nul-plain", P, NUL_TEXT.encode(), TEXT, 200, NUL_TEXT),
    ("nul-only", P, _j({"text": "\x00\x00\x00"}), JSON, 422, "Text has no sentences."),
    # lone surrogates arrive as JSON escapes; the API answers with escapes again
    ("surrogate-json", P, _j({"text": SURROGATE_TEXT}), JSON, 200, SURROGATE_TEXT),
    ("surrogate-id", P, _j({"text": ARTICLE, "id": "\udfff\ud800"}), JSON, 200, ARTICLE),
    ("surrogates-only", P, _j({"text": "\udc80\ud800"}), JSON, 422, "Text has no sentences."),
    ("surrogate-bytes-plain", P, b"caf\xed\xa0\x80 closed.", TEXT, 400, "not valid UTF-8"),
    ("overlong-utf8", P, b'{"text": "\xc0\xaf"}', JSON, 400, "not valid UTF-8"),
    # right-to-left overrides, isolates, zero-width characters, stacked combining marks
    ("bidi", P, _j({"text": BIDI_TEXT}), JSON, 200, BIDI_TEXT),
    ("zero-width", P, _j({"text": ZERO_WIDTH_TEXT}), JSON, 200, ZERO_WIDTH_TEXT),
    ("zero-width-only", P, _j({"text": "\u200b\u200c\u200d"}), JSON, 200, "\u200b\u200c\u200d"),
    ("zalgo", P, _j({"text": ZALGO_TEXT}), JSON, 200, ZALGO_TEXT),
    # 1 MB of one sentence without punctuation: over the body limit, or over the char limit
    ("1mb-sentence-json", P, _j({"text": "word " * 210_000}), JSON, 413, "too large"),
    ("1mb-sentence-plain", P, b"word " * 210_000, TEXT, 413, "too large"),
    ("900kb-sentence-json", P, _j({"text": "word " * 180_000}), JSON, 422, "FRAMING_MAX_TEXT_CHARS"),
    # 100,000 one-character sentences: over the char limit; 49,999 fit it but not the sentence limit
    ("100k-sentences-json", P, _j({"text": "A\n" * 100_000}), JSON, 422, "FRAMING_MAX_TEXT_CHARS"),
    ("100k-sentences-plain", P, b"A\n" * 100_000, TEXT, 422, "FRAMING_MAX_TEXT_CHARS"),
    ("50k-sentences", P, _j({"text": "A\n" * 49_999}), JSON, 422, "FRAMING_MAX_SENTENCES"),
    ("50k-sentences-batch", B, _j({"documents": [{"text": "A\n" * 49_999}]}), JSON, 422,
     "FRAMING_MAX_SENTENCES"),
    # deeply nested JSON: past the recursion limit a 400, within it a type error
    ("nested-100k-open", P, b'{"text": ' * 100_000, JSON, 400, "nested too deeply"),
    ("nested-100k-closed", P, b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON, 400,
     "nested too deeply"),
    ("nested-500", P, NESTED_500, JSON, 422, "Not a valid string."),
    # bodies that are JSON but not an object
    ("array-body", P, b'["Hi there."]', JSON, 422, "Invalid input type."),
    ("number-body", P, b"42", JSON, 422, "Invalid input type."),
    ("string-body", P, b'"Hi there."', JSON, 422, "Invalid input type."),
    ("null-body", P, b"null", JSON, 422, "Invalid input type."),
    ("nan-body", P, b"NaN", JSON, 422, "Invalid input type."),
    ("inf-body", P, b"1e999", JSON, 422, "Invalid input type."),
    ("array-body-batch", B, b"[]", JSON, 422, "Invalid input type."),
    ("nan-top-terms", P, b'{"text": "Hi.", "top_terms": NaN}', JSON, 422, "top_terms"),
    ("huge-top-terms", P, b'{"text": "Hi.", "top_terms": 1' + b"0" * 400 + b"}", JSON, 422, "top_terms"),
    ("bom-json", P, b'\xef\xbb\xbf{"text": "Hi."}', JSON, 400, "Malformed JSON"),
    ("utf16-plain", P, "Hi there.".encode("utf-16"), "text/plain; charset=utf-16", 415, "UTF-8"),
    ("long-id", P, _j({"text": "Hi.", "id": "\u202e" * 10_000}), JSON, 422, "id"),
    ("101-documents", B, _j({"documents": [{"text": "Hi."}] * 101}), JSON, 422,
     "FRAMING_MAX_BATCH_DOCUMENTS"),
    # duplicate keys: the last one wins, as in Python's json (documented in RELIABILITY.md)
    ("duplicate-keys", P, b'{"text": "First one.", "text": "Second one."}', JSON, 200, "Second one."),
    ("duplicate-keys-type", P, b'{"text": 5, "text": "Second one."}', JSON, 200, "Second one."),
    ("duplicate-keys-last-bad", P, b'{"text": "First one.", "text": 5}', JSON, 422, "Not a valid string."),
]


@pytest.fixture(scope="module")
def baseline(server):
    """Worker pids before this module's hostile traffic."""
    requests.post(server.url + P, json={"text": ARTICLE}, timeout=10).raise_for_status()
    return _workers(server)


@pytest.mark.integration
@pytest.mark.parametrize("path, body, ctype, status, expect", [c[1:] for c in API_CASES],
                         ids=[c[0] for c in API_CASES])
def test_api_hostile_table(server, baseline, path, body, ctype, status, expect):
    r = requests.post(server.url + path, data=body, headers={"Content-Type": ctype}, timeout=60)
    if status == 200:
        assert r.status_code == 200, r.text[:300]
        assert r.headers["Content-Type"] == "application/json"
        assert_scored(r.json(), expect)  # offsets slice back into the text that was scored
    else:
        error = assert_error_body(r, status)
        assert expect in json.dumps(error, ensure_ascii=False), error


# --------------------------------------------------------------------- raw-socket table
HEAD = b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
BODY = b'{"text": "Hello there."}'  # 24 bytes
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
_STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3}) ", re.MULTILINE)
# (id, bytes sent, expected: "json:<status>:<message part>" (the app's JSON error),
#  "4xx" (gunicorn's own HTTP parser answers, before the app), or "200")
RAW_CASES = [
    ("cl-too-large", HEAD + b"Content-Length: 1000\r\n\r\n" + BODY,
     "json:400:The body ended after 24 of 1000 bytes"),
    ("cl-too-large-plain", HEAD.replace(b"application/json", b"text/plain") + b"Content-Length: 500\r\n\r\nHi.",
     "json:400:The body ended after 3 of 500 bytes"),
    ("cl-too-small", HEAD + b"Content-Length: 5\r\n\r\n" + BODY, "json:400:Malformed JSON"),
    ("cl-too-small-hides-request",
     HEAD + b"Content-Length: 2\r\n\r\n{}GET /v1/model HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "json:422:text"),
    ("pipelined-second-request",
     HEAD + b"Content-Length: 24\r\n\r\n" + BODY + b"GET /v1/model HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "200"),
    ("cl-huge", HEAD + b"Content-Length: 99999999999999999999\r\n\r\n" + BODY,
     "json:413:The request body is too large."),
    ("cl-negative", HEAD + b"Content-Length: -5\r\n\r\n" + BODY, "4xx"),
    ("cl-not-a-number", HEAD + b"Content-Length: 24x\r\n\r\n" + BODY, "4xx"),
    ("cl-conflicting", HEAD + b"Content-Length: 24\r\nContent-Length: 30\r\n\r\n" + BODY, "4xx"),
    ("cl-and-chunked", HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + BODY, "4xx"),
    ("chunked-valid", CHUNKED + b"18\r\n" + BODY + b"\r\n0\r\n\r\n", "200"),
    ("chunked-bad-size", CHUNKED + b"zz\r\n" + BODY, "json:400:broken chunked"),
    ("chunked-size-lies-small", CHUNKED + b"5\r\n" + BODY + b"\r\n0\r\n\r\n", "json:400:broken chunked"),
    ("chunked-size-lies-large", CHUNKED + b"ffff\r\n" + BODY, "json:400:could not be read"),
    ("chunked-over-limit", CHUNKED + (b"10000\r\n" + b"x" * 0x10000 + b"\r\n") * 17 + b"0\r\n\r\n",
     "json:413:The request body is too large."),
    ("request-line-too-long", b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "4xx"),
    ("too-many-headers", b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", "4xx"),
]


def raw_exchange(port: int, data: bytes, wait: float = 1.0, timeout: float = 10.0) -> bytes:
    """Send bytes as they are; if nothing comes back within ``wait`` s, stop sending
    (half-close: the server sees the body end) and read what it answers until it closes."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking everything: read the answer
        sock.settimeout(wait)
        try:
            first = sock.recv(65536)
            chunks.append(first)
            if not first:
                return b""
        except socket.timeout:
            sock.shutdown(socket.SHUT_WR)
        except ConnectionResetError:
            return b""
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            pytest.fail(f"the server kept the connection open for more than {timeout}s")
    return b"".join(chunks)


@pytest.mark.integration
@pytest.mark.parametrize("data, expect", [c[1:] for c in RAW_CASES], ids=[c[0] for c in RAW_CASES])
def test_raw_socket_lies(server, baseline, data, expect):
    answer = raw_exchange(server.port, data)
    statuses = [int(m) for m in _STATUS_LINE.findall(answer)]
    # One request, at most one answer: nothing after the declared body is run as a request.
    assert len(statuses) == 1, answer[:500]
    status = statuses[0]
    if expect == "4xx":
        assert 400 <= status < 500, answer[:500]
        return
    if expect == "200":
        assert status == 200
        return
    _, code, message = expect.split(":", 2)
    assert status == int(code), answer[:600]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head
    error = json.loads(body)
    assert ERROR_KEYS <= set(error) <= ERROR_KEYS | {"errors"} and error["code"] == status
    assert message in json.dumps(error), error


@pytest.mark.integration
def test_client_that_vanishes_mid_body(server, baseline):
    """Promise 1,000 bytes, send 24, hang up without reading: the worker shrugs it off."""
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(HEAD + b"Content-Length: 1000\r\n\r\n" + BODY)
        # and one that resets the connection instead of closing it
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.sendall(HEAD + b"Content-Length: 1000\r\n\r\n" + BODY)
        sock.close()
    assert requests.get(server.url + "/health", timeout=10).status_code == 200


@pytest.mark.integration
def test_server_survives_the_hostile_table(server, baseline):
    """After everything above: same workers, still answering."""
    assert requests.get(server.url + "/health", timeout=10).json() == {"status": "ok"}
    r = requests.post(server.url + P, json={"text": ARTICLE}, timeout=10)
    assert r.status_code == 200
    assert_scored(r.json(), ARTICLE)
    after = _workers(server)
    assert len(after) == 2
    # max_requests may recycle one worker on the way; none may have died.
    assert after & baseline, f"every worker was replaced: {sorted(baseline)} -> {sorted(after)}"


# ------------------------------------------------------------------ batch scorer table
def _jsonl_line(obj) -> bytes:
    return json.dumps(obj).encode("ascii") + b"\n"


def _gzip_bomb(path, size: int, chunk: bytes) -> None:
    with gzip.open(path, "wb", compresslevel=9) as fh:
        for _ in range(size // len(chunk)):
            fh.write(chunk)


def _corrupt_gzip(path) -> None:
    lines = b"".join(_jsonl_line({"id": f"a{i}", "text": ARTICLE}) for i in range(300))
    packed = gzip.compress(lines)
    path.write_bytes(packed[: len(packed) // 2])  # cut: no end-of-stream marker


# (id, file name, writer(path), extra args, expected outcomes): ("scored", doc id) or
# ("bad", doc id or line number or None for any, substring of the recorded error)
BATCH_CASES = [
    ("nul", "in.jsonl", lambda p: p.write_bytes(_jsonl_line({"id": "nul", "text": NUL_TEXT})),
     [], [("scored", "nul")]),
    ("surrogate-text", "in.jsonl",
     lambda p: p.write_bytes(_jsonl_line({"id": "s", "text": SURROGATE_TEXT}) + _jsonl_line({"id": "ok", "text": ARTICLE})),
     [], [("bad", "s", "not valid Unicode (lone surrogate escape)"), ("scored", "ok")]),
    ("surrogate-id", "in.jsonl", lambda p: p.write_bytes(_jsonl_line({"id": "x\ud800", "text": ARTICLE})),
     [], [("bad", 1, "not valid Unicode (lone surrogate escape)")]),
    ("bidi-zero-width", "in.jsonl",
     lambda p: p.write_bytes(_jsonl_line({"id": "bidi", "text": BIDI_TEXT})
                             + _jsonl_line({"id": "zw", "text": ZERO_WIDTH_TEXT})
                             + _jsonl_line({"id": "zw-only", "text": "\u200b\u200c\u200d"})
                             + _jsonl_line({"id": "zalgo", "text": ZALGO_TEXT})),
     [], [("scored", "bidi"), ("scored", "zw"), ("scored", "zw-only"), ("scored", "zalgo")]),
    ("1mb-sentence", "in.jsonl", lambda p: p.write_bytes(_jsonl_line({"id": "mb", "text": "word " * 210_000})),
     [], [("scored", "mb")]),
    ("1mb-sentence-over-max-bytes", "in.jsonl",
     lambda p: p.write_bytes(_jsonl_line({"id": "mb", "text": "word " * 210_000})),
     ["--max-bytes", "1000000"], [("bad", 1, "line longer than 1000000 bytes")]),
    ("nested", "in.jsonl",
     lambda p: p.write_bytes(b"[" * 100_000 + b"\n" + b'{"id": "n", "text": ' + b"[" * 100_000 + b"]" * 100_000
                             + b"}\n" + _jsonl_line({"id": "ok", "text": ARTICLE})),
     [], [("bad", 1, "invalid JSON"), ("bad", 2, "invalid JSON: nested too deeply"), ("scored", "ok")]),
    ("not-objects", "in.jsonl", lambda p: p.write_bytes(b'["Hi."]\n42\n"Hi."\nnull\nNaN\n'),
     [], [("bad", n, "not a JSON object") for n in range(1, 6)]),
    ("duplicate-keys", "in.jsonl",
     lambda p: p.write_bytes(b'{"id": "dup", "text": "First one.", "text": "Second one."}\n'),
     [], [("scored", "dup")]),
    ("csv-nul", "in.csv", lambda p: p.write_bytes(b"id,text\nc1,Hel\x00lo there.\nc2,Fine.\n"),
     [], [("scored", "c1"), ("scored", "c2")]),
    ("txt-gz-bomb", "bomb.txt.gz", lambda p: _gzip_bomb(p, 50_000_000, b"A" * 1_000_000),
     [], [("bad", 1, "document larger than 5000000 bytes")]),
    ("txt-gz-bomb-small-cap", "bomb.txt.gz", lambda p: _gzip_bomb(p, 20_000_000, b"word " * 200_000),
     ["--max-bytes", "100000"], [("bad", 1, "document larger than 100000 bytes")]),
    ("jsonl-gz-cut", "cut.jsonl.gz", _corrupt_gzip,
     [], [("scored", "a0"), ("bad", None, "unreadable from here on")]),
    ("txt-gz-not-gzip", "fake.txt.gz", lambda p: p.write_bytes(b"this is not gzip at all"),
     [], [("bad", 1, "unreadable")]),
]
DUPLICATE_KEY_TEXT = {"dup": "Second one."}  # last key wins, as in the API


@pytest.mark.parametrize("name, write, args, expected", [c[1:] for c in BATCH_CASES],
                         ids=[c[0] for c in BATCH_CASES])
def test_batch_hostile_table(runner, tiny_model, tmp_path, name, write, args, expected):
    src = tmp_path / name
    write(src)
    if name.endswith(".gz"):
        assert src.stat().st_size < 200_000  # small on disk, huge (or broken) inside
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, [str(src), "-o", str(out), "--model", str(tiny_model), *args],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # Both files stay valid UTF-8 JSON lines whatever came in.
    rows = {row["id"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    errors = [json.loads(line) for line in
              (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()]
    for outcome in expected:
        if outcome[0] == "scored":
            row = rows[outcome[1]]
            assert row["document"]["n_sentences"] == len(row["sentences"]) >= 1
            for s in row["sentences"]:
                assert sum(s["probabilities"].values()) == pytest.approx(1.0)
            if outcome[1] in DUPLICATE_KEY_TEXT:
                assert [s["text"] for s in row["sentences"]] == [DUPLICATE_KEY_TEXT[outcome[1]]]
        else:
            _, where, reason = outcome
            hits = [e for e in errors if where is None or where in (e["id"], e["line"])]
            assert any(reason in e["error"] for e in hits), (outcome, errors)
            assert where not in rows


def test_batch_100k_one_character_sentences(runner, tiny_model, tmp_path):
    """100,000 one-character sentences: scored whole (the batch has no sentence cap),
    every offset slicing back."""
    text = "A\n" * 100_000
    src = tmp_path / "in.jsonl"
    src.write_bytes(_jsonl_line({"id": "100k", "text": text}))
    out = tmp_path / "out.jsonl"
    assert runner.invoke(main, [str(src), "-o", str(out), "--model", str(tiny_model)]).exit_code == 0
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["document"]["n_sentences"] == 100_000
    assert all(text[s["start"]:s["end"]] == s["text"] == "A" for s in row["sentences"])


# ------------------------------------------------------------ property-based prediction
HOSTILE_CHARS = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\u202e", "\u200b", "\ufeff", "\u2028", "\r", "\n", "\t", ".", "!", "?", " ",
     "\u0301", "\u2022"]
)
NEWS_WORDS = st.sampled_from(
    ["Kyiv", "Moscow", "shelled", "talks", "officials", "said", "regime", "Western", "weapons", "the", "a",
     "Kharkiv", "aid", "troops", "1.5", "Feb.", "Mr.", "U.S.", "...", "- ", "\u041a\u0438\u0457\u0432"]
)
ANY_TEXT = st.one_of(
    st.text(alphabet=st.one_of(st.characters(exclude_categories=()), HOSTILE_CHARS), max_size=300),
    st.lists(st.one_of(NEWS_WORDS, HOSTILE_CHARS), max_size=80).map(" ".join),
)


@pytest.fixture(scope="module")
def classifier(tiny_model) -> Classifier:
    return Classifier.from_dir(tiny_model)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=ANY_TEXT, explain=st.booleans())
def test_predict_text_properties(classifier, text, explain):
    predictions = classifier.predict_text(text, explain=explain, top_terms=3)
    assert len(predictions) == len(split_sentences(text))
    for i, p in enumerate(predictions):
        assert p.index == i
        assert text[p.start:p.end] == p.text and p.text.strip()
        assert list(p.probabilities) == list(LABELS)
        assert all(0.0 <= v <= 1.0 for v in p.probabilities.values())
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert p.confidence == max(p.probabilities.values())
        assert p.label == max(p.probabilities, key=p.probabilities.get)
        if explain:
            assert len(p.top_terms) <= 3 and all(t["weight"] > 0 for t in p.top_terms)
        else:
            assert p.top_terms is None


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=ANY_TEXT)
def test_api_answers_any_text_with_200_or_422(client, text):
    r = client.post("/v1/predict", json={"text": text})
    assert r.status_code in (200, 422), r.get_data(as_text=True)[:300]
    if r.status_code == 200:
        assert_scored(r.get_json(), text)
    else:
        body = r.get_json()
        assert ERROR_KEYS <= set(body) and body["code"] == 422
