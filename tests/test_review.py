"""The review page at ``/review`` driven by headless Chromium against real gunicorn.

Same set-up as test_web.py: Playwright for Python with Debian's Chromium at
/usr/bin/chromium (skipped with a reason when either is missing). Each test
gets its own server, so its own throwaway label database. Outcomes are checked
through the API (stored labels, skips, gold), not just on the page.
"""

from __future__ import annotations

from html.parser import HTMLParser

import browser as browser_support
import pytest
import requests

from model.labels import DISPLAY, LABELS

pytestmark = pytest.mark.browser

browser_support.require()
# Written for these tests; three sentences each, none near-identical to another.
DOCUMENTS = [
    {"id": "ferry", "source": "team", "text": (
        "The river ferry between the two districts ran again after a week of air-raid alarms. "
        "Volunteers unloaded boxes of insulin at the pier while soldiers checked the passengers' papers. "
        "Officials in Moscow described the shelling of the opposite bank as a response to provocations.")},
    {"id": "school", "source": "team", "text": (
        "A village school near the front moved its lessons into the basement of the old bakery. "
        "Parents said the children had learned to count the seconds between a launch and an explosion. "
        "Kyiv praised the teachers as heroes of the resistance against the invaders.")},
    {"id": "talks", "source": "team", "text": (
        "Diplomats from Turkey proposed another round of talks on the exchange of prisoners. "
        "The Kremlin said any agreement must recognise the new territorial realities. "
        "Grain traders in Odesa waited for news about the shipping corridor.")},
]
NAMES = {label: DISPLAY[label]["name"] for label in LABELS}


@pytest.fixture(scope="module")
def browser():
    with browser_support.launch() as chromium:
        yield chromium


class Tab(browser_support.Tab):
    """The review page at ``/review``."""

    PATH = "/review"


@pytest.fixture
def tab(browser):
    tabs = []

    def open_tab(url: str) -> Tab:
        tabs.append(Tab(browser, url))
        return tabs[-1]

    yield open_tab
    for t in tabs:
        t.close()


class Api:
    """The labeling API over HTTP, as the page sees it."""

    def __init__(self, url: str, key: str | None = None):
        self.url = url + "/v1/projects"
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def call(self, method: str, path: str, expect: int = 200, **kwargs):
        r = requests.request(method, self.url + path, headers=self.headers, timeout=20, **kwargs)
        assert r.status_code == expect, r.text
        return r.json() if r.content else None

    def import_docs(self, project: str, overlap: int | None = None) -> int:
        body = {"documents": DOCUMENTS, **({"overlap": overlap} if overlap else {})}
        result = self.call("POST", f"/{project}/documents", 201, json=body)
        assert result["added"] == len(DOCUMENTS) and not result["refused"]
        return result["sentences"]

    def history(self, project: str, sentence_id: int) -> list[tuple]:
        events = self.call("GET", f"/{project}/sentences/{sentence_id}/history")["events"]
        return [(e["annotator"], e["action"], e["label"]) for e in events]

    def item(self, project: str, annotator: str, sentence_id: int) -> dict:
        """The page's items are held for its annotator, so the queue hands them back."""
        items = self.call("GET", f"/{project}/queue", params={"annotator": annotator, "n": 100})["items"]
        return next(i for i in items if i["sentence_id"] == sentence_id)

    def suggestion(self, project: str, annotator: str, sentence_id: int) -> dict:
        return self.item(project, annotator, sentence_id)["suggestion"]


def shown(page) -> int | None:
    value = page.get_attribute("#item", "data-sentence-id")
    return int(value) if value else None


def active_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def press_and_wait(page, key: str) -> int | None:
    """Press a shortcut; wait until another sentence (or none) is shown and nothing is in flight."""
    before = page.get_attribute("#item", "data-sentence-id")
    page.keyboard.press(key)
    page.wait_for_function(
        "b => document.querySelector('#item').dataset.sentenceId !== b"
        " && document.querySelector('#panel-label').getAttribute('aria-busy') === 'false'", arg=before)
    return shown(page)


def start(page, annotator: str, project: str) -> int:
    page.fill("#annotator", annotator)
    page.select_option("#project", project)
    page.click("#start")
    page.wait_for_selector("#item[data-sentence-id]")
    return shown(page)


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.inline = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.inline += tag == "style" or "style" in attrs or (tag == "script" and not attrs.get("src"))
        self.inline += any(name.startswith("on") for name in attrs)
        self.urls += [attrs[n] for n in ("src", "href") if attrs.get(n)]


def test_page_is_self_contained_under_the_csp(server):
    r = requests.get(server.url + "/review", timeout=10)
    assert r.status_code == 200 and "script-src 'self'" in r.headers["Content-Security-Policy"]
    parser = _Assets()
    parser.feed(r.text)
    assert parser.inline == 0
    assert {"/static/review.js", "/static/review.css", "/"} <= set(parser.urls)
    for asset in ("/static/review.js", "/static/review.css"):
        a = requests.get(server.url + asset, timeout=10)
        assert a.status_code == 200 and "http://" not in a.text and "https://" not in a.text
    assert 'href="/review"' in requests.get(server.url + "/", timeout=10).text


def test_keyboard_only_label_undo_skip(tab, make_server, tiny_model):
    srv = make_server(tiny_model)
    api = Api(srv.url)
    total = api.import_docs("demo")
    page = tab(srv.url).open()

    for _ in range(10):  # reach the name field with Tab alone
        page.keyboard.press("Tab")
        if active_id(page) == "annotator":
            break
    page.keyboard.type("dana")
    page.keyboard.press("Tab")
    assert active_id(page) == "project"
    page.keyboard.press("ArrowDown")
    assert page.input_value("#project") == "demo"
    page.keyboard.press("Enter")
    page.wait_for_selector("#item[data-sentence-id]")
    assert active_id(page) == "item"  # shortcuts work at once, nothing to click

    labeled = []
    for key, label in zip("123", LABELS):
        sentence_id = shown(page)
        assert press_and_wait(page, key) not in (None, sentence_id)
        labeled.append((sentence_id, label))
    progress = api.call("GET", "/demo/progress", params={"annotator": "dana"})
    assert progress["annotator"] == {"annotator": "dana", "labels": 3}
    assert [a["annotator"] for a in progress["annotators"]] == ["dana"]
    for sentence_id, label in labeled:
        assert api.history("demo", sentence_id) == [("dana", "label", label)]
    page.wait_for_function("() => document.querySelector('#progress').textContent.startsWith('You: 3 labeled')")

    # Keys typed into the name field are text, not shortcuts; Esc goes back to the sentence.
    current = shown(page)
    page.focus("#annotator")
    page.keyboard.press("End")
    page.keyboard.type("1su")
    for _ in range(3):
        page.keyboard.press("Backspace")
    assert page.input_value("#annotator") == "dana" and shown(page) == current
    page.keyboard.press("Escape")
    assert active_id(page) == "item"
    assert api.call("GET", "/demo/progress", params={"annotator": "dana"})["annotator"]["labels"] == 3

    # u: the last label is removed and its sentence comes back.
    last_id, last_label = labeled[-1]
    assert press_and_wait(page, "u") == last_id
    assert api.history("demo", last_id) == [("dana", "label", last_label), ("dana", "undo", None)]
    assert api.call("GET", "/demo/progress", params={"annotator": "dana"})["annotator"]["labels"] == 2

    # s: the next sentence appears and the skipped one is never offered again.
    assert press_and_wait(page, "s") not in (None, last_id)
    queued = [i["sentence_id"] for i in api.call("GET", "/demo/queue", params={"annotator": "dana", "n": 100})["items"]]
    assert last_id not in queued and not {sid for sid, _ in labeled[:2]} & set(queued)
    seen = []
    while shown(page) is not None:  # skip through the rest, refilling from the queue
        seen.append(shown(page))
        press_and_wait(page, "s")
    assert last_id not in seen and len(set(seen)) == len(seen) == total - 3
    assert page.is_visible("#empty") and "Nothing left to label in this project" in page.inner_text("#status")
    assert api.call("GET", "/demo/progress", params={"annotator": "dana"})["annotator"]["labels"] == 2


def test_suggestion_hidden_until_answered_unless_asked_for(tab, make_server, tiny_model):
    srv = make_server(tiny_model)
    api = Api(srv.url)
    total = api.import_docs("demo")
    for item in api.call("GET", "/demo/queue", params={"annotator": "zoe", "n": 2})["items"]:
        api.call("POST", "/demo/labels", 201, json={"sentence_id": item["sentence_id"], "label": "neutral",
                                                    "annotator": "zoe"})
    page = tab(srv.url).open()
    assert not page.is_checked("#show-suggestion")  # off by default: no anchoring
    first = start(page, "erin", "demo")
    assert page.is_hidden("#suggestion")
    item = api.item("demo", "erin", first)
    expected = item["suggestion"]
    for selector, key in (("#item-text", "text"), ("#context-before", "context_before"),
                          ("#context-after", "context_after"), ("#doc-id", "doc_id")):
        assert page.text_content(selector) == item[key]
    assert page.is_visible("#flags") == bool(item["flags"])

    second = press_and_wait(page, "2")
    # Erin's own count, not zoe's, beside the project's.
    page.wait_for_function("() => document.querySelector('#progress').textContent.startsWith('You: 1 labeled')")
    assert f"3 of {total} sentences labeled" in page.inner_text("#progress")
    feedback = page.locator("#feedback")
    assert feedback.is_visible()
    text = feedback.inner_text()
    assert NAMES[expected["label"]] in text and f"{round(expected['confidence'] * 100)}%" in text
    agreed = expected["label"] == "neutral"
    assert ("you agreed" if agreed else "you disagreed") in text
    assert feedback.get_attribute("data-agreed") == str(agreed).lower()
    assert page.is_hidden("#suggestion")  # the next sentence's suggestion stays hidden

    page.check("#show-suggestion")
    assert page.is_visible("#suggestion")
    now = api.suggestion("demo", "erin", second)
    assert page.get_attribute("#suggestion", "data-label") == now["label"]
    assert NAMES[now["label"]] in page.inner_text("#suggestion")

    page.focus("#item")
    assert press_and_wait(page, "Backspace") == first  # Backspace undoes too
    assert api.history("demo", first) == [("erin", "label", "neutral"), ("erin", "undo", None)]

    page.reload()  # the choice and the name are remembered
    page.wait_for_selector("body.js-ready")
    assert page.is_checked("#show-suggestion") and page.input_value("#annotator") == "erin"
    page.select_option("#project", "demo")
    page.click("#start")
    page.wait_for_selector("#item[data-sentence-id]")
    assert page.is_visible("#suggestion")  # shown with the item, before any answer
    label = api.suggestion("demo", "erin", shown(page))["label"]
    assert page.get_attribute("#suggestion", "data-label") == label


def test_agreement_view_and_gold(tab, make_server, tiny_model):
    srv = make_server(tiny_model)
    api = Api(srv.url)
    api.import_docs("panel", overlap=2)
    items = api.call("GET", "/panel/queue", params={"annotator": "bob", "n": 2})["items"]
    conflict, agreed = (i["sentence_id"] for i in items)
    for who, label in (("bob", "pro_russia"), ("carol", "pro_ukraine")):
        api.call("POST", "/panel/labels", 201, json={"sentence_id": conflict, "label": label, "annotator": who})
    for who in ("bob", "carol"):
        api.call("POST", "/panel/labels", 201, json={"sentence_id": agreed, "label": "neutral", "annotator": who})

    page = tab(srv.url).open()
    page.fill("#annotator", "judge")
    page.select_option("#project", "panel")
    page.click("#tab-agreement")
    row = page.locator(f'#conflicts li.conflict[data-sentence-id="{conflict}"]')
    row.wait_for()
    cells = page.eval_on_selector_all("#pairs tbody td", "tds => tds.map(td => td.textContent)")
    assert cells[:3] == ["bob & carol", "2", "50%"]
    assert "Krippendorff" in page.inner_text("#alpha")
    assert page.locator("#conflicts li.conflict").count() == 1
    votes = row.locator(".votes").inner_text()
    assert "bob: pro-Russia" in votes and "carol: pro-Ukraine" in votes
    assert row.locator(".gold").inner_text() == "No gold label yet."

    row.get_by_role("button", name="Gold: neutral").click()
    page.wait_for_selector(f'#conflicts li[data-sentence-id="{conflict}"] .gold[data-gold="neutral"]')
    assert "set by judge" in row.locator(".gold").inner_text()
    assert row.get_by_role("button", name="Gold: neutral").get_attribute("aria-pressed") == "true"
    assert api.history("panel", conflict)[-1] == ("judge", "gold", "neutral")
    report = api.call("GET", "/panel/agreement")
    assert [c["gold"] for c in report["conflicts"] if c["sentence_id"] == conflict] == ["neutral"]

    page.click("#refresh-agreement")  # the stored gold is shown after a reload of the view
    page.wait_for_function("() => document.querySelector('#conflicts .gold').textContent === 'Gold: neutral'")


def test_named_api_key_labels_as_its_holder(tab, make_server, tiny_model):
    srv = make_server(tiny_model, env={"FRAMING_API_KEYS": "alice:key-a"})
    api = Api(srv.url, key="key-a")
    api.import_docs("demo")
    unauthorized = requests.get(srv.url + "/v1/projects", timeout=10).json()
    t = tab(srv.url)
    page = t.open()
    assert page.is_visible("#api-key") and "API key" in page.inner_text("#status")

    page.fill("#api-key", "wrong-key")
    page.press("#api-key", "Enter")
    page.wait_for_function("() => document.querySelector('#status').classList.contains('is-error')")
    assert unauthorized["message"] in page.inner_text("#status")
    assert active_id(page) == "api-key"

    stored = []
    # No name typed, then a different name typed: either way the key's name is used.
    for typed, key, label in (("", "3", "pro_ukraine"), ("bob", "1", "pro_russia")):
        page.fill("#api-key", "key-a")
        page.fill("#annotator", typed)
        page.press("#api-key", "Enter")
        page.wait_for_function("() => document.activeElement.id === 'project'")
        page.select_option("#project", "demo")
        page.press("#project", "Enter")
        page.wait_for_selector("#item[data-sentence-id]")
        assert page.is_hidden("#annotator-field") and page.is_visible("#named")
        stored.append((shown(page), label))
        press_and_wait(page, key)
        assert page.inner_text("#named-annotator") == "alice"
        page.reload()  # the key is not stored: asked for again
        page.wait_for_selector("body.js-ready")
        assert page.input_value("#api-key") == "" and page.is_visible("#annotator-field")

    progress = api.call("GET", "/demo/progress")
    assert [(a["annotator"], a["labels"]) for a in progress["annotators"]] == [("alice", 2)]
    for sentence_id, label in stored:
        assert api.history("demo", sentence_id) == [("alice", "label", label)]
    assert any("annotator=bob" in r.url for r in t.requests)  # tried, refused (403), dropped
    posts = [r for r in t.requests if r.url.endswith("/labels") and r.method == "POST"]
    assert len(posts) == 2 and all(r.headers["authorization"] == "Bearer key-a" for r in posts)
    assert all("annotator" not in r.post_data_json for r in posts)  # the key names the annotator
