"""Security properties: API keys under gunicorn, what logs and errors reveal,
debug that cannot be switched on, security headers, constant-time key checks."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import platform
import re
import time
from importlib import metadata

import pytest
import requests
from conftest import Server

import service.auth as auth
from service.app import create_app

KEYS = ("alpha-key-7Hq2x9Lm", "beta-key-Zp41")
MARKER = "Quixotic zebra marker 4471 crossed the Dnipro."
ARTICLE = "Russian forces shelled Kharkiv overnight. Talks resume on Wednesday, officials said."
LEAKS = ("Traceback", 'File "', "/work", ".py", "site-packages", "werkzeug", "Werkzeug")
VERSIONS = sorted(
    {metadata.version(name) for name in
     ("flask", "werkzeug", "gunicorn", "scikit-learn", "numpy", "marshmallow", "flask-smorest", "webargs")}
    | {platform.python_version()}
)


@pytest.fixture(scope="module")
def keyed(tiny_model, tmp_path_factory):
    """gunicorn with FRAMING_API_KEYS set (2 workers, tiny model)."""
    srv = Server(tiny_model, env={"FRAMING_API_KEYS": ",".join(KEYS)}, workers=2)
    srv.start(tmp_path_factory.mktemp("keyed") / "gunicorn.log")
    yield srv
    srv.stop()


def assert_no_leak(text: str, where: str) -> None:
    for needle in LEAKS:
        assert needle not in text, f"{where} contains {needle!r}: {text[:300]}"
    for version in VERSIONS:
        assert not re.search(rf"(?<![\d.]){re.escape(version)}(?![\d.])", text), f"{where} shows version {version}"
    for key in KEYS:
        assert key not in text, f"{where} contains an API key"


# ----------------------------------------------------------------------------- auth
AUTH_CASES = [
    ("no-header", None, 401),
    ("empty-bearer", "Bearer ", 401),
    ("wrong-key-same-length", "Bearer " + "x" * len(KEYS[0]), 401),
    ("shorter-key", "Bearer short", 401),
    ("longer-key", "Bearer " + KEYS[0] + "-and-more", 401),
    ("prefix-of-key", "Bearer " + KEYS[0][:-1], 401),
    ("prefix-one-char", "Bearer " + KEYS[0][:1], 401),
    ("both-keys-joined", "Bearer " + ",".join(KEYS), 401),
    ("case-changed", "Bearer " + KEYS[0].upper(), 401),
    ("basic-scheme", "Basic " + KEYS[0], 401),
    ("key-without-scheme", KEYS[0], 401),
    ("valid-first", "Bearer " + KEYS[0], 200),
    ("valid-second-lowercase-scheme", "bearer " + KEYS[1], 200),
]


@pytest.mark.integration
@pytest.mark.parametrize("header, status", [c[1:] for c in AUTH_CASES], ids=[c[0] for c in AUTH_CASES])
def test_api_keys_over_gunicorn(keyed, header, status):
    headers = {"Authorization": header} if header is not None else {}
    r = requests.post(keyed.url + "/v1/predict", json={"text": ARTICLE}, headers=headers, timeout=10)
    assert r.status_code == status
    model = requests.get(keyed.url + "/v1/model", headers=headers, timeout=10)
    assert model.status_code == status
    if status == 401:
        assert r.json() == {"code": 401, "status": "Unauthorized",
                            "message": "A valid API key is required (Authorization: Bearer <key>)."}
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="framing"'
        assert_no_leak(r.text, "401 body")


def test_key_in_query_or_other_header_is_not_accepted(tiny_model):
    # Flask client, not gunicorn: a key in a URL would land in gunicorn's access log
    # (the request line), which the log test below asserts never happens.
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "API_KEYS": ",".join(KEYS)})
    client = app.test_client()
    for params, headers in [({"api_key": KEYS[0]}, {}), ({"key": KEYS[0]}, {}), ({"access_token": KEYS[0]}, {}),
                            ({}, {"X-API-Key": KEYS[0]}), ({}, {"Cookie": f"api_key={KEYS[0]}"}),
                            ({}, {"Proxy-Authorization": f"Bearer {KEYS[0]}"})]:
        r = client.post("/v1/predict", query_string=params, headers=headers, json={"text": ARTICLE})
        assert r.status_code == 401, (params, headers)
    assert client.post("/v1/predict", json={"text": ARTICLE},
                       headers={"Authorization": f"Bearer {KEYS[0]}"}).status_code == 200


@pytest.mark.integration
def test_open_endpoints_reveal_no_text_or_keys(keyed):
    ok = requests.post(keyed.url + "/v1/predict", json={"text": MARKER},
                       headers={"Authorization": f"Bearer {KEYS[1]}"}, timeout=10)
    assert ok.status_code == 200
    for path in ("/health", "/ready", "/metrics", "/openapi.json", "/", "/docs"):
        r = requests.get(keyed.url + path, timeout=10)
        assert r.status_code == 200, path
        assert "Quixotic" not in r.text and "Dnipro" not in r.text, path
        for key in KEYS:
            assert key not in r.text, path
    assert requests.get(keyed.url + "/health", timeout=10).json() == {"status": "ok"}


@pytest.mark.integration
def test_keys_and_text_never_reach_the_log(keyed):
    # Valid, wrong and partial keys, plus article text, all sent before the log is read.
    for header in ["Bearer " + KEYS[0], "Bearer " + KEYS[1], "Bearer " + KEYS[0][:-1], "Bearer wrong-key-5555"]:
        requests.post(keyed.url + "/v1/predict", json={"text": MARKER}, headers={"Authorization": header},
                      timeout=10)
    time.sleep(0.5)  # let both workers flush their lines
    log = keyed.log_text()
    assert '"route": "/v1/predict"' in log and '"status": 401' in log  # the log is the request log
    for secret in (*KEYS, KEYS[0][:-1], "wrong-key-5555", "Bearer", "Authorization"):
        assert secret not in log, f"{secret!r} in the server log"
    assert "Quixotic" not in log and "Dnipro" not in log


# ------------------------------------------------------------------- error bodies
@pytest.mark.integration
def test_error_bodies_reveal_nothing_over_http(server):
    cases = [
        ("post", "/v1/predict", {"data": b'{"text": ', "headers": {"Content-Type": "application/json"}}, 400),
        ("post", "/v1/predict", {"data": b'{"text": "\xff"}', "headers": {"Content-Type": "application/json"}}, 400),
        ("get", "/nowhere/app.py", {}, 404),
        ("get", "/v1/predict", {}, 405),
        ("delete", "/v1/model", {}, 405),
        ("post", "/v1/predict", {"data": b"x" * 1_000_001, "headers": {"Content-Type": "text/plain"}}, 413),
        ("post", "/v1/predict", {"data": b"<p>hi</p>", "headers": {"Content-Type": "text/html"}}, 415),
        ("post", "/v1/predict", {"json": {"text": 5, "id": [1]}}, 422),
        ("post", "/v1/predict", {"json": {"text": "Hi.", "top_terms": "many"}}, 422),
    ]
    for method, path, kwargs, status in cases:
        r = requests.request(method, server.url + path, timeout=10, **kwargs)
        assert r.status_code == status, (path, r.text[:200])
        assert r.headers["Content-Type"] == "application/json"
        assert_no_leak(r.text, f"{method} {path}")
        assert r.headers["Server"] == "gunicorn"  # no version in the Server header
        assert_no_leak(" ".join(f"{k}: {v}" for k, v in r.headers.items()), f"{method} {path} headers")


@pytest.mark.integration
@pytest.mark.parametrize("path", ["/static/../service/app.py", "/static/..%2f..%2fservice%2fapp.py",
                                  "/static/%2e%2e/%2e%2e/setup.cfg", "//etc/passwd", "/static/app.js%00.py"])
def test_static_files_cannot_be_escaped(server, path):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path)  # sent exactly as written: no client-side normalisation
        r = conn.getresponse()
        body = r.read().decode("utf-8", "replace")
    finally:
        conn.close()
    assert r.status in (400, 404), (path, r.status)
    assert "import " not in body and "root:" not in body and "[metadata]" not in body
    assert_no_leak(body, path)


def test_not_ready_error_reveals_no_path(tmp_path):
    app = create_app({"TESTING": True, "MODEL_DIR": str(tmp_path / "models" / "missing")})
    r = app.test_client().post("/v1/predict", json={"text": "Hi."})
    assert r.status_code == 503
    assert_no_leak(r.get_data(as_text=True), "503 body")
    assert "missing" not in r.get_data(as_text=True)


# ------------------------------------------------------------------ debug stays off
DEBUG_TRIES = [
    ({"debug": "1"}, {}),
    ({"debug": "true", "FLASK_DEBUG": "1", "FLASK_ENV": "development"}, {}),
    ({"__debugger__": "yes", "cmd": "resource", "f": "debugger.js"}, {}),
    ({}, {"X-Debug": "1"}),
    ({}, {"X-Flask-Debug": "1", "X-Werkzeug-Debug": "1"}),
    ({}, {"Cookie": "__wzd0123456789=1; debug=1"}),
]


@pytest.fixture
def failing_app(tiny_model, monkeypatch):
    """Variables that try to switch debug on, and a prediction path that raises."""
    for name, value in [("FLASK_DEBUG", "1"), ("FRAMING_DEBUG", "true"), ("FRAMING_TESTING", "true"),
                        ("FRAMING_PROPAGATE_EXCEPTIONS", "true"), ("FLASK_ENV", "development")]:
        monkeypatch.setenv(name, value)
    app = create_app({"MODEL_DIR": str(tiny_model)})
    monkeypatch.setattr(app.extensions["framing"], "predict_texts",
                        lambda *a, **k: open("/work/secret/config.py").read())
    return app


@pytest.mark.parametrize("params, headers", DEBUG_TRIES, ids=[f"try-{i}" for i in range(len(DEBUG_TRIES))])
def test_debug_cannot_be_switched_on(failing_app, params, headers):
    assert failing_app.debug is False
    client = failing_app.test_client()
    r = client.post("/v1/predict", query_string=params, json={"text": "Hi there."},
                    headers={**headers, "X-Request-ID": "dbg-1"})
    assert r.status_code == 500
    assert r.get_json() == {"code": 500, "status": "Internal Server Error",
                            "message": "Internal server error. Reference: dbg-1."}
    assert_no_leak(r.get_data(as_text=True), "500 body")
    assert "secret" not in r.get_data(as_text=True)
    assert failing_app.debug is False
    assert client.get("/console").status_code == 404


@pytest.mark.integration
def test_werkzeug_debugger_is_not_served(server):
    for path in ("/?__debugger__=yes&cmd=resource&f=debugger.js", "/console",
                 "/?__debugger__=yes&cmd=printpin&s=x", "/health?debug=1"):
        r = requests.get(server.url + path, timeout=10)
        assert "Werkzeug" not in r.text and "debugger.js" not in r.text and "EVALEX" not in r.text, path
        assert r.status_code in (200, 404), path


# ----------------------------------------------------------------- security headers
@pytest.mark.integration
def test_every_response_has_nosniff(server):
    probes = [
        ("get", "/", {}), ("get", "/docs", {}), ("get", "/static/app.js", {}), ("get", "/static/app.css", {}),
        ("get", "/openapi.json", {}), ("get", "/health", {}), ("get", "/ready", {}), ("get", "/metrics", {}),
        ("get", "/v1/model", {}), ("post", "/v1/predict", {"json": {"text": ARTICLE}}),
        ("post", "/v1/predict", {"json": {"text": ""}}), ("get", "/nowhere", {}), ("put", "/v1/predict", {}),
        ("post", "/v1/predict", {"data": b"x" * 1_000_001, "headers": {"Content-Type": "text/plain"}}),
        ("post", "/v1/predict", {"data": b"{", "headers": {"Content-Type": "application/json"}}),
    ]
    for method, path, kwargs in probes:
        r = requests.request(method, server.url + path, timeout=10, **kwargs)
        assert r.headers.get("X-Content-Type-Options") == "nosniff", (method, path, r.status_code)
        assert r.headers.get("X-Frame-Options") == "DENY", (method, path)
        assert r.headers.get("Referrer-Policy") == "no-referrer", (method, path)


@pytest.mark.integration
def test_page_has_a_strict_csp(server):
    r = requests.get(server.url + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    policy = r.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    for bad in ("unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:", "https:", "blob:"):
        assert bad not in policy.split(), bad
        assert f"'{bad}'" not in policy, bad
    html = r.text
    # Nothing that the policy would have to allow: no inline script, handler or style.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)
    assert "javascript:" not in html.lower()


# --------------------------------------------------------------- constant-time keys
def test_key_check_is_constant_time_by_design(monkeypatch):
    """Every configured key is compared, always, as equal-length sha256 digests."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    keys = ("k1-aaaaaaaa", "second-key-bbbbbbbbbbbbbbbbbbbbbbbb", "k3")
    for given, expected in [("k1-aaaaaaaa", True), ("k3", True), ("k1-aaaaaaa", False), ("", False),
                            ("x" * 10_000, False), ("second-key-bbbbbbbbbbbbbbbbbbbbbbbb", True),
                            ("caf\u00e9\ud800", False)]:
        calls.clear()
        assert auth.key_is_valid(given, keys) is expected
        # No early exit: one comparison per configured key, matched or not, first or last.
        assert len(calls) == len(keys)
        given_digest = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
        for (a, b), key in zip(calls, keys):
            assert isinstance(a, bytes) and isinstance(b, bytes)
            assert len(a) == len(b) == 32  # digests: lengths never depend on the key
            assert a == given_digest
            assert b == hashlib.sha256(key.encode()).digest()


def test_requests_go_through_the_constant_time_check(tiny_model, monkeypatch):
    seen = []
    real = auth.key_index
    monkeypatch.setattr(auth, "key_index", lambda given, keys: seen.append((given, keys)) or real(given, keys))
    app = create_app({"TESTING": True, "MODEL_DIR": str(tiny_model), "API_KEYS": ",".join(KEYS)})
    client = app.test_client()
    assert client.post("/v1/predict", json={"text": "Hi."},
                       headers={"Authorization": f"Bearer {KEYS[0][:-1]}"}).status_code == 401
    assert client.post("/v1/predict", json={"text": "Hi."},
                       headers={"Authorization": f"Bearer {KEYS[1]}"}).status_code == 200
    assert seen == [(KEYS[0][:-1], KEYS), (KEYS[1], KEYS)]
