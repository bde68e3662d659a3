"""The analyst page at ``/`` driven by headless Chromium against real gunicorn.

Needs Playwright for Python and Debian's Chromium at /usr/bin/chromium (no
browser download); the module is skipped with a reason when either is missing.
"""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import browser as browser_support
import pytest
import requests

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
browser_support.require()
ARTICLE = (Path(__file__).resolve().parent / "data" / "sample_article.txt").read_text(encoding="utf-8")
CSV_HEADER = ["index", "start", "end", "label", "confidence",
              "p_pro_russia", "p_neutral", "p_pro_ukraine", "flags", "text"]


@pytest.fixture(scope="module")
def browser():
    with browser_support.launch() as chromium:
        yield chromium


class Tab(browser_support.Tab):
    """The analyst page at ``/``."""

    def analyze(self, text: str) -> None:
        self.page.fill("#article-text", text)
        with self.page.expect_response(lambda r: r.url.endswith("/v1/predict")) as info:
            self.page.click("#analyze")
        info.value.finished()
        self.page.wait_for_function("() => !document.querySelector('#analyze').disabled")


@pytest.fixture
def tab(browser, server):
    t = Tab(browser, server.url)
    yield t
    t.close()


def api_predict(url: str, text: str, key: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(url + "/v1/predict", json={"text": text, "explain": True, "top_terms": 5},
                         headers=headers, timeout=10)


def sentences_on_page(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#article-view [data-index]",
        "els => els.map(e => ({index: +e.dataset.index, label: e.dataset.label,"
        " filtered: e.classList.contains('is-filtered'), visible: e.offsetParent !== null,"
        " tabindex: e.getAttribute('tabindex')}))",
    )


def rebuilt_text(page) -> str:
    """The article view's text without the label badges and screen-reader prefixes."""
    return page.evaluate(
        "() => { const v = document.querySelector('#article-view').cloneNode(true);"
        " v.querySelectorAll('.badge, .visually-hidden').forEach(e => e.remove()); return v.textContent; }")


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.inline_scripts, self.style_attrs, self.style_tags = [], 0, 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.style_attrs += 1
        if tag == "style":
            self.style_tags += 1
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1
        if any(name.startswith("on") for name in attrs):
            self.inline_scripts += 1
        for name in ("src", "href", "action"):
            if attrs.get(name):
                self.urls.append(attrs[name])


def test_page_is_self_contained_under_the_csp(server):
    r = requests.get(server.url + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    parser = _Assets()
    parser.feed(r.text)
    assert parser.inline_scripts == 0 and parser.style_attrs == 0 and parser.style_tags == 0
    assert "/static/app.js" in parser.urls and "/static/app.css" in parser.urls and "/docs" in parser.urls
    for url in parser.urls:
        full = urlsplit(urljoin(server.url + "/", url))
        assert (full.scheme, full.netloc) == ("http", urlsplit(server.url).netloc), url
    for asset, ctype in (("/static/app.js", "javascript"), ("/static/app.css", "text/css")):
        a = requests.get(server.url + asset, timeout=10)
        assert a.status_code == 200 and ctype in a.headers["Content-Type"]
        assert "http://" not in a.text and "https://" not in a.text


def test_analyze_highlights_every_sentence(tab, server, artifacts_dir):
    page = tab.open()
    assert page.is_hidden("#api-key-field")  # no keys configured
    tab.analyze(ARTICLE)
    api = api_predict(server.url, ARTICLE).json()
    n = api["document"]["n_sentences"]
    shown = sentences_on_page(page)
    assert len(shown) == n == len(api["sentences"]) == 8
    assert [s["index"] for s in shown] == [s["index"] for s in api["sentences"]]
    assert [s["label"] for s in shown] == [s["label"] for s in api["sentences"]]
    assert all(s["tabindex"] == "0" for s in shown)
    # Badges aside, the view is exactly the submitted text, line breaks and gaps included.
    assert rebuilt_text(page) == ARTICLE
    badges = page.eval_on_selector_all("#article-view [data-index] .badge", "els => els.map(e => e.textContent)")
    assert badges == [{"pro_russia": "RU", "neutral": "N", "pro_ukraine": "UA"}[s["label"]] for s in api["sentences"]]
    assert page.text_content("#n-sentences") == str(n)
    assert page.text_content("#model-version") == api["model"]["version"] == "tiny-1"
    score = page.text_content("#framing-score").replace("−", "-")
    assert float(score) == pytest.approx(api["document"]["framing_score"], abs=0.006)
    for label, share in api["document"]["label_shares"].items():
        assert page.text_content(f'[data-share="{label}"]').startswith(f"{share * 100:.1f}%")

    first = api["sentences"][2]
    page.hover('#article-view [data-index="2"]')
    tip = page.locator("#tooltip")
    assert tip.is_visible()
    text = tip.inner_text()
    for p in first["probabilities"].values():
        assert f"{p * 100:.1f}%" in text
    assert first["top_terms"][0]["term"] in text and f"{first['top_terms'][0]['weight']:.3f}" in text
    page.screenshot(path=str(artifacts_dir / "web-wide.png"), full_page=True)

    # In print the form goes away and the text badges still mark every label.
    page.emulate_media(media="print")
    assert page.is_hidden("#analyze-form") and page.is_visible('#article-view [data-index="0"] .badge')
    page.emulate_media(media="screen")


def test_offsets_count_code_points(tab, server):
    # The API's offsets count code points; JS strings count UTF-16 units.
    text = "Talks 🌻 resumed in Geneva.\n\n  The 🇺🇦 flag was raised, officials said.   Kyiv regime shelling continued."
    page = tab.open()
    tab.analyze(text)
    api = api_predict(server.url, text).json()
    assert [s["label"] for s in sentences_on_page(page)] == [s["label"] for s in api["sentences"]]
    texts = page.eval_on_selector_all(
        "#article-view [data-index]", "els => els.map(e => e.lastChild.textContent)")
    assert texts == [s["text"] for s in api["sentences"]]
    assert rebuilt_text(page) == text


def test_keyboard_only(tab, server):
    page = tab.open()
    page.focus("#article-text")
    page.keyboard.insert_text(ARTICLE)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector('#article-view [data-index="0"]')
    page.focus('#article-view [data-index="0"]')
    assert page.locator("#tooltip").is_visible()
    assert page.get_attribute('#article-view [data-index="0"]', "aria-describedby") == "tooltip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.index") == "1"
    assert page.locator("#tooltip").is_visible()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Escape")
    assert page.locator("#tooltip").is_hidden()


def test_label_and_confidence_filters(tab, server):
    page = tab.open()
    tab.analyze(ARTICLE)
    api = api_predict(server.url, ARTICLE).json()["sentences"]
    labels = {s["label"] for s in api}
    assert len(labels) >= 2, "the sample article should get more than one label"
    for label in sorted(labels):
        page.select_option("#filter-label", label)
        for s in sentences_on_page(page):
            assert s["filtered"] == (s["label"] != label)
            assert s["visible"]  # dimmed, not hidden
    page.check("#filter-hide")
    shown = sentences_on_page(page)
    assert all(s["visible"] == (not s["filtered"]) for s in shown)
    assert len(shown) == len(api)  # hidden ones keep their data-* hooks
    page.uncheck("#filter-hide")
    page.select_option("#filter-label", "all")
    assert not any(s["filtered"] for s in sentences_on_page(page))

    confidences = sorted(s["confidence"] for s in api)
    limit = round((confidences[2] + confidences[3]) / 2 * 100)
    page.fill("#filter-confidence-number", str(limit))
    by_index = {s["index"]: s for s in api}
    filtered = {s["index"] for s in sentences_on_page(page) if s["filtered"]}
    assert filtered == {i for i, s in by_index.items() if s["confidence"] > limit / 100}
    assert 0 < len(filtered) < len(api)
    assert page.input_value("#filter-confidence") == str(limit / 100)
    assert f"of {len(api)} sentences" in page.text_content("#filter-status")


def test_downloads_json_and_csv(tab, server):
    page = tab.open()
    tab.analyze(ARTICLE)
    api = api_predict(server.url, ARTICLE).json()
    with page.expect_download() as info:
        page.click("#download-json")
    download = info.value
    assert download.suggested_filename.endswith(".json")
    assert json.loads(Path(download.path()).read_text(encoding="utf-8")) == api

    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert rows[0] == CSV_HEADER
    assert len(rows) == 1 + api["document"]["n_sentences"]
    for row, s in zip(rows[1:], api["sentences"]):
        assert row[:4] == [str(s["index"]), str(s["start"]), str(s["end"]), s["label"]]
        assert float(row[4]) == pytest.approx(s["confidence"])
        assert [float(v) for v in row[5:8]] == pytest.approx(
            [s["probabilities"][k] for k in ("pro_russia", "neutral", "pro_ukraine")])
        assert row[8] == ";".join(s["flags"])
        assert row[9] == s["text"] == ARTICLE[s["start"]:s["end"]]
    assert any('"' in r[9] and "," in r[9] for r in rows[1:])  # quoting was exercised


def test_file_input_and_drop_load_the_textarea(tab, tmp_path):
    page = tab.open()
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    page.set_input_files("#article-file", str(path))
    page.wait_for_function("() => document.querySelector('#article-text').value.length > 0")
    assert page.input_value("#article-text") == ARTICLE
    page.fill("#article-text", "")
    page.evaluate(
        """text => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], 'dropped.txt', {type: 'text/plain'}));
            const area = document.querySelector('#article-text');
            area.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
            area.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""",
        "Talks resumed on Friday. Both sides said little.",
    )
    page.wait_for_function("() => document.querySelector('#article-text').value.startsWith('Talks')")
    assert "dropped.txt" in page.text_content("#status")


def test_empty_text_shows_the_api_message(tab, server):
    page = tab.open()
    expected = requests.post(server.url + "/v1/predict", json={"text": "", "explain": True, "top_terms": 5},
                             timeout=10).json()
    assert expected["code"] == 422
    tab.analyze("")
    error = page.locator("#error")
    assert error.is_visible()
    text = error.inner_text()
    assert expected["message"] in text
    assert expected["errors"]["json"]["text"][0] in text
    assert page.get_attribute("#error", "role") == "alert"
    assert page.is_hidden("#results")
    # A later success clears the error.
    tab.analyze(ARTICLE)
    assert page.is_hidden("#error") and page.is_visible("#results")


def test_too_long_and_not_ready_errors(browser, make_server, tmp_path):
    srv = make_server(tmp_path / "no-model", env={"FRAMING_MAX_TEXT_CHARS": "60"}, wait_ready=False)
    too_long = api_predict(srv.url, ARTICLE).json()
    not_ready = api_predict(srv.url, "Talks resumed.").json()
    assert (too_long["code"], not_ready["code"]) == (422, 503)
    t = Tab(browser, srv.url)
    try:
        page = t.open()
        assert "At most 60 characters" in page.inner_text("#text-hint")
        page.fill("#article-text", ARTICLE)
        assert "over the limit" in page.inner_text("#char-count")
        t.analyze(ARTICLE)
        error = page.inner_text("#error")
        assert too_long["message"] in error and too_long["errors"]["json"]["text"][0] in error
        assert page.get_attribute("#article-text", "aria-invalid") == "true"
        t.analyze("Talks resumed.")
        error = page.inner_text("#error")
        assert "not ready" in error and not_ready["message"] in error
        assert page.is_hidden("#results")
    finally:
        t.close()


def test_api_key_required(browser, make_server, tiny_model, artifacts_dir):
    key = "test-key-123"
    srv = make_server(tiny_model, env={"FRAMING_API_KEYS": key})
    unauthorized = api_predict(srv.url, ARTICLE).json()
    t = Tab(browser, srv.url)
    try:
        page = t.open()
        assert page.is_visible("#api-key")  # auth_required: shown from the start
        t.analyze(ARTICLE)
        assert page.is_visible("#error")
        assert unauthorized["message"] in page.inner_text("#error")
        assert page.is_visible("#api-key")
        assert page.evaluate("document.activeElement.id") == "api-key"
        assert page.is_hidden("#results")
        page.screenshot(path=str(artifacts_dir / "web-401.png"))

        page.fill("#api-key", key)
        t.analyze(ARTICLE)
        assert page.is_hidden("#error")
        authorized = api_predict(srv.url, ARTICLE, key).json()
        assert page.text_content("#n-sentences") == str(authorized["document"]["n_sentences"])
        assert len(sentences_on_page(page)) == authorized["document"]["n_sentences"]
        sent = [r for r in t.requests if r.url.endswith("/v1/predict")]
        assert "authorization" not in sent[0].headers
        assert sent[-1].headers["authorization"] == f"Bearer {key}"
    finally:
        t.close()


def test_narrow_viewport(browser, server, artifacts_dir):
    t = Tab(browser, server.url, width=375, height=800)
    try:
        page = t.open()
        t.analyze(ARTICLE)
        assert len(sentences_on_page(page)) == 8
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.mouse.move(0, 0)
        page.focus('#article-view [data-index="3"]')
        assert "sentence 4" in page.inner_text("#tooltip")
        box = page.locator("#tooltip").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
        page.screenshot(path=str(artifacts_dir / "web-narrow.png"), full_page=True)
        page.screenshot(path=str(artifacts_dir / "web-narrow-tooltip.png"))
    finally:
        t.close()


@pytest.mark.parametrize("name, code", [("ru_news_article.txt", "mostly_not_english"),
                                        ("recipe_blog.txt", "mostly_off_topic")])
def test_out_of_scope_article_shows_a_warning_not_a_share_bar(browser, make_server, default_model, name, code):
    text = (ROOT / "examples" / "articles" / name).read_text(encoding="utf-8")
    t = Tab(browser, make_server(default_model).url)
    try:
        page = t.open()
        t.analyze(text)
        page.wait_for_selector("#results:not([hidden])")
        assert page.is_visible("#doc-warnings")
        assert page.get_attribute("#doc-warnings .doc-warning", "data-code") == code
        assert not page.is_visible("#share-bar") and page.is_visible("#no-shares")
        assert page.text_content("#framing-score") == "–"
        flagged = page.eval_on_selector_all("#article-view .sentence.flagged", "els => els.length")
        total = page.eval_on_selector_all("#article-view .sentence", "els => els.length")
        assert flagged > total / 2
        page.hover("#article-view .sentence.flagged")
        assert "Flagged" in page.text_content("#tooltip .tip-flag")
    finally:
        t.close()
