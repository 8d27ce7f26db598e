"""What type checkers know about events and debug steps: checked by `mypy`, never run.

Each event's `type` and each step's `kind` is a literal, so comparing it
narrows the union the way `isinstance` does.
"""

from __future__ import annotations

from typing import assert_type

from selectools import Agent
from selectools.debug import Continue, Decision, Skip, Step, ToolStep
from selectools.events import Event, RunFinished, TextDelta


def the_type_field_narrows_an_event(event: Event) -> None:
    if event.type == "text_delta":
        assert_type(event, TextDelta)
        assert_type(event.text, str)
    elif event.type == "run_finished":
        assert_type(event, RunFinished)


def a_stream_is_read_by_type(agent: Agent) -> str:
    text = ""
    for event in agent.stream("?"):
        if event.type == "text_delta":
            text += event.text
    return text


def the_kind_field_narrows_a_step(step: Step) -> Decision:
    if step.kind == "tool":
        assert_type(step, ToolStep)
        if step.arguments.get("force"):
            return Skip("not with force")
    return Continue()
