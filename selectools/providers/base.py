"""The provider protocol: what the agent loop needs from any model API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any, Protocol, runtime_checkable

from ..context import RunContext
from ..frozen import record
from ..messages import Message
from ..usage import Usage

__all__ = [
    "ModelRequest",
    "ModelResponse",
    "Provider",
    "TextChunk",
    "aclose_stream",
    "close_stream",
]


@record
class ModelRequest:
    """One call to the model: the conversation, the tools it may call, and settings.

    `context` says whose run this is (identity, session, run id) for policies
    that limit, cache or trace per caller; providers never send it to the model.
    `extra` is passed to the model API as is.
    """

    messages: Sequence[Message]
    tools: Sequence[Mapping[str, Any]] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    parallel_tool_calls: bool = True
    timeout: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    context: RunContext | None = None

    @property
    def identity(self) -> str | None:
        """Whose run asks (None for anonymous runs and requests made outside a run)."""
        return self.context.identity if self.context is not None else None


@record
class ModelResponse:
    """The model's complete answer: an assistant message (text and/or tool calls).

    `provider` names the provider that answered (a `FallbackProvider` member, say).
    """

    message: Message
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None
    provider: str = ""


@record
class TextChunk:
    """A piece of streamed assistant text."""

    text: str


@runtime_checkable
class Provider(Protocol):
    """A model API. `stream` yields TextChunks and ends with exactly one ModelResponse."""

    @property
    def name(self) -> str:
        """A short provider name for usage, pricing and traces ("openai", "scripted")."""
        ...

    @property
    def model(self) -> str:
        """The model this provider asks by default."""
        ...

    def complete(self, request: ModelRequest) -> ModelResponse: ...

    async def acomplete(self, request: ModelRequest) -> ModelResponse: ...

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]: ...

    def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]: ...


def close_stream(items: Iterator[Any]) -> None:
    """Close a provider stream the consumer left early (closes the upstream response)."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


async def aclose_stream(items: AsyncIterator[Any]) -> None:
    """Async `close_stream`."""
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()
