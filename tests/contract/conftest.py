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
        return Answer(response.status_code, body, dict(response.headers), response.text)


@pytest.fixture(params=["fastapi"])
def api(request: pytest.FixtureRequest) -> FastAPIClient:
    return FastAPIClient(make_agent())
