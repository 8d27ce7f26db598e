"""CompressPrompt: what the provider receives is smaller, says the same, and the saving is
reported in usage; the session keeps every message as it was."""

from __future__ import annotations

import asyncio
import json

import pytest

from selectools import Agent, ConversationMemory, Message, ModelRequest, ScriptedProvider, tool
from selectools.policies import CompressPrompt
from selectools.providers.scripted import call
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

RECORD = {"order": 1001, "status": "shipped", "items": [{"sku": "A-1", "qty": 2}] * 30}


@tool
def get_order(order_id: int) -> str:
    """An order as pretty-printed JSON (as many APIs answer)."""
    return json.dumps({**RECORD, "order": order_id}, indent=4)


@tool
def read_log() -> str:
    """A long log."""
    return "\n".join(f"line {i}: ok" for i in range(2000))


def test_json_tool_results_are_sent_compact_and_equal() -> None:
    provider = ScriptedProvider([call("get_order", order_id=1001), "shipped"])
    agent = Agent([get_order], provider, policies=[CompressPrompt(max_tool_chars=None)])
    result = agent.run("where is order 1001?")
    sent = provider.requests[-1].messages[-1]
    assert sent.role == "tool"
    assert json.loads(sent.content or "") == RECORD  # the same data
    assert len(sent.content or "") < len(get_order.function(1001)) / 2
    assert result.messages[-2].content == get_order.function(1001)  # the run keeps it whole
    assert result.usage.tokens_saved > 100
    assert result.usage.to_dict()["tokens_saved"] == result.usage.tokens_saved


def test_a_long_tool_result_keeps_head_and_tail_with_a_note() -> None:
    provider = ScriptedProvider([call("read_log"), "done"])
    agent = Agent([read_log], provider, policies=[CompressPrompt(max_tool_chars=1000)])
    agent.run("check the log")
    sent = provider.requests[-1].messages[-1].content or ""
    assert sent.startswith("line 0: ok\nline 1: ok")
    assert sent.endswith("line 1999: ok")
    assert "characters left out" in sent
    assert len(sent) < 1100


def test_earlier_turns_tool_results_are_elided_the_current_turns_kept() -> None:
    provider = ScriptedProvider(
        [call("get_order", order_id=1), "one shipped", call("get_order", order_id=2), "ok"]
    )
    agent = Agent([get_order], provider, policies=[CompressPrompt(dedupe=False)])
    agent.run("order 1?", session_id="s")
    result = agent.run("order 2?", session_id="s")
    sent = provider.requests[-1].messages
    results = [m.content or "" for m in sent if m.role == "tool"]
    assert results[0].startswith("[Earlier tool result left out (")
    assert json.loads(results[1])["order"] == 2  # the current turn's result, whole
    assert "one shipped" in [m.content for m in sent]  # the answer drawn from it stays
    stored = agent.memory.store.load("s")
    assert stored is not None
    assert sum(m.role == "tool" and len(m.content or "") > 1000 for m in stored.messages) == 2
    assert result.usage.tokens_saved > 0


def test_duplicates_are_sent_once() -> None:
    provider = ScriptedProvider(
        [call("get_order", order_id=7), call("get_order", order_id=7), "same"]
    )
    agent = Agent(
        [get_order],
        provider,
        system_prompt="Rules.",
        policies=[CompressPrompt(elide_over=None)],
    )
    agent.run([Message.system("Rules."), Message.user("twice?")])
    sent = provider.requests[-1].messages
    assert [m.content for m in sent if m.role == "system"] == ["Rules."]
    tools = [m for m in sent if m.role == "tool"]
    later_id = tools[1].tool_call_id
    assert tools[0].content == f"[Same result as the later call {later_id}.]"
    assert json.loads(tools[1].content or "")["order"] == 7


def test_whitespace_is_tidied_but_indentation_kept() -> None:
    text = "def f():   \n    return 1\n\n\n\n\nprint(f())  "
    compressed = CompressPrompt().compress([Message.user(text)])
    assert compressed.messages[0].content == "def f():\n    return 1\n\nprint(f())"
    assert compressed.tokens_saved >= 1
    untouched = [Message.user("plain"), Message.assistant("text")]
    assert CompressPrompt().compress(untouched).messages == tuple(untouched)


@pytest.mark.parametrize("mode", ["stream", "astream", "arun"])
def test_every_entry_point_reports_the_saving(mode: str) -> None:
    provider = ScriptedProvider([call("get_order", order_id=3), "done"])
    agent = Agent([get_order], provider, policies=[CompressPrompt()])
    if mode == "arun":
        usage = asyncio.run(agent.arun("order 3?")).usage
    elif mode == "stream":
        usage = list(agent.stream("order 3?"))[-1].result.usage  # type: ignore[attr-defined]
    else:

        async def events() -> object:
            return [e async for e in agent.astream("order 3?")][-1]

        usage = asyncio.run(events()).result.usage  # type: ignore[attr-defined]
    assert usage.tokens_saved > 100


def test_what_an_openai_server_receives(openai_server: FakeOpenAIServer) -> None:
    """Through the official SDK: the wire carries the compact result; usage says so."""
    from selectools import OpenAIProvider

    openai_server.add(
        FakeReply(tool_calls=[("get_order", {"order_id": 9})]), FakeReply(text="done")
    )
    provider = OpenAIProvider("gpt-4o-mini", base_url=openai_server.base_url, max_retries=0)
    agent = Agent([get_order], provider, policies=[CompressPrompt()])
    result = agent.run("order 9?")
    sent = openai_server.requests[1]["messages"][-1]
    assert sent["role"] == "tool"
    assert "\n" not in sent["content"]
    assert json.loads(sent["content"])["order"] == 9
    assert result.usage.tokens_saved > 100


def test_compression_with_a_memory_window_and_a_request_without_user() -> None:
    seen: list[ModelRequest] = []

    def respond(request: ModelRequest) -> str:
        seen.append(request)
        return "ok"

    agent = Agent(
        provider=ScriptedProvider(responder=respond),
        memory=ConversationMemory(max_messages=10),
        policies=[CompressPrompt()],
    )
    agent.run([Message.system("only a system message   ")])
    assert seen[0].messages[0].content == "only a system message"


def test_a_too_small_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 100"):
        CompressPrompt(max_tool_chars=10)
