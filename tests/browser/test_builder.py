"""The builder in headless Chromium: build an agent, chat with it, export its spec, load it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from selectools import Agent
from selectools.policies import ResponseCache
from tests.browser.apps import WerkzeugThread, fastapi_app, flask_app
from tests.browser.conftest import PHONE, OfflinePage
from tests.fakes.servers import UvicornThread

ADA = {"X-API-Key": "key-ada"}


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    app, kind = (
        (fastapi_app(), UvicornThread)
        if request.param == "fastapi"
        else (flask_app(), WerkzeugThread)
    )
    with kind(app) as running:
        yield request.param, running.url + "/bot"


def test_build_try_export_and_load_back(
    offline: OfflinePage, server: tuple[str, str], tmp_path: Path
) -> None:
    adapter, base = server
    page = offline.page
    page.goto(f"{base}/builder?key=key-ada")
    page.locator('[data-tool="forecast"]').wait_for()
    assert page.locator('[data-tool="forecast"]').get_attribute("data-ref") == (
        "tests.browser.apps:forecast"
    )
    assert page.locator('[data-toolkit="toolbox"]').count() == 1  # installed toolkits listed
    page.check('[data-tool="forecast"]')
    page.fill("#name", "weather-bot")
    page.fill("#prompt", "You report the weather.")
    page.select_option("#provider", "tests.browser.apps:builder_model")
    page.fill("#max_iterations", "3")
    page.fill("#breaker", "3")
    page.fill("#cache_ttl", "120")
    page.fill("#input", "weather?")
    page.click("#send")
    turn = page.locator("#trylog .turn.agent").last
    turn.locator(".usage").wait_for()
    assert "Tool said: sunny in Oslo" in turn.locator(".answer").inner_text()
    assert "forecast" in turn.locator(".card.tool").inner_text()
    if adapter == "fastapi":
        offline.screenshot("builder-desktop")

    page.click("#export")
    page.locator('[data-export-text="yaml"]').wait_for()
    with page.expect_download() as download:
        page.click('[data-export="yaml"]')
    saved = tmp_path / "weather-bot.yaml"
    download.value.save_as(saved)
    text = saved.read_text()
    assert "tests.browser.apps:forecast" in text
    assert "key" not in text.lower()  # no secret, no key
    agent = Agent.from_spec(saved)
    assert list(agent.tools) == ["forecast"]
    assert agent.system_prompt == "You report the weather."
    assert agent.config.max_iterations == 3
    assert [repr(p) for p in agent.policies][1:] == ["CircuitBreaker(failures=3, reset_after=30)"]
    cache = agent.policies[0]
    assert isinstance(cache, ResponseCache)
    assert cache.ttl == 120
    assert agent.run("weather?").text == "Tool said: sunny in Oslo"
    python = page.locator('[data-export-text="python"]').text_content() or ""
    scope: dict[str, Any] = {}
    exec(python, scope)
    assert scope["agent"].run("weather?").text == "Tool said: sunny in Oslo"
    assert offline.errors == []
    assert offline.blocked == []


def test_phone_width(browser: Any, server: tuple[str, str]) -> None:
    adapter, base = server
    phone = OfflinePage(browser, viewport=PHONE)
    try:
        phone.page.goto(f"{base}/builder?key=key-ada")
        phone.page.locator('[data-tool="forecast"]').wait_for()
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        if adapter == "fastapi":
            phone.screenshot("builder-phone")
    finally:
        phone.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"tools": ["os:system"]}, "not one of this server's tools"),
        ({"provider": {"factory": "os:getcwd"}}, "not offered by this server"),
        ({"tools": [{"toolkit": "nope"}]}, "no installed toolkit"),
        ({"provider": {"api_key": "sk-1"}}, "never hold secrets"),
    ],
)
def test_try_uses_only_the_catalog(
    server: tuple[str, str], spec: dict[str, Any], message: str
) -> None:
    _, base = server
    answer = httpx.post(f"{base}/builder/try", json={"spec": spec, "input": "hi"}, headers=ADA)
    assert answer.status_code == 422
    assert message in answer.json()["error"]["message"]


def test_the_builder_is_off_unless_asked(tmp_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from selectools import ScriptedProvider
    from selectools_fastapi import AgentRouter

    app = FastAPI()
    app.include_router(AgentRouter(Agent([], ScriptedProvider(["hi"]))))
    client = TestClient(app)
    for path in ("/builder", "/builder/catalog", "/playground"):
        assert client.get(path).status_code in (404, 405)
