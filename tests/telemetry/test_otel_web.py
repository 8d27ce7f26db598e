"""Must show: one /invoke with a tool call gives the GenAI span tree under the request span.

Both adapters, through their real OpenTelemetry instrumentations and test
clients; the model is the real OpenAI SDK talking to the local fake server.
The tool is sync, so it runs in another thread than the run: a span it opens
must still be a child of its `execute_tool` span.
"""

from __future__ import annotations

from typing import Any

import pytest

from selectools import Agent, OpenAIProvider, tool
from selectools.telemetry import OpenTelemetry
from selectools.testing import FakeOpenAIServer, FakeReply
from tests.telemetry.conftest import Telemetry


def make_agent(server: FakeOpenAIServer, telemetry: Telemetry) -> Agent:
    tracer = telemetry.tracer_provider.get_tracer("weather-service")

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        with tracer.start_as_current_span("weather lookup"):
            return f"sunny in {city}"

    provider = OpenAIProvider("gpt-4o-mini", base_url=server.base_url, api_key="sk-test")
    traced = OpenTelemetry(
        agent_name="helper",
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
    )
    return Agent([get_weather], provider, policies=[traced])


def script(server: FakeOpenAIServer) -> None:
    server.add(
        FakeReply(tool_calls=[("get_weather", {"city": "Kyiv"})]),
        FakeReply(text="It is sunny in Kyiv."),
    )


def assert_genai_tree(telemetry: Telemetry, request_name: str) -> None:
    request = telemetry.span(request_name)
    assert request.parent is None
    run = telemetry.span("invoke_agent helper")
    assert run.parent is not None
    assert request.context is not None
    assert run.parent.span_id == request.context.span_id
    assert run.context is not None
    assert run.context.trace_id == request.context.trace_id
    assert run.attributes is not None
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["gen_ai.agent.name"] == "helper"
    assert run.attributes["gen_ai.provider.name"] == "openai"

    children = telemetry.children(run)
    assert [s.name for s in sorted(children, key=lambda s: s.start_time or 0)] == [
        "chat gpt-4o-mini",
        "execute_tool get_weather",
        "chat gpt-4o-mini",
    ]
    first, second = (s for s in children if s.name.startswith("chat"))
    for chat in (first, second):
        attrs: Any = chat.attributes
        assert chat.kind.name == "CLIENT"
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"] == "openai"
        assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
        assert attrs["gen_ai.response.model"] == "gpt-4o-mini"
        assert attrs["gen_ai.usage.input_tokens"] > 0
        assert attrs["gen_ai.usage.output_tokens"] > 0
        assert "gen_ai.input.messages" not in attrs  # content only when opted in
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert second.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert (
        sum(  # the run's totals are the sum of its calls
            s.attributes["gen_ai.usage.input_tokens"] for s in (first, second) if s.attributes
        )
        == run.attributes["gen_ai.usage.input_tokens"]
    )

    tool_span = telemetry.span("execute_tool get_weather")
    attrs = tool_span.attributes
    assert attrs is not None
    assert attrs["gen_ai.operation.name"] == "execute_tool"
    assert attrs["gen_ai.tool.name"] == "get_weather"
    assert attrs["gen_ai.tool.call.id"] == "call_0"
    assert attrs["gen_ai.tool.type"] == "function"
    assert tool_span.status.is_ok
    # The sync tool ran in a worker thread; its own span still nests under the tool span.
    lookup = telemetry.span("weather lookup")
    assert lookup.parent is not None
    assert tool_span.context is not None
    assert lookup.parent.span_id == tool_span.context.span_id


def test_fastapi_invoke_span_tree(
    fake_openai_server: FakeOpenAIServer, telemetry: Telemetry
) -> None:
    pytest.importorskip("opentelemetry.instrumentation.fastapi")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    from selectools_fastapi import AgentRouter

    script(fake_openai_server)
    app = FastAPI()
    app.include_router(AgentRouter(make_agent(fake_openai_server, telemetry)), prefix="/agent")
    FastAPIInstrumentor.instrument_app(app, tracer_provider=telemetry.tracer_provider)
    try:
        answer = TestClient(app).post("/agent/invoke", json={"input": "Weather in Kyiv?"})
    finally:
        FastAPIInstrumentor.uninstrument_app(app)
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"] == "It is sunny in Kyiv."
    assert_genai_tree(telemetry, "POST /agent/invoke")


def test_flask_invoke_span_tree(fake_openai_server: FakeOpenAIServer, telemetry: Telemetry) -> None:
    pytest.importorskip("opentelemetry.instrumentation.flask")
    from flask import Flask
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    from selectools_flask import Selectools

    script(fake_openai_server)
    app = Flask(__name__)
    Selectools(app, agent=make_agent(fake_openai_server, telemetry))
    FlaskInstrumentor().instrument_app(app, tracer_provider=telemetry.tracer_provider)
    try:
        answer = app.test_client().post("/agent/invoke", json={"input": "Weather in Kyiv?"})
    finally:
        FlaskInstrumentor().uninstrument_app(app)
    assert answer.status_code == 200, answer.text
    assert answer.get_json()["output"] == "It is sunny in Kyiv."
    assert_genai_tree(telemetry, "POST /agent/invoke")


def test_fastapi_stream_nests_too(
    fake_openai_server: FakeOpenAIServer, telemetry: Telemetry
) -> None:
    """A streamed run is driven by the response body, after the route returned."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    from selectools_fastapi import AgentRouter

    script(fake_openai_server)
    app = FastAPI()
    app.include_router(AgentRouter(make_agent(fake_openai_server, telemetry)), prefix="/agent")
    FastAPIInstrumentor.instrument_app(app, tracer_provider=telemetry.tracer_provider)
    try:
        answer = TestClient(app).post("/agent/stream", json={"input": "Weather in Kyiv?"})
    finally:
        FastAPIInstrumentor.uninstrument_app(app)
    assert answer.status_code == 200
    assert "It is sunny in Kyiv." in answer.text
    request = telemetry.span("POST /agent/stream")
    run = telemetry.span("invoke_agent helper")
    assert run.parent is not None
    assert request.context is not None
    assert run.parent.span_id == request.context.span_id
    names = sorted(s.name for s in telemetry.children(run))
    assert names == ["chat gpt-4o-mini", "chat gpt-4o-mini", "execute_tool get_weather"]
    lookup = telemetry.span("weather lookup")
    tool_span = telemetry.span("execute_tool get_weather")
    assert lookup.parent is not None
    assert tool_span.context is not None
    assert lookup.parent.span_id == tool_span.context.span_id
