"""The labeling endpoints: in-process for shapes and errors, under real gunicorn for
concurrency (SQLite and PostgreSQL) and for a database outage and its recovery."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests

from service.app import create_app

ARTICLE = {"id": "a1", "text": "Russian forces shelled Kharkiv overnight. The governor said two people were hurt. "
                                "Moscow said it struck only military targets.", "outlet": "test", "date": "2026-01-02"}
ERROR_KEYS = {"code", "status", "message"}


def _import(client, project="desk", docs=(ARTICLE,), **extra):
    return client.post(f"/v1/projects/{project}/documents", json={"documents": list(docs), **extra})


def test_import_queue_label_change_undo_gold(client):
    created = _import(client)
    assert created.status_code == 201
    assert created.json == {"project": "desk", "added": 1, "sentences": 3, "unchanged": 0, "refused": []}
    assert _import(client).json["unchanged"] == 1
    items = client.get("/v1/projects/desk/queue?annotator=ann&n=2").json["items"]
    assert len(items) == 2 and set(items[0]) == {
        "sentence_id", "doc_id", "text", "context_before", "context_after", "flags", "suggestion"}
    sid = items[0]["sentence_id"]
    first = client.post("/v1/projects/desk/labels", json={"sentence_id": sid, "label": "neutral", "annotator": "ann"})
    assert first.status_code == 201 and first.json["label"] == "neutral"
    change = client.post("/v1/projects/desk/labels", json={"sentence_id": sid, "label": "pro_ukraine",
                                                           "annotator": "ann"})
    assert change.status_code == 200 and change.json["created_at"] == first.json["created_at"]
    undo = client.delete(f"/v1/projects/desk/labels/{sid}?annotator=ann")
    assert undo.status_code == 200 and undo.json["label"] == "pro_ukraine"
    again = client.delete(f"/v1/projects/desk/labels/{sid}?annotator=ann")
    assert again.status_code == 404 and again.json["message"] == f"'ann' has no label on sentence {sid}."
    gold = client.put(f"/v1/projects/desk/sentences/{sid}/gold", json={"label": "neutral", "annotator": "lead"})
    assert gold.status_code == 201 and gold.json["adjudicator"] == "lead"
    assert client.put(f"/v1/projects/desk/sentences/{sid}/gold",
                      json={"label": "pro_russia", "annotator": "lead"}).status_code == 200
    events = client.get(f"/v1/projects/desk/sentences/{sid}/history").json["events"]
    assert [e["action"] for e in events] == ["label", "change", "undo", "gold", "gold"]
    progress = client.get("/v1/projects/desk/progress?annotator=ann").json
    assert (progress["sentences"], progress["gold"], progress["annotator"]) == (3, 1, {"annotator": "ann", "labels": 0})
    assert client.get("/v1/projects").json == {"projects": [{"name": "desk", "overlap": 1, "documents": 1}]}


def test_agreement_endpoint(client):
    _import(client, overlap=2)
    ids = [i["sentence_id"] for i in client.get("/v1/projects/desk/queue?annotator=a&n=3").json["items"]]
    for annotator, labels in (("a", ["neutral", "neutral", "pro_russia"]), ("b", ["neutral", "pro_ukraine", "pro_russia"])):
        for sid, label in zip(ids, labels):
            assert client.post("/v1/projects/desk/labels", json={
                "sentence_id": sid, "label": label, "annotator": annotator}).status_code == 201
    report = client.get("/v1/projects/desk/agreement").json
    assert report["pairs"] == [{"annotators": ["a", "b"], "n": 3, "agreement": 0.6667, "cohen_kappa": 0.5}]
    assert report["n_conflicts"] == 1 and report["conflicts"][0]["sentence_id"] == ids[1]
    assert report["conflicts"][0]["labels"] == {"a": "neutral", "b": "pro_ukraine"}


@pytest.mark.parametrize("method, path, body, status, message, errors", [
    ("get", "/v1/projects/nope/queue?annotator=a", None, 404, "No project named 'nope'.", None),
    ("get", "/v1/projects/desk/queue", None, 422, "Invalid request body.",
     {"query": {"annotator": ["Missing data for required field."]}}),
    ("get", "/v1/projects/desk/queue?annotator=a&n=0", None, 422, "Invalid request body.",
     {"query": {"n": ["Must be greater than or equal to 1 and less than or equal to 100."]}}),
    ("get", "/v1/projects/desk/queue?annotator=a&strategy=best", None, 422, "Invalid request body.",
     {"query": {"strategy": ["Must be one of: uncertainty, random."]}}),
    ("post", "/v1/projects/desk/labels", {"sentence_id": "1", "label": "maybe", "annotator": "a"}, 422,
     "Invalid request body.", {"json": {"sentence_id": ["Not a valid integer."],
                                        "label": ["Must be one of: pro_russia, neutral, pro_ukraine."]}}),
    ("post", "/v1/projects/desk/labels", {"sentence_id": 99999, "label": "neutral", "annotator": "a"}, 404,
     "No sentence 99999 in project 'desk'.", None),
    ("post", "/v1/projects/desk/labels", {"sentence_id": 1, "label": "neutral", "annotator": "a", "x": 1}, 422,
     "Invalid request body.", {"json": {"x": ["Unknown field."]}}),
    ("post", "/v1/projects/bad%20name/documents", {"documents": [{"id": "1", "text": "Hello there."}]}, 422,
     "A project name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.", None),
    ("post", "/v1/projects/desk/documents", {"documents": []}, 422, "Invalid request body.",
     {"json": {"documents": ["Shorter than minimum length 1."]}}),
    ("post", "/v1/projects/desk/documents", {"documents": [{"id": "1", "text": "  "}]}, 422, "Invalid request body.",
     {"json": {"documents": {"0": {"text": ["Text is empty or only white space."]}}}}),
], ids=["unknown-project", "no-annotator", "n-zero", "bad-strategy", "bad-types", "unknown-sentence",
        "unknown-field", "bad-project-name", "no-documents", "blank-text"])
def test_errors_have_the_one_shape(client, method, path, body, status, message, errors):
    _import(client)
    response = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
    assert response.status_code == status
    expected = {"code": status, "message": message, **({"errors": errors} if errors else {})}
    assert {k: v for k, v in response.json.items() if k != "status"} == expected


def test_malformed_json_is_a_400(client):
    response = client.post("/v1/projects/desk/labels", data=b'{"sentence_id": ', content_type="application/json")
    assert response.status_code == 400 and response.json["message"].startswith("Malformed JSON")


def test_a_named_key_labels_as_its_holder_only(tiny_model, tmp_path):
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "API_KEYS": "alice:key-a,plain-key",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'l.sqlite'}"})
    client = app.test_client()
    alice = {"Authorization": "Bearer key-a"}
    assert client.get("/v1/projects").status_code == 401
    assert client.post("/v1/projects/desk/documents", json={"documents": [ARTICLE]}, headers=alice).status_code == 201
    sid = client.get("/v1/projects/desk/queue?n=1", headers=alice).json["items"][0]["sentence_id"]
    own = client.post("/v1/projects/desk/labels", json={"sentence_id": sid, "label": "neutral"}, headers=alice)
    assert own.status_code == 201 and own.json["annotator"] == "alice"
    forged = client.post("/v1/projects/desk/labels", json={"sentence_id": sid, "label": "neutral", "annotator": "bob"},
                         headers=alice)
    assert forged.status_code == 403
    assert forged.json["message"] == "This API key labels as 'alice'; it cannot act as 'bob'."
    plain = {"Authorization": "Bearer plain-key"}
    assert client.post("/v1/projects/desk/labels", json={"sentence_id": sid, "label": "neutral"},
                       headers=plain).status_code == 422
    assert client.post("/v1/projects/desk/labels", json={"sentence_id": sid, "label": "pro_russia", "annotator": "bob"},
                       headers=plain).status_code == 201


def test_openapi_documents_the_labeling_endpoints(client):
    paths = client.get("/openapi.json").json["paths"]
    assert {"/v1/projects/{project}/documents", "/v1/projects/{project}/queue", "/v1/projects/{project}/labels",
            "/v1/projects/{project}/labels/{sentence_id}", "/v1/projects/{project}/progress",
            "/v1/projects/{project}/agreement", "/v1/projects/{project}/sentences/{sentence_id}/gold"} <= set(paths)
    assert set(paths["/v1/projects/{project}/labels"]["post"]["responses"]) >= {"200", "201", "403", "404", "422", "503"}


# --- under gunicorn ------------------------------------------------------------------

def _label_concurrently(url: str, annotators: list[str], rounds: int = 3) -> dict[str, list[int]]:
    """Each annotator takes batches of 3 and labels them, all starting at once; returns what each labeled.

    ``rounds`` caps what one annotator can take, so with enough sentences every
    annotator gets some however the threads are scheduled (a cold worker's first
    answer can be slow on a loaded machine)."""
    done: dict[str, list[int]] = {a: [] for a in annotators}
    failures: list[str] = []
    start = threading.Barrier(len(annotators))

    def work(annotator: str) -> None:
        try:
            with requests.Session() as http:
                start.wait(timeout=30)
                for _ in range(rounds):
                    response = http.get(f"{url}/v1/projects/desk/queue", params={"annotator": annotator, "n": 3},
                                        timeout=30)
                    if response.status_code != 200:
                        failures.append(f"{annotator}: queue {response.status_code} {response.text}")
                        return
                    for item in response.json()["items"]:
                        response = http.post(f"{url}/v1/projects/desk/labels", json={
                            "sentence_id": item["sentence_id"], "label": "neutral", "annotator": annotator},
                            timeout=30)
                        if response.status_code != 201:
                            failures.append(f"{annotator}: {response.status_code} {response.text}")
                        done[annotator].append(item["sentence_id"])
        except Exception as exc:  # a thread's exception would otherwise only reach stderr
            failures.append(f"{annotator}: {exc!r}")

    threads = [threading.Thread(target=work, args=(a,)) for a in annotators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an annotator's requests did not finish in 120 s"
    assert not failures, failures
    return done


@pytest.mark.integration
def test_two_annotators_at_once_lose_and_share_nothing(make_server, tiny_model, database_url):
    server = make_server(tiny_model, env={"FRAMING_DATABASE_URL": database_url}, workers=4)
    docs = [{"id": f"d{i}", "text": f"Officials in region {chr(65 + i)} reported {word} overnight. "
             f"Crews worked through the {word2} to restore water. The mayor thanked volunteers from {chr(75 + i)}."}
            for i, (word, word2) in enumerate(zip(["shelling", "drone strikes", "missile debris", "power cuts",
                                                   "air raid alerts", "fires"],
                                                  ["night", "morning", "weekend", "storm", "cold", "rain"]))]
    assert requests.post(f"{server.url}/v1/projects/desk/documents", json={"documents": docs},
                         timeout=60).status_code == 201
    done = _label_concurrently(server.url, ["ann", "bob"])  # 18 sentences, at most 9 each
    ann, bob = done["ann"], done["bob"]
    assert ann and bob, done
    assert len(set(ann)) == len(ann) and len(set(bob)) == len(bob)
    assert not set(ann) & set(bob)  # overlap 1: no sentence handed to both
    progress = requests.get(f"{server.url}/v1/projects/desk/progress", timeout=30).json()
    counts = {e["annotator"]: e["labels"] for e in progress["annotators"]}
    assert counts == {"ann": len(ann), "bob": len(bob)}
    assert progress["labeled"] == len(ann) + len(bob)
    assert Counter(ann + bob).most_common(1)[0][1] == 1


@pytest.mark.integration
@pytest.mark.postgres
def test_a_database_outage_is_a_503_and_the_service_recovers(make_server, tiny_model):
    from pgserver import ThrowawayPostgres

    pg = ThrowawayPostgres().start()
    try:
        url = pg.create_database("outage").replace("framing@", "framing:s3cr3t@")
        server = make_server(tiny_model, env={"FRAMING_DATABASE_URL": url}, workers=2)
        assert requests.post(f"{server.url}/v1/projects/desk/documents", json={"documents": [ARTICLE]},
                             timeout=30).status_code == 201
        pg.pause()
        down = requests.get(f"{server.url}/v1/projects/desk/progress", timeout=30)
        assert down.status_code == 503
        assert down.json() == {"code": 503, "status": "Service Unavailable",
                               "message": "The label database cannot be reached; try again shortly."}
        assert "s3cr3t" not in server.log_text()
        assert requests.get(f"{server.url}/health", timeout=10).status_code == 200
        pg.resume()
        up = requests.get(f"{server.url}/v1/projects/desk/progress", timeout=30)
        assert up.status_code == 200 and up.json()["sentences"] == 3
    finally:
        pg.stop()


@pytest.mark.integration
@pytest.mark.slow
def test_a_killed_worker_loses_at_most_its_request_in_flight(make_server, tiny_model, database_url):
    """SIGKILL one of two workers while two annotators label: every label answered 201 is
    stored, nothing is stored twice, and at most the killed worker's requests fail."""
    import os
    import signal

    import psutil

    server = make_server(tiny_model, env={"FRAMING_DATABASE_URL": database_url}, workers=2)
    words = ["bridge", "school", "clinic", "depot", "market", "station", "library", "theatre"]
    docs = [{"id": f"k{i}", "text": f"Crews inspected the damaged {w} in district {chr(65 + i)} on Monday. "
             f"The council promised to rebuild the {w} before {month}. Residents of {chr(80 + i)} volunteered."}
            for i, (w, month) in enumerate(zip(words, ["May", "June", "July", "autumn", "spring", "winter",
                                                       "March", "April"]))]
    assert requests.post(f"{server.url}/v1/projects/desk/documents", json={"documents": docs},
                         timeout=60).status_code == 201
    stored: dict[str, set[int]] = {"ann": set(), "bob": set()}
    failed: list[str] = []
    killed = threading.Event()

    def work(annotator: str) -> None:
        with requests.Session() as http:
            for round_ in range(8):
                if annotator == "ann" and round_ == 2 and not killed.is_set():
                    victim = psutil.Process(server.proc.pid).children()[0]
                    os.kill(victim.pid, signal.SIGKILL)
                    killed.set()
                try:
                    items = http.get(f"{server.url}/v1/projects/desk/queue", params={"annotator": annotator, "n": 2},
                                     timeout=30).json()["items"]
                    for item in items:
                        response = http.post(f"{server.url}/v1/projects/desk/labels", timeout=30, json={
                            "sentence_id": item["sentence_id"], "label": "neutral", "annotator": annotator})
                        if response.status_code == 201:
                            stored[annotator].add(item["sentence_id"])
                        else:
                            failed.append(f"{response.status_code}")
                except requests.RequestException as exc:  # the connection the killed worker held
                    failed.append(type(exc).__name__)

    threads = [threading.Thread(target=work, args=(a,)) for a in stored]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert killed.is_set() and len(failed) <= 2, failed
    progress = requests.get(f"{server.url}/v1/projects/desk/progress", timeout=30).json()
    counts = {e["annotator"]: e["labels"] for e in progress["annotators"]}
    for annotator, ids in stored.items():
        # A request cut off after its commit may be stored without its 201: at most one each.
        assert len(ids) <= counts[annotator] <= len(ids) + 1
    assert progress["labeled"] == sum(counts.values())  # overlap 1: no sentence labeled twice
