"""The playground in headless Chromium, against real FastAPI (uvicorn) and Flask (werkzeug)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.apps import HOSTILE, SLOW_ANSWER, WerkzeugThread, fastapi_app, flask_app
from tests.browser.conftest import PHONE, OfflinePage
from tests.fakes.servers import UvicornThread


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    if request.param == "fastapi":
        with UvicornThread(fastapi_app()) as running:
            yield request.param, running.url + "/bot"
    else:
        with WerkzeugThread(flask_app()) as running:
            yield request.param, running.url + "/bot"


def open_playground(offline: OfflinePage, base: str, key: str = "key-ada") -> Any:
    page = offline.page
    page.goto(f"{base}/playground?key={key}")
    page.locator("#sessions-note, #sessions li").first.wait_for(state="attached")
    return page


def ask(page: Any, text: str) -> Any:
    page.fill("#input", text)
    page.click("#send")
    return page.locator(".turn.agent").last


def test_streams_text_before_the_run_ends(offline: OfflinePage, server: tuple[str, str]) -> None:
    adapter, base = server
    page = open_playground(offline, base)
    turn = ask(page, "Tell me something")
    answer = turn.locator(".answer")
    answer.get_by_text("word1", exact=False).wait_for()
    # Partial text is on screen while the run is still going: the end has not arrived.
    assert turn.get_attribute("data-state") == "running"
    assert "end." not in answer.inner_text()
    turn.locator(".usage").wait_for()
    assert turn.get_attribute("data-state") == "done"
    assert answer.locator("strong").inner_text() == "answer"  # Markdown, safely built
    assert answer.inner_text().replace("\n", " ").strip() == SLOW_ANSWER.replace("**", "")
    assert "in ·" in turn.locator(".usage").inner_text()
    assert offline.errors == []
    assert offline.blocked == []
    if adapter == "fastapi":
        offline.screenshot("playground-desktop")


def test_tool_cards_show_arguments_progress_results_and_errors(
    offline: OfflinePage, server: tuple[str, str]
) -> None:
    _, base = server
    page = open_playground(offline, base)
    turn = ask(page, "What's the weather?")
    card = turn.locator(".card.tool")
    card.locator(".status", has_text="done").wait_for()
    text = card.inner_text()
    assert "forecast" in text
    assert '"city": "Oslo"' in text
    assert card.locator(".progress li").all_inner_texts() == [
        "asking the Oslo station",
        "reading the sky",
    ]
    assert "sunny in Oslo" in text
    assert " ms" in card.locator(".status").inner_text()
    turn.locator(".usage").wait_for()
    assert "Tool said: sunny in Oslo" in turn.locator(".answer").inner_text()

    failing = ask(page, "break it").locator(".card.tool.failed")
    failing.wait_for()
    assert "the gauge is broken: rusty" in failing.inner_text()


def test_model_output_cannot_inject_html(offline: OfflinePage, server: tuple[str, str]) -> None:
    _, base = server
    page = open_playground(offline, base)
    turn = ask(page, "be hostile")
    turn.locator(".usage").wait_for()
    answer = turn.locator(".answer")
    assert answer.locator("img, script").count() == 0
    assert page.evaluate("window.__pwned") is None
    shown = answer.inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in shown
    assert "<script>window.__pwned=2</script>" in shown
    assert HOSTILE.startswith("Look:")
    code_turn = ask(page, "show code")
    code_turn.locator(".usage").wait_for()
    assert code_turn.locator("pre code").inner_text() == "print('<b>hi</b>')"
    assert code_turn.locator(".answer li").all_inner_texts() == ["one", "two"]
    assert page.evaluate("window.__pwned") is None


def test_sessions_are_listed_for_their_owner_and_reopen(
    browser: Any, server: tuple[str, str]
) -> None:
    _, base = server
    ada = OfflinePage(browser)
    try:
        page = open_playground(ada, base)
        ask(page, "What's the weather?").locator(".usage").wait_for()
        # The list reloads after the run; earlier tests' sessions of ada are listed too,
        # so wait for the one this page marks as its own, never just the first button.
        button = page.locator("#sessions button.current")
        button.wait_for()
        session_id = button.get_attribute("data-session")
        assert session_id is not None
        page.click("#new-chat")
        assert page.locator(".turn").count() == 0
        page = open_playground(ada, base)  # a fresh page: the list comes from the server
        page.locator(f'#sessions button[data-session="{session_id}"]').click()
        page.locator(".turn.user", has_text="What's the weather?").wait_for()
        assert "sunny in Oslo" in page.locator(".card.tool").inner_text()
        assert "Tool said: sunny in Oslo" in page.locator(".answer").inner_text()
    finally:
        ada.close()
    bob = OfflinePage(browser)
    try:
        page = open_playground(bob, base, key="key-bob")
        assert page.locator(f'#sessions button[data-session="{session_id}"]').count() == 0
    finally:
        bob.close()
    # and through the API: bob cannot read ada's session, nor list it
    theirs = httpx.get(f"{base}/sessions/{session_id}", headers={"X-API-Key": "key-bob"})
    assert theirs.status_code == 404
    listed = httpx.get(f"{base}/sessions", headers={"X-API-Key": "key-bob"}).json()
    assert session_id not in [s["session_id"] for s in listed["sessions"]]
    mine = httpx.get(f"{base}/sessions", headers={"X-API-Key": "key-ada"}).json()
    assert session_id in [s["session_id"] for s in mine["sessions"]]


def test_phone_width_layout(browser: Any, server: tuple[str, str]) -> None:
    adapter, base = server
    phone = OfflinePage(browser, viewport=PHONE)
    try:
        page = open_playground(phone, base)
        ask(page, "What's the weather?").locator(".usage").wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing overflows sideways
        assert page.locator("#send").is_visible()
        if adapter == "fastapi":
            phone.screenshot("playground-phone")
    finally:
        phone.close()


def test_the_page_is_behind_the_hosts_auth_and_locked_down(server: tuple[str, str]) -> None:
    _, base = server
    assert httpx.get(f"{base}/playground").status_code == 401
    page = httpx.get(f"{base}/playground", headers={"X-API-Key": "key-ada"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'nonce-" in policy
    assert "default-src 'none'" in policy
    assert "http" not in page.text.split("<script", 1)[0]  # no external assets
    again = httpx.get(f"{base}/playground", headers={"X-API-Key": "key-ada"})
    assert again.headers["content-security-policy"] != policy  # a fresh nonce each time
