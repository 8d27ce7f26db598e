"""A run nobody watches builds no per-step events; a watched or streamed one misses none.

`agent.run()` reads only the end of a run, so with no observers the loop
skips RunStarted / ToolCallStarted / ToolCallFinished; streams and observers
must still see every one, in order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from selectools import Agent, AgentConfig, ScriptedProvider, call, tool
from selectools.events import (
    ModelCallFinished,
    ModelCallStarted,
    RunFinished,
    RunStarted,
    ToolCallFinished,
    ToolCallStarted,
)
from selectools.loop import Run, RunSetup, drive, drive_async
from selectools.memory import ConversationMemory
from selectools.observers import ObserverHub
from selectools.tools import ToolSet
from selectools.usage import UsageTotals


@tool
def lookup(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def script() -> ScriptedProvider:
    return ScriptedProvider([call("lookup", city="Paris"), "Sunny."])


def a_run(observers: tuple[object, ...] = ()) -> Run:
    setup = RunSetup(
        script(),
        ToolSet([lookup]).snapshot(),
        None,
        ConversationMemory(),
        ObserverHub(observers),
        (),
        UsageTotals(),
    )
    return Run(
        setup, "Weather?", session_id=None, identity=None, metadata=None, config=AgentConfig()
    )


class Hooks:
    def __init__(self) -> None:
        self.heard: list[str] = []

    def __getattr__(self, hook: str) -> Any:
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        return lambda event: self.heard.append(hook)


def test_a_quiet_run_nobody_watches_yields_only_its_end() -> None:
    events = list(drive(a_run(), stream_model=False, quiet=True))
    assert [type(e) for e in events] == [RunFinished]
    result = events[0].result
    assert result.text == "Sunny."
    assert [r.output for r in result.tool_calls] == ["sunny in Paris"]
    assert [m.role for m in result.messages] == ["user", "assistant", "tool", "assistant"]


def test_a_quiet_async_run_nobody_watches_yields_only_its_end() -> None:
    async def collect() -> list[object]:
        return [e async for e in drive_async(a_run(), stream_model=False, quiet=True)]

    events = asyncio.run(collect())
    assert [type(e) for e in events] == [RunFinished]


def test_a_quiet_run_with_an_observer_still_tells_it_everything() -> None:
    hooks = Hooks()
    events = list(drive(a_run((hooks,)), stream_model=False, quiet=True))
    assert [type(e) for e in events] == [
        RunStarted,
        ToolCallStarted,
        ToolCallFinished,
        RunFinished,
    ]
    assert hooks.heard == [
        "on_run_start",
        "on_llm_start",
        "on_llm_end",
        "on_tool_start",
        "on_tool_end",
        "on_llm_start",
        "on_llm_end",
        "on_run_end",
    ]


def test_a_stream_still_yields_every_step() -> None:
    agent = Agent([lookup], script())
    kinds = [type(e) for e in agent.stream("Weather?")]
    assert kinds[0] is RunStarted
    assert kinds[-1] is RunFinished
    assert ToolCallStarted in kinds
    assert ToolCallFinished in kinds
    assert ModelCallStarted not in kinds
    assert ModelCallFinished not in kinds


def test_agent_run_gives_observers_the_same_hooks_as_before() -> None:
    hooks = Hooks()
    agent = Agent([lookup], script(), observers=[hooks])
    assert agent.run("Weather?").text == "Sunny."
    assert hooks.heard.count("on_tool_start") == 1
    assert hooks.heard[0] == "on_run_start"
    assert hooks.heard[-1] == "on_run_end"
