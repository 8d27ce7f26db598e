"""A sync run that hits its run timeout mid model call returns at the deadline.

Regression: the bridge waited its whole cancel grace (5 s) for the cancelled call,
because a cancelled concurrent future does not wake `wait()` until it is notified.
"""

from __future__ import annotations

import time

import pytest

from selectools import Agent, AgentConfig, RunTimeoutError, ScriptedProvider


def test_a_sync_run_stops_at_its_deadline_not_after_the_cancel_grace() -> None:
    agent = Agent(
        provider=ScriptedProvider(["ok"], latency=5.0), config=AgentConfig(run_timeout=0.3)
    )
    started = time.monotonic()
    with pytest.raises(RunTimeoutError):
        agent.run("hi")
    assert time.monotonic() - started < 2.0
