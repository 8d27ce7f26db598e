"""Agents in files, as a user writes them, for the CLI to load."""

from __future__ import annotations

from pathlib import Path

import pytest

AGENT_FILE = '''
from selectools import Agent, Reply, ScriptedProvider, call, tool


@tool
def get_order(order_id: int) -> dict:
    """Look up an order by its number."""
    if order_id == 13:
        raise ValueError("order 13 is cursed")
    return {"order_id": order_id, "status": "shipped"}


def answer(request):
    last = request.messages[-1]
    if last.role == "tool":
        return "Found: " + last.content
    text = last.content or ""
    if text.startswith("order "):
        return Reply(calls=(call("get_order", order_id=int(text.split()[1])),))
    if text == "history":
        said = [m.content for m in request.messages if m.role == "user"]
        return " | ".join(said)
    return "You said: " + text


agent = Agent([get_order], ScriptedProvider(responder=answer, chunk_delay=0))


def make_provider():
    return ScriptedProvider(responder=answer)


def make_agent():
    return agent


not_an_agent = 42
'''


@pytest.fixture
def agent_file(tmp_path: Path) -> Path:
    path = tmp_path / "shopagent.py"
    path.write_text(AGENT_FILE)
    return path
