"""Tools both ways: a selectools Tool as a LangChain BaseTool, and any LangChain tool as ours."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import ConfigDict

from selectools import Tool
from selectools.results import ToolCallRecord
from selectools.tools import acall_tool, call_tool
from selectools.tools.schema import clean_schema

__all__ = ["SelectoolsTool", "from_langchain_tool", "to_langchain_tool", "to_langchain_tools"]


class SelectoolsTool(BaseTool):
    """A selectools Tool speaking LangChain's BaseTool interface.

    Each call keeps the guarantees it has in an agent run (validation, the
    tool's policies, timeout, sandbox); a tool needing approval is refused.
    Errors are raised as ToolException, so `handle_tool_error` works; async
    tools run natively under `ainvoke`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    selectools_tool: Any  # a selectools Tool (a dataclass pydantic must not re-model)

    @property
    def wrapped(self) -> Tool:
        tool: Tool = self.selectools_tool
        return tool

    def _result(self, record: ToolCallRecord) -> Any:
        if not record.ok:
            raise ToolException(record.error)
        text = record.output
        if self.response_format == "content_and_artifact":
            return (text, record.result)
        return text

    def _run(self, *args: Any, run_manager: Any = None, **kwargs: Any) -> Any:
        # Through the core's calling path: validation, the tool's policies, timeout and sandbox.
        return self._result(call_tool(self.wrapped, kwargs))

    async def _arun(self, *args: Any, run_manager: Any = None, **kwargs: Any) -> Any:
        return self._result(await acall_tool(self.wrapped, kwargs))


def to_langchain_tool(tool: Tool, **kwargs: Any) -> SelectoolsTool:
    """Our tool as a LangChain BaseTool; extra kwargs (e.g. handle_tool_error) pass through."""
    schema: Any = dict(tool.parameters)
    if tool.args_model is not None and clean_schema(tool.args_model.model_json_schema()) == schema:
        schema = tool.args_model  # the model validates on LangChain's side too
    # else: the toolkit narrowed the schema (enums, hidden fields): keep exactly what we show
    kwargs.setdefault("response_format", _response_format(tool))
    return SelectoolsTool(
        name=tool.name,
        description=tool.description,
        args_schema=schema,
        selectools_tool=tool,
        **kwargs,
    )


def to_langchain_tools(tools: Iterable[Tool], **kwargs: Any) -> list[SelectoolsTool]:
    return [to_langchain_tool(t, **kwargs) for t in tools]


def from_langchain_tool(base_tool: BaseTool) -> Tool:
    """Any LangChain tool (StructuredTool, @tool, BaseTool subclasses) as a selectools Tool.

    LangChain validates the arguments against its own schema; a failure is
    reported to the model like any tool error.
    """
    schema = base_tool.tool_call_schema
    if isinstance(schema, dict):
        raw = schema
    elif hasattr(schema, "model_json_schema"):
        raw = schema.model_json_schema()
    else:  # a pydantic.v1 model, as some community tools still have
        raw = schema.schema()
    parameters = clean_schema(dict(raw))

    def call(**arguments: Any) -> Any:
        return base_tool.invoke(arguments)

    async def acall(**arguments: Any) -> Any:
        return await base_tool.ainvoke(arguments)

    async_only = isinstance(base_tool, StructuredTool) and base_tool.func is None
    return Tool(
        name=base_tool.name,
        description=base_tool.description or base_tool.name,
        parameters=parameters,
        function=acall if async_only else call,  # a coroutine-only tool cannot run sync
        afunction=acall,
    )


def _response_format(tool: Tool) -> str:
    """Structured returns also travel as the artifact; plain text stays plain content."""
    try:
        hints = typing.get_type_hints(tool.function)
    except Exception:
        return "content"
    returned = hints.get("return", inspect.Signature.empty)
    return (
        "content"
        if returned in (str, inspect.Signature.empty, type(None))
        else "content_and_artifact"
    )
