"""MCPToolkit against a reference server written with the SDK's own MCPServer."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason='needs the MCP SDK: pip install -e ".[mcp]"')

from selectools import Agent, ScriptedProvider, call
from selectools.mcp import MCPConnectionError, MCPToolError, MCPToolkit
from tests.fakes import mcp_reference_server

REFERENCE = str(Path(mcp_reference_server.__file__))
ENV = {"PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture
def stdio_kit() -> Iterator[MCPToolkit]:
    kit = MCPToolkit.stdio(sys.executable, REFERENCE, "stdio", env=ENV, timeout=20)
    yield kit
    kit.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, REFERENCE, "http", str(port)],
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert process.poll() is None, "the reference server exited"
            assert time.monotonic() < deadline, "the reference server did not start"
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    process.terminate()
    process.wait(10)


def test_stdio_tools_are_ours_with_schemas_and_write_flags(stdio_kit: MCPToolkit) -> None:
    tools = {t.name: t for t in stdio_kit.tools()}
    assert set(tools) >= {"add", "echo", "refuse", "die", "pid"}
    assert tools["add"].description == "Add two integers."
    assert tools["add"].parameters["properties"]["a"]["type"] == "integer"
    assert tools["add"].parameters["required"] == ["a", "b"]
    assert tools["echo"].writes is False  # annotated read-only by the server
    assert tools["add"].writes is True  # not annotated: treated as a write


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_an_agent_calls_mcp_tools_and_reads_their_errors(
    stdio_kit: MCPToolkit, mode: str
) -> None:
    agent = Agent(
        [stdio_kit],
        ScriptedProvider(
            [
                [
                    call("add", a=2, b=3),
                    call("refuse", reason="no stock"),
                    call("add", a="x"),
                    call("crash"),
                ],
                "ok",
            ]
        ),
    )
    result = agent.run("go") if mode == "run" else await agent.arun("go")
    added, refused, invalid, crashed = result.tool_calls
    assert added.output == "5"
    assert refused.error_type == "mcp_tool_error"
    assert "refused: no stock" in (refused.error or "")
    assert invalid.error_type == "mcp_tool_error"  # the server validated it and said why
    assert "a" in (invalid.error or "")
    assert crashed.error == "Error executing tool crash"  # what the server chose to say


def test_a_server_that_dies_is_a_readable_error_and_the_next_call_restarts_it(
    stdio_kit: MCPToolkit,
) -> None:
    tools = {t.name: t for t in stdio_kit.tools()}
    first_pid = int(tools["pid"]())
    with pytest.raises(MCPConnectionError, match="is not running"):
        tools["die"]()
    # Its pipe closes as it starts to exit; the exit itself may lag on a busy machine.
    _wait_until_dead(first_pid)
    second_pid = int(tools["pid"]())  # started again
    assert second_pid != first_pid
    agent = Agent([stdio_kit], ScriptedProvider([call("die"), "ok"]))
    [record] = agent.run("go").tool_calls
    assert record.error_type == "mcp_connection_error"
    assert "is not running" in (record.error or "")


def test_close_ends_the_server_process(stdio_kit: MCPToolkit) -> None:
    pid = int({t.name: t for t in stdio_kit.tools()}["pid"]())
    assert _alive(pid)
    stdio_kit.close()
    _wait_until_dead(pid)


def _wait_until_dead(pid: int) -> None:
    deadline = time.monotonic() + 15
    while _alive(pid):
        assert time.monotonic() < deadline, f"process {pid} is still alive after 15 s"
        time.sleep(0.05)


def test_a_command_that_is_not_a_server_says_so() -> None:
    kit = MCPToolkit.stdio(sys.executable, "-c", "print('not mcp')", timeout=5)
    with pytest.raises(MCPConnectionError, match="MCP server"):
        kit.tools()
    kit.close()


def test_streamable_http(http_server: str) -> None:
    with MCPToolkit.http(http_server, headers={"X-Api-Key": "k"}, prefix="ref_") as kit:
        tools = {t.name: t for t in kit.tools()}  # type: ignore[attr-defined]
        assert "ref_add" in tools
        assert tools["ref_add"](a=1, b=2) == "3"
        with pytest.raises(MCPToolError, match="refused: nope"):
            tools["ref_refuse"](reason="nope")


async def test_one_session_serves_many_event_loops_and_threads(http_server: str) -> None:
    kit = MCPToolkit.http(http_server, include=["add"])
    [add] = kit.tools()
    assert add.afunction is not None
    results = await asyncio.gather(*(add.afunction(a=i, b=i) for i in range(5)))
    assert results == ["0", "2", "4", "6", "8"]
    assert await asyncio.to_thread(lambda: asyncio.run(add.afunction(a=1, b=1))) == "2"  # type: ignore[misc]
    kit.close()


def test_an_unreachable_url_says_so() -> None:
    kit = MCPToolkit.http(f"http://127.0.0.1:{free_port()}/mcp", timeout=5)
    with pytest.raises(MCPConnectionError):
        kit.tools()
    kit.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
