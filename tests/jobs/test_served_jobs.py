"""In-process jobs behind real servers (uvicorn, werkzeug): events arrive while the job runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.contract import apps
from tests.fakes.live_agent import Signals, live_agent
from tests.fakes.servers import UvicornThread

AUTH = {"Authorization": "Bearer token-ada"}


@contextmanager
def served(kind: str, signals: Signals) -> Iterator[str]:
    agent = live_agent(signals)
    if kind == "fastapi":
        with UvicornThread(apps.fastapi_app(agent)) as server:
            yield server.url
        return
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, apps.flask_app(agent), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.mark.parametrize("kind", ["fastapi", "flask"])
def test_job_events_stream_live_while_the_job_runs(kind: str) -> None:
    signals = Signals()
    with served(kind, signals) as url, httpx.Client(base_url=url, timeout=20) as http:
        submitted = http.post("/agent/jobs", json={"input": "gated"}, headers=AUTH)
        assert submitted.status_code == 202
        location = submitted.headers["location"]
        seen: list[str] = []
        with http.stream("GET", f"{location}/events", headers=AUTH) as events:
            for line in events.iter_lines():
                if not line.startswith("event: "):
                    continue
                seen.append(line[7:])
                if line == "event: job_started":
                    # the job is waiting on the gate: the event came while it runs
                    assert http.get(location, headers=AUTH).json()["status"] == "running"
                    signals.gate.set()
        assert seen == ["job_started", "item_finished", "job_finished"]
        body = http.get(location, headers=AUTH).json()
        assert body["status"] == "succeeded"
        assert body["results"][0]["result"]["output"] == "tool said: opened"
        assert json.loads(submitted.text)["id"] == body["id"]
