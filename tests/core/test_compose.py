"""compose(): one tool from a pipeline, checked when it is built, run as one call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Literal, TypedDict

import pytest
from pydantic import BaseModel

from selectools import Agent, RunContext, ScriptedProvider, ToolDefinitionError, call, tool
from selectools.tools.compose import ComposedTool, compose, step


class Place(BaseModel):
    lat: float
    lon: float


@tool
def geocode(city: str) -> Place:
    """Find a city's coordinates."""
    return {"Paris": Place(lat=48.86, lon=2.35)}.get(city, Place(lat=0, lon=0))


@tool
def forecast(lat: float, lon: float, days: int = 1) -> str:
    """Forecast at coordinates."""
    return f"sunny at {lat:.2f},{lon:.2f} for {days} day(s)"


@tool
async def shout(text: str) -> str:
    """Upper-case a text."""
    await asyncio.sleep(0)
    return text.upper()


@dataclass
class Contact:
    name: str
    email: str


@tool
def find_contact(name: str) -> Contact:
    """Find a contact."""
    return Contact(name=name, email=f"{name.lower()}@example.com")


@tool(writes=True)
def send_mail(to: str, subject: str) -> str:
    """Send an email."""
    return f"sent '{subject}' to {to}"


def test_record_fields_feed_parameters_and_the_schema_is_the_first_steps() -> None:
    weather = compose(geocode, forecast, description="Weather for a city.")
    assert isinstance(weather, ComposedTool)
    assert weather.name == "geocode_then_forecast"
    assert weather.parameters == geocode.parameters
    assert weather(city="Paris") == "sunny at 48.86,2.35 for 1 day(s)"


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_a_composed_tool_runs_in_an_agent_sync_and_async_steps_alike(mode: str) -> None:
    loud = compose(geocode, forecast, shout, name="loud_weather")
    agent = Agent([loud], ScriptedProvider([call("loud_weather", city="Paris"), "ok"]))
    result = agent.run("go") if mode == "run" else await agent.arun("go")
    assert result.tool_calls[0].output == "SUNNY AT 48.86,2.35 FOR 1 DAY(S)"


def test_into_fields_and_fixed_map_names_that_differ() -> None:
    mail = compose(
        find_contact, step(send_mail, fields={"email": "to"}, fixed={"subject": "Hello"})
    )
    assert mail(name="Ada") == "sent 'Hello' to ada@example.com"
    assert mail.writes  # a write anywhere marks the whole pipeline

    @tool
    def summarize(text: str, limit: int = 10) -> str:
        """Shorten a text."""
        return text[:limit]

    @tool
    def translate(source: str, target: Literal["fr", "de"]) -> str:
        """Translate (pretend)."""
        return f"[{target}] {source}"

    pipeline = compose(summarize, step(translate, into="source", fixed={"target": "fr"}))
    assert pipeline(text="A very long text indeed") == "[fr] A very lon"


def test_the_decorator_form_makes_the_function_the_last_step() -> None:
    @compose(geocode, forecast)
    def weather_report(text: str) -> str:
        """Weather for a city, as a report."""
        return f"Report: {text}"

    assert weather_report.name == "weather_report"
    assert weather_report.description == "Weather for a city, as a report."
    assert weather_report(city="Paris").startswith("Report: sunny")

    @compose(geocode)
    def where(lat: float, lon: float) -> str:
        """Coordinates of a city."""
        return f"{lat},{lon}"

    assert where(city="Paris") == "48.86,2.35"


class Totals(TypedDict):
    count: int
    total: float


def test_typed_dicts_and_generator_steps() -> None:
    @tool
    def totals(orders: list[float]) -> Totals:
        """Sum orders."""
        return {"count": len(orders), "total": sum(orders)}

    @tool
    def average(count: int, total: float) -> float:
        """Average."""
        return total / count

    @tool
    def words(text: str) -> Iterator[str]:
        """Stream words."""
        yield from text.split()

    @tool
    async def letters(text: str) -> AsyncIterator[str]:
        """Stream letters."""
        for ch in text:
            yield ch

    @tool
    def count_chars(text: str) -> int:
        """Count characters."""
        return len(text)

    assert compose(totals, average)(orders=[1.0, 2.0, 6.0]) == 3.0
    assert compose(words, count_chars)(text="a bb ccc") == 6  # joined chunks: "abbccc"
    assert compose(letters, count_chars)(text="abcd") == 4


def test_steps_get_the_run_context() -> None:
    seen: list[str | None] = []

    @tool
    def who(ctx: RunContext, prefix: str) -> str:
        """Who is asking."""
        seen.append(ctx.identity)
        return f"{prefix}{ctx.identity}"

    @tool
    def echo(text: str) -> str:
        """Echo."""
        return text

    agent = Agent(
        [compose(who, echo, name="whoami")], ScriptedProvider([call("whoami", prefix="@"), "ok"])
    )
    result = agent.run("go", identity="ada")
    assert result.tool_calls[0].output == "@ada"
    assert seen == ["ada"]


def test_bad_arguments_go_back_to_the_model_as_for_any_tool() -> None:
    weather = compose(geocode, forecast)
    agent = Agent([weather], ScriptedProvider([call("geocode_then_forecast", town="x"), "ok"]))
    [record] = agent.run("go").tool_calls
    assert record.error_type == "invalid_arguments"


def test_a_step_that_fails_is_a_tool_error() -> None:
    @tool
    def explode(text: str) -> str:
        """Fails."""
        raise ValueError("no such place")

    agent = Agent(
        [compose(geocode, forecast, explode, name="w")],
        ScriptedProvider([call("w", city="Paris"), "ok"]),
    )
    [record] = agent.run("go").tool_calls
    assert record.error_type == "ValueError"
    assert "no such place" in (record.error or "")


@tool
def count_words(text: str) -> int:
    """Count words."""
    return len(text.split())


@tool
def no_return_type(text: str):  # type: ignore[no-untyped-def]
    """No return annotation."""
    return text


@tool
def two_required(a: str, b: str) -> str:
    """Needs two."""
    return a + b


@tool
def wants_mode(mode: Literal["fast", "slow"]) -> str:
    """Literal input."""
    return mode


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: compose(count_words, shout), "the output is int, but parameter 'text' takes str"),
        (lambda: compose(no_return_type, shout), "'no_return_type' has no return type"),
        (lambda: compose(shout, two_required), "cannot tell where the output goes"),
        (lambda: compose(shout, step(two_required, into="a")), "b are not fed"),
        (lambda: compose(shout, step(two_required, into="c")), "into='c' is not a parameter"),
        (lambda: compose(shout, wants_mode), "takes Literal['fast', 'slow']"),
        (lambda: compose(geocode, step(forecast, fields={"x": "lat"})), "does not have"),
        (lambda: compose(shout, step(shout, fixed={"nope": 1})), "'fixed' names 'nope'"),
        (lambda: compose(step(shout, into="text"), shout), "first step 'shout'"),
        (lambda: compose(find_contact, send_mail), "cannot tell where the output goes"),
    ],
)
def test_pipelines_that_do_not_line_up_are_refused_at_definition(build, fragment) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolDefinitionError) as caught:
        build()
    assert fragment in str(caught.value)


def test_compatible_types_are_accepted() -> None:
    @tool
    def maybe(text: str) -> str | None:
        """Maybe a text."""
        return text or None

    @tool
    def takes_optional(text: str | None) -> str:
        """Accepts None."""
        return text or "(none)"

    @tool
    def ints(n: int) -> list[int]:
        """A list of ints."""
        return list(range(n))

    @tool
    def floats(values: list[float]) -> float:
        """Sum floats."""
        return sum(values)

    assert compose(maybe, takes_optional)(text="") == "(none)"
    assert compose(ints, floats)(n=4) == 6.0
    with pytest.raises(ToolDefinitionError, match="takes str"):
        compose(maybe, shout)  # None does not fit str


# -- a step keeps the guarantees that protect the host -----------------------------


@tool
def process_of(value: int) -> int:
    """Pass a process id along."""
    return value


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_a_sandboxed_step_runs_in_its_sandbox(mode: str) -> None:
    import os

    from tests.fakes import sandboxed_tools as boxed

    where = compose(boxed.pid, process_of, name="where")
    agent = Agent([where], ScriptedProvider([call("where"), "ok"]))
    result = agent.run("go") if mode == "run" else await agent.arun("go")
    [record] = result.tool_calls
    assert record.ok, record.error
    assert record.result != os.getpid()


def test_a_step_that_needs_approval_makes_the_pipeline_wait_for_it() -> None:
    refunded: list[float] = []

    @tool(requires_approval=True, writes=True)
    def refund(lat: float, lon: float) -> str:
        """Refund the customer at these coordinates."""
        refunded.append(lat)
        return "refunded"

    pipeline = compose(geocode, refund, name="locate_and_refund")
    assert pipeline.requires_approval
    agent = Agent([pipeline], ScriptedProvider([call("locate_and_refund", city="Paris"), "ok"]))
    paused = agent.run("refund the Paris customer")
    assert paused.status == "awaiting_approval"
    assert refunded == []
