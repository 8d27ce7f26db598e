"""What every framework is asked to do, identically: a scripted model that answers instantly.

The model calls `calls_per_turn` tools per turn for `turns` turns, then answers.
History runs prepend `history` user/assistant messages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

FINAL = "It is sunny."


@dataclass(frozen=True)
class Scenario:
    name: str
    turns: int = 1
    calls_per_turn: int = 1
    history: int = 0
    tool: str = "sync"  # "sync", "async" (returns at once) or "slow" (awaits 50 ms)


def history_pairs(count: int) -> list[tuple[str, str]]:
    """(role, text) pairs of an earlier conversation."""
    return [("user" if i % 2 == 0 else "assistant", f"earlier message {i}") for i in range(count)]


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


async def aget_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


async def slow_weather(city: str) -> str:
    """Weather for a city, after a 50 ms wait."""
    await asyncio.sleep(0.05)
    return f"sunny in {city}"


TOOLS = {"sync": get_weather, "async": aget_weather, "slow": slow_weather}


ONE_TOOL = Scenario("1 tool call + answer")
TEN_TURNS = Scenario("10 turns", turns=10)
HISTORY_0 = Scenario("history 0 messages")
HISTORY_100 = Scenario("history 100 messages", history=100)
PARALLEL = Scenario("8 parallel tool calls, 50 ms each", calls_per_turn=8, tool="slow")
