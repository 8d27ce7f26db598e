"""Any LangChain chat model (with `bind_tools`) as a selectools provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from selectools import Message, ModelRequest, ModelResponse, TextChunk, Usage
from selectools.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)
from selectools.usage import estimate_cost

from .messages import text_of, to_langchain_messages, tool_calls_of

__all__ = ["LangChainProvider"]


class LangChainProvider:
    """Drives a selectools Agent with a LangChain chat model, streaming included.

    Tools are bound per request with the model's own `bind_tools`; the model's
    settings (temperature, max tokens) are the chat model's, set where it is built.
    """

    name = "langchain"

    def __init__(self, chat_model: BaseChatModel) -> None:
        self.chat_model = chat_model
        self.model = str(
            getattr(chat_model, "model_name", None)
            or getattr(chat_model, "model", None)
            or type(chat_model).__name__
        )

    def __repr__(self) -> str:
        return f"LangChainProvider({type(self.chat_model).__name__}, model={self.model!r})"

    def _runnable(self, request: ModelRequest) -> Any:
        if not request.tools:
            return self.chat_model
        return self.chat_model.bind_tools([dict(schema) for schema in request.tools])

    def _inputs(self, request: ModelRequest) -> list[BaseMessage]:
        return to_langchain_messages(request.messages)

    def complete(self, request: ModelRequest) -> ModelResponse:
        try:
            message = self._runnable(request).invoke(self._inputs(request))
        except Exception as exc:
            raise _translate(exc) from exc
        return self._response(message)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        try:
            message = await self._runnable(request).ainvoke(self._inputs(request))
        except Exception as exc:
            raise _translate(exc) from exc
        return self._response(message)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        merged: AIMessageChunk | None = None
        try:
            for chunk in self._runnable(request).stream(self._inputs(request)):
                merged, text = _absorb(merged, chunk)
                if text:
                    yield TextChunk(text)
        except Exception as exc:
            raise _translate(exc) from exc
        yield self._response(merged if merged is not None else AIMessage(content=""))

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        merged: AIMessageChunk | None = None
        try:
            async for chunk in self._runnable(request).astream(self._inputs(request)):
                merged, text = _absorb(merged, chunk)
                if text:
                    yield TextChunk(text)
        except Exception as exc:
            raise _translate(exc) from exc
        yield self._response(merged if merged is not None else AIMessage(content=""))

    def _response(self, message: AIMessage) -> ModelResponse:
        usage: Mapping[str, Any] = message.usage_metadata or {}
        metadata = message.response_metadata or {}
        model = str(metadata.get("model_name") or metadata.get("model") or self.model)
        input_tokens = int(usage.get("input_tokens", 0))
        output_tokens = int(usage.get("output_tokens", 0))
        return ModelResponse(
            message=Message.assistant(text_of(message.content) or None, tool_calls_of(message)),
            usage=Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                requests=1,
                cost_usd=estimate_cost(model, input_tokens, output_tokens),
            ),
            model=model,
            finish_reason=metadata.get("finish_reason"),
        )


def _absorb(merged: AIMessageChunk | None, chunk: AIMessageChunk) -> tuple[AIMessageChunk, str]:
    """Add a chunk to the running message (LangChain merges tool_call_chunks by index)."""
    return (chunk if merged is None else merged + chunk), text_of(chunk.content)


def _translate(exc: Exception) -> Exception:
    """LangChain integrations raise their SDK's errors; map the common HTTP statuses."""
    status = getattr(exc, "status_code", None) or getattr(
        getattr(exc, "response", None), "status_code", None
    )
    message = f"The LangChain chat model failed: {type(exc).__name__}: {exc}"
    if status in (401, 403):
        return ProviderAuthError(message, provider="langchain", status_code=status)
    if status == 429:
        return RateLimitError(message, provider="langchain")
    if isinstance(exc, TimeoutError):
        return ProviderTimeoutError(message, provider="langchain")
    if isinstance(status, int):
        return ProviderError(message, provider="langchain", status_code=status)
    return exc
