"""Headless Chromium for the page tests (test_web.py, test_review.py): Debian's
browser at /usr/bin/chromium driven by Playwright for Python, no browser download.
A test module calls :func:`require` at import, so it is skipped with a reason
when either is missing."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's
# hosts, which this machine's closed network refuses.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000


def require():
    """Playwright's sync API, or a module-level skip naming what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not (CHROMIUM.is_file() or shutil.which(str(CHROMIUM))):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
    return sync_api


@contextmanager
def launch():
    with require().sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


class Tab:
    """A page plus everything it requested and every console error / CSP report;
    ``close()`` asserts it stayed on its origin and logged no script error."""

    PATH = "/"

    def __init__(self, browser, base_url: str, width: int = 1280, height: int = 900):
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.requests: list = []
        self.console_errors: list[str] = []
        self.page.on("request", self._on_request)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_console)

    def _on_request(self, request) -> None:  # Playwright takes no builtin methods as handlers
        self.requests.append(request)

    def _on_console(self, message) -> None:
        if getattr(message, "type", "error") == "error":
            self.console_errors.append(getattr(message, "text", None) or str(message))

    def open(self):
        self.page.goto(self.base_url + self.PATH)
        self.page.wait_for_selector("body.js-ready")
        return self.page

    def close(self) -> None:
        self.context.close()
        origin = urlsplit(self.base_url)
        for req in self.requests:
            parts = urlsplit(req.url)
            assert parts.scheme in ("http", "blob", "data"), req.url
            if parts.scheme == "http":
                assert (parts.hostname, parts.port) == (origin.hostname, origin.port), req.url
        # The browser logs every 4xx response; the error tests expect those.
        errors = [e for e in self.console_errors if "Failed to load resource" not in e]
        assert errors == []  # no script errors, no CSP violations
