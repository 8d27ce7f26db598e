"""A tool keeps its guarantees as a LangChain tool: sandbox, timeout and its own policies.

The adapter called the wrapped function directly, so a LangChain agent ran a
`@tool(sandbox=True)` tool in the host process (with the host's secrets and
no limits), never stopped one past its `timeout`, and skipped its rate limit
and cache. Each case calls the converted tool the way a LangChain agent does
(`invoke` / `ainvoke`) with the arguments a hostile model would send.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from langchain_core.tools import ToolException

from selectools import tool
from selectools_langchain import to_langchain_tool
from tests.fakes import sandboxed_tools as boxed


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_a_sandboxed_tool_runs_in_its_sandbox(mode: str) -> None:
    converted = to_langchain_tool(boxed.pid)
    pid = converted.invoke({}) if mode == "invoke" else await converted.ainvoke({})
    assert int(pid) != os.getpid()


def test_the_sandbox_keeps_the_hosts_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    names = to_langchain_tool(boxed.environment, response_format="content").invoke({})
    assert "OPENAI_API_KEY" not in names


def test_the_sandbox_limits_hold_and_become_a_tool_exception() -> None:
    with pytest.raises(ToolException, match=r"memory|MemoryError|limit"):
        to_langchain_tool(boxed.hog).invoke({"megabytes": 2048})


@pytest.fixture
def never() -> Iterator[threading.Event]:
    """What a hanging upstream never sends; set at the end so its thread can leave."""
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_a_tool_past_its_timeout_is_stopped(mode: str, never: threading.Event) -> None:
    @tool(timeout=0.2)
    def hang() -> str:
        """Wait for an upstream that never answers."""
        never.wait(30)
        return "late"

    converted = to_langchain_tool(hang)
    with pytest.raises(ToolException, match=r"did not finish within 0\.2 s"):
        await converted.ainvoke({}) if mode == "ainvoke" else converted.invoke({})


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_the_tools_own_rate_limit_holds(mode: str) -> None:
    calls: list[str] = []

    @tool(rate_limit="1/minute")
    def send_sms(text: str) -> str:
        """Send a text message (costs money)."""
        calls.append(text)
        return "sent"

    converted = to_langchain_tool(send_sms)

    async def send() -> object:
        if mode == "invoke":
            return converted.invoke({"text": "hi"})
        return await converted.ainvoke({"text": "hi"})

    assert await send() == "sent"
    for _ in range(2):
        with pytest.raises(ToolException, match=r"(?i)rate"):
            await send()
    assert calls == ["hi"]


def test_the_tools_own_cache_answers_a_repeated_call() -> None:
    calls: list[str] = []

    @tool(cache_ttl=60)
    def rate(currency: str) -> float:
        """Exchange rate to EUR."""
        calls.append(currency)
        return 0.92

    converted = to_langchain_tool(rate)
    assert converted.invoke({"currency": "USD"}) == converted.invoke({"currency": "USD"})
    assert calls == ["USD"]
