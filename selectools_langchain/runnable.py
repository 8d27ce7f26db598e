"""A selectools Agent as a LangChain Runnable, to sit inside LCEL chains."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableConfig

from selectools import Agent, Message, RunFinished, TextDelta

from .messages import from_langchain_messages

__all__ = ["AgentRunnable", "as_runnable"]

AgentInput = str | PromptValue | Sequence[BaseMessage] | Mapping[str, Any]


class AgentRunnable(Runnable[AgentInput, AIMessage]):
    """Behaves like a chat model in a chain: messages (or a prompt) in, an AIMessage out.

    Input: a string, a PromptValue, a list of messages, or `{"input": ...}`.
    `config={"configurable": {"session_id": "..."}}` continues a conversation,
    as with RunnableWithMessageHistory. The AIMessage carries the run's tool
    calls and usage in `response_metadata`.
    """

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def invoke(
        self, input: AgentInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        result = self.agent.run(_messages(input), **_run_options(config))
        return _as_ai_message(result)

    async def ainvoke(
        self, input: AgentInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        result = await self.agent.arun(_messages(input), **_run_options(config))
        return _as_ai_message(result)

    def stream(
        self, input: AgentInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        for event in self.agent.stream(_messages(input), **_run_options(config)):
            if isinstance(event, TextDelta):
                yield AIMessageChunk(content=event.text)
            elif isinstance(event, RunFinished):
                yield AIMessageChunk(content="", response_metadata=_metadata(event.result))

    async def astream(
        self, input: AgentInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        async for event in self.agent.astream(_messages(input), **_run_options(config)):
            if isinstance(event, TextDelta):
                yield AIMessageChunk(content=event.text)
            elif isinstance(event, RunFinished):
                yield AIMessageChunk(content="", response_metadata=_metadata(event.result))


def as_runnable(agent: Agent) -> AgentRunnable:
    """Expose `agent` as a LangChain Runnable (invoke, ainvoke, stream, astream, batch)."""
    return AgentRunnable(agent)


def _messages(value: Any) -> str | list[Message]:
    if isinstance(value, Mapping):
        value = value["input"] if "input" in value else value.get("messages", "")
    if isinstance(value, PromptValue):
        value = value.to_messages()
    if isinstance(value, str):
        return value
    return from_langchain_messages(list(value))


def _run_options(config: RunnableConfig | None) -> dict[str, Any]:
    configurable = (config or {}).get("configurable") or {}
    metadata = (config or {}).get("metadata") or {}
    return {
        "session_id": configurable.get("session_id"),
        "identity": configurable.get("user_id"),
        "metadata": metadata,
    }


def _metadata(result: Any) -> dict[str, Any]:
    body: dict[str, Any] = result.to_dict()
    return {"selectools": body, "model_name": result.model}


def _as_ai_message(result: Any) -> AIMessage:
    return AIMessage(
        content=result.text,
        response_metadata=_metadata(result),
        usage_metadata={
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
            "total_tokens": result.usage.total_tokens,
        },
    )
