"""The debugger driven programmatically through scripted runs: continue, skip, edit, stop."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from selectools import Agent, ScriptedProvider, ToolArgumentError, call, tool
from selectools.debug import (
    Continue,
    Debugger,
    DebugStopped,
    Decision,
    Edit,
    ModelStep,
    Skip,
    Step,
    Stop,
    ToolStep,
)
from selectools.testing import assert_tool_called

SENT: list[str] = []


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    SENT.append(f"{to}: {subject}")
    return f"sent to {to}"


@tool
def lookup(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


class Script:
    """A handler that answers from a list and keeps what it saw."""

    def __init__(self, decisions: Iterable[Decision]) -> None:
        self.decisions = list(decisions)
        self.seen: list[Step] = []

    def __call__(self, step: Step) -> Decision:
        self.seen.append(step)
        return self.decisions.pop(0)


def agent(*steps: object) -> Agent:
    return Agent([send_email, lookup], ScriptedProvider(list(steps)))


def test_pauses_before_each_model_and_tool_call_in_order() -> None:
    handler = Script([Continue()] * 3)
    result = agent(call("lookup", city="Kyiv"), "Sunny.").debug("Weather?", handler=handler)
    assert result.text == "Sunny."
    kinds = [(s.kind, s.index) for s in handler.seen]
    assert kinds == [("model", 1), ("tool", 1), ("model", 2)]
    first, tool_step, second = handler.seen
    assert isinstance(first, ModelStep)
    assert first.request.messages[-1].content == "Weather?"
    assert isinstance(tool_step, ToolStep)
    assert (tool_step.name, dict(tool_step.arguments)) == ("lookup", {"city": "Kyiv"})
    assert isinstance(second, ModelStep)
    assert second.request.messages[-1].content == "sunny in Kyiv"  # the tool really ran
    assert "lookup" in first.describe()


def test_skip_supplies_the_result_and_the_tool_never_runs() -> None:
    SENT.clear()
    handler = Script([Continue(), Skip("pretend it was sent"), Continue()])
    bot = agent(call("send_email", to="ceo@example.com", subject="hi"), "Done.")
    result = bot.debug("Mail the CEO", handler=handler)
    assert SENT == []
    record = assert_tool_called(result, "send_email", to="ceo@example.com")
    assert record.output == "pretend it was sent"
    last = handler.seen[-1]
    assert isinstance(last, ModelStep)
    assert last.request.messages[-1].content == "pretend it was sent"


def test_skip_with_an_error_is_a_tool_error_the_model_reads() -> None:
    handler = Script([Continue(), Skip(error="not today"), Continue()])
    result = agent(call("send_email", to="a@b.c", subject="x"), "ok").debug("go", handler=handler)
    (record,) = result.tool_calls
    assert record.error == "not today"
    assert record.error_type == "skipped"


def test_edit_changes_the_arguments_the_tool_receives() -> None:
    SENT.clear()
    handler = Script([Continue(), Edit({"to": "team@example.com", "subject": "hi"}), Continue()])
    bot = agent(call("send_email", to="everyone@example.com", subject="hi"), "Sent.")
    result = bot.debug("Mail everyone", handler=handler)
    assert SENT == ["team@example.com: hi"]
    assert_tool_called(result, "send_email", to="team@example.com")


def test_edited_arguments_are_validated() -> None:
    handler = Script([Continue(), Edit({"city": 5, "extra": True})])
    with pytest.raises(ToolArgumentError, match="edited arguments are not valid"):
        agent(call("lookup", city="Kyiv"), "x").debug("go", handler=handler)


def test_stop_before_a_tool_ends_the_run_without_calling_it() -> None:
    SENT.clear()
    handler = Script([Continue(), Stop("looks wrong")])
    bot = agent(call("send_email", to="all@example.com", subject="x"), "never")
    with pytest.raises(DebugStopped, match="before tool call 1 \\(send_email\\): looks wrong"):
        bot.debug("go", handler=handler)
    assert SENT == []


def test_stop_before_the_model_never_asks_it() -> None:
    provider = ScriptedProvider(["never"])
    with pytest.raises(DebugStopped, match="before model call 1"):
        Agent([], provider).debug("go", handler=Script([Stop()]))
    assert provider.remaining == 1


def test_dry_run_plans_tool_calls_without_running_any() -> None:
    SENT.clear()
    bot = agent(
        [call("send_email", to="a@example.com", subject="one"), call("lookup", city="Oslo")],
        "Planned.",
    )
    debugger = Debugger(Script([Continue(), Continue()]), dry_run=True)
    result = Agent([send_email, lookup], bot.provider, policies=[debugger]).run("Do both")
    assert SENT == []
    assert debugger.planned == [
        ("send_email", {"to": "a@example.com", "subject": "one"}),
        ("lookup", {"city": "Oslo"}),
    ]
    assert result.tool_calls[0].output.startswith("[dry run] send_email(")
    assert result.text == "Planned."
    dry = agent(call("send_email", to="b@example.com", subject="two"), "ok")
    assert (
        "[dry run]"
        in dry.debug("x", handler=Script([Continue()] * 2), dry_run=True).tool_calls[0].output
    )
    assert SENT == []


def test_the_debugged_agent_is_left_as_it_was() -> None:
    bot = agent(call("lookup", city="Kyiv"), "Sunny.", call("lookup", city="Rome"), "Sunny too.")
    bot.debug("first", handler=Script([Continue()] * 3))
    assert bot.policies == ()
    result = bot.run("second")  # no handler asked: it would fail on an empty script
    assert result.text == "Sunny too."


async def test_async_handler_from_a_notebook_style_caller() -> None:
    seen: list[str] = []

    async def handler(step: Step) -> Decision:
        seen.append(step.kind)
        return Edit({"city": "Lviv"}) if step.kind == "tool" else Continue()

    debugger = Debugger(handler)
    bot = Agent(
        [lookup], ScriptedProvider([call("lookup", city="Kyiv"), "ok"]), policies=[debugger]
    )
    result = await bot.arun("go")
    assert seen == ["model", "tool", "model"]
    assert result.tool_calls[0].output == "sunny in Lviv"
    assert [type(d).__name__ for _, d in debugger.history] == ["Continue", "Edit", "Continue"]
