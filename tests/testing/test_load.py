"""The load-test helper against a mounted agent: in process (ASGI) and over a real socket."""

from __future__ import annotations

import math

from fastapi import FastAPI

from selectools import Agent, ScriptedProvider
from selectools.testing import load_test, run_load_test
from selectools_fastapi import AgentRouter
from tests.fakes.servers import UvicornThread


def app() -> FastAPI:
    application = FastAPI()
    agent = Agent([], ScriptedProvider(["pong"], cycle=True, latency=0.005))
    application.include_router(AgentRouter(agent), prefix="/agent")
    return application


async def test_load_test_in_process() -> None:
    report = await load_test(app(), clients=8, requests=5)
    assert report.requests == 40
    assert report.statuses == {200: 40}
    assert report.errors == ()
    p50, p90, p99 = (report.percentile(q) for q in (50, 90, 99))
    assert 0 < p50 <= p90 <= p99 <= max(report.latencies_ms)
    assert report.latencies_ms
    assert min(report.latencies_ms) >= 5
    summary = report.summary()
    assert summary["ok"] == 40
    assert summary["throughput_rps"] > 0
    assert '"output":"pong"' in report.samples[0].replace(" ", "")


def test_load_test_over_http_counts_failures() -> None:
    with UvicornThread(app()) as server:
        report = run_load_test(server.url, clients=4, requests=3)
        assert report.statuses == {200: 12}
        refused = run_load_test(
            server.url, clients=2, requests=2, json={"prompt": "no input field"}
        )
    assert refused.ok == 0
    assert set(refused.statuses) == {422}
    nowhere = run_load_test("http://127.0.0.1:9", clients=2, requests=1, request_timeout=2)
    assert len(nowhere.errors) == 2
    assert nowhere.ok == 0
    assert math.isnan(nowhere.percentile(50))
