"""The pytest plugin as a user meets it: a fresh pytest run in a temporary project.

The plugin comes in through the `pytest11` entry point (no conftest), records
a cassette against the fake OpenAI server with `--record`, replays it with no
server, and fails with the diff when the test's prompt changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from selectools import Agent, ScriptedProvider, call, tool
from selectools.testing import assert_tool_called, assert_tool_not_called

USER_TEST = '''
import os

from selectools import Agent, OpenAIProvider, call, tool
from selectools.testing import FakeReply, assert_tool_called


@tool
def get_order(order_id: int) -> str:
    """Look an order up."""
    if os.environ.get("ORDERS_DOWN"):
        raise RuntimeError("the order system must not be reached when replaying")
    return "shipped"


def test_scripted(scripted_provider):
    agent = Agent([get_order], scripted_provider(call("get_order", order_id=7), "Shipped."))
    assert_tool_called(agent.run("Order 7?"), "get_order", order_id=7)


def test_fake_server(fake_openai_server):
    fake_openai_server.add(FakeReply(text="Hi from the fake."))
    provider = OpenAIProvider("gpt-4o-mini", base_url=fake_openai_server.base_url, api_key="k")
    assert Agent([], provider).run("Hi").text == "Hi from the fake."
    assert fake_openai_server.requests[0]["messages"][-1]["content"] == "Hi"


def test_orders(replay_cassette):
    model = replay_cassette(
        lambda: OpenAIProvider("gpt-4o-mini", base_url=os.environ["MODEL_URL"], api_key="k")
    )
    agent = Agent([get_order], model, policies=[model.tool_policy])
    result = agent.run("PROMPT")
    assert_tool_called(result, "get_order", order_id=1001)
    assert result.text == "Order 1001 has shipped."
'''


def run_pytest(
    folder: Path, *args: str, env: dict[str, str] | None = None, autoload: bool = False
) -> str:
    """Run pytest there. Only `autoload=True` loads plugins by entry point (ours and every
    other installed one, which takes seconds); otherwise ours alone, named with -p."""
    import os

    plugins = [] if autoload else ["-p", "selectools.testing.plugin"]
    quiet = {} if autoload else {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, *args],
        cwd=folder,
        env={**os.environ, **quiet, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return f"exit={out.returncode}\n{out.stdout}{out.stderr}"


def write_test(folder: Path, prompt: str) -> None:
    (folder / "test_user.py").write_text(USER_TEST.replace("PROMPT", prompt))


def test_record_then_replay_offline_then_diff(tmp_path: Path, fake_openai_server) -> None:  # type: ignore[no-untyped-def]
    from selectools.testing import FakeReply

    write_test(tmp_path, "Where is order 1001?")
    missing = run_pytest(tmp_path, "test_user.py::test_orders")
    assert "exit=1" in missing
    assert "record it first" in missing  # no cassette and no --record: never the model

    fake_openai_server.add(
        FakeReply(tool_calls=[("get_order", {"order_id": 1001})]),
        FakeReply(text="Order 1001 has shipped."),
    )
    recorded = run_pytest(  # through the pytest11 entry point, as a user gets it
        tmp_path, "--record", env={"MODEL_URL": fake_openai_server.base_url}, autoload=True
    )
    assert "exit=0" in recorded, recorded
    assert "3 passed" in recorded
    cassette = tmp_path / "cassettes" / "test_user" / "test_orders.json"
    data = json.loads(cassette.read_text())
    assert len(data["interactions"]) == 2
    assert data["tools"][0]["result"] == "shipped"

    offline = {"MODEL_URL": "http://127.0.0.1:9/v1", "ORDERS_DOWN": "1"}  # nothing there
    replayed = run_pytest(tmp_path, "test_user.py::test_orders", env=offline)
    assert "exit=0" in replayed, replayed
    assert "1 passed" in replayed

    write_test(tmp_path, "Where is order 1002?")
    changed = run_pytest(tmp_path, "test_user.py::test_orders", env=offline)
    assert "exit=1" in changed
    assert "CassetteMismatchError" in changed
    assert '-      "content": "Where is order 1001?",' in changed
    assert '+      "content": "Where is order 1002?",' in changed


def test_assert_tool_called_says_what_the_run_did() -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    result = Agent([add], ScriptedProvider([call("add", a=1, b=2), "3"])).run("1+2")
    assert assert_tool_called(result, "add", a=1).result == 3
    assert_tool_called(result, "add")
    with pytest.raises(
        AssertionError,
        match=r"Expected a call add\(a=2\); the run made 1 tool call\(s\): add\(a=1, b=2\)",
    ):
        assert_tool_called(result, "add", a=2)
    with pytest.raises(AssertionError, match="none"):
        assert_tool_called(Agent([add], ScriptedProvider(["no"])).run("x"), "add")
    assert_tool_not_called(result, "sub")
    with pytest.raises(AssertionError, match="Expected no call to add"):
        assert_tool_not_called(result, "add")
