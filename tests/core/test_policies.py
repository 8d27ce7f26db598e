"""Policies: provider wrappers and tool interceptors, composed on the agent and on a tool."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from selectools import (
    Agent,
    AgentConfig,
    ModelRequest,
    ModelResponse,
    Observer,
    ProviderWrapper,
    RunTimeoutError,
    ScriptedProvider,
    Tool,
    ToolCallRecord,
    ToolDefinitionError,
    ToolInvocation,
    Toolkit,
    ToolkitError,
    ToolPolicy,
    call,
    tool,
)
from selectools.policies import LogCalls, Retry

ran: list[str] = []


@tool
def delete_row(row_id: int) -> str:
    """Delete a row."""
    ran.append(f"delete {row_id}")
    return f"deleted {row_id}"


@tool
def read_row(row_id: int) -> str:
    """Read a row."""
    ran.append(f"read {row_id}")
    return f"row {row_id}"


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()


class RefuseDeletes(ToolPolicy):
    def before_tool(self, invocation: ToolInvocation) -> ToolCallRecord | None:
        if invocation.name.startswith("delete"):
            return invocation.refuse("Deleting is not allowed here.", error_type="policy")
        return None


class Trace(ToolPolicy):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def before_tool(self, invocation: ToolInvocation) -> None:
        self.log.append(f"{self.name}:before:{invocation.name}")

    def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> None:
        self.log.append(f"{self.name}:after:{record.name}")


class AsyncDoubler(ToolPolicy):
    """Rewrites the arguments before the call, asynchronously."""

    async def before_tool(self, invocation: ToolInvocation) -> ToolInvocation:
        await asyncio.sleep(0)
        doubled = {**invocation.arguments, "row_id": invocation.arguments["row_id"] * 2}
        return ToolInvocation(invocation.call, invocation.tool, doubled, invocation.context)


def test_a_refusing_policy_stops_the_call_and_the_model_reads_why() -> None:
    agent = Agent(
        [delete_row, read_row],
        ScriptedProvider([[call("delete_row", row_id=1), call("read_row", row_id=2)], "ok"]),
        policies=[RefuseDeletes()],
    )
    result = agent.run("clean up")
    refused, read = result.tool_calls
    assert ran == ["read 2"]
    assert (refused.error, refused.error_type) == ("Deleting is not allowed here.", "policy")
    assert read.ok
    tool_messages = [m.content for m in result.messages if m.role == "tool"]
    assert tool_messages[0] == "Error: Deleting is not allowed here."


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_hooks_run_in_order_then_unwind_agent_policies_outside_tool_ones(mode: str) -> None:
    log: list[str] = []
    traced = tool(policies=[Trace("inner", log)])(read_row.function)
    agent = Agent(
        [traced],
        ScriptedProvider([call("read_row", row_id=1), "ok"]),
        policies=[Trace("outer", log), Trace("middle", log)],
    )
    if mode == "run":
        agent.run("read")
    else:
        await agent.arun("read")
    assert log == [
        "outer:before:read_row",
        "middle:before:read_row",
        "inner:before:read_row",
        "inner:after:read_row",
        "middle:after:read_row",
        "outer:after:read_row",
    ]


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_async_hooks_work_from_sync_and_async_runs(mode: str) -> None:
    agent = Agent(
        [read_row], ScriptedProvider([call("read_row", row_id=21), "ok"]), policies=[AsyncDoubler()]
    )
    result = agent.run("read") if mode == "run" else await agent.arun("read")
    assert ran == ["read 42"]
    assert result.tool_calls[0].arguments == {"row_id": 42}


def test_after_tool_may_replace_the_record() -> None:
    class Redact(ToolPolicy):
        def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> ToolCallRecord:
            return invocation.succeed("[redacted]")

    agent = Agent(
        [read_row], ScriptedProvider([call("read_row", row_id=1), "ok"]), policies=[Redact()]
    )
    result = agent.run("read")
    assert result.tool_calls[0].output == "[redacted]"


def test_a_failing_hook_fails_the_run() -> None:
    class Broken(ToolPolicy):
        def before_tool(self, invocation: ToolInvocation) -> None:
            raise RuntimeError("policy store down")

    agent = Agent(
        [read_row], ScriptedProvider([call("read_row", row_id=1), "ok"]), policies=[Broken()]
    )
    with pytest.raises(RuntimeError, match="policy store down"):
        agent.run("read")
    assert ran == []


class CountingWrapper(ProviderWrapper):
    calls: list[str]

    def __init__(self, inner: Any, label: str, calls: list[str]) -> None:
        super().__init__(inner)
        self.label = label
        self.calls = calls

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls.append(self.label)
        return super().complete(request)


class WrapWith:
    def __init__(self, label: str, calls: list[str]) -> None:
        self.label = label
        self.calls = calls

    def wrap(self, provider: Any) -> Any:
        return CountingWrapper(provider, self.label, self.calls)


def test_provider_policies_wrap_the_provider_first_listed_outermost() -> None:
    calls: list[str] = []
    scripted = ScriptedProvider(["hi"])
    agent = Agent([], scripted, policies=[WrapWith("outer", calls), WrapWith("inner", calls)])
    result = agent.run("hello")
    assert result.text == "hi"
    assert calls == ["outer", "inner"]
    assert agent.provider is scripted  # what the caller gave stays reachable
    assert scripted.requests[0].context is not None
    assert scripted.requests[0].context.run_id == result.run_id


def test_log_calls_logs_model_and_tool_calls(caplog: pytest.LogCaptureFixture) -> None:
    agent = Agent(
        [read_row], ScriptedProvider([call("read_row", row_id=1), "ok"]), policies=[LogCalls()]
    )
    with caplog.at_level(logging.INFO, logger="selectools.calls"):
        result = agent.run("read")
    lines = [r for r in caplog.records if r.name == "selectools.calls"]
    assert [r.getMessage().split()[0] for r in lines] == ["model", "tool", "model"]
    tool_line = lines[1]
    assert tool_line.tool == "read_row"  # type: ignore[attr-defined]
    assert tool_line.run_id == result.run_id  # type: ignore[attr-defined]
    assert tool_line.ok is True  # type: ignore[attr-defined]


def test_tools_added_after_the_agent_was_built_reach_the_model() -> None:
    scripted = ScriptedProvider([call("delete_row", row_id=3), "done"])
    agent = Agent([read_row], scripted)
    agent.tools.add(delete_row)
    result = agent.run("delete 3")
    assert ran == ["delete 3"]
    offered = {t["function"]["name"] for t in scripted.requests[0].tools}
    assert offered == {"read_row", "delete_row"}
    assert result.tool_calls[0].ok


async def test_a_running_run_keeps_the_tools_it_started_with() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    @tool
    async def wait_here() -> str:
        """Blocks until released."""
        started.set()
        await release.wait()
        return "released"

    scripted = ScriptedProvider([call("wait_here"), call("read_row", row_id=1), "done"])
    agent = Agent([wait_here, read_row], scripted)
    task = asyncio.create_task(agent.arun("go"))
    await started.wait()
    agent.tools.remove("read_row")
    release.set()
    result = await task
    assert [r.ok for r in result.tool_calls] == [True, True]  # still had read_row
    assert "read_row" not in agent.tools


class Rows(Toolkit):
    name = "rows"

    def __init__(self) -> None:
        self.closed = False

    def tools(self) -> list[Tool]:
        def fetch(row_id: int) -> str:
            """Fetch a row."""
            if row_id < 0:
                raise ToolkitError("Row ids are positive; list the rows first.")
            return f"row {row_id}"

        return [tool(fetch)]

    def close(self) -> None:
        self.closed = True


def test_toolkits_go_straight_into_an_agent_and_their_errors_reach_the_model_as_written() -> None:
    with Rows() as kit:
        agent = Agent([kit], ScriptedProvider([call("fetch", row_id=-1), "ok"]))
        result = agent.run("fetch")
    assert kit.closed
    [record] = result.tool_calls
    assert record.error == "Row ids are positive; list the rows first."
    assert record.error_type == "toolkit_error"


def test_sync_run_honours_the_run_timeout_while_the_model_is_silent() -> None:
    silent = ScriptedProvider(["never seen"], latency=30)
    agent = Agent([], silent, config=AgentConfig(run_timeout=0.2))
    with pytest.raises(RunTimeoutError):
        agent.run("hello?")
    with pytest.raises(RunTimeoutError):
        list(agent.stream("hello?"))


def test_error_types_are_snake_case_with_acronyms_kept_whole() -> None:
    class MCPToolError(ToolkitError):
        pass

    class S3RefusedError(ToolkitError):
        pass

    assert MCPToolError("x").error_type == "mcp_tool_error"
    assert S3RefusedError("x").error_type == "s3_refused_error"
    assert RunTimeoutError("x").error_type == "run_timeout_error"


class _NoFace:
    def describe(self) -> str:
        return "not a policy"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"policies": [Retry]}, "got the class Retry as a policy; pass an instance: Retry(...)"),
        ({"policies": ["retry"]}, "got 'retry' as a policy, which is not one"),
        ({"policies": [_NoFace()]}, "_NoFace object at .* as a policy, which is not one"),
        ({"cache": 300}, "got 300 as a policy, which is not one"),
        ({"observers": [Observer]}, "got the class Observer as an observer; pass an instance"),
        ({"observers": [_NoFace()]}, "as an observer, which has none of the hooks"),
    ],
)
def test_what_is_not_a_policy_or_an_observer_is_refused_when_the_agent_is_built(
    options: dict[str, Any], message: str
) -> None:
    """Before: a class failed mid-run with 'wrap() missing 1 required positional argument',
    and an object with no hook at all was silently never called."""
    with pytest.raises(TypeError, match=message):
        Agent([], ScriptedProvider(["hi"]), **options)


def test_every_kind_of_policy_and_observer_is_still_accepted() -> None:
    class RunWatcher:
        def on_run_end(self, event: object) -> None:
            seen.append(type(event).__name__)

    seen: list[str] = []
    agent = Agent(
        [],
        ScriptedProvider(["hi"]),
        policies=[Retry(), LogCalls(), RunWatcher()],
        observers=[Observer()],
    )
    assert agent.run("hello").text == "hi"
    assert seen == ["RunFinished"]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (LogCalls, "got the class LogCalls as a policy"),
        ("cache", "got 'cache' as a policy"),
        (_NoFace(), "_NoFace object at .* as a policy"),
    ],
)
def test_a_tool_refuses_what_is_not_a_tool_policy_when_made(policy: Any, message: str) -> None:
    """Before: accepted, then called with the invocation as `self`, or never called."""

    def ping() -> str:
        """Ping."""
        return "pong"

    with pytest.raises(ToolDefinitionError, match=message):
        tool(policies=[policy])(ping)
