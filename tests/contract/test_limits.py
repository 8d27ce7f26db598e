"""Served limits on both adapters: rate limits, daily quotas, graceful degradation."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from selectools import Agent, OpenAIProvider, ScriptedProvider
from selectools.policies import CircuitBreaker
from selectools.providers import FallbackProvider
from tests.contract import apps
from tests.contract.conftest import FastAPIClient, FlaskClient, parse_sse
from tests.fakes.agents import make_agent
from tests.fakes.openai_server import refused_url

BOB = {"Authorization": "Bearer token-bob"}
Client = FastAPIClient | FlaskClient
MakeClient = Callable[..., Client]


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest, unique_name: str) -> Iterator[dict[str, Any]]:
    """Where limits count, under a fresh namespace."""
    if request.param == "memory":
        yield {"limits_namespace": unique_name}
        return
    url = request.getfixturevalue("redis_url")
    yield {"limits_storage": url, "limits_namespace": unique_name}
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"*{unique_name}*"):
        client.delete(key)


@pytest.fixture(params=["fastapi", "flask"])
def make_client(request: pytest.FixtureRequest) -> MakeClient:
    """A client of either adapter, for an agent served with extra options."""

    def make(agent: Agent | None = None, **options: Any) -> Client:
        chosen = dataclasses.replace(apps.OPTIONS, **options)
        agent = agent or make_agent()
        if request.param == "flask":
            client = FlaskClient.__new__(FlaskClient)
            client.client = apps.flask_app(agent, chosen).test_client()
            return client
        fast = FastAPIClient.__new__(FastAPIClient)
        from fastapi.testclient import TestClient

        fast.client = TestClient(apps.fastapi_app(agent, chosen), raise_server_exceptions=False)
        return fast

    return make


def run_routes(client: Client) -> list[int]:
    """One run through each run-starting route; their statuses."""
    return [
        client.request("POST", "/agent/invoke", json={"input": "hi"}).status,
        client.request("POST", "/agent/stream", json={"input": "hi"}).status,
        client.request(
            "POST",
            "/agent/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        ).status,
        client.request("POST", "/agent/batch", json={"inputs": [{"input": "a"}]}).status,
    ]


def test_over_the_rate_limit_every_route_answers_429(
    make_client: MakeClient, storage: dict[str, Any]
) -> None:
    client = make_client(rate_limit="4/minute", **storage)
    assert run_routes(client) == [200, 200, 200, 200]
    for path, body in [
        ("/agent/invoke", {"input": "hi"}),
        ("/agent/stream", {"input": "hi"}),  # refused before the stream starts
        ("/agent/batch", {"inputs": [{"input": "a"}]}),
    ]:
        refused = client.request("POST", path, json=body)
        assert refused.status == 429
        assert refused.body["error"]["type"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    # bob has his own count
    assert client.request("POST", "/agent/invoke", json={"input": "hi"}, headers=BOB).status == 200


def test_calls_that_start_no_run_are_not_limited(make_client: MakeClient, unique_name: str) -> None:
    client = make_client(rate_limit="1/minute", limits_namespace=unique_name)
    for _ in range(3):
        assert client.request("GET", "/agent/tools").status == 200
    assert client.request("POST", "/agent/invoke", json={"input": "hi"}).status == 200


def test_a_daily_token_quota_stops_new_runs(
    make_client: MakeClient, storage: dict[str, Any]
) -> None:
    client = make_client(quota_tokens=1, **storage)
    first = client.request("POST", "/agent/invoke", json={"input": "hi"})
    assert first.status == 200  # under the quota when it started; charged at its end
    for path, body in [
        ("/agent/invoke", {"input": "hi"}),
        ("/agent/stream", {"input": "hi"}),
        (
            "/agent/v1/chat/completions",
            {"model": "m", "messages": [{"role": "user", "content": "x"}]},
        ),
    ]:
        refused = client.request("POST", path, json=body)
        assert refused.status == 429
        assert refused.body["error"]["type"] == "quota_exceeded"
        assert 0 < int(refused.headers["retry-after"]) <= 86_400
    batch = client.request("POST", "/agent/batch", json={"inputs": [{"input": "a"}]})
    assert batch.status == 200
    assert batch.body["results"][0]["status"] == 429
    assert client.request("POST", "/agent/invoke", json={"input": "hi"}, headers=BOB).status == 200


def test_streamed_runs_are_charged_too(make_client: MakeClient, unique_name: str) -> None:
    client = make_client(quota_tokens=1, limits_namespace=unique_name)
    events = parse_sse(client.request("POST", "/agent/stream", json={"input": "hi"}).text)
    assert events[-1][0] == "run_finished"
    assert client.request("POST", "/agent/invoke", json={"input": "hi"}).status == 429


# -- graceful degradation ---------------------------------------------------------------


def down_agent() -> Agent:
    """Two providers that cannot be reached."""
    members = [
        OpenAIProvider("gpt-4o-mini", api_key="k", base_url=refused_url(), name=n, max_retries=0)
        for n in ("primary", "backup")
    ]
    return Agent(provider=FallbackProvider(members, retry_after=20))


def test_every_provider_down_is_a_503_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(down_agent())
    answer = client.request("POST", "/agent/invoke", json={"input": "hi"})
    assert answer.status == 503
    assert answer.body["error"]["type"] == "provider_unavailable"
    assert answer.headers["retry-after"] == "20"
    chat = client.request(
        "POST",
        "/agent/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert (chat.status, chat.headers["retry-after"]) == (503, "20")
    events = parse_sse(client.request("POST", "/agent/stream", json={"input": "hi"}).text)
    assert events[-1][1]["error"]["type"] == "provider_unavailable"
    assert events[-1][1]["error"]["status"] == 503


def test_an_open_circuit_is_a_503_too(make_client: MakeClient) -> None:
    breaker = CircuitBreaker(failures=1)
    model = OpenAIProvider("gpt-4o-mini", api_key="k", base_url=refused_url(), max_retries=0)
    client = make_client(Agent(provider=model, policies=[breaker]))
    first = client.request("POST", "/agent/invoke", json={"input": "hi"})
    assert first.status == 502  # the one failure that opens the circuit
    skipped = client.request("POST", "/agent/invoke", json={"input": "hi"})
    assert (skipped.status, skipped.body["error"]["type"]) == (503, "circuit_open")
    assert 1 <= int(skipped.headers["retry-after"]) <= 30


SORRY = "We cannot answer right now; please try again in a few minutes."


def test_a_configured_fallback_answer_replaces_the_outage(make_client: MakeClient) -> None:
    client = make_client(down_agent(), fallback_answer=SORRY)
    answer = client.request(
        "POST", "/agent/invoke", json={"input": "hi", "session_id": "degraded-1"}
    )
    assert answer.status == 200
    assert answer.body["output"] == SORRY
    assert answer.body["degraded"] is True
    assert answer.body["provider"] == "fallback_answer"
    stored = client.request("GET", "/agent/sessions/degraded-1")  # claimed, nothing written
    assert stored.status == 404 or stored.body["messages"] == []

    events = parse_sse(client.request("POST", "/agent/stream", json={"input": "hi"}).text)
    assert [name for name, _ in events] == ["run_started", "text_delta", "run_finished"]
    assert events[1][1]["text"] == SORRY
    assert events[2][1]["degraded"] is True

    chat = client.request(
        "POST",
        "/agent/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat.body["choices"][0]["message"]["content"] == SORRY
    streamed = client.request(
        "POST",
        "/agent/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True},
    )
    chunks = [data for _, data in parse_sse(streamed.text)]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]) == SORRY
    assert chunks[-1] == {"done": True}


def test_a_decision_answered_after_an_outage_gets_the_fallback_answer(
    make_client: MakeClient,
) -> None:
    """Before, only `/approvals/{id}/stream` degraded; `/approvals/{id}` answered 503."""
    from selectools import ModelRequest, Reply, call, tool
    from selectools.errors import ProviderUnavailableError

    @tool(requires_approval=True)
    def refund(order: str) -> str:
        """Refund an order."""
        return f"refunded {order}"

    def model(request: ModelRequest) -> Reply:
        if request.messages[-1].role == "user":
            return Reply(calls=(call("refund", order="A1"),))
        raise ProviderUnavailableError("every provider is down")

    client = make_client(Agent([refund], ScriptedProvider(responder=model)), fallback_answer=SORRY)
    for route in ("/agent/approvals/{}", "/agent/approvals/{}/stream"):
        paused = client.request("POST", "/agent/invoke", json={"input": "refund A1"})
        approval_id = paused.body["approval_id"]
        answer = client.request("POST", route.format(approval_id), json={"approve": True})
        assert answer.status == 200, (route, answer.status, answer.body)
        if route.endswith("stream"):
            events = parse_sse(answer.text)
            assert events[-1][0] == "run_finished"
            assert events[-1][1]["output"] == SORRY
        else:
            assert (answer.body["output"], answer.body["degraded"]) == (SORRY, True)


def test_a_fallback_answer_never_hides_other_errors(make_client: MakeClient) -> None:
    client = make_client(fallback_answer=SORRY)
    auth = client.request("POST", "/agent/invoke", json={"input": "fail:auth"})
    assert auth.status == 502  # a bad key is the operator's to fix, not an outage
    assert client.request("POST", "/agent/invoke", json={"input": "fail:context"}).status == 400


def test_flask_takes_the_limits_from_config_keys(unique_name: str) -> None:
    from flask import Flask

    from selectools_flask import Selectools

    app = Flask(__name__)
    app.config.update(
        SELECTOOLS_RATE_LIMIT="1/minute",
        SELECTOOLS_LIMITS_NAMESPACE=unique_name,
        SELECTOOLS_FALLBACK_ANSWER=SORRY,
    )
    Selectools(app, agent=Agent(provider=ScriptedProvider(["ok"], cycle=True)))
    client = app.test_client()
    assert client.post("/agent/invoke", json={"input": "hi"}).status_code == 200
    refused = client.post("/agent/invoke", json={"input": "hi"})
    assert refused.status_code == 429  # counted per client address: no identity here
    assert refused.get_json()["error"]["type"] == "rate_limited"
    other = client.post(
        "/agent/invoke", json={"input": "hi"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert other.status_code == 200


def test_a_run_that_timed_out_is_charged_what_its_model_calls_used(
    make_client: MakeClient, unique_name: str
) -> None:
    """Before, only `max_iterations` failures were charged: a run that spent model calls
    and then hit `run_timeout` (a tool the model was talked into that hangs) was free."""
    import threading

    from selectools import AgentConfig, call, tool

    release = threading.Event()

    @tool
    def hang() -> str:
        """Never answers in time."""
        release.wait(30)
        return "late"

    agent = Agent(
        [hang], ScriptedProvider([call("hang")], cycle=True), config=AgentConfig(run_timeout=0.5)
    )
    client = make_client(agent, quota_tokens=1, limits_namespace=unique_name)
    try:
        timed_out = client.request("POST", "/agent/invoke", json={"input": "hang"})
        assert timed_out.status == 504
        refused = client.request("POST", "/agent/invoke", json={"input": "again"})
        assert refused.status == 429
        assert refused.body["error"]["type"] == "quota_exceeded"
    finally:
        release.set()
