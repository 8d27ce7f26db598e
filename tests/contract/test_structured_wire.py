"""Structured output over HTTP: `output_schema` on /invoke and /stream, `response_format` on
the OpenAI-compatible endpoint, on both adapters behind real servers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from selectools import Agent, OpenAIProvider, ScriptedProvider, call
from selectools.structured import FINAL_ANSWER_TOOL
from tests.contract.conftest import parse_sse
from tests.contract.test_vision_wire import AUTH, Serve, fastapi_server, flask_server
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temp_c": {"type": "integer"}},
    "required": ["city", "temp_c"],
}


@pytest.fixture(params=["fastapi", "flask"])
def serve(request: pytest.FixtureRequest) -> Serve:
    return fastapi_server if request.param == "fastapi" else flask_server


def scripted(*steps: Any) -> Agent:
    return Agent(provider=ScriptedProvider(list(steps)))


def test_invoke_with_output_schema_repairs_and_returns_parsed(serve: Serve) -> None:
    agent = scripted(
        call(FINAL_ANSWER_TOOL, city="Paris", temp_c="warm"),
        call(FINAL_ANSWER_TOOL, city="Paris", temp_c=21),
        '{"city": "Oslo", "temp_c": 2}',
        "never json",
        "still not",
        "nope",
    )
    with serve(agent) as url:
        body = {"input": "Paris?", "output_schema": SCHEMA}
        answer = httpx.post(f"{url}/agent/invoke", json=body, headers=AUTH)
        assert answer.status_code == 200, answer.text
        assert answer.json()["parsed"] == {"city": "Paris", "temp_c": 21}
        assert json.loads(answer.json()["output"]) == {"city": "Paris", "temp_c": 21}
        assert answer.json()["usage"]["requests"] == 2

        streamed = httpx.post(f"{url}/agent/stream", json=body, headers=AUTH)
        events = parse_sse(streamed.text)
        assert events[-1][0] == "run_finished"
        assert events[-1][1]["parsed"] == {"city": "Oslo", "temp_c": 2}

        failed = httpx.post(f"{url}/agent/invoke", json=body, headers=AUTH)
        assert failed.status_code == 502
        assert failed.json()["error"]["type"] == "output_validation_error"

        plain = httpx.post(f"{url}/agent/invoke", json={"input": "hi"}, headers=AUTH)
        assert plain.json().get("parsed") is None


def test_a_run_paused_for_approval_keeps_its_schema_and_config(serve: Serve) -> None:
    """Before, the decision's run went on with neither: `parsed` came back null and the
    model was asked with the agent's defaults instead of the request's `config`."""
    from selectools import tool

    @tool(requires_approval=True)
    def refund(order: str) -> str:
        """Refund an order."""
        return f"refunded {order}"

    provider = ScriptedProvider(
        [call("refund", order="A1"), call(FINAL_ANSWER_TOOL, city="Paris", temp_c=21)]
    )
    with serve(Agent([refund], provider)) as url:
        body = {"input": "Refund A1", "output_schema": SCHEMA, "config": {"temperature": 0.3}}
        paused = httpx.post(f"{url}/agent/invoke", json=body, headers=AUTH).json()
        assert paused["status"] == "awaiting_approval"
        decided = httpx.post(
            f"{url}/agent/approvals/{paused['approval_id']}", json={"approve": True}, headers=AUTH
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["parsed"] == {"city": "Paris", "temp_c": 21}
        assert provider.requests[-1].temperature == 0.3
        assert FINAL_ANSWER_TOOL in {t["function"]["name"] for t in provider.requests[-1].tools}


def test_a_broken_schema_is_a_422(serve: Serve) -> None:
    with serve(scripted("unused")) as url:
        for schema in ({"type": "banana"}, {"properties": 3}):
            body = {"input": "?", "output_schema": schema}
            answer = httpx.post(f"{url}/agent/invoke", json=body, headers=AUTH)
            assert answer.status_code == 422, answer.text
            chat = {
                "messages": [{"role": "user", "content": "?"}],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": schema},
                },
            }
            answer = httpx.post(f"{url}/agent/v1/chat/completions", json=chat, headers=AUTH)
            assert answer.status_code == 422, answer.text


def test_response_format_on_the_openai_endpoint_reaches_openai_natively(
    serve: Serve, openai_server: FakeOpenAIServer
) -> None:
    openai_server.add(
        FakeReply(text='{"city": "Rome"}'),  # missing temp_c: repaired
        FakeReply(text='{"city": "Rome", "temp_c": 24}'),
        FakeReply(text='{"any": "object"}'),
    )
    provider = OpenAIProvider("gpt-4o-mini", base_url=openai_server.base_url, max_retries=0)
    with serve(Agent(provider=provider)) as url:
        client = openai.OpenAI(base_url=f"{url}/agent/v1", api_key="token-ada", max_retries=0)
        answer = client.chat.completions.create(
            model="selectools-agent",
            messages=[{"role": "user", "content": "Rome?"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "weather", "schema": SCHEMA},
            },
        )
        assert json.loads(answer.choices[0].message.content or "") == {"city": "Rome", "temp_c": 24}
        loose = client.chat.completions.create(
            model="selectools-agent",
            messages=[{"role": "user", "content": "anything"}],
            response_format={"type": "json_object"},
        )
        assert json.loads(loose.choices[0].message.content or "") == {"any": "object"}
    upstream = openai_server.requests[0]["response_format"]
    assert upstream["json_schema"]["schema"]["required"] == ["city", "temp_c"]
    assert "temp_c" in openai_server.requests[1]["messages"][-1]["content"]
