"""Slow and silent clients cost no worker (service.worker): the service stays
answerable while they wait, and each is answered 408 or disconnected after
FRAMING_CLIENT_TIMEOUT seconds of silence, with a plain log line."""

from __future__ import annotations

import json
import random
import socket
import time

import psutil
import pytest
import requests

pytestmark = pytest.mark.integration

HEAD = b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
WORDS = ("officials said the regional council met on Tuesday to discuss repairs to the water network "
         "after shelling damaged two pumping stations near the city and volunteers delivered food").split()


def _article(n_words: int = 800) -> str:
    rng = random.Random(7)
    sentences, words = [], 0
    while words < n_words:
        length = rng.randint(10, 22)
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(length)).capitalize() + ".")
        words += length
    return " ".join(sentences)


def _workers(server) -> set[int]:
    return {child.pid for child in psutil.Process(server.proc.pid).children()}


def _stall(port: int, kind: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if kind == "body":  # headers done, 100 bytes promised, none sent
        sock.sendall(HEAD + b"Content-Length: 100\r\n\r\n")
    elif kind == "headers":  # a request line and half a header block
        sock.sendall(HEAD)
    return sock  # kind == "idle": connected, nothing sent


def _answer(sock: socket.socket, wait: float) -> bytes:
    sock.settimeout(wait)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def test_stalled_connections_do_not_stop_the_service(make_server, tiny_model, tmp_path):
    server = make_server(tiny_model, workers=2)
    before = _workers(server)
    article = _article()
    assert requests.post(f"{server.url}/v1/predict", json={"text": article}, timeout=30).status_code == 200
    stalled = [_stall(server.port, ("body", "headers", "idle")[i % 3]) for i in range(32)]
    try:
        time.sleep(0.5)  # every stalled connection has reached a worker
        for _ in range(3):
            started = time.monotonic()
            assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
            health = time.monotonic() - started
            started = time.monotonic()
            response = requests.post(f"{server.url}/v1/predict", json={"text": article}, timeout=5)
            predict = time.monotonic() - started
            assert response.status_code == 200 and len(response.json()["sentences"]) > 40
            assert health < 1 and predict < 1, (health, predict)
    finally:
        for sock in stalled:
            sock.close()
    assert _workers(server) == before


def test_silent_clients_get_a_408_or_are_disconnected_in_bounded_time(make_server, tiny_model):
    server = make_server(tiny_model, env={"FRAMING_CLIENT_TIMEOUT": "2"}, workers=1)
    before = _workers(server)
    socks = {kind: _stall(server.port, kind) for kind in ("body", "headers", "idle")}
    started = time.monotonic()
    answers = {kind: _answer(sock, wait=10) for kind, sock in socks.items()}
    elapsed = time.monotonic() - started
    for sock in socks.values():
        sock.close()
    assert elapsed < 8, elapsed
    head, _, body = answers["body"].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answers["body"][:300]
    assert b"Content-Type: application/json" in head
    error = json.loads(body)
    assert error["code"] == 408 and "stopped sending" in error["message"]
    assert answers["headers"] == b"" and answers["idle"] == b""  # disconnected, no half answer
    log = server.log_text()
    assert "sent nothing of its request body for 2 s; answering 408" in log
    assert log.count("sent no complete request for 2 s; closing the connection") == 2
    assert "WORKER TIMEOUT" not in log and "Traceback" not in log
    # a slow client that keeps sending inside the deadline is served
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    payload = json.dumps({"text": "Officials said repairs would finish on Friday."}).encode()
    sock.sendall(HEAD + f"Content-Length: {len(payload)}\r\n\r\n".encode())
    for i in range(0, len(payload), 10):
        time.sleep(0.5)
        sock.sendall(payload[i:i + 10])
    reply = _answer(sock, wait=10)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    assert _workers(server) == before


def test_a_bad_client_timeout_stops_the_start(make_server, tiny_model):
    with pytest.raises(RuntimeError, match="FRAMING_CLIENT_TIMEOUT must be a positive number"):
        make_server(tiny_model, env={"FRAMING_CLIENT_TIMEOUT": "soon"}, workers=1)
