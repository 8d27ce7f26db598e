"""Real headless Chromium (Debian's package) driven by Playwright, one browser per module.

Per module, not per session: Playwright's sync API keeps an event loop running
in the main thread while it is open, which async tests elsewhere cannot share.

Every page blocks requests that leave 127.0.0.1, so a page that needs the
internet fails here; `blocked` lists what was attempted.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("SELECTOOLS_CHROMIUM"), shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            return candidate
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs playwright: pip install --group test"
    )
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium on this machine (apt-get install -y chromium; .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


class OfflinePage:
    """A page in a fresh context where only 127.0.0.1 answers."""

    def __init__(self, browser: Any, viewport: dict[str, int] = DESKTOP) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def screenshot(self, name: str) -> None:
        """Write docs/screenshots/{name}.png when missing, or always with
        SELECTOOLS_SCREENSHOTS=1 (so a test run leaves the committed images alone)."""
        path = SCREENSHOTS / f"{name}.png"
        if path.exists() and os.environ.get("SELECTOOLS_SCREENSHOTS") != "1":
            self.page.screenshot()  # still taken: the page must render
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline(browser: Any) -> Iterator[OfflinePage]:
    page = OfflinePage(browser)
    yield page
    page.close()
