"""Our tools as an MCP server: listed and called by the official `mcp` client, stdio and HTTP."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp", reason='needs the MCP SDK: pip install -e ".[mcp]"')

from mcp import Client, StdioServerParameters

from selectools import Agent, ScriptedProvider, tool
from selectools.mcp import mcp_app
from tests.fakes import mcp_our_server
from tests.fakes.servers import UvicornThread

OUR_SERVER = Path(mcp_our_server.__file__)
ROOT = Path(__file__).parents[2]


def stdio_parameters() -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[str(OUR_SERVER)],
        env={"PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
    )


async def exercise(client: Any) -> None:
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) >= {"get_order", "cancel_order", "import_rows"}
    assert listed["get_order"].description == "Look up an order by its number."
    assert listed["get_order"].input_schema["properties"]["order_id"]["type"] == "integer"
    assert listed["get_order"].annotations.read_only_hint is True
    assert listed["cancel_order"].annotations.destructive_hint is True

    result = await client.call_tool("get_order", {"order_id": 7})
    assert not result.is_error
    assert result.structured_content == {"order_id": 7, "status": "shipped"}
    assert result.content[0].text == '{"order_id": 7, "status": "shipped"}'

    wrong = await client.call_tool("get_order", {"order_id": "seven"})
    assert wrong.is_error
    assert "Invalid arguments for tool 'get_order'" in wrong.content[0].text
    refused = await client.call_tool("get_order", {"order_id": -1})
    assert refused.is_error
    assert refused.content[0].text == "Order numbers are positive; ask the customer again."
    unknown = await client.call_tool("drop_tables", {})
    assert unknown.is_error
    assert "Unknown tool 'drop_tables'" in unknown.content[0].text

    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    streamed = await client.call_tool("import_rows", {"count": 3}, progress_callback=on_progress)
    assert streamed.content[0].text == "imported 3 rows"
    assert progress == [(1, "1/3"), (2, "2/3"), (3, "3/3")]


async def test_the_official_client_lists_and_calls_our_tools_over_stdio() -> None:
    async with Client(stdio_parameters()) as client:
        await exercise(client)


async def test_the_official_client_lists_and_calls_our_tools_over_http() -> None:
    agent = Agent(mcp_our_server.TOOLS, ScriptedProvider(["unused"]))
    with UvicornThread(mcp_app(agent)) as server:
        async with Client(f"{server.url}/mcp") as client:
            await exercise(client)
            whoami = await client.call_tool("whoami", {})
            assert whoami.content[0].text == "identity=None"  # no host auth here


async def test_tools_added_to_a_live_agent_appear_to_mcp_clients() -> None:
    agent = Agent(mcp_our_server.TOOLS, ScriptedProvider(["unused"]))

    @tool
    def refund(order_id: int) -> str:
        """Refund an order."""
        return f"refunded {order_id}"

    with UvicornThread(mcp_app(agent)) as server:
        async with Client(f"{server.url}/mcp") as client:
            before = {t.name for t in (await client.list_tools()).tools}
            agent.tools.add(refund)
            after = {t.name for t in (await client.list_tools(cache_mode="refresh")).tools}
            called = await client.call_tool("refund", {"order_id": 3})
    assert "refund" not in before
    assert "refund" in after
    assert called.content[0].text == "refunded 3"


async def test_a_tool_that_needs_approval_never_runs_over_mcp() -> None:
    """MCP cannot ask a person: a marked write, or one RequireApproval marks, is refused."""
    from selectools.approval import RequireApproval

    writes: list[int] = []

    @tool(requires_approval=True)
    def refund(order_id: int) -> str:
        """Refund an order."""
        writes.append(order_id)
        return "refunded"

    @tool(writes=True)
    def cancel(order_id: int) -> str:
        """Cancel an order."""
        writes.append(-order_id)
        return "cancelled"

    agent = Agent([refund, cancel], ScriptedProvider(["unused"]), policies=[RequireApproval()])
    with UvicornThread(mcp_app(agent)) as server:
        async with Client(f"{server.url}/mcp") as client:
            for name in ("refund", "cancel"):
                result = await client.call_tool(name, {"order_id": 5})
                assert result.is_error
                assert "needs a person's approval" in result.content[0].text
    assert writes == []
