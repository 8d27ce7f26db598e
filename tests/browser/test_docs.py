"""`/docs` and `/redoc` render every operation with the internet blocked."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from selectools import Agent, ScriptedProvider
from selectools_fastapi import AgentRouter, offline_docs
from tests.browser.conftest import OfflinePage
from tests.fakes.servers import UvicornThread

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def demo_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("SELECTOOLS_DEMO_DIR", str(tmp_path / "demo"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SELECTOOLS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location("docs_demo", EXAMPLES / "fastapi_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with UvicornThread(module.app) as server:
        yield server.url


def test_swagger_ui_renders_the_demo_offline(offline: OfflinePage, demo_url: str) -> None:
    page = offline.page
    page.goto(f"{demo_url}/docs")
    page.locator(".opblock-summary-path", has_text="/agent/invoke").wait_for()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/agent/stream" in [p.strip() for p in paths]
    assert "/orders/{order_id}" in [p.strip() for p in paths]
    assert offline.blocked == []
    assert offline.errors == []
    offline.screenshot("docs-desktop")


def test_redoc_renders_the_demo_offline(offline: OfflinePage, demo_url: str) -> None:
    page = offline.page
    page.goto(f"{demo_url}/redoc")
    page.get_by_text("Run the agent to its final answer").first.wait_for()
    assert page.locator("h1", has_text="Acme Shop").count() >= 1
    assert offline.blocked == []
    assert offline.errors == []


def test_any_app_under_a_proxy_prefix(offline: OfflinePage) -> None:
    """An app mounting AgentRouter, served under root_path: assets and schema follow it."""
    agent = Agent([], ScriptedProvider(["hi"]))
    app = FastAPI(title="Mounted")
    app.include_router(AgentRouter(agent), prefix="/bot")
    offline_docs(app)
    outer = FastAPI()
    outer.mount("/api", app)
    with UvicornThread(outer) as server:
        offline.page.goto(f"{server.url}/api/docs")
        offline.page.locator(".opblock-summary-path", has_text="/bot/invoke").wait_for()
        offline.page.goto(f"{server.url}/api/redoc")
        offline.page.get_by_text("Run the agent to its final answer").first.wait_for()
    assert offline.blocked == []


def test_what_fastapi_does_alone_needs_the_internet(offline: OfflinePage) -> None:
    """The reason for the helper: without it the page asks a CDN and renders nothing."""
    app = FastAPI()
    app.include_router(AgentRouter(Agent([], ScriptedProvider(["hi"]))))
    with UvicornThread(app) as server:
        offline.page.goto(f"{server.url}/docs")
        offline.page.wait_for_load_state("load")
        assert offline.page.locator(".opblock").count() == 0
    assert any("swagger-ui" in url for url in offline.blocked)


def test_switched_off_pages_stay_off() -> None:
    from fastapi.testclient import TestClient

    app = offline_docs(FastAPI(docs_url=None))
    client = TestClient(app)
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 200
    js = client.get("/_selectools/docs/swagger-ui-bundle.js")
    assert js.status_code == 200
    assert len(js.content) > 1_000_000
    assert client.get("/_selectools/docs/../docs.py").status_code == 404
    with pytest.raises(ValueError, match="openapi_url"):
        offline_docs(FastAPI(openapi_url=None))
