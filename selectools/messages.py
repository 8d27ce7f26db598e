"""Chat messages in the OpenAI shape, the lingua franca of tool-calling models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from typing import Any, Literal, TypeAlias

from .content import ContentPart, parse_part
from .errors import InvalidInputError
from .frozen import record

__all__ = ["NO_INPUT", "ContentPart", "Message", "Role", "RunInput", "ToolCall", "coerce_messages"]

Role = Literal["system", "user", "assistant", "tool"]
_ROLES = frozenset(("system", "user", "assistant", "tool"))


@record
class ToolCall:
    """A tool call requested by the model; `arguments` is the raw JSON text it sent."""

    id: str
    name: str
    arguments: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        function = data.get("function") or data if isinstance(data, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise InvalidInputError(
                f"A tool call needs an id and a function with a name and arguments, "
                f"got {data!r:.200}."
            )
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):  # some servers send an object, not JSON text
            import json

            arguments = json.dumps(arguments)
        return cls(id=str(data.get("id", "")), name=function["name"], arguments=arguments)


@record
class Message:
    """One chat message; immutable so a history can be shared without copying.

    `content` is the message's text. A message with images or files also has
    `parts`: every part in order, text included (see `selectools.content`);
    `Message.user(["What is this?", ContentPart.image(url=...)])` builds one.

    `pinned` keeps the message in every memory window (stored with the session,
    never sent to a model API).
    """

    role: Role
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = field(default=())
    tool_call_id: str | None = None
    name: str | None = None
    parts: tuple[ContentPart, ...] = field(default=())
    pinned: bool = False

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def user(
        cls,
        content: str | Sequence[ContentPart | str | Mapping[str, Any]],
        *,
        pinned: bool = False,
    ) -> Message:
        """A user message: text, or a list of parts (strings, ContentParts, part dicts);
        `pinned=True` keeps it in every memory window."""
        if isinstance(content, str):
            return cls("user", content, pinned=pinned)
        text, parts = _split_parts(content)
        return cls("user", text, parts=parts, pinned=pinned)

    @property
    def has_media(self) -> bool:
        """True when the message carries an image or a file."""
        return any(part.is_media for part in self.parts)

    def content_parts(self) -> tuple[ContentPart, ...]:
        """Every part in order; a text-only message is one text part (none when empty)."""
        if self.parts:
            return self.parts
        return (ContentPart.text_part(self.content),) if self.content else ()

    @classmethod
    def assistant(cls, content: str | None, tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, content: str, *, tool_call_id: str, name: str) -> Message:
        return cls("tool", content, tool_call_id=tool_call_id, name=name)

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI chat-completions form, also used for storage and the wire."""
        content: Any = [p.to_dict() for p in self.parts] if self.parts else self.content
        data: dict[str, Any] = {"role": self.role, "content": content}
        if self.tool_calls:
            data["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            data["name"] = self.name
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        role = data.get("role")
        if role not in _ROLES:
            raise InvalidInputError(f"Message role must be one of {sorted(_ROLES)}, got {role!r}.")
        content = data.get("content")
        parts: tuple[ContentPart, ...] = ()
        if isinstance(content, list | tuple):  # content parts: images and files are kept
            content, parts = _split_parts(content)
        if content is not None and not isinstance(content, str):
            raise InvalidInputError(
                f"Message content must be a string, got {type(content).__name__}."
            )
        raw_calls = data.get("tool_calls") or ()
        if not isinstance(raw_calls, list | tuple):
            raise InvalidInputError("Message tool_calls must be a list of tool calls.")
        calls = tuple(ToolCall.from_dict(c) for c in raw_calls)
        pinned = data.get("pinned", False)
        if not isinstance(pinned, bool):
            raise InvalidInputError("Message pinned must be true or false.")
        for key in ("tool_call_id", "name"):
            if data.get(key) is not None and not isinstance(data.get(key), str):
                raise InvalidInputError(f"Message {key} must be a string.")
        return cls(
            role=role,
            content=content,
            tool_calls=calls,
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
            parts=parts,
            pinned=pinned,
        )


def _split_parts(
    raw: Sequence[ContentPart | str | Mapping[str, Any]],
) -> tuple[str, tuple[ContentPart, ...]]:
    """(the text, the parts); text-only parts collapse into plain content."""
    parts = tuple(parse_part(item) for item in raw)
    text = "".join(part.text or "" for part in parts if part.type == "text")
    return text, parts if any(part.is_media for part in parts) else ()


NO_INPUT = "A run needs input: a prompt string or at least one message."

RunInput: TypeAlias = "str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]]"
"""What a run accepts: a prompt, a message, a message dict, or a list of messages."""


def coerce_messages(value: RunInput) -> list[Message]:
    """Accept a prompt string, a message, a message dict, or a list of these."""
    if isinstance(value, str):
        return [Message.user(value)]
    if isinstance(value, Message):
        return [value]
    if isinstance(value, Mapping):
        return [Message.from_dict(value)]
    if not isinstance(value, Iterable) or isinstance(value, bytes | bytearray):
        raise InvalidInputError(
            f"A run's input is a prompt string, a Message, a message dict or a list of "
            f"these, got {type(value).__name__}."
        )
    messages = []
    for item in value:
        if isinstance(item, Message):
            messages.append(item)
        elif isinstance(item, Mapping):
            messages.append(Message.from_dict(item))
        else:
            raise InvalidInputError(
                f"Each message must be a Message or a dict with 'role' and 'content', "
                f"got {type(item).__name__}."
            )
    return messages
