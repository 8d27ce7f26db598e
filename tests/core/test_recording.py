"""Record against the fake OpenAI server, replay offline; a changed request fails with a diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selectools import Agent, OpenAIProvider, tool
from selectools.providers import CassetteMismatchError, RecordingProvider, ReplayProvider
from selectools.testing import FakeOpenAIServer, FakeReply

CALLS: list[str] = []


@tool
def get_order(order_id: int) -> dict[str, object]:
    """Look an order up in the shop's database."""
    CALLS.append(f"get_order {order_id}")
    return {"order_id": order_id, "status": "shipped"}


@tool
def cancel_order(order_id: int) -> str:
    """Cancel an order."""
    CALLS.append(f"cancel_order {order_id}")
    raise PermissionError("orders that shipped cannot be cancelled")


def record(server: FakeOpenAIServer, path: Path, prompt: str = "Where is order 1001?") -> str:
    server.add(
        FakeReply(tool_calls=[("get_order", {"order_id": 1001})]),
        FakeReply(tool_calls=[("cancel_order", {"order_id": 1001})]),
        FakeReply(text="Order 1001 has shipped and can no longer be cancelled."),
    )
    provider = OpenAIProvider("gpt-4o-mini", base_url=server.base_url, api_key="sk-test")
    recorder = RecordingProvider(provider, path)
    agent = Agent([get_order, cancel_order], recorder, policies=[recorder.tool_policy])
    return agent.run(prompt).text


def replaying(path: Path) -> Agent:
    replay = ReplayProvider(path)
    return Agent([get_order, cancel_order], replay, policies=[replay.tool_policy])


def test_replay_runs_offline_with_recorded_tool_results(tmp_path: Path) -> None:
    cassette = tmp_path / "orders.json"
    server = FakeOpenAIServer().start()
    try:
        recorded = record(server, cassette)
    finally:
        server.stop()  # nothing listens any more: replay must not need the model
    assert CALLS[-2:] == ["get_order 1001", "cancel_order 1001"]
    CALLS.clear()
    data = json.loads(cassette.read_text())
    assert len(data["interactions"]) == 3
    assert [t["name"] for t in data["tools"]] == ["get_order", "cancel_order"]

    result = replaying(cassette).run("Where is order 1001?")
    assert result.text == recorded
    assert CALLS == []  # tools were not called: their recorded results stood in
    first, second = result.tool_calls
    assert first.output == '{"order_id": 1001, "status": "shipped"}'
    assert second.error_type == "PermissionError"
    assert "cannot be cancelled" in (second.error or "")
    assert result.usage.input_tokens > 0
    assert result.model == "gpt-4o-mini"


async def test_replay_async_and_streamed(
    tmp_path: Path, fake_openai_server: FakeOpenAIServer
) -> None:
    cassette = tmp_path / "orders.json"
    recorded = record(fake_openai_server, cassette)
    assert (await replaying(cassette).arun("Where is order 1001?")).text == recorded
    events = [e async for e in replaying(cassette).astream("Where is order 1001?")]
    deltas = "".join(e.text for e in events if e.type == "text_delta")
    assert deltas == recorded
    assert events[-1].type == "run_finished"


def test_a_changed_prompt_fails_with_a_readable_diff(
    tmp_path: Path, fake_openai_server: FakeOpenAIServer
) -> None:
    cassette = tmp_path / "orders.json"
    record(fake_openai_server, cassette)
    with pytest.raises(CassetteMismatchError) as failure:
        replaying(cassette).run("Where is order 1002?")
    message = str(failure.value)
    assert "Model call 1 differs" in message
    assert '-      "content": "Where is order 1001?",' in message
    assert '+      "content": "Where is order 1002?",' in message
    assert "Re-record" in message
    assert failure.value.http_status == 502  # served: a provider failure, not a bare 500


def test_changed_tools_and_extra_calls_fail(
    tmp_path: Path, fake_openai_server: FakeOpenAIServer
) -> None:
    cassette = tmp_path / "orders.json"
    record(fake_openai_server, cassette)
    replay = ReplayProvider(cassette)
    fewer_tools = Agent([get_order], replay, policies=[replay.tool_policy])
    with pytest.raises(CassetteMismatchError, match=r'-\s+"name": "cancel_order"'):
        fewer_tools.run("Where is order 1001?")

    agent = replaying(cassette)
    agent.run("Where is order 1001?")
    with pytest.raises(CassetteMismatchError, match="recorded only 3"):
        agent.run("Where is order 1001?")


def test_missing_cassette_says_how_to_record(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="record it first"):
        ReplayProvider(tmp_path / "none.json")
