"""The OpenTelemetry policy without a web framework: errors, metrics, content, threads, opt-in."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from selectools import Agent, ProviderError, ScriptedProvider, call, tool
from selectools.telemetry import OpenTelemetry, disable, enable, enabled
from tests.telemetry.conftest import Telemetry


def traced(telemetry: Telemetry, **options: Any) -> OpenTelemetry:
    return OpenTelemetry(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **options,
    )


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"boom: {reason}")


def test_tool_error_is_recorded_on_the_tool_span(telemetry: Telemetry) -> None:
    provider = ScriptedProvider([call("explode", reason="disk"), "Sorry."])
    result = Agent([explode], provider, policies=[traced(telemetry)]).run("go")
    assert result.text == "Sorry."
    span = telemetry.span("execute_tool explode")
    assert span.status.status_code.name == "ERROR"
    assert span.attributes is not None
    assert span.attributes["error.type"] == "ValueError"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert "boom: disk" in str(event.attributes["exception.message"])
    run = telemetry.span("invoke_agent")  # the model recovered: the run is fine
    assert run.status.status_code.name == "UNSET"


def test_provider_error_fails_chat_and_run_spans(telemetry: Telemetry) -> None:
    provider = ScriptedProvider(["only one step"])
    agent = Agent([], provider, policies=[traced(telemetry, agent_name="bot")])
    agent.run("first")
    with pytest.raises(ProviderError):
        agent.run("second")
    chats = [s for s in telemetry.spans() if s.name == "chat scripted"]
    assert [c.status.status_code.name for c in chats] == ["UNSET", "ERROR"]
    failed = chats[1]
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "provider_error"
    assert [e.name for e in failed.events] == ["exception"]
    assert failed.events[0].attributes is not None
    assert failed.events[0].attributes["exception.type"].endswith("ProviderError")
    runs = [s for s in telemetry.spans() if s.name == "invoke_agent bot"]
    assert [r.status.status_code.name for r in runs] == ["UNSET", "ERROR"]
    assert runs[1].attributes is not None
    assert runs[1].attributes["error.type"] == "provider_error"
    duration = telemetry.points("gen_ai.client.operation.duration")
    errors = [p for p in duration if p.attributes.get("error.type") == "provider_error"]
    assert len(errors) == 1
    assert errors[0].count == 1


def test_token_and_duration_histograms(telemetry: Telemetry) -> None:
    provider = ScriptedProvider([call("explode", reason="x"), "done"], model="gpt-4o-mini")
    result = Agent([explode], provider, policies=[traced(telemetry)]).run("hello there")
    tokens = telemetry.points("gen_ai.client.token.usage")
    by_type = {p.attributes["gen_ai.token.type"]: p for p in tokens}
    assert set(by_type) == {"input", "output"}
    assert by_type["input"].sum == result.usage.input_tokens
    assert by_type["output"].sum == result.usage.output_tokens
    assert by_type["input"].count == 2  # one point per model call
    assert by_type["input"].attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert by_type["input"].attributes["gen_ai.operation.name"] == "chat"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 2
    assert 0 < duration.sum < 5


def test_content_only_when_opted_in(telemetry: Telemetry) -> None:
    provider = ScriptedProvider([call("explode", reason="secret-arg"), "The answer."])
    Agent([explode], provider, system_prompt="Be brief.", policies=[traced(telemetry)]).run("hi")
    for span in telemetry.spans():
        text = json.dumps(dict(span.attributes or {}))
        assert "secret-arg" not in text
        assert "Be brief." not in text

    telemetry.exporter.clear()
    provider = ScriptedProvider([call("explode", reason="secret-arg"), "The answer."])
    agent = Agent(
        [explode],
        provider,
        system_prompt="Be brief.",
        policies=[traced(telemetry, capture_content=True)],
    )
    agent.run("hi")
    first, second = (s for s in telemetry.spans() if s.name.startswith("chat"))
    assert first.attributes is not None
    assert second.attributes is not None
    assert json.loads(str(first.attributes["gen_ai.system_instructions"])) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(str(first.attributes["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    ]
    (out,) = json.loads(str(first.attributes["gen_ai.output.messages"]))
    assert out["parts"][0]["name"] == "explode"
    assert out["parts"][0]["arguments"] == {"reason": "secret-arg"}
    assert out["finish_reason"] == "tool_calls"
    replayed = json.loads(str(second.attributes["gen_ai.input.messages"]))
    assert replayed[-1]["parts"][0]["type"] == "tool_call_response"
    tool_span = telemetry.span("execute_tool explode")
    assert tool_span.attributes is not None
    assert json.loads(str(tool_span.attributes["gen_ai.tool.call.arguments"])) == {
        "reason": "secret-arg"
    }
    assert "boom: secret-arg" in str(tool_span.attributes["gen_ai.tool.call.result"])


def test_parallel_sync_tools_each_nest_under_the_run(telemetry: Telemetry) -> None:
    """Two sync tools run concurrently on the bridge: each span keeps its own parent."""
    tracer = telemetry.tracer_provider.get_tracer("inner")

    @tool
    def lookup(key: str) -> str:
        """Look a key up."""
        with tracer.start_as_current_span(f"inside {key}"):
            return key.upper()

    provider = ScriptedProvider([[call("lookup", key="a"), call("lookup", key="b")], "ok"])
    agent = Agent([lookup], provider, policies=[traced(telemetry)])
    agent.run("both")
    run = telemetry.span("invoke_agent")
    tools = [s for s in telemetry.spans() if s.name == "execute_tool lookup"]
    assert len(tools) == 2
    for span in tools:
        assert span.parent is not None
        assert run.context is not None
        assert span.parent.span_id == run.context.span_id
    for key in ("a", "b"):
        inner = telemetry.span(f"inside {key}")
        (owner,) = [
            t
            for t in tools
            if t.context and inner.parent and t.context.span_id == inner.parent.span_id
        ]
        assert owner.attributes is not None
        assert owner.attributes["gen_ai.tool.call.id"] in {"call_1", "call_2"}


async def test_concurrent_async_runs_keep_their_own_trees(telemetry: Telemetry) -> None:
    import asyncio

    @tool
    async def echo(text: str) -> str:
        """Echo."""
        await asyncio.sleep(0.01)
        return text

    def respond(request: Any) -> Any:
        if request.messages[-1].role == "tool":
            return "done"
        return call("echo", text=request.messages[-1].content)

    agent = Agent([echo], ScriptedProvider(responder=respond), policies=[traced(telemetry)])
    results = await asyncio.gather(*(agent.arun(f"run {i}") for i in range(5)))
    assert all(r.text == "done" for r in results)
    runs = [s for s in telemetry.spans() if s.name == "invoke_agent"]
    assert len(runs) == 5
    for run in runs:
        kids = telemetry.children(run)
        assert sorted(k.name for k in kids) == [
            "chat scripted",
            "chat scripted",
            "execute_tool echo",
        ]
        assert all(
            k.context and run.context and k.context.trace_id == run.context.trace_id for k in kids
        )
    assert len({r.context.trace_id for r in runs if r.context}) == 5


def test_streamed_sync_run_closes_every_span(telemetry: Telemetry) -> None:
    provider = ScriptedProvider([call("explode", reason="x"), "Streamed answer here."])
    agent = Agent([explode], provider, policies=[traced(telemetry)])
    events = list(agent.stream("go"))
    assert events[-1].type == "run_finished"
    names = sorted(s.name for s in telemetry.spans())
    assert names == ["chat scripted", "chat scripted", "execute_tool explode", "invoke_agent"]


def test_enable_traces_every_new_agent(telemetry: Telemetry) -> None:
    from opentelemetry import trace

    assert not enabled()
    enable()
    try:
        agent = Agent([], ScriptedProvider(["hi"]), name="auto")
        listed = Agent([], ScriptedProvider(["hi"]), policies=[traced(telemetry)])
    finally:
        disable()
    (policy,) = agent.policies
    assert isinstance(policy, OpenTelemetry)
    assert policy.agent_name == "auto"
    assert len(listed.policies) == 1  # not traced twice
    assert Agent([], ScriptedProvider(["hi"])).policies == ()
    assert trace.get_tracer_provider() is not None


def test_no_opentelemetry_import_until_used_and_a_clear_error_without_it() -> None:
    code = (
        "import sys\n"
        "import selectools, selectools.telemetry\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "sys.modules['opentelemetry'] = None\n"
        "from selectools.telemetry import OpenTelemetry\n"
        "try:\n"
        "    OpenTelemetry()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MissingDependencyError")
    assert 'pip install -e ".[otel]"' in out.stdout


async def test_a_cancelled_run_closes_its_tool_span_as_failed(telemetry: Telemetry) -> None:
    import asyncio

    started = asyncio.Event()

    @tool
    async def wait_forever() -> str:
        """Never returns."""
        started.set()
        await asyncio.Event().wait()
        return "never"

    agent = Agent(
        [wait_forever], ScriptedProvider([call("wait_forever"), "x"]), policies=[traced(telemetry)]
    )
    task = asyncio.create_task(agent.arun("go"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = telemetry.span("execute_tool wait_forever")
    assert span.status.status_code.name == "ERROR"
    assert span.attributes is not None
    assert span.attributes["error.type"] == "CancelledError"
    run = telemetry.span("invoke_agent")  # the run's span is closed too, not left open
    assert run.status.status_code.name == "ERROR"
    assert run.attributes is not None
    assert run.attributes["error.type"] == "cancelled"


def test_a_stream_closed_mid_run_closes_the_run_span(telemetry: Telemetry) -> None:
    provider = ScriptedProvider([call("explode", reason="x"), "Streamed answer."], cycle=True)
    agent = Agent([explode], provider, policies=[traced(telemetry)])
    events = agent.stream("go")
    assert next(events).type == "run_started"
    events.close()  # the client went away
    (run,) = [s for s in telemetry.spans() if s.name == "invoke_agent"]
    assert run.attributes is not None
    assert run.attributes["error.type"] == "cancelled"

    telemetry.exporter.clear()
    whole = agent.stream("again")
    for event in whole:
        if event.type == "run_finished":
            break
    whole.close()  # closed after the end: one span, not failed
    (run,) = [s for s in telemetry.spans() if s.name == "invoke_agent"]
    assert run.status.status_code.name == "UNSET"
