"""The Agent: tools, a provider and a system prompt, run sync, async or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from ._drivers import iterate_async, iterate_sync
from ._run import RunState
from .config import AgentConfig
from .events import Event, RunFinished
from .memory import ConversationMemory
from .messages import Message
from .observers import ObserverHub
from .providers.base import Provider
from .results import AgentResult
from .tools import Tool, ToolSet
from .usage import Usage, UsageTotals

__all__ = ["Agent", "RunInput"]

RunInput: TypeAlias = str | Message | Mapping[str, Any] | Sequence[Message | Mapping[str, Any]]


class Agent:
    """A model with tools. Safe to share: every run keeps its own state.

    Without `session_id` a run starts fresh; with one, it continues that
    conversation from `memory` (in-process by default; pass a
    ConversationMemory over a SQLAlchemySessionStore to share it between
    workers and survive restarts).
    """

    def __init__(
        self,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        provider: Provider | None = None,
        *,
        system_prompt: str | None = None,
        config: AgentConfig | None = None,
        memory: ConversationMemory | None = None,
        observers: Iterable[object] = (),
        name: str = "agent",
    ) -> None:
        if provider is None:
            from .providers.openai import OpenAIProvider

            provider = OpenAIProvider()
        self.tools = ToolSet(tools)
        self.tool_schemas: tuple[dict[str, Any], ...] = tuple(self.tools.schemas())
        self.provider = provider
        self.system_prompt = system_prompt
        self.config = config or AgentConfig()
        self.memory = memory or ConversationMemory()
        self.observers = ObserverHub(observers)
        self.name = name
        self.totals = UsageTotals()

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, tools={list(self.tools)}, provider={self.provider!r})"

    @property
    def usage(self) -> Usage:
        """Cumulative usage of all runs of this agent in this process."""
        return self.totals.usage

    def run(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
    ) -> AgentResult:
        """Run to the final answer, blocking; fine inside a running event loop."""
        state = self._state(input, session_id, identity, metadata, config)
        result: AgentResult | None = None
        for event in iterate_sync(state, stream_model=False):
            if isinstance(event, RunFinished):
                result = event.result
        assert result is not None, "a completed run always ends with RunFinished"
        return result

    async def arun(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
    ) -> AgentResult:
        """Run to the final answer without blocking the event loop (sync tools use threads)."""
        state = self._state(input, session_id, identity, metadata, config)
        result: AgentResult | None = None
        async for event in iterate_async(state, stream_model=False):
            if isinstance(event, RunFinished):
                result = event.result
        assert result is not None, "a completed run always ends with RunFinished"
        return result

    def stream(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
    ) -> Iterator[Event]:
        """Yield events as they happen; the last one is RunFinished with the result."""
        state = self._state(input, session_id, identity, metadata, config)
        return iterate_sync(state, stream_model=True)

    def astream(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
    ) -> AsyncIterator[Event]:
        """Async `stream()`. Close it (or cancel the task) to stop the run and its tools."""
        state = self._state(input, session_id, identity, metadata, config)
        return iterate_async(state, stream_model=True)

    def _state(
        self,
        input: RunInput,
        session_id: str | None,
        identity: str | None,
        metadata: Mapping[str, Any] | None,
        config: AgentConfig | Mapping[str, Any] | None,
    ) -> RunState:
        return RunState(
            self,
            input,
            session_id=session_id,
            identity=identity,
            metadata=metadata,
            config=self.config.merged(dict(config) if isinstance(config, Mapping) else config),
        )
