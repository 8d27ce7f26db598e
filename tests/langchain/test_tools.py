"""Tools both ways, with LangChain's own standard test suites on the converted tools."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langchain_core.tools import tool as lc_tool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from pydantic import BaseModel

from selectools import Agent, ScriptedProvider, Tool, call, tool
from selectools.tools.schema import clean_schema
from selectools_langchain import SelectoolsTool, from_langchain_tool, to_langchain_tool
from tests.fakes.langchain_models import ToolCallingFakeModel, ai


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers.

    Args:
        a: the first factor
        b: the second factor
    """
    return a * b


@tool
async def shout(text: str) -> str:
    """Upper-case a text, asynchronously."""
    await asyncio.sleep(0)
    return text.upper()


class LineItem(BaseModel):
    sku: str
    quantity: int


class Order(BaseModel):
    customer: str
    items: list[LineItem]


@tool
def order_total(order: Order, unit_price: float = 2.5) -> dict[str, Any]:
    """Total price of an order."""
    count = sum(item.quantity for item in order.items)
    return {"customer": order.customer, "items": count, "total": count * unit_price}


# -- LangChain's standard suites ---------------------------------------------------


class ConvertedTool:
    """What the standard suites need: a converted tool and example arguments."""

    source: Tool
    example: dict[str, Any]

    @property
    def tool_constructor(self) -> BaseTool:
        return to_langchain_tool(self.source)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return self.example


NESTED_EXAMPLE = {"order": {"customer": "Ada", "items": [{"sku": "X", "quantity": 3}]}}


class SyncTool(ConvertedTool):
    source = multiply
    example: ClassVar[dict[str, Any]] = {"a": 6, "b": 7}


class AsyncTool(ConvertedTool):
    source = shout
    example: ClassVar[dict[str, Any]] = {"text": "hi"}


class NestedTool(ConvertedTool):
    source = order_total
    example: ClassVar[dict[str, Any]] = NESTED_EXAMPLE


class TestSyncToolUnit(SyncTool, ToolsUnitTests): ...


class TestSyncToolIntegration(SyncTool, ToolsIntegrationTests): ...


class TestAsyncToolUnit(AsyncTool, ToolsUnitTests): ...


class TestAsyncToolIntegration(AsyncTool, ToolsIntegrationTests): ...


class TestNestedToolUnit(NestedTool, ToolsUnitTests): ...


class TestNestedToolIntegration(NestedTool, ToolsIntegrationTests): ...


# -- to LangChain ------------------------------------------------------------------


def test_converted_tool_has_our_schema_and_runs() -> None:
    converted = to_langchain_tool(order_total)
    assert isinstance(converted, SelectoolsTool)
    assert converted.name == "order_total"
    assert converted.description == "Total price of an order."
    assert converted.args_schema is not None
    assert clean_schema(converted.args_schema.model_json_schema()) == order_total.parameters  # type: ignore[union-attr]
    assert converted.invoke(NESTED_EXAMPLE) == '{"customer": "Ada", "items": 3, "total": 7.5}'


def test_structured_results_travel_as_artifact() -> None:
    converted = to_langchain_tool(order_total)
    assert converted.response_format == "content_and_artifact"
    message = converted.invoke(
        {"name": "order_total", "args": NESTED_EXAMPLE, "id": "c1", "type": "tool_call"}
    )
    assert isinstance(message, ToolMessage)
    assert message.artifact == {"customer": "Ada", "items": 3, "total": 7.5}
    assert to_langchain_tool(shout).response_format == "content"


async def test_async_tool_runs_natively_under_ainvoke() -> None:
    loop_thread: list[bool] = []

    @tool
    async def probe() -> str:
        """Report where it runs."""
        loop_thread.append(asyncio.get_running_loop() is not None)
        return "ok"

    assert await to_langchain_tool(probe).ainvoke({}) == "ok"
    assert loop_thread == [True]
    assert to_langchain_tool(shout).invoke({"text": "sync caller"}) == "SYNC CALLER"


def test_tool_errors_become_tool_exceptions() -> None:
    @tool
    def fragile(n: int) -> str:
        """Fails on zero."""
        if n == 0:
            raise ZeroDivisionError("n must not be zero")
        return "fine"

    strict = to_langchain_tool(fragile)
    with pytest.raises(ToolException, match="ZeroDivisionError: n must not be zero"):
        strict.invoke({"n": 0})
    lenient = to_langchain_tool(fragile, handle_tool_error=True)
    expected = "Tool 'fragile' failed with ZeroDivisionError: n must not be zero"
    assert lenient.invoke({"n": 0}) == expected


def test_langchain_loop_calls_converted_tools() -> None:
    """A LangChain-style agent loop: fake model emits tool calls, our tools answer."""
    model = ToolCallingFakeModel(
        messages=iter([ai(calls=[("multiply", {"a": 6, "b": 7})]), ai("The answer is 42.")])
    )
    tools = {t.name: t for t in [to_langchain_tool(multiply), to_langchain_tool(shout)]}
    bound = model.bind_tools(list(tools.values()))
    messages: list[Any] = [HumanMessage("6 times 7?")]
    while True:
        reply = bound.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        messages.extend(tools[c["name"]].invoke(c) for c in reply.tool_calls)
    assert messages[2].content == "42"
    assert messages[-1].content == "The answer is 42."
    assert {t["function"]["name"] for t in model.bound[0]} == {"multiply", "shout"}


# -- from LangChain ----------------------------------------------------------------


@lc_tool
def lc_add(x: int, y: int) -> int:
    """Add two numbers."""
    return x + y


class ReverseTool(BaseTool):
    name: str = "reverse"
    description: str = "Reverse a text."

    def _run(self, text: str) -> str:
        return text[::-1]

    async def _arun(self, text: str) -> str:
        return text[::-1] + " (async)"


async def _fetch(topic: str) -> str:
    return f"news about {topic}"


lc_async = StructuredTool.from_function(coroutine=_fetch, name="fetch", description="Fetch news.")


@lc_tool
def lc_fail(reason: str) -> str:
    """Always fails."""
    raise ToolException(f"cannot: {reason}")


def test_from_langchain_schema() -> None:
    converted = from_langchain_tool(lc_add)
    assert converted.name == "lc_add"
    assert converted.description == "Add two numbers."
    assert converted.parameters["properties"] == {
        "x": {"type": "integer"},
        "y": {"type": "integer"},
    }
    assert from_langchain_tool(ReverseTool()).parameters["required"] == ["text"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_our_agent_calls_converted_langchain_tools(mode: str) -> None:
    steps = [
        [
            call("lc_add", x=2, y="3"),
            call("reverse", text="abc"),
            call("fetch", topic="ai"),
            call("lc_fail", reason="x"),
            call("lc_add", x="two", y=1),
        ],
        "done",
    ]
    agent = Agent(
        [from_langchain_tool(t) for t in (lc_add, ReverseTool(), lc_async, lc_fail)],
        ScriptedProvider(steps),
    )
    # sequential sync calls use the tool's sync side; async runs use ainvoke natively
    config = {"parallel_tool_calls": mode == "async"}
    result = agent.run("go", config=config) if mode == "sync" else await agent.arun("go")
    records = result.tool_calls
    assert records[0].result == 5
    assert records[1].result == ("cba" if mode == "sync" else "cba (async)")
    assert records[2].result == "news about ai"
    assert records[3].error_type == "ToolException"
    assert "cannot: x" in (records[3].error or "")
    assert records[4].error is not None  # LangChain's own validation, reported to the model
    assert "int" in records[4].error or "integer" in records[4].error


def test_a_tool_that_needs_approval_is_refused_as_a_langchain_tool() -> None:
    """LangChain cannot pause for a person, so the write must not run unseen."""
    writes: list[int] = []

    @tool(requires_approval=True)
    def refund(order_id: int) -> str:
        """Refund an order."""
        writes.append(order_id)
        return "refunded"

    converted = to_langchain_tool(refund)
    with pytest.raises(ToolException, match="needs a person's approval"):
        converted.invoke({"order_id": 5})
    assert writes == []
