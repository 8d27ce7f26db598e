"""Tools changed on a live agent reach the model; runs keep the set they started with."""

from __future__ import annotations

import asyncio
import threading
import time

from selectools import Agent, OpenAIProvider, ScriptedProvider, Tool, call, tool
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply


@tool
def get_order(order_id: int) -> str:
    """Look up an order."""
    return f"order {order_id}"


@tool
def cancel_order(order_id: int) -> str:
    """Cancel an order."""
    return f"cancelled {order_id}"


def offered(body: dict[str, object]) -> dict[str, object]:
    tools = body.get("tools") or []
    assert isinstance(tools, list)
    return {t["function"]["name"]: t["function"] for t in tools}


def live_agent(server: FakeOpenAIServer) -> Agent:
    provider = OpenAIProvider("gpt-4o-mini", api_key="sk-test", base_url=server.base_url)
    return Agent([get_order], provider)


def test_a_tool_added_mid_life_reaches_the_model(openai_server: FakeOpenAIServer) -> None:
    agent = live_agent(openai_server)
    openai_server.add(FakeReply(text="hello"))
    agent.run("hi")
    assert set(offered(openai_server.requests[0])) == {"get_order"}

    agent.tools.add(cancel_order)
    openai_server.add(
        FakeReply(tool_calls=[("cancel_order", {"order_id": 7})]), FakeReply(text="done")
    )
    result = agent.run("cancel 7")
    schemas = offered(openai_server.requests[1])
    assert set(schemas) == {"get_order", "cancel_order"}
    assert schemas["cancel_order"] == cancel_order.schema()["function"]
    assert result.tool_calls[0].output == "cancelled 7"


def test_replace_and_remove_reach_the_model(openai_server: FakeOpenAIServer) -> None:
    agent = live_agent(openai_server)

    @tool(name="get_order")
    def get_order_v2(order_id: int, include_items: bool = False) -> str:
        """Look up an order, optionally with its items."""
        return f"order {order_id} v2"

    agent.tools.replace(get_order_v2)
    openai_server.add(FakeReply(tool_calls=[("get_order", {"order_id": 1})]), FakeReply(text="ok"))
    result = agent.run("order 1")
    schema = offered(openai_server.requests[0])["get_order"]
    assert schema["description"] == "Look up an order, optionally with its items."
    assert "include_items" in schema["parameters"]["properties"]  # type: ignore[index]
    assert result.tool_calls[0].output == "order 1 v2"

    agent.tools.remove("get_order")
    openai_server.add(FakeReply(tool_calls=[("get_order", {"order_id": 1})]), FakeReply(text="ok"))
    result = agent.run("order 1")
    assert "tools" not in openai_server.requests[2] or not openai_server.requests[2]["tools"]
    assert result.tool_calls[0].error_type == "unknown_tool"


async def test_a_running_run_keeps_the_version_it_started_with() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    @tool
    async def wait_here() -> str:
        """Blocks until released."""
        started.set()
        await release.wait()
        return "released"

    steps = [call("wait_here"), call("get_order", order_id=1), "done"]
    scripted = ScriptedProvider([*steps, call("get_order", order_id=2), "done"])
    agent = Agent([wait_here, get_order], scripted)
    task = asyncio.create_task(agent.arun("go"))
    await started.wait()

    @tool(name="get_order")
    def get_order_v2(order_id: int) -> str:
        """Look up an order (new)."""
        return f"new {order_id}"

    agent.tools.replace(get_order_v2)
    release.set()
    first = await task
    assert first.tool_calls[1].output == "order 1"  # the version the run started with
    second = await agent.arun("again")
    assert second.tool_calls[0].output == "new 2"


def test_change_is_one_step_for_concurrent_runs() -> None:
    """A run starting while a reload swaps two tools sees both old or both new."""

    def version(n: int) -> list[Tool]:
        made = []
        for name in ("alpha", "beta"):

            def body(x: int) -> int:
                return x

            made.append(tool(name=name, description=f"{name} v{n}")(body))
        return made

    versions = [version(n) for n in range(1, 41)]  # built up front: the churn is fast
    agent = Agent(version(0), ScriptedProvider(["ok"], cycle=True))
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            for tools in versions:
                agent.tools.change(replace=tools)

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        mixed = []
        seen: set[str] = set()
        deadline = time.monotonic() + 30
        while len(seen) < 10 and time.monotonic() < deadline:  # runs under many versions
            snapshot = agent.tools.snapshot()
            descriptions = {t.description.split()[1] for t in snapshot.tools.values()}
            schema_descriptions = {
                s["function"]["description"].split()[1] for s in snapshot.schemas
            }
            if len(descriptions) != 1 or descriptions != schema_descriptions:
                mixed.append((descriptions, schema_descriptions))
            seen |= descriptions
    finally:
        stop.set()
        worker.join()
    assert len(seen) >= 10
    assert mixed == []


def test_snapshot_is_rebuilt_only_when_the_tools_change() -> None:
    agent = Agent([get_order], ScriptedProvider(["ok"]))
    first = agent.tools.snapshot()
    assert agent.tools.snapshot() is first
    agent.tools.add(cancel_order)
    assert agent.tools.snapshot() is not first
    agent.tools.change(remove=["cancel_order", "not_there"])
    assert list(agent.tools.snapshot().tools) == ["get_order"]
