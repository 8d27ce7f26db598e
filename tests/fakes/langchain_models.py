"""A LangChain fake chat model that emits (and streams) native tool calls."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field


def ai(text: str = "", calls: Sequence[tuple[str, dict[str, Any]]] = ()) -> AIMessage:
    return AIMessage(
        content=text,
        tool_calls=[
            {"name": name, "args": args, "id": f"lc_{i}", "type": "tool_call"}
            for i, (name, args) in enumerate(calls)
        ],
        usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
    )


class ToolCallingFakeModel(GenericFakeChatModel):
    """GenericFakeChatModel plus `bind_tools`, and tool calls in its stream."""

    bound: list[list[dict[str, Any]]] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, AIMessage]:
        schemas = [convert_to_openai_tool(t) for t in tools]
        self.bound.append(schemas)
        return self.bind(tools=schemas, **kwargs)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        message = self._generate(messages, *args, **kwargs).generations[0].message
        for word in str(message.content).split(" ") if message.content else []:
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))
        pieces = []
        for index, call in enumerate(message.tool_calls):
            text = json.dumps(call["args"])
            pieces.append((index, call, text[: len(text) // 2], text[len(text) // 2 :]))
        for index, call, head, _ in pieces:  # every call's head, then tails in reverse
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {"name": call["name"], "args": head, "id": call["id"], "index": index}
                    ],
                )
            )
        for index, _, _, tail in reversed(pieces):
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[{"name": None, "args": tail, "id": None, "index": index}],
                )
            )
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=message.usage_metadata)
        )
