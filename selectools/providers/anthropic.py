"""Claude through the official `anthropic` SDK: the Messages API, tools, images, streaming."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..content import ContentPart, UnsupportedContentError
from ..errors import (
    ContextLengthError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)
from ..extras import require
from ..messages import Message, ToolCall
from ..usage import Usage, estimate_cost
from .base import ModelRequest, ModelResponse, TextChunk
from .retried import RetriedCalls

if TYPE_CHECKING:
    import anthropic

    from ..policies.retry import Retry

__all__ = ["AnthropicProvider", "to_anthropic_messages"]

logger = logging.getLogger("selectools.providers.anthropic")

DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_MAX_TOKENS = 4096
_DOCUMENT_TYPES = ("application/pdf", "text/plain")


class AnthropicProvider(RetriedCalls):
    """Claude models through the official `anthropic` SDK (`pip install "selectools[anthropic]"`).

    System messages become the `system` prompt, tool calls `tool_use` blocks,
    tool results `tool_result` blocks (consecutive ones in one user turn, as
    the API wants), images `image` blocks and PDFs `document` blocks. The
    Messages API needs `max_tokens`: the run's, else `max_tokens=` here.

    Errors are ours, like `OpenAIProvider`'s: 401/403 -> `ProviderAuthError`,
    429 -> `RateLimitError` with Retry-After, 529 overloaded -> a retryable
    `ProviderError`, a too-long prompt -> `ContextLengthError`, other 400s ->
    `ProviderError` (HTTP 400). The SDK never retries (`max_retries=0`): the
    one retry layer is `retry=` (by default `Retry(attempts=max_retries + 1)`).
    `base_url` points it at a proxy or a test server.
    """

    structured_output = "tool_any"  # a forced final_answer tool (selectools.structured)

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        retry: Retry | None = None,
        name: str = "anthropic",
        client: anthropic.Anthropic | None = None,
        async_client: anthropic.AsyncAnthropic | None = None,
    ) -> None:
        self.name = name
        self.model = model or os.environ.get("SELECTOOLS_ANTHROPIC_MODEL") or DEFAULT_MODEL
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL")
        self.max_tokens = max_tokens
        self._api_key = api_key
        self._timeout = timeout
        if retry is None and max_retries > 0:
            from ..policies.retry import Retry

            retry = Retry(attempts=max_retries + 1)
        self.retry = retry
        self._installed = False
        self._client = client
        self._async_client = async_client
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anthropic.AsyncAnthropic
        ] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r}, base_url={self.base_url!r})"

    # -- clients, made on first use (one async client per event loop) --

    def _client_kwargs(self) -> dict[str, Any]:
        key = self._api_key or os.environ.get("ANTHROPIC_API_KEY")
        if key is None:
            raise ProviderAuthError(
                "No API key for the Anthropic provider. Set ANTHROPIC_API_KEY or pass api_key=...",
                provider=self.name,
            )
        return {
            "api_key": key,
            "base_url": self.base_url,
            "timeout": self._timeout,
            "max_retries": 0,  # the one retry layer is ours
        }

    @property
    def client(self) -> anthropic.Anthropic:
        if self._client is None:
            sdk = require("anthropic", extra="anthropic", feature="AnthropicProvider")
            self._client = sdk.Anthropic(**self._client_kwargs())
        return self._client

    @property
    def async_client(self) -> anthropic.AsyncAnthropic:
        if self._async_client is not None:
            return self._async_client
        loop = asyncio.get_running_loop()
        made = self._async_clients.get(loop)
        if made is None:
            sdk = require("anthropic", extra="anthropic", feature="AnthropicProvider")
            made = self._async_clients[loop] = sdk.AsyncAnthropic(**self._client_kwargs())
        return made

    # -- the four calls --

    def _check_installed(self) -> None:
        """Name the `anthropic` extra (which brings both) when the SDK or tenacity is missing."""
        if not self._installed:
            require("anthropic", extra="anthropic", feature="AnthropicProvider")
            if self.retry is not None:
                require("tenacity", extra="anthropic", feature="AnthropicProvider's retries")
            self._installed = True

    def _complete_once(self, request: ModelRequest) -> ModelResponse:
        params = self._params(request, stream=False)
        try:
            raw = self.client.messages.create(**params)
        except Exception as exc:
            raise self._translate(exc) from exc
        return self._response(raw)

    async def _acomplete_once(self, request: ModelRequest) -> ModelResponse:
        params = self._params(request, stream=False)
        try:
            raw = await self.async_client.messages.create(**params)
        except Exception as exc:
            raise self._translate(exc) from exc
        return self._response(raw)

    def _stream_once(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        params = self._params(request, stream=True)
        assembler = _StreamAssembler(self.model)
        try:
            with self.client.messages.create(**params) as events:
                for event in events:
                    text = assembler.add(event)
                    if text:
                        yield TextChunk(text)
        except Exception as exc:
            raise self._translate(exc) from exc
        yield self._finish(assembler)

    async def _astream_once(
        self, request: ModelRequest
    ) -> AsyncIterator[TextChunk | ModelResponse]:
        params = self._params(request, stream=True)
        assembler = _StreamAssembler(self.model)
        try:
            events = await self.async_client.messages.create(**params)
            async with events:  # closes the upstream response if we are cancelled
                async for event in events:
                    text = assembler.add(event)
                    if text:
                        yield TextChunk(text)
        except Exception as exc:
            raise self._translate(exc) from exc
        yield self._finish(assembler)

    # -- translation --

    def _params(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        system, messages = to_anthropic_messages(request.messages)
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_tokens if request.max_tokens is not None else self.max_tokens,
        }
        if system:
            params["system"] = system
        if request.tools:
            params["tools"] = [_tool(schema) for schema in request.tools]
            if not request.parallel_tool_calls:
                params["tool_choice"] = {"type": "auto", "disable_parallel_tool_use": True}
        if request.temperature is not None:
            params["temperature"] = min(request.temperature, 1.0)  # Claude's range is 0..1
        if request.timeout is not None:
            timeout = request.timeout
            params["timeout"] = timeout if self._timeout is None else min(timeout, self._timeout)
        if stream:
            params["stream"] = True
        params.update(request.extra)
        return params

    def _usage(self, model: str, prompt: int, completion: int) -> Usage:
        cost = estimate_cost(model, prompt, completion, provider_id="anthropic")
        return Usage(input_tokens=prompt, output_tokens=completion, requests=1, cost_usd=cost)

    def _response(self, raw: Any) -> ModelResponse:
        content = getattr(raw, "content", None)
        if not isinstance(content, list):
            logger.warning("Anthropic endpoint sent a non-message answer: %.500r", raw)
            raise ProviderError(
                f"The model server sent an answer that is not a message ({self.name}, model "
                f"'{self.model}'). Check base_url.",
                provider=self.name,
                status_code=200,
            )
        texts = [block.text for block in content if block.type == "text"]
        calls = [
            ToolCall(id=block.id, name=block.name, arguments=json.dumps(block.input))
            for block in content
            if block.type == "tool_use"
        ]
        model = raw.model or self.model
        usage = raw.usage
        return ModelResponse(
            message=Message.assistant("".join(texts) or None, calls),
            usage=self._usage(model, usage.input_tokens or 0, usage.output_tokens or 0),
            model=model,
            finish_reason=_finish_reason(raw.stop_reason),
            provider=self.name,
        )

    def _finish(self, assembler: _StreamAssembler) -> ModelResponse:
        if not assembler.stopped:
            logger.warning(
                "Anthropic stream ended after %d events without message_stop", assembler.events
            )
            raise ProviderError(
                f"The model server's stream ended before the answer was complete "
                f"({self.name}, model '{self.model}'). Retry; if it persists, check the "
                f"server or a proxy in between.",
                provider=self.name,
            )
        return ModelResponse(
            message=assembler.message(),
            usage=self._usage(assembler.model, assembler.input_tokens, assembler.output_tokens),
            model=assembler.model,
            finish_reason=_finish_reason(assembler.stop_reason),
            provider=self.name,
        )

    def _translate(self, exc: Exception) -> Exception:
        return translate_anthropic_error(exc, provider=self.name, model=self.model)


def _finish_reason(stop_reason: str | None) -> str | None:
    """Anthropic's stop reasons in the OpenAI words the rest of selectools uses."""
    return {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}.get(
        stop_reason or "", stop_reason
    )


def _tool(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI function tool schema as an Anthropic tool."""
    function = schema.get("function", schema)
    tool: dict[str, Any] = {
        "name": function["name"],
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        tool["description"] = function["description"]
    return tool


def to_anthropic_messages(
    messages: Sequence[Message],
) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages): tool results join one user turn; same roles merge."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system.append(message.content or "")
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return "\n\n".join(s for s in system if s), turns


def _blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id or "",
                "content": message.content or "",
            }
        ]
    blocks = [_part_block(part) for part in message.content_parts()]
    for call in message.tool_calls:
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": _input(call)})
    return blocks


def _input(call: ToolCall) -> dict[str, Any]:
    try:
        value = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        value = None
    # Claude takes an object; broken JSON from an earlier turn is kept, not silently emptied.
    return value if isinstance(value, dict) else {"_raw_arguments": call.arguments}


def _part_block(part: ContentPart) -> dict[str, Any]:
    if part.type == "text":
        return {"type": "text", "text": part.text or ""}
    if part.type == "image":
        if part.url is not None:
            return {"type": "image", "source": {"type": "url", "url": part.url}}
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
        return {"type": "image", "source": source}
    if part.media_type == "application/pdf":
        block: dict[str, Any] = {
            "type": "document",
            "source": {"type": "base64", "media_type": part.media_type, "data": part.data},
        }
    elif part.media_type == "text/plain":
        text = part.raw_bytes().decode("utf-8", "replace")
        block = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": text},
        }
    else:
        raise UnsupportedContentError(
            f"Anthropic models take PDF and plain-text files, not {part.media_type!r} "
            f"({part.filename or 'a file'}). Convert it, or send its text."
        )
    if part.filename:
        block["title"] = part.filename
    return block


class _StreamAssembler:
    """Rebuild the message from raw stream events; tool input arrives as JSON pieces."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.blocks: dict[int, dict[str, Any]] = {}
        self.input_tokens = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None
        self.stopped = False
        self.events = 0

    def add(self, event: Any) -> str:
        self.events += 1
        kind = event.type
        if kind == "message_start":
            self.model = event.message.model or self.model
            self.input_tokens = event.message.usage.input_tokens or 0
            self.output_tokens = event.message.usage.output_tokens or 0
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "tool_use":
                self.blocks[event.index] = {"id": block.id, "name": block.name, "json": []}
            elif block.type == "text":
                self.blocks[event.index] = {"text": [block.text] if block.text else []}
        elif kind == "content_block_delta":
            slot = self.blocks.get(event.index)
            delta = event.delta
            if slot is not None and delta.type == "text_delta":
                slot["text"].append(delta.text)
                return str(delta.text)
            if slot is not None and delta.type == "input_json_delta":
                slot["json"].append(delta.partial_json)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            if event.usage is not None and event.usage.output_tokens is not None:
                self.output_tokens = event.usage.output_tokens
        elif kind == "message_stop":
            self.stopped = True
        return ""

    def message(self) -> Message:
        texts: list[str] = []
        calls: list[ToolCall] = []
        for _, slot in sorted(self.blocks.items()):
            if "text" in slot:
                texts.extend(slot["text"])
            else:
                arguments = "".join(slot["json"]) or "{}"
                calls.append(ToolCall(id=slot["id"], name=slot["name"], arguments=arguments))
        return Message.assistant("".join(texts) or None, calls)


def translate_anthropic_error(exc: Exception, *, provider: str, model: str) -> Exception:
    """Map what the `anthropic` SDK raised to a selectools ProviderError with our own words.

    The upstream's text goes to the log and `error.detail`, never into the message.
    """
    import anthropic
    import httpx

    if isinstance(exc, httpx.TransportError):
        return ProviderConnectionError(
            f"The connection to the model server ({provider}) broke off mid-answer "
            f"({type(exc).__name__}). Retry, or check the server.",
            provider=provider,
        )
    if not isinstance(exc, anthropic.AnthropicError):
        return exc
    status = getattr(exc, "status_code", None)
    kind, detail = _error_body(exc)
    logger.warning("Anthropic error (%s, HTTP %s, %s): %s", provider, status, kind, detail)
    error: ProviderError
    if isinstance(exc, anthropic.APITimeoutError):
        error = ProviderTimeoutError(
            f"The model server did not answer in time ({provider}, model '{model}'). "
            f"Retry, or raise the provider's timeout.",
            provider=provider,
        )
    elif isinstance(exc, anthropic.APIConnectionError):
        error = ProviderConnectionError(
            f"Could not reach the model server ({provider}). Check base_url and the network.",
            provider=provider,
        )
    elif isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        error = ProviderAuthError(
            f"The model server rejected the API key (HTTP {status}). "
            f"Check ANTHROPIC_API_KEY or the api_key argument.",
            provider=provider,
            status_code=status,
        )
    elif isinstance(exc, anthropic.RateLimitError) or kind == "rate_limit_error":
        error = RateLimitError(
            "The model server is rate limiting requests (HTTP 429). Retry after a pause.",
            provider=provider,
            retry_after=_retry_after(exc),
        )
    elif status == 529 or kind == "overloaded_error":
        error = ProviderError(  # retryable: the Retry policy treats 5xx as transient
            f"The model server is overloaded ({provider}, model '{model}'). Retry shortly, "
            f"or add a FallbackProvider.",
            provider=provider,
            status_code=529,
        )
    elif "prompt is too long" in detail.lower() or (
        "context" in detail.lower() and ("window" in detail.lower() or "length" in detail.lower())
    ):
        error = ContextLengthError(
            f"The conversation is too long for model '{model}'. Shorten the input "
            f"or use ConversationMemory(max_tokens=...) to trim history.",
            provider=provider,
            status_code=status,
        )
    elif isinstance(exc, anthropic.BadRequestError):
        error = ProviderError(
            f"The model server refused the request as invalid (HTTP 400, model '{model}'). "
            f"Check the messages, tools and settings sent.",
            provider=provider,
            status_code=400,
        )
    else:
        error = ProviderError(
            f"The model server failed (HTTP {status}) for model '{model}'. Retry, or check "
            f"the server's status.",
            provider=provider,
            status_code=status if isinstance(status, int) and status != 200 else None,
        )
    error.detail = detail
    return error


def _error_body(exc: Exception) -> tuple[str, str]:
    """(error type, upstream message) from `{"type": "error", "error": {...}}`."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            return str(inner.get("type", "")), str(inner.get("message", ""))
    return "", str(getattr(exc, "message", None) or exc)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
