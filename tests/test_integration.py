"""The API under real gunicorn on 127.0.0.1, started as `make run` starts it."""

import json
import os
import shutil
import signal
import threading
import time

import pytest
import requests
from conftest import DATA

from training.train import train

pytestmark = pytest.mark.integration

ARTICLE = "Russian forces shelled Kharkiv overnight.\nTalks resume on Wednesday, officials said."


def test_predict_over_http(server):
    r = requests.post(server.url + "/v1/predict", json={"text": ARTICLE, "id": "x"}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["document"]["n_sentences"] == 2
    assert r.headers["X-Model-Version"] == "tiny-1"
    r = requests.post(server.url + "/v1/predict", data=ARTICLE.encode(),
                      headers={"Content-Type": "text/plain; charset=utf-8"}, timeout=10)
    assert r.json()["sentences"] == body["sentences"]


def test_errors_are_json_over_http(server):
    r = requests.post(server.url + "/v1/predict", data=b"{oops", headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == 400
    r = requests.post(server.url + "/v1/predict", data=b"x" * 1_000_001,
                      headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 413 and r.headers["Content-Type"] == "application/json"
    assert r.json()["message"] == "The request body is too large."
    r = requests.get(server.url + "/nope", timeout=10)
    assert r.status_code == 404 and r.json()["message"] == "No such endpoint."


def test_metrics_add_up_across_workers(server):
    def scrape():
        text = requests.get(server.url + "/metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith('framing_http_requests_total{endpoint="/health"'):
                total += float(line.rsplit(" ", 1)[1])
        return total, text

    before, _ = scrape()
    for _ in range(40):  # connections are spread over both workers
        assert requests.get(server.url + "/health", timeout=10).status_code == 200
    after, text = scrape()
    assert after - before == 40
    assert "framing_http_request_duration_seconds_bucket" in text
    assert 'framing_model_info{name="framing-tfidf-lr",sha256=' in text


def test_request_log_is_json_without_text(server):
    marker = "Zzyzxmarker sentence for the log test."
    requests.post(server.url + "/v1/predict", json={"text": marker}, headers={"X-Request-ID": "log-test-1"}, timeout=10)
    time.sleep(0.3)
    log = server.log_text()
    assert marker not in log
    lines = [json.loads(line) for line in log.splitlines() if '"request_id": "log-test-1"' in line]
    assert lines and lines[0]["route"] == "/v1/predict" and lines[0]["status"] == 200
    assert lines[0]["sentences"] == 1 and "duration_ms" in lines[0]


def test_hup_reloads_new_model_without_failed_requests(tmp_path, make_server):
    """Repoint a symlink at a new model, send HUP: no request fails, version switches."""
    v1 = tmp_path / "v1"
    v2 = tmp_path / "v2"
    train(DATA / "tiny.csv", v1, do_search=False, folds=3, jobs=1, card=False, version="model-v1")
    train(DATA / "tiny.csv", v2, do_search=False, folds=3, jobs=1, card=False, version="model-v2")
    current = tmp_path / "current"
    current.symlink_to(v1)
    srv = make_server(current)
    failures, versions = [], []
    stop = threading.Event()

    def hammer():
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    r = session.post(srv.url + "/v1/predict", json={"text": ARTICLE}, timeout=10)
                    if r.status_code != 200:
                        failures.append(r.status_code)
                    versions.append(r.headers.get("X-Model-Version"))
                except requests.RequestException as exc:
                    failures.append(repr(exc))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    tmp_link = tmp_path / "current.new"
    tmp_link.symlink_to(v2)
    os.replace(tmp_link, current)  # atomic switch
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not versions or versions[-1] != "model-v2"):
        time.sleep(0.2)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert failures == []
    assert versions[0] == "model-v1" and versions[-1] == "model-v2"
    assert requests.get(srv.url + "/ready", timeout=5).json()["model"]["version"] == "model-v2"


@pytest.mark.parametrize("damage", ["missing", "truncated", "tampered"])
def test_unverifiable_model_is_never_served(tiny_model, tmp_path, make_server, damage):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    path = model / "model.joblib"
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    srv = make_server(model, wait_ready=False)
    r = requests.get(srv.url + "/ready", timeout=5)
    assert r.status_code == 503 and r.json()["code"] == 503
    assert requests.post(srv.url + "/v1/predict", json={"text": "Hi."}, timeout=5).status_code == 503
    log = srv.log_text()
    assert "model.joblib" in log
    assert ("model file is missing" if damage == "missing" else "does not match metadata") in log
