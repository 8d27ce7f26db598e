"""An agent for real-server tests: its tools block on events the test controls.

`gated` waits for `signals.gate` (set by the test when it sees an event arrive,
which proves streaming is incremental); `forever` never returns and records its
cancellation. The prompt is the name of the tool to call.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from selectools import Agent, Observer, ScriptedProvider, Tool, call, tool


@dataclass
class Signals:
    gate: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


class _FinishRecorder(Observer):
    def __init__(self, signals: Signals) -> None:
        self.signals = signals

    def on_run_end(self, event: Any) -> None:
        self.signals.finished.set()


def _tools(signals: Signals) -> list[Tool]:
    @tool
    async def gated() -> str:
        """Waits until the test opens the gate."""
        opened = await asyncio.to_thread(signals.gate.wait, 10)
        return "opened" if opened else "timed out: events were not streamed incrementally"

    @tool
    async def forever() -> str:
        """Never finishes on its own."""
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            signals.cancelled.set()
            raise
        return "unreachable"

    return [gated, forever]


def live_agent(signals: Signals) -> Agent:
    def respond(request: Any) -> Any:
        last = request.messages[-1]
        if last.role == "tool":
            return f"tool said: {last.content}"
        return [call(last.content or "")]

    return Agent(
        _tools(signals),
        ScriptedProvider(responder=respond),
        observers=[_FinishRecorder(signals)],
    )
