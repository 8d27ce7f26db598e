"""OpenAI-compatible chat completions: OpenAI itself, and Ollama, LM Studio or vLLM by base_url."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import (
    ContextLengthError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    SelectoolsError,
)
from ..extras import require
from ..messages import Message, ToolCall
from ..usage import Usage, estimate_cost
from .base import ModelRequest, ModelResponse, TextChunk
from .retried import RetriedCalls

if TYPE_CHECKING:
    import openai

    from ..policies.retry import Retry

__all__ = ["OpenAIProvider"]

logger = logging.getLogger("selectools.providers.openai")

DEFAULT_MODEL = "gpt-4o-mini"


class OpenAIProvider(RetriedCalls):
    """Chat completions through the official `openai` SDK, with native tool calling.

    `base_url` points it at any OpenAI-compatible server, e.g. Ollama at
    `http://localhost:11434/v1`, LM Studio at `http://localhost:1234/v1`, or
    vLLM at `http://localhost:8000/v1`; such servers need no real API key.

    Failures become `ProviderError`s whose messages are ours: the upstream's
    own text (which can carry organisation ids or key suffixes) goes to the
    `selectools.providers.openai` log and to `error.detail`, never into the
    message a web client sees. An answer that is not a chat completion, or a
    stream that ends before the model finished, is a `ProviderError` (502).
    The async client is made per running event loop.

    Retries: exactly one layer. The SDK's own retries are always off; this
    provider retries transient failures `max_retries` times with
    `selectools.policies.Retry` (backoff with jitter, `Retry-After` honoured,
    bounded by the run's time left), or as `retry=Retry(...)` says. `timeout`
    bounds each attempt. `name` labels this provider in results, usage and
    errors (e.g. "primary", "azure") when a `FallbackProvider` holds several.
    """

    structured_output = "json_schema"  # native response_format (selectools.structured)

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        retry: Retry | None = None,
        name: str = "openai",
        stream_usage: bool = True,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
    ) -> None:
        self.name = name
        self.model = model or os.environ.get("SELECTOOLS_MODEL") or DEFAULT_MODEL
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self._api_key = api_key
        self._timeout = timeout
        if retry is None and max_retries > 0:
            from ..policies.retry import Retry

            retry = Retry(attempts=max_retries + 1)
        self.retry = retry
        self._installed = False
        self._stream_usage = stream_usage
        self._client = client
        self._async_client = async_client  # given by the caller: used on any loop
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, openai.AsyncOpenAI
        ] = weakref.WeakKeyDictionary()
        # Prices are looked up by vendor only when we talk to OpenAI itself.
        self._price_provider = "openai" if self.base_url is None else None

    def __repr__(self) -> str:
        label = "" if self.name == "openai" else f", name={self.name!r}"
        return f"OpenAIProvider(model={self.model!r}, base_url={self.base_url!r}{label})"

    # -- clients, built on first use so importing selectools never imports openai --

    def _client_kwargs(self) -> dict[str, Any]:
        key = self._api_key or os.environ.get("OPENAI_API_KEY")
        if key is None and self.base_url is not None:
            key = "not-needed"  # local servers ignore it, the SDK insists on one
        return {
            "api_key": key,
            "base_url": self.base_url,
            "timeout": self._timeout,
            "max_retries": 0,  # the one retry layer is ours (self.retry), never the SDK's too
        }

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            sdk = require("openai", extra="openai", feature="OpenAIProvider")
            try:
                self._client = sdk.OpenAI(**self._client_kwargs())
            except sdk.OpenAIError as exc:
                raise ProviderAuthError(_no_key_message(exc), provider=self.name) from None
        return self._client

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """This event loop's client: one made in an earlier `asyncio.run` dies with its loop."""
        if self._async_client is not None:
            return self._async_client
        loop = asyncio.get_running_loop()
        made = self._async_clients.get(loop)
        if made is None:
            sdk = require("openai", extra="openai", feature="OpenAIProvider")
            try:
                made = self._async_clients[loop] = sdk.AsyncOpenAI(**self._client_kwargs())
            except sdk.OpenAIError as exc:
                raise ProviderAuthError(_no_key_message(exc), provider=self.name) from None
        return made

    # -- the four calls, each attempt retried by `self.retry` when set --

    def _check_installed(self) -> None:
        """Name the `openai` extra (which brings both) when the SDK or tenacity is missing."""
        if not self._installed:
            require("openai", extra="openai", feature="OpenAIProvider")
            if self.retry is not None:
                require("tenacity", extra="openai", feature="OpenAIProvider's retries")
            self._installed = True

    def _complete_once(self, request: ModelRequest) -> ModelResponse:
        client = self.client  # a missing SDK raises here, outside the translation below
        try:
            raw = client.chat.completions.create(**self._params(request, stream=False))
        except Exception as exc:
            raise self._translate(exc) from exc
        return self._response(raw)

    async def _acomplete_once(self, request: ModelRequest) -> ModelResponse:
        client = self.async_client
        try:
            raw = await client.chat.completions.create(**self._params(request, stream=False))
        except Exception as exc:
            raise self._translate(exc) from exc
        return self._response(raw)

    def _stream_once(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        assembler = _StreamAssembler(self.model)
        client = self.client
        try:
            with client.chat.completions.create(**self._params(request, stream=True)) as chunks:
                for chunk in chunks:
                    text = assembler.add(chunk)
                    if text:
                        yield TextChunk(text)
        except Exception as exc:
            raise self._translate(exc) from exc
        yield self._finish(assembler)

    async def _astream_once(
        self, request: ModelRequest
    ) -> AsyncIterator[TextChunk | ModelResponse]:
        assembler = _StreamAssembler(self.model)
        client = self.async_client
        try:
            chunks = await client.chat.completions.create(**self._params(request, stream=True))
            async with chunks:  # closes the upstream response if we are cancelled
                async for chunk in chunks:
                    text = assembler.add(chunk)
                    if text:
                        yield TextChunk(text)
        except Exception as exc:
            raise self._translate(exc) from exc
        yield self._finish(assembler)

    # -- translation between our types and the wire --

    def _params(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in request.messages],
        }
        if request.tools:
            params["tools"] = list(request.tools)
            if not request.parallel_tool_calls:
                params["parallel_tool_calls"] = False
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        if request.timeout is not None:  # the time the run (or retry budget) has left
            timeout = request.timeout
            params["timeout"] = timeout if self._timeout is None else min(timeout, self._timeout)
        if stream:
            params["stream"] = True
            if self._stream_usage:
                params["stream_options"] = {"include_usage": True}
        params.update(request.extra)
        return params

    def _usage(self, model: str, prompt: int, completion: int) -> Usage:
        cost = estimate_cost(model, prompt, completion, provider_id=self._price_provider)
        return Usage(input_tokens=prompt, output_tokens=completion, requests=1, cost_usd=cost)

    def _response(self, raw: Any) -> ModelResponse:
        if not hasattr(raw, "choices"):  # the SDK hands back text it could not parse
            logger.warning("model server sent a non-JSON answer: %.500r", raw)
            raise self._unreadable()
        if not raw.choices:
            raise ProviderError(
                f"The model server returned no choices for model '{self.model}'.",
                provider=self.name,
            )
        choice = raw.choices[0]
        calls = tuple(
            ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments or "")
            for c in choice.message.tool_calls or ()
        )
        model = raw.model or self.model
        usage = raw.usage
        return ModelResponse(
            message=Message.assistant(choice.message.content, calls),
            usage=self._usage(
                model,
                usage.prompt_tokens if usage else 0,
                usage.completion_tokens if usage else 0,
            ),
            model=model,
            finish_reason=choice.finish_reason,
            provider=self.name,
        )

    def _finish(self, assembler: _StreamAssembler) -> ModelResponse:
        if assembler.finish_reason is None:  # no events, or cut off mid-answer
            logger.warning(
                "model server stream ended after %d chunks without a finish_reason",
                assembler.chunks,
            )
            raise ProviderError(
                f"The model server's stream ended before the answer was complete "
                f"({self.name}, model '{self.model}'). Retry; if it persists, check the "
                f"server or a proxy in between.",
                provider=self.name,
            )
        return ModelResponse(
            message=assembler.message(),
            usage=self._usage(
                assembler.model, assembler.prompt_tokens, assembler.completion_tokens
            ),
            model=assembler.model,
            finish_reason=assembler.finish_reason,
            provider=self.name,
        )

    def _translate(self, exc: Exception) -> Exception:
        return translate_openai_error(exc, provider=self.name, model=self.model)

    def _unreadable(self) -> ProviderError:
        return ProviderError(
            f"The model server sent an answer that is not a chat completion ({self.name}, "
            f"model '{self.model}'). Check base_url: it must point at an OpenAI-compatible "
            f"API, not a web page or a proxy's error page.",
            provider=self.name,
            status_code=200,
        )


class _StreamAssembler:
    """Rebuild text and tool calls from deltas; calls arrive interleaved by `index`."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.chunks = 0

    def add(self, chunk: Any) -> str:
        self.chunks += 1
        if chunk.model:
            self.model = chunk.model
        if chunk.usage:
            self.prompt_tokens = chunk.usage.prompt_tokens or 0
            self.completion_tokens = chunk.usage.completion_tokens or 0
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        delta = choice.delta
        for part in delta.tool_calls or ():
            slot = self.calls.setdefault(part.index, {"id": "", "name": "", "arguments": []})
            if part.id:
                slot["id"] = part.id
            if part.function is not None:
                if part.function.name:
                    slot["name"] += part.function.name
                if part.function.arguments:
                    slot["arguments"].append(part.function.arguments)
        if delta.content:
            self.text.append(delta.content)
            return str(delta.content)
        return ""

    def message(self) -> Message:
        calls = [
            ToolCall(
                id=slot["id"] or f"call_{index}",
                name=slot["name"],
                arguments="".join(slot["arguments"]),
            )
            for index, slot in sorted(self.calls.items())
        ]
        return Message.assistant("".join(self.text) or None, calls)


def translate_openai_error(exc: Exception, *, provider: str, model: str) -> Exception:
    """Map what the `openai` SDK raised to a selectools ProviderError with our own message.

    The upstream's text is logged and kept in `error.detail`, never put in the
    message (web adapters send messages to clients).
    """
    if isinstance(exc, SelectoolsError):  # already ours (a missing extra, say)
        return exc
    httpx = require("httpx", extra="openai", feature="OpenAIProvider")
    openai = require("openai", extra="openai", feature="OpenAIProvider")

    if isinstance(exc, httpx.TransportError):  # the connection broke mid-stream
        return ProviderConnectionError(
            f"The connection to the model server ({provider}) broke off mid-answer "
            f"({type(exc).__name__}). Retry, or check the server.",
            provider=provider,
        )
    if not isinstance(exc, openai.OpenAIError):
        if isinstance(exc, ValueError | TypeError | AttributeError | KeyError):
            logger.warning("model server answer could not be read (%s): %s", provider, exc)
            return _with_detail(
                ProviderError(
                    f"The model server sent an answer that could not be read ({provider}, "
                    f"model '{model}'). Check base_url and the server's logs.",
                    provider=provider,
                ),
                str(exc),
            )
        return exc
    status = getattr(exc, "status_code", None)
    detail = _error_detail(exc)
    logger.warning("model server error (%s, HTTP %s): %s", provider, status, detail)
    error: ProviderError
    if isinstance(exc, openai.APITimeoutError):
        error = ProviderTimeoutError(
            f"The model server did not answer in time ({provider}, model '{model}'). "
            f"Retry, or raise the provider's timeout.",
            provider=provider,
        )
    elif isinstance(exc, openai.APIConnectionError):
        error = ProviderConnectionError(
            f"Could not reach the model server ({provider}). Check base_url and that the "
            f"server is running.",
            provider=provider,
        )
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        error = ProviderAuthError(
            f"The model server rejected the API key (HTTP {status}). "
            f"Check OPENAI_API_KEY or the api_key argument.",
            provider=provider,
            status_code=status,
        )
    elif isinstance(exc, openai.RateLimitError) and getattr(exc, "code", None) == (
        "insufficient_quota"
    ):
        error = ProviderError(  # the account is out of credit: waiting will not help
            "The model server's account has no quota left (HTTP 429). Check the provider "
            "account's plan and billing.",
            provider=provider,
            status_code=status,
        )
    elif isinstance(exc, openai.RateLimitError):
        error = RateLimitError(
            "The model server is rate limiting requests (HTTP 429). Retry after a pause.",
            provider=provider,
            retry_after=_retry_after(exc),
        )
    elif getattr(exc, "code", None) == "context_length_exceeded" or (
        "context length" in detail.lower()
    ):
        error = ContextLengthError(
            f"The conversation is too long for model '{model}'. Shorten the input "
            f"or use ConversationMemory(max_tokens=...) to trim history.",
            provider=provider,
            status_code=status,
        )
    elif isinstance(exc, openai.APIResponseValidationError):
        error = ProviderError(
            f"The model server sent an answer that is not a chat completion ({provider}, "
            f"model '{model}'). Check base_url.",
            provider=provider,
            status_code=status,
        )
    else:
        error = ProviderError(
            f"The model server failed (HTTP {status}) for model '{model}'. Retry, or check "
            f"the server's status.",
            provider=provider,
            status_code=status,
        )
    return _with_detail(error, detail)


def _with_detail(error: ProviderError, detail: str) -> ProviderError:
    error.detail = detail
    return error


def _error_detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    message = getattr(exc, "message", None) or str(exc)
    return message if isinstance(message, str) else json.dumps(message)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _no_key_message(exc: Exception) -> str:
    return (
        f"No API key for the OpenAI provider ({exc}). Set OPENAI_API_KEY, pass api_key=..., "
        f"or set base_url to a local OpenAI-compatible server."
    )
