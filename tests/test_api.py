"""The HTTP API through Flask's test client: shapes, limits and every error."""

import json

import pytest
from openapi_spec_validator import validate

from service.app import create_app

ARTICLE = (
    "Russian forces shelled Kharkiv overnight, officials said.\n"
    "The Kyiv regime keeps shelling Donetsk with Western weapons. "
    "Talks are scheduled to resume on Wednesday."
)


def test_predict_json(client):
    r = client.post("/v1/predict", json={"text": ARTICLE, "id": "a-1"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["id"] == "a-1"
    assert body["model"]["version"] == "tiny-1" and len(body["model"]["sha256"]) == 64
    assert [s["index"] for s in body["sentences"]] == [0, 1, 2]
    for s in body["sentences"]:
        assert ARTICLE[s["start"]:s["end"]] == s["text"]
        assert sum(s["probabilities"].values()) == pytest.approx(1.0)
        assert s["confidence"] == max(s["probabilities"].values())
        assert s["label"] == max(s["probabilities"], key=s["probabilities"].get)
        assert "top_terms" not in s
    doc = body["document"]
    assert doc["n_sentences"] == 3 and sum(doc["label_counts"].values()) == 3
    assert sum(doc["label_shares"].values()) == pytest.approx(1.0)
    expected = sum(s["probabilities"]["pro_ukraine"] - s["probabilities"]["pro_russia"]
                   for s in body["sentences"]) / 3
    assert doc["framing_score"] == pytest.approx(expected)
    assert -1 <= doc["framing_score"] <= 1
    assert r.headers["X-Model-Version"] == "tiny-1"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_predict_plain_text_matches_json(client):
    as_text = client.post("/v1/predict", data=ARTICLE.encode(), content_type="text/plain; charset=utf-8")
    as_json = client.post("/v1/predict", json={"text": ARTICLE})
    assert as_text.status_code == 200
    assert as_text.get_json()["sentences"] == as_json.get_json()["sentences"]


def test_explain_lists_top_terms(client):
    r = client.post("/v1/predict", json={"text": "The Kyiv regime shelled Donetsk.", "explain": True, "top_terms": 2})
    terms = r.get_json()["sentences"][0]["top_terms"]
    assert 1 <= len(terms) <= 2
    assert all(t["weight"] > 0 and isinstance(t["term"], str) for t in terms)
    assert terms == sorted(terms, key=lambda t: -t["weight"])


def test_batch_keeps_order(client):
    docs = [{"id": f"d{i}", "text": t} for i, t in enumerate(["Talks resumed.", ARTICLE, "Kyiv regime."])]
    r = client.post("/v1/predict/batch", json={"documents": docs})
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert [res["id"] for res in results] == ["d0", "d1", "d2"]
    single = client.post("/v1/predict", json={"text": ARTICLE}).get_json()
    assert results[1]["sentences"] == single["sentences"]


def _error(code, status, message, errors=None):
    body = {"code": code, "status": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


BAD = [
    ("malformed-json", b'{"text": ', "application/json", 400,
     _error(400, "Bad Request", "Malformed JSON: Expecting value at line 1 column 10.")),
    ("non-utf8-json", b'{"text": "\xff"}', "application/json", 400,
     _error(400, "Bad Request", "The body is not valid UTF-8 (byte 10).")),
    ("non-utf8-text", b"caf\xe9", "text/plain; charset=utf-8", 400,
     _error(400, "Bad Request", "The body is not valid UTF-8 (byte 3).")),
    ("empty-body", b"", "application/json", 400, _error(400, "Bad Request", "The request body is empty.")),
    ("wrong-type", b'{"text": 5}', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.", {"json": {"text": ["Not a valid string."]}})),
    ("missing-text", b'{"id": "x"}', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.",
            {"json": {"text": ["Missing data for required field."]}})),
    ("empty-text", b'{"text": ""}', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.",
            {"json": {"text": ["Text is empty or only white space."]}})),
    ("whitespace-text", b'{"text": " \\n\\t "}', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.",
            {"json": {"text": ["Text is empty or only white space."]}})),
    ("whitespace-plain", b"   \n ", "text/plain", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.",
            {"json": {"text": ["Text is empty or only white space."]}})),
    ("unknown-field", b'{"text": "Hi there.", "lang": "en"}', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.", {"json": {"lang": ["Unknown field."]}})),
    ("array-body", b'["Hi there."]', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.", {"json": {"_schema": ["Invalid input type."]}})),
    ("number-body", b"42", "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.", {"json": {"_schema": ["Invalid input type."]}})),
    ("deep-nesting", b"[" * 50_000 + b"]" * 50_000, "application/json", 400,
     _error(400, "Bad Request", "Malformed JSON: nested too deeply.")),
    ("long-id", json.dumps({"text": "Hi.", "id": "x" * 201}).encode(), "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.", {"json": {"id": ["Longer than maximum length 200."]}})),
    ("top-terms-range", b'{"text": "Hi.", "top_terms": 0}', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.",
            {"json": {"top_terms": ["Must be greater than or equal to 1."]}})),
    ("top-terms-limit", b'{"text": "Hi.", "top_terms": 21}', "application/json", 422,
     _error(422, "Unprocessable Entity", "Invalid request body.", {"json": {"top_terms": ["Must be at most 20."]}})),
    ("html", b"<p>Hi</p>", "text/html", 415,
     _error(415, "Unsupported Media Type",
            "Unsupported content type 'text/html'; send application/json or text/plain; charset=utf-8.")),
    ("latin1-text", b"Hi.", "text/plain; charset=latin-1", 415,
     _error(415, "Unsupported Media Type", "text/plain bodies must be UTF-8 (charset=utf-8).")),
    ("form", b"text=hi", "application/x-www-form-urlencoded", 415,
     _error(415, "Unsupported Media Type",
            "Unsupported content type 'application/x-www-form-urlencoded'; "
            "send application/json or text/plain; charset=utf-8.")),
]


@pytest.mark.parametrize("body, ctype, status, expected", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_table(client, body, ctype, status, expected):
    r = client.post("/v1/predict", data=body, content_type=ctype)
    assert r.status_code == status
    assert r.is_json
    assert r.get_json() == expected


def test_text_over_char_limit(tiny_model):
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "MAX_TEXT_CHARS": 50})
    r = app.test_client().post("/v1/predict", json={"text": "a" * 51})
    assert r.status_code == 422
    assert r.get_json()["errors"] == {
        "json": {"text": ["Text is 51 characters long; the limit is 50 (FRAMING_MAX_TEXT_CHARS)."]}
    }


def test_too_many_sentences(tiny_model):
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "MAX_SENTENCES": 2})
    client = app.test_client()
    r = client.post("/v1/predict", json={"text": "One here.\nTwo here.\nThree here."})
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"json": {"text": ["3 sentences; the limit is 2 (FRAMING_MAX_SENTENCES)."]}}
    r = client.post("/v1/predict/batch", json={"documents": [{"text": "Fine."}, {"text": "A.\nB.\nC."}]})
    assert r.get_json()["errors"] == {
        "json": {"documents": {"1": {"text": ["3 sentences; the limit is 2 (FRAMING_MAX_SENTENCES)."]}}}
    }


def test_body_over_content_length(tiny_model):
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "MAX_CONTENT_LENGTH": 100})
    r = app.test_client().post("/v1/predict", json={"text": "x" * 200})
    assert r.status_code == 413
    assert r.get_json() == _error(413, "Request Entity Too Large", "The request body is too large.")


def test_batch_errors_name_the_document(client, tiny_model):
    r = client.post("/v1/predict/batch", json={"documents": [{"text": "Fine."}, {"text": 3}]})
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"json": {"documents": {"1": {"text": ["Not a valid string."]}}}}
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "MAX_BATCH_DOCUMENTS": 2})
    r = app.test_client().post("/v1/predict/batch", json={"documents": [{"text": "a."}] * 3})
    assert r.get_json()["errors"] == {
        "json": {"documents": ["3 documents; the limit is 2 (FRAMING_MAX_BATCH_DOCUMENTS)."]}
    }


@pytest.mark.parametrize(
    "method, path, status, message",
    [("get", "/nowhere", 404, "No such endpoint."),
     ("get", "/v1/predict", 405, "This method is not allowed on this endpoint."),
     ("delete", "/v1/model", 405, "This method is not allowed on this endpoint.")],
    ids=["404", "405-get", "405-delete"],
)
def test_routing_errors_are_json(client, method, path, status, message):
    r = getattr(client, method)(path)
    assert r.status_code == status
    assert r.get_json()["message"] == message and r.get_json()["code"] == status


def test_health_ready_model(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/ready").get_json()
    assert ready["status"] == "ready" and ready["model"]["version"] == "tiny-1"
    info = client.get("/v1/model").get_json()
    assert info["labels"] == ["pro_russia", "neutral", "pro_ukraine"]
    assert info["version"] == "tiny-1"
    assert "cross_validated" in info["metrics"] and info["training_data"]["n_sentences"] == 40
    assert "scikit-learn" in info["library_versions"]
    assert info["scope"]["off_topic"]["fitted"] and "not_english" in info["scope"]


def test_not_ready_without_a_verified_model(tmp_path):
    app = create_app({"TESTING": True, "MODEL_DIR": str(tmp_path / "missing")})
    client = app.test_client()
    assert client.get("/health").status_code == 200
    r = client.get("/ready")
    assert r.status_code == 503
    assert r.get_json() == _error(503, "Service Unavailable",
                                  "The model failed verification at start-up; see the server log.")
    assert client.post("/v1/predict", json={"text": "Hi."}).status_code == 503
    assert str(tmp_path) not in r.get_data(as_text=True)


def test_request_id_echoed_or_generated(client):
    r = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    r = client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert len(r.headers["X-Request-ID"]) == 32


def test_metrics_count_requests_and_labels(client):
    client.post("/v1/predict", json={"text": ARTICLE})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'framing_http_requests_total{endpoint="/v1/predict",method="POST",status="200"}' in text
    assert "framing_sentences_scored_total" in text
    assert "framing_predictions_total{label=" in text
    assert 'framing_model_info{name="framing-tfidf-lr",sha256=' in text
    assert "Kharkiv" not in text


def test_meta_is_echoed_untouched(client):
    meta = {"source": "Wire A", "date": "2026-03-01", "url": "https://example.org/a", "tags": ["x"], "n": 2}
    r = client.post("/v1/predict", json={"text": ARTICLE, "id": "a1", "meta": meta})
    assert r.status_code == 200 and r.get_json()["meta"] == meta
    assert list(r.get_json())[:2] == ["id", "meta"]
    assert "meta" not in client.post("/v1/predict", json={"text": ARTICLE}).get_json()
    r = client.post("/v1/predict/batch", json={"documents": [{"text": ARTICLE, "meta": {"source": "B"}},
                                                             {"text": ARTICLE}]})
    assert [res.get("meta") for res in r.get_json()["results"]] == [{"source": "B"}, None]
    bad = client.post("/v1/predict", json={"text": ARTICLE, "meta": ["not", "an", "object"]})
    assert bad.status_code == 422 and bad.get_json()["errors"] == {"json": {"meta": ["Not a valid mapping type."]}}


def test_metrics_content_type_names_one_charset(client):
    content_type = client.get("/metrics").headers["Content-Type"]
    assert content_type.startswith("text/plain; version=") and content_type.count("charset") == 1


def test_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    for page in ("/", "/review", "/docs"):
        assert 'rel="icon" href="/static/favicon.svg"' in client.get(page).get_data(as_text=True)


def test_config_errors_name_the_variable(tiny_model, monkeypatch):
    monkeypatch.setenv("FRAMING_MAX_SENTENCES", "many")
    with pytest.raises(ValueError, match="FRAMING_MAX_SENTENCES must be a positive integer"):
        create_app({"MODEL_DIR": str(tiny_model)})


def test_numeric_api_key_from_environment(tiny_model, monkeypatch):
    monkeypatch.setenv("FRAMING_API_KEYS", "12345")
    app = create_app({"MODEL_DIR": str(tiny_model)})
    assert app.config["API_KEYS"] == ("12345",)


@pytest.mark.parametrize(
    "header, status",
    [(None, 401), ("Bearer wrong-key-0000", 401), ("Bearer s3cret", 401), ("Bearer s3cret-key-1x", 401),
     ("Basic s3cret-key-1", 401), ("Bearer s3cret-key-1", 200), ("bearer other-key-2", 200)],
    ids=["none", "wrong", "prefix", "longer", "scheme", "valid", "second-key"],
)
def test_api_keys(tiny_model, header, status):
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "API_KEYS": "s3cret-key-1,other-key-2"})
    client = app.test_client()
    headers = {"Authorization": header} if header else {}
    r = client.post("/v1/predict", json={"text": "Talks resumed."}, headers=headers)
    assert r.status_code == status
    if status == 401:
        assert r.get_json()["message"] == "A valid API key is required (Authorization: Bearer <key>)."
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/health").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_openapi_document_is_valid(client):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    predict = spec["paths"]["/v1/predict"]["post"]
    assert set(predict["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert {"200", "400", "401", "413", "415", "422", "503"} <= set(predict["responses"])
    assert "/v1/predict/batch" in spec["paths"] and "/v1/model" in spec["paths"]


def test_docs_page_is_self_contained(client):
    r = client.get("/docs")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "/v1/predict" in html and "text/plain" in html
    assert "http://" not in html and "https://" not in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    # Docstrings' ``names`` are shown as code, not as literal backticks; the rest stays escaped.
    assert "`" not in html and "<code>{&#34;text&#34;: ...}</code>" in html
    assert "<script" not in html.split("</head>", 1)[1]


def test_unexpected_error_is_json_500_without_details(tiny_model, monkeypatch):
    app = create_app({"TESTING": False, "MODEL_DIR": str(tiny_model)})
    classifier = app.extensions["framing"]
    monkeypatch.setattr(classifier, "predict_texts", lambda *a, **k: 1 / 0)
    r = app.test_client().post("/v1/predict", json={"text": "Hi there."}, headers={"X-Request-ID": "req-9"})
    assert r.status_code == 500
    assert r.get_json() == _error(500, "Internal Server Error", "Internal server error. Reference: req-9.")
