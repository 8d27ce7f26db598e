"""@tool(sandbox=...): each call in a fresh limited process; what goes wrong there is a tool
error, and the agent (and a real uvicorn worker serving it) keeps going."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import Any

import httpx
import pytest

from selectools import Agent, RunContext, ScriptedProvider, ToolDefinitionError, call, tool
from tests.fakes import sandboxed_tools as boxed
from tests.fakes.servers import UvicornThread


def run_calls(*calls: Any) -> Any:
    provider = ScriptedProvider([list(calls), "done"])
    tools = [boxed.add, boxed.hog, boxed.spin, boxed.environment, boxed.crash, boxed.pid]
    return Agent(tools, provider).run("go")


def test_a_sandboxed_tool_runs_in_another_process_without_our_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    result = run_calls(call("add", a=2, b=3), call("environment"), call("pid"))
    add, env, pid = result.tool_calls
    assert add.ok
    assert add.output == "5"
    assert env.ok
    assert "OPENAI_API_KEY" not in env.result
    assert pid.result != os.getpid()
    assert boxed.add(2, 3) == 5  # called directly it is still the plain function


def test_memory_time_and_crashes_become_tool_errors_the_model_reads() -> None:
    result = run_calls(call("hog", megabytes=2048), call("spin"), call("crash"))
    hog, spin, crash = result.tool_calls
    assert hog.error_type == "sandbox_limit_error"
    assert "memory" in (hog.error or "")
    assert spin.error_type == "sandbox_limit_error"
    assert "CPU" in (spin.error or "") or "wall" in (spin.error or "")
    assert crash.error_type == "sandbox_crash_error"
    assert result.text == "done"


def test_async_runs_sandbox_too_and_a_timeout_kills_the_child() -> None:
    async def main() -> Any:
        provider = ScriptedProvider([call("spin"), call("add", a=1, b=1), "done"])
        brief = dataclasses.replace(boxed.spin, timeout=2.0)
        agent = Agent([brief, boxed.add], provider)
        return await agent.arun("go")

    result = asyncio.run(main())
    spin, add = result.tool_calls
    assert spin.error_type == "timeout"
    assert spin.duration_ms < 5000  # the run's timeout, not the sandbox's 6 s wall limit
    assert add.ok, add.error
    assert add.output == "2"


def test_tools_that_cannot_be_sandboxed_are_refused_when_defined() -> None:
    with pytest.raises(ToolDefinitionError, match="module level"):

        @tool(sandbox=True)
        def nested(x: int) -> int:
            """Nested."""
            return x

    with pytest.raises(ToolDefinitionError, match="plain sync"):

        @tool(sandbox=True)
        async def later(x: int) -> int:
            """Async."""
            return x

    def with_context(x: int, context: RunContext) -> int:
        """Needs the context."""
        return x

    with_context.__qualname__ = "with_context"
    with pytest.raises(ToolDefinitionError, match="RunContext"):
        tool(sandbox=True)(with_context)
    with pytest.raises(ToolDefinitionError, match="SubprocessSandbox"):
        tool(sandbox="yes")(boxed.add.function)  # type: ignore[call-overload]


def test_a_real_worker_keeps_serving_after_bad_sandboxed_calls() -> None:
    from fastapi import FastAPI

    from selectools_fastapi import AgentRouter

    provider = ScriptedProvider(
        [call("hog", megabytes=2048), "after hog", call("spin"), "after spin", "still here"]
    )
    app = FastAPI()
    app.include_router(AgentRouter(Agent([boxed.hog, boxed.spin], provider)), prefix="/agent")
    with UvicornThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for expected, kind in (("after hog", "sandbox_limit_error"), ("after spin", None)):
            answer = client.post("/agent/invoke", json={"input": "go"})
            assert answer.status_code == 200
            body = answer.json()
            assert body["output"] == expected
            assert body["tool_calls"][0]["error_type"] == (kind or "sandbox_limit_error")
        after = client.post("/agent/invoke", json={"input": "hello"})
        assert after.status_code == 200
        assert after.json()["output"] == "still here"


def test_run_in_sandbox_policy_boxes_tools_you_did_not_write() -> None:
    from selectools.tools.sandboxed import RunInSandbox

    @tool
    def local() -> int:
        """A closure: cannot be imported by name in a child."""
        return os.getpid()

    provider = ScriptedProvider([[call("plain_pid"), call("local")], "done"])
    agent = Agent([boxed.plain_pid, local], provider, policies=[RunInSandbox()])
    boxed_pid, refused = agent.run("go").tool_calls
    assert boxed_pid.ok
    assert boxed_pid.result != os.getpid()
    assert refused.error_type == "not_sandboxable"
    only = Agent(
        [boxed.plain_pid],
        ScriptedProvider([call("plain_pid"), "done"]),
        policies=[RunInSandbox(tools=["other"])],
    )
    assert only.run("go").tool_calls[0].result == os.getpid()
