"""The provider protocol: what the agent loop needs from any model API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..messages import Message
from ..usage import Usage

__all__ = ["ModelRequest", "ModelResponse", "Provider", "TextChunk"]


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One call to the model: the conversation, the tools it may call, and settings."""

    messages: Sequence[Message]
    tools: Sequence[Mapping[str, Any]] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    parallel_tool_calls: bool = True
    timeout: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """The model's complete answer: an assistant message (text and/or tool calls)."""

    message: Message
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A piece of streamed assistant text."""

    text: str


@runtime_checkable
class Provider(Protocol):
    """A model API. `stream` yields TextChunks and ends with exactly one ModelResponse."""

    name: str
    model: str

    def complete(self, request: ModelRequest) -> ModelResponse: ...

    async def acomplete(self, request: ModelRequest) -> ModelResponse: ...

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]: ...

    def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]: ...
