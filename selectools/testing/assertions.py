"""Assertions on what a run did, with messages that list what it did instead."""

from __future__ import annotations

from typing import Any

from ..results import AgentResult, ToolCallRecord

__all__ = ["assert_tool_called", "assert_tool_not_called"]


def assert_tool_called(result: AgentResult, name: str, /, **arguments: Any) -> ToolCallRecord:
    """The run called `name` with at least these arguments; returns that call's record.

    Arguments not given are not checked; given ones must equal the validated
    arguments the tool received.
    """
    calls = [record for record in result.tool_calls if record.name == name]
    for record in calls:
        received = dict(record.arguments or {})
        if all(key in received and received[key] == value for key, value in arguments.items()):
            return record
    made = [f"{r.name}({_args(dict(r.arguments or {}))})" for r in result.tool_calls]
    wanted = f"{name}({_args(arguments)})"
    raise AssertionError(
        f"Expected a call {wanted}; the run made {len(made)} tool call(s): "
        f"{', '.join(made) or 'none'}."
    )


def assert_tool_not_called(result: AgentResult, name: str) -> None:
    calls = [record for record in result.tool_calls if record.name == name]
    if calls:
        raise AssertionError(
            f"Expected no call to {name}; the run made {len(calls)}: "
            + ", ".join(f"{name}({_args(dict(r.arguments or {}))})" for r in calls)
        )


def _args(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())
