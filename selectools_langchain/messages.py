"""Converting chat messages between selectools and LangChain."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from selectools import ContentPart, InvalidInputError, Message, ToolCall


def to_langchain_messages(messages: Iterable[Message]) -> list[BaseMessage]:
    converted: list[BaseMessage] = []
    for m in messages:
        if m.role == "system":
            converted.append(SystemMessage(content=m.content or ""))
        elif m.role == "user":
            converted.append(HumanMessage(content=_lc_content(m)))
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
        if isinstance(message.content, list) and any(_is_media(p) for p in message.content):
            return Message.user([_from_lc_part(p) for p in message.content])
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


def _lc_content(m: Message) -> str | list[str | dict[str, Any]]:
    """Images and files as LangChain's standard content blocks; text-only stays a string."""
    if not m.parts:
        return m.content or ""
    blocks: list[str | dict[str, Any]] = []
    for part in m.parts:
        if part.type == "text":
            blocks.append({"type": "text", "text": part.text or ""})
        elif part.url is not None:
            blocks.append({"type": "image", "url": part.url})
        else:
            block: dict[str, Any] = {
                "type": part.type,
                "base64": part.data,
                "mime_type": part.media_type,
            }
            if part.filename is not None:
                block["filename"] = part.filename
            blocks.append(block)
    return blocks


def _is_media(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") not in ("text", None)


def _from_lc_part(part: Any) -> ContentPart | str | dict[str, Any]:
    """LangChain's standard image/file blocks (url, base64) or OpenAI-shaped parts."""
    if not isinstance(part, dict) or part.get("type") not in ("image", "file"):
        return cast("str | dict[str, Any]", part)  # text, image_url: selectools parses these
    mime = part.get("mime_type")
    data = part.get("base64") or (part.get("data") if part.get("source_type") == "base64" else None)
    url = part.get("url")
    if part["type"] == "image":
        if data is not None:
            return ContentPart.image(data=data, media_type=mime)
        if isinstance(url, str):
            return ContentPart.image(url=url)
    elif data is not None:
        return ContentPart.file(data=data, media_type=mime, filename=part.get("filename"))
    raise InvalidInputError(
        f"A LangChain {part['type']} block needs base64 data with a mime_type"
        f"{' or a url' if part['type'] == 'image' else ''}."
    )
