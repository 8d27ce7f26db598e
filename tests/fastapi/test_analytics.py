"""GET /agent/analytics on FastAPI: off by default, owner-scoped, shared by two workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Header
from fastapi.testclient import TestClient

from selectools import Agent, ScriptedProvider, call
from selectools.analytics import Analytics
from selectools.serving import Caller, ServingOptions
from selectools_fastapi import AgentRouter
from tests.fakes.agents import get_weather
from tests.fastapi.test_limits_many_workers import free_port, until

ROOT = Path(__file__).parents[2]


def app(options: ServingOptions, analytics: bool = True) -> TestClient:
    def user(x_user: str | None = Header(default=None)) -> str | None:
        return x_user

    steps = [call("get_weather", city="Kyiv"), "Sunny."]
    policies = [Analytics()] if analytics else []
    agent = Agent([get_weather], ScriptedProvider(steps, cycle=True), policies=policies)
    application = FastAPI()
    application.include_router(AgentRouter(agent, identity=user, options=options), prefix="/agent")
    return TestClient(application)


def admin(caller: Caller) -> bool:
    return caller.identity == "root"


def test_off_by_default() -> None:
    client = app(ServingOptions())
    assert client.get("/agent/analytics", headers={"X-User": "ada"}).status_code == 404


def test_callers_see_their_own_and_admins_everything() -> None:
    client = app(ServingOptions(analytics_route=True, analytics_admin=admin))
    for user in ("ada", "ada", "bob"):
        answer = client.post("/agent/invoke", json={"input": "hi"}, headers={"X-User": user})
        assert answer.status_code == 200
    client.post("/agent/invoke", json={"input": "hi"})  # anonymous

    ada = client.get("/agent/analytics", headers={"X-User": "ada"}).json()
    assert list(ada["identities"]) == ["ada"]
    assert ada["identities"]["ada"]["runs"] == 2
    assert ada["tools"]["get_weather"]["calls"] == 2
    assert ada["identities"]["ada"]["total_tokens"] > 0

    spying = client.get("/agent/analytics?identity=bob", headers={"X-User": "ada"})
    assert spying.status_code == 403
    assert spying.json()["error"]["type"] == "analytics_forbidden"
    anonymous = client.get("/agent/analytics")
    assert anonymous.status_code == 403

    everyone = client.get("/agent/analytics", headers={"X-User": "root"}).json()
    assert everyone["runs"] == 4
    assert set(everyone["identities"]) == {"ada", "bob", ""}
    bob = client.get("/agent/analytics?identity=bob", headers={"X-User": "root"}).json()
    assert list(bob["identities"]) == ["bob"]

    bad = client.get("/agent/analytics?since=yesterday", headers={"X-User": "ada"})
    assert bad.status_code == 422
    unknown = client.get("/agent/analytics?limit=5", headers={"X-User": "ada"})
    assert unknown.status_code == 422


def test_agent_without_analytics_answers_501() -> None:
    client = app(ServingOptions(analytics_route=True), analytics=False)
    answer = client.get("/agent/analytics", headers={"X-User": "ada"})
    assert answer.status_code == 501
    assert answer.json()["error"]["type"] == "analytics_unavailable"


@pytest.fixture
def two_workers(postgres_url: str, unique_name: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ANALYTICS_URL": postgres_url,
        "ANALYTICS_PREFIX": unique_name,
    }
    command = [sys.executable, "-m", "uvicorn", "tests.fakes.analytics_app:app", "--workers", "2"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    pids: set[str] = set()

    def both_answer() -> bool:
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        with contextlib.suppress(httpx.TransportError):  # not up yet: poll again
            pids.add(str(httpx.get(f"{base}/health", timeout=2).json()["pid"]))
        return len(pids) == 2

    try:
        until(both_answer, "two uvicorn workers did not both answer")
        yield base
    finally:
        server.terminate()
        server.wait(20)
        import sqlalchemy as sa

        engine = sa.create_engine(postgres_url)
        with engine.begin() as conn:
            for suffix in ("tools", "runs"):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {unique_name}_{suffix}"))
        engine.dispose()


@pytest.mark.postgres
def test_two_workers_report_the_same_totals_from_postgres(two_workers: str) -> None:
    base = two_workers
    for i in range(16):  # a fresh connection each time: either worker may take it
        user = "ada" if i % 2 else "bob"
        answer = httpx.post(
            f"{base}/agent/invoke", json={"input": f"k{i}"}, headers={"X-User": user}, timeout=30
        )
        assert answer.status_code == 200, answer.text
    reports = [
        httpx.get(f"{base}/agent/analytics", headers={"X-User": "admin"}, timeout=10).json()
        for _ in range(6)
    ]
    for report in reports:  # whichever worker answers, it sees every worker's facts
        assert report["runs"] == 16
        assert report["tools"]["lookup"]["calls"] == 16
        assert report["identities"]["ada"]["runs"] == 8
        assert report["identities"]["bob"]["runs"] == 8
    ada = httpx.get(f"{base}/agent/analytics", headers={"X-User": "ada"}, timeout=10).json()
    assert list(ada["identities"]) == ["ada"]
    assert ada["tools"]["lookup"]["calls"] == 8
