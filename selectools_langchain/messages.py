"""Converting chat messages between selectools and LangChain."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from selectools import Message, ToolCall


def to_langchain_messages(messages: Iterable[Message]) -> list[BaseMessage]:
    converted: list[BaseMessage] = []
    for m in messages:
        if m.role == "system":
            converted.append(SystemMessage(content=m.content or ""))
        elif m.role == "user":
            converted.append(HumanMessage(content=m.content or ""))
        elif m.role == "tool":
            converted.append(
                ToolMessage(content=m.content or "", tool_call_id=m.tool_call_id or "")
            )
        else:
            valid, invalid = [], []
            for call in m.tool_calls:
                try:
                    args = json.loads(call.arguments or "{}")
                except json.JSONDecodeError:
                    args = None
                if isinstance(args, dict):
                    valid.append(
                        {"name": call.name, "args": args, "id": call.id, "type": "tool_call"}
                    )
                else:
                    invalid.append(
                        {
                            "name": call.name,
                            "args": call.arguments,
                            "id": call.id,
                            "error": None,
                            "type": "invalid_tool_call",
                        }
                    )
            converted.append(
                AIMessage(content=m.content or "", tool_calls=valid, invalid_tool_calls=invalid)
            )
    return converted


def from_langchain_message(message: BaseMessage) -> Message:
    text = text_of(message.content)
    if isinstance(message, SystemMessage):
        return Message.system(text)
    if isinstance(message, HumanMessage):
        return Message.user(text)
    if isinstance(message, ToolMessage):
        return Message.tool(text, tool_call_id=message.tool_call_id, name=message.name or "")
    if isinstance(message, AIMessage):
        return Message.assistant(text or None, tool_calls_of(message))
    return Message.user(text)  # chat/function messages from elsewhere: keep the text


def from_langchain_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    return [from_langchain_message(m) for m in messages]


def tool_calls_of(message: AIMessage) -> list[ToolCall]:
    """Valid calls keep their args; invalid ones keep the raw text so our validation explains."""
    calls = [
        ToolCall(id=c.get("id") or f"call_{i}", name=c["name"], arguments=json.dumps(c["args"]))
        for i, c in enumerate(message.tool_calls)
    ]
    for i, c in enumerate(message.invalid_tool_calls, start=len(calls)):
        calls.append(
            ToolCall(
                id=c.get("id") or f"call_{i}",
                name=c.get("name") or "",
                arguments=c.get("args") or "",
            )
        )
    return calls


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content or ():
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
    return "".join(parts)
