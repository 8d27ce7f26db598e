"""The example shop agent replayed from a committed cassette: no model server, no tools run.

Recorded once with `pytest --record tests/testing/test_example_replay.py`
against the fake OpenAI server (the real SDK in the path); since then every
run replays `cassettes/test_example_replay/<test>.json`, and a change to the
prompt, the system prompt or a tool's schema fails with the diff.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from selectools import Agent, OpenAIProvider
from selectools.testing import FakeOpenAIServer, FakeReply, assert_tool_called

EXAMPLES = Path(__file__).parents[2] / "examples"
SQL = "SELECT id, customer, status, total_eur FROM orders WHERE id = 1002"


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("SELECTOOLS_DEMO_DIR", str(tmp_path / "shop"))
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import demo_shop

    return importlib.reload(demo_shop)  # this test's data directory


def test_demo_shop_replays_offline(
    shop: Any,
    fake_openai_server: FakeOpenAIServer,
    replay_cassette: Callable[..., Any],
    request: pytest.FixtureRequest,
) -> None:
    recording = request.config.getoption("--record")
    fake_openai_server.add(  # only asked while recording
        FakeReply(tool_calls=[("run_query", {"sql": SQL})]),
        FakeReply(text="Order 1002 for Alan Turing is still processing (48.00 EUR)."),
    )
    model = replay_cassette(
        lambda: OpenAIProvider("gpt-4o-mini", base_url=fake_openai_server.base_url, api_key="k")
    )
    demo = shop.build_agent()  # the example's tools, prompt and memory; our model
    agent = Agent(
        list(demo.tools.snapshot().tools.values()),
        model,
        system_prompt=demo.system_prompt,
        memory=demo.memory,
        policies=[model.tool_policy],
    )
    result = agent.run("Where is order 1002?")

    assert result.text == "Order 1002 for Alan Turing is still processing (48.00 EUR)."
    record = assert_tool_called(result, "run_query", sql=SQL)
    assert "Alan Turing" in record.output
    if not recording:
        assert fake_openai_server.count == 0  # replayed: the model server was never asked
