"""FastAPI specifics: OpenAPI, prefixes, factories, and a real uvicorn server end to end."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from selectools import Agent, ScriptedProvider, call
from selectools.serving import ServingOptions
from selectools_fastapi import AgentRouter
from tests.contract.apps import fastapi_app
from tests.contract.conftest import AUTH, parse_sse
from tests.fakes.agents import make_agent
from tests.fakes.live_agent import Signals, live_agent
from tests.fakes.servers import UvicornThread


def test_openapi_documents_every_route_with_models() -> None:
    schema = TestClient(fastapi_app(make_agent())).get("/openapi.json").json()
    paths = schema["paths"]
    for path, verb in [
        ("/agent/invoke", "post"),
        ("/agent/stream", "post"),
        ("/agent/batch", "post"),
        ("/agent/tools", "get"),
        ("/agent/sessions/{session_id}", "get"),
        ("/agent/sessions/{session_id}", "delete"),
        ("/agent/v1/chat/completions", "post"),
        ("/agent/v1/models", "get"),
    ]:
        assert verb in paths[path], path
    invoke = paths["/agent/invoke"]["post"]
    assert invoke["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/InvokeRequest"
    )
    ok = invoke["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/InvokeResponse")
    assert invoke["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    assert "text/event-stream" in paths["/agent/stream"]["post"]["responses"]["200"]["content"]
    assert "/health" in paths  # the host app's own routes are untouched


def test_works_under_nested_routers_and_any_prefix() -> None:
    outer = APIRouter(prefix="/api")
    outer.include_router(AgentRouter(make_agent()), prefix="/bots/helper")
    app = FastAPI()
    app.include_router(outer, prefix="/v2")
    client = TestClient(app)
    answer = client.post("/v2/api/bots/helper/invoke", json={"input": "weather in Kyiv"})
    assert answer.json()["output"] == "Done: sunny in Kyiv"
    streamed = client.post("/v2/api/bots/helper/stream", json={"input": "hi"})
    assert parse_sse(streamed.text)[-1][0] == "run_finished"


@pytest.mark.parametrize("is_async", [False, True])
def test_agent_factory_per_request(is_async: bool) -> None:
    agents = {
        "fr": Agent(provider=ScriptedProvider(["Bonjour"], cycle=True)),
        "en": Agent(provider=ScriptedProvider(["Hello"], cycle=True)),
    }

    def pick(request: Request) -> Agent:
        return agents[request.headers.get("x-lang", "en")]

    async def apick(request: Request) -> Agent:
        return pick(request)

    app = FastAPI()
    app.include_router(AgentRouter(apick if is_async else pick))
    client = TestClient(app)
    assert client.post("/invoke", json={"input": "hi"}).json()["output"] == "Hello"
    french = client.post("/invoke", json={"input": "hi"}, headers={"x-lang": "fr"})
    assert french.json()["output"] == "Bonjour"


def test_without_identity_sessions_have_no_owner() -> None:
    app = FastAPI()
    app.include_router(AgentRouter(make_agent()))
    client = TestClient(app)
    client.post("/invoke", json={"input": "a", "session_id": "open"})
    assert client.get("/sessions/open").status_code == 200


def test_client_config_cannot_raise_server_limits() -> None:
    looping = Agent([], ScriptedProvider([call("nothing")], cycle=True))
    looping.config = looping.config.merged({"max_iterations": 2})
    app = FastAPI()
    app.include_router(AgentRouter(looping))
    answer = TestClient(app).post("/invoke", json={"input": "x", "config": {"max_iterations": 50}})
    assert answer.status_code == 422
    assert "max_iterations=2" in answer.json()["error"]["message"]


# -- a real server ------------------------------------------------------------------


def test_stream_events_arrive_incrementally_over_real_http() -> None:
    signals = Signals()
    with UvicornThread(fastapi_app(live_agent(signals))) as server:
        seen: list[str] = []
        with httpx.stream(
            "POST", f"{server.url}/agent/stream", json={"input": "gated"}, headers=AUTH, timeout=20
        ) as response:
            for line in response.iter_lines():
                if line.startswith("event: "):
                    seen.append(line[7:])
                    if line == "event: tool_call_started":
                        signals.gate.set()  # possible only if this arrived before the run ended
                if line.startswith("data: ") and '"run_finished"' in line:
                    assert json.loads(line[6:])["output"] == "tool said: opened"
    assert seen[:2] == ["run_started", "tool_call_started"]
    assert seen[-1] == "run_finished"


@pytest.mark.parametrize("policy", ["stop", "finish"])
def test_client_disconnect_policy(policy: str) -> None:
    signals = Signals()
    agent = live_agent(signals)
    options = ServingOptions(on_disconnect=policy)  # type: ignore[arg-type]
    tool_name = "forever" if policy == "stop" else "gated"
    with UvicornThread(fastapi_app(agent, options)) as server:
        body = {"input": tool_name, "session_id": f"dc-{policy}"}
        with httpx.stream(
            "POST", f"{server.url}/agent/stream", json=body, headers=AUTH, timeout=20
        ) as response:
            for line in response.iter_lines():
                if line == "event: tool_call_started":
                    break  # leave mid-run: closing the stream drops the connection
        if policy == "stop":
            assert signals.cancelled.wait(10), "the run kept going after its client left"
            stopped = agent.memory.store.load("dc-stop")  # claimed by its owner at the start,
            assert stopped is not None  # but a stopped run saves no messages
            assert stopped.messages == ()
        else:
            signals.gate.set()
            assert signals.finished.wait(10), "the run did not finish in the background"
            stored = agent.memory.store.load("dc-finish")
            assert stored is not None
            assert stored.messages[-1].content == "tool said: opened"


def test_official_openai_client_plain_and_streamed() -> None:
    with UvicornThread(fastapi_app(make_agent())) as server:
        client = openai.OpenAI(base_url=f"{server.url}/agent/v1", api_key="token-ada")
        assert [m.id for m in client.models.list()] == ["selectools-agent"]
        completion = client.chat.completions.create(
            model="selectools-agent", messages=[{"role": "user", "content": "weather in Nice"}]
        )
        assert completion.choices[0].message.content == "Done: sunny in Nice"
        stream = client.chat.completions.create(
            model="selectools-agent",
            messages=[{"role": "user", "content": "weather in Bern"}],
            stream=True,
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == "Done: sunny in Bern"
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(
                base_url=f"{server.url}/agent/v1", api_key="wrong", max_retries=0
            ).models.list()
