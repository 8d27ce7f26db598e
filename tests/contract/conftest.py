"""One client interface over each adapter's test client, so one contract runs on both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from selectools import Agent
from tests.contract import apps
from tests.fakes.agents import make_agent

AUTH = {"Authorization": "Bearer token-ada"}


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    text: str


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(":")]
        if not lines:
            continue
        name = next((ln[7:] for ln in lines if ln.startswith("event: ")), "message")
        data = "\n".join(ln[6:] for ln in lines if ln.startswith("data: "))
        events.append((name, json.loads(data) if data and data != "[DONE]" else {"done": True}))
    return events


class FastAPIClient:
    def __init__(self, agent: Agent) -> None:
        from fastapi.testclient import TestClient

        self.client = TestClient(apps.fastapi_app(agent), raise_server_exceptions=False)

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        kwargs.setdefault("headers", AUTH)
        response = self.client.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in response.headers.items()}
        return Answer(response.status_code, body, headers, response.text)


class FlaskClient:
    def __init__(self, agent: Agent) -> None:
        self.client = apps.flask_app(agent).test_client()

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        kwargs.setdefault("headers", AUTH)
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        response = self.client.open(path, method=method, **kwargs)
        text = response.get_data(as_text=True)
        headers = {k.lower(): v for k, v in response.headers.items()}
        return Answer(response.status_code, response.get_json(silent=True), headers, text)


@pytest.fixture(params=["fastapi", "flask"])
def api(request: pytest.FixtureRequest) -> FastAPIClient | FlaskClient:
    """The same contract, run against each adapter's app."""
    if request.param == "flask":
        return FlaskClient(make_agent())
    return FastAPIClient(make_agent())
