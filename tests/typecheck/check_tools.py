"""What type checkers know about tools: checked by `mypy` (listed in pyproject's mypy files).

Not a pytest module, and nothing here runs: the checks sit in functions that
are never called. Each `assert_type` fails mypy if `@tool` stops keeping a
function's types, and each `type: ignore[...]` marks a call that must stay an
error (mypy's warn_unused_ignores reports the ignore once the error is gone).
`reveal_type(get_order)` shows what an IDE sees:
`Tool[[order_id: int, expand: bool =], dict[str, str]]`.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, assert_type

from selectools_sql import SQLToolkit

from selectools import Agent, RunContext, ScriptedProvider, Tool, tool
from selectools.tools import Toolkit, ToolSet, method_tool


@tool
def get_order(order_id: int, expand: bool = False) -> dict[str, str]:
    """Look up an order."""
    return {"id": str(order_id), "expanded": str(expand)}


@tool(name="weather", timeout=5.0)
async def aweather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


@tool
def whoami(context: RunContext) -> str | None:
    """Who is asking."""
    return context.identity


def plain(text: str) -> int:
    """Count characters."""
    return len(text)


class Shop:
    def find(self, sku: str, limit: int = 10) -> list[str]:
        """Find products."""
        return [sku] * limit


def the_decorator_keeps_parameters_and_return_type() -> None:
    assert_type(get_order(1), dict[str, str])
    assert_type(get_order(order_id=1, expand=True), dict[str, str])
    get_order("1")  # type: ignore[arg-type]
    get_order(1, unknown=True)  # type: ignore[call-arg]
    get_order()  # type: ignore[call-arg]
    assert_type(whoami(RunContext()), str | None)


async def an_async_tool_returns_its_coroutine_like_the_function() -> None:
    result = await assert_type(aweather("Paris"), Coroutine[Any, Any, str])
    assert_type(result, str)
    await aweather(city=3)  # type: ignore[arg-type]


def the_call_form_types_like_the_bare_decorator() -> None:
    made = tool(plain)
    assert_type(made("abc"), int)
    made(3)  # type: ignore[arg-type]
    assert_type(tool(name="count", writes=True)(plain)("abc"), int)
    named = tool(plain, name="count", timeout=2.0)  # options beside the function, one call
    assert_type(named("abc"), int)
    named(3)  # type: ignore[arg-type]


def a_method_tool_keeps_its_types_without_self() -> None:
    found = method_tool(Shop().find, prefix="shop_")
    assert_type(found("sku-1"), list[str])
    assert_type(found("sku-1", limit=3), list[str])
    found(limit=3)  # type: ignore[call-arg]


def a_bare_tool_is_any_tool() -> None:
    tools: list[Tool] = [get_order, aweather, whoami, tool(plain)]
    assert_type(tools[0], Tool[..., Any])
    assert_type(ToolSet(tools)["get_order"], Tool[..., Any])
    agent = Agent([get_order, aweather, plain], ScriptedProvider(["done"]))
    assert_type(agent.tools.add(tool(name="count")(plain)), Tool[..., Any])


def the_metadata_is_typed() -> None:
    assert_type(get_order.name, str)
    assert_type(get_order.writes, bool)
    assert_type(get_order.timeout, float | None)
    assert_type(get_order.schema(), dict[str, Any])


def a_toolkit_in_a_with_block_keeps_its_own_type() -> None:
    with SQLToolkit("sqlite://") as db:
        assert_type(db, SQLToolkit)
        assert_type(db.tools(), list[Tool])
        db.describe_tables(("orders", "customers"))  # any sequence, as the model's JSON array
    kit: Toolkit = SQLToolkit("sqlite://")
    with kit as any_kit:
        assert_type(any_kit, Toolkit)
