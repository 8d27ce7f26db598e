"""Amazon Bedrock through boto3's `bedrock-runtime` Converse and ConverseStream APIs."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..bridge import run_in_thread
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
from .base import ModelRequest, ModelResponse, TextChunk, close_stream
from .retried import RetriedCalls

if TYPE_CHECKING:
    from ..policies.retry import Retry

__all__ = ["BedrockProvider", "to_converse_messages"]

logger = logging.getLogger("selectools.providers.bedrock")

DEFAULT_MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_DOC_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/html": "html",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


class BedrockProvider(RetriedCalls):
    """Models on Amazon Bedrock (Claude, Llama, Nova, Mistral...) through the Converse API.

    `pip install -e ".[bedrock]"`. Credentials and region come from boto3's
    usual chain (environment, profile, role) or `region_name=`/`client=`;
    `endpoint_url` reaches a VPC endpoint or a test server. Tool use,
    parallel tool calls, streaming (ConverseStream), images and documents
    are mapped to Converse blocks; an image given as an http URL is refused
    (`UnsupportedContentError`): Bedrock needs the bytes.

    Errors are ours: ThrottlingException -> `RateLimitError`, AccessDenied /
    UnrecognizedClient -> `ProviderAuthError`, a too-long input ->
    `ContextLengthError`, other ValidationExceptions -> `ProviderError` (400),
    ModelTimeout -> `ProviderTimeoutError`, 5xx -> a retryable `ProviderError`.
    botocore never retries (one attempt): `max_retries=`/`retry=` is the one layer.
    boto3 is synchronous; the async calls run it in worker threads.
    """

    structured_output = "tool"  # the final_answer tool, not forced (selectools.structured)

    def __init__(
        self,
        model: str | None = None,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        retry: Retry | None = None,
        name: str = "bedrock",
        client: Any | None = None,
    ) -> None:
        self.name = name
        self.model = model or os.environ.get("SELECTOOLS_BEDROCK_MODEL") or DEFAULT_MODEL
        self.region_name = region_name
        self.endpoint_url = endpoint_url
        self._timeout = timeout
        if retry is None and max_retries > 0:
            from ..policies.retry import Retry

            retry = Retry(attempts=max_retries + 1)
        self.retry = retry
        self._installed = False
        self._client = client

    def __repr__(self) -> str:
        return f"BedrockProvider(model={self.model!r}, region_name={self.region_name!r})"

    @property
    def client(self) -> Any:
        if self._client is None:
            boto3 = require("boto3", extra="bedrock", feature="BedrockProvider")
            from botocore.config import Config

            config = Config(
                retries={"total_max_attempts": 1},  # the one retry layer is ours
                read_timeout=self._timeout or 60,
                connect_timeout=min(self._timeout or 10, 10),
            )
            self._client = boto3.client(
                "bedrock-runtime",
                region_name=self.region_name or os.environ.get("AWS_REGION") or "us-east-1",
                endpoint_url=self.endpoint_url,
                config=config,
            )
        return self._client

    # -- the four calls --

    def _check_installed(self) -> None:
        """Name the `bedrock` extra (which brings both) when the SDK or tenacity is missing."""
        if not self._installed:
            require("boto3", extra="bedrock", feature="BedrockProvider")
            if self.retry is not None:
                require("tenacity", extra="bedrock", feature="BedrockProvider's retries")
            self._installed = True

    def _complete_once(self, request: ModelRequest) -> ModelResponse:
        params = self._params(request)
        try:
            raw = self.client.converse(**params)
        except Exception as exc:
            raise self._translate(exc) from exc
        return self._response(raw)

    async def _acomplete_once(self, request: ModelRequest) -> ModelResponse:
        return await run_in_thread(self._complete_once, request)

    def _stream_once(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        params = self._params(request)
        assembler = _StreamAssembler()
        try:
            events = self.client.converse_stream(**params)["stream"]
            try:
                for event in events:
                    text = assembler.add(event)
                    if text:
                        yield TextChunk(text)
            finally:
                events.close()
        except Exception as exc:
            raise self._translate(exc) from exc
        yield self._finish(assembler)

    async def _astream_once(
        self, request: ModelRequest
    ) -> AsyncIterator[TextChunk | ModelResponse]:
        items = self._stream_once(request)
        done = object()
        try:
            while True:
                item = await run_in_thread(next, items, done)
                if item is done:
                    break
                yield item
        finally:
            close_stream(items)

    # -- translation --

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        system, messages = to_converse_messages(request.messages)
        params: dict[str, Any] = {"modelId": self.model, "messages": messages}
        if system:
            params["system"] = [{"text": system}]
        inference: dict[str, Any] = {}
        if request.max_tokens is not None:
            inference["maxTokens"] = request.max_tokens
        if request.temperature is not None:
            inference["temperature"] = min(request.temperature, 1.0)
        if inference:
            params["inferenceConfig"] = inference
        if request.tools:
            params["toolConfig"] = {"tools": [_tool_spec(schema) for schema in request.tools]}
        params.update(request.extra)
        return params

    def _usage(self, prompt: int, completion: int) -> Usage:
        cost = estimate_cost(self.model, prompt, completion, provider_id="aws")
        return Usage(input_tokens=prompt, output_tokens=completion, requests=1, cost_usd=cost)

    def _response(self, raw: Mapping[str, Any]) -> ModelResponse:
        message = (raw.get("output") or {}).get("message")
        if not isinstance(message, Mapping):
            raise ProviderError(
                f"Bedrock sent an answer without a message ({self.name}, model '{self.model}').",
                provider=self.name,
            )
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.get("content") or ():
            if "text" in block:
                texts.append(block["text"])
            elif "toolUse" in block:
                use = block["toolUse"]
                calls.append(
                    ToolCall(
                        id=use["toolUseId"], name=use["name"], arguments=json.dumps(use["input"])
                    )
                )
        usage = raw.get("usage") or {}
        return ModelResponse(
            message=Message.assistant("".join(texts) or None, calls),
            usage=self._usage(usage.get("inputTokens", 0), usage.get("outputTokens", 0)),
            model=self.model,
            finish_reason=_finish_reason(raw.get("stopReason")),
            provider=self.name,
        )

    def _finish(self, assembler: _StreamAssembler) -> ModelResponse:
        if assembler.stop_reason is None:
            raise ProviderError(
                f"Bedrock's stream ended before the answer was complete ({self.name}, model "
                f"'{self.model}'). Retry; if it persists, check the endpoint.",
                provider=self.name,
            )
        return ModelResponse(
            message=assembler.message(),
            usage=self._usage(assembler.input_tokens, assembler.output_tokens),
            model=self.model,
            finish_reason=_finish_reason(assembler.stop_reason),
            provider=self.name,
        )

    def _translate(self, exc: Exception) -> Exception:
        return translate_bedrock_error(exc, provider=self.name, model=self.model)


def _finish_reason(stop: str | None) -> str | None:
    return {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}.get(
        stop or "", stop
    )


def _tool_spec(schema: Mapping[str, Any]) -> dict[str, Any]:
    function = schema.get("function", schema)
    spec: dict[str, Any] = {
        "name": function["name"],
        "inputSchema": {"json": function.get("parameters") or {"type": "object"}},
    }
    if function.get("description"):
        spec["description"] = function["description"]
    return {"toolSpec": spec}


def to_converse_messages(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, Converse messages): tool results join one user turn; same roles merge."""
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
        result = {
            "toolUseId": message.tool_call_id or "",
            "content": [{"text": message.content or ""}],
        }
        return [{"toolResult": result}]
    blocks = [_part_block(part) for part in message.content_parts()]
    for call in message.tool_calls:
        try:
            value = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            value = None
        arguments = value if isinstance(value, dict) else {"_raw_arguments": call.arguments}
        blocks.append({"toolUse": {"toolUseId": call.id, "name": call.name, "input": arguments}})
    return blocks


def _part_block(part: ContentPart) -> dict[str, Any]:
    if part.type == "text":
        return {"text": part.text or ""}
    if part.type == "image":
        fmt = _IMAGE_FORMATS.get(part.media_type or "")
        if part.url is not None or fmt is None:
            raise UnsupportedContentError(
                "Bedrock takes images as png, jpeg, gif or webp bytes"
                + (f", not a URL ({part.url[:60]!r})" if part.url else f", not {part.media_type!r}")
                + ". Pass ContentPart.image(data=..., media_type=...)."
            )
        return {"image": {"format": fmt, "source": {"bytes": part.raw_bytes()}}}
    fmt = _DOC_FORMATS.get(part.media_type or "")
    if fmt is None:
        raise UnsupportedContentError(
            f"Bedrock does not take {part.media_type!r} documents; it takes "
            f"{', '.join(sorted(set(_DOC_FORMATS.values())))}."
        )
    name = (part.filename or "document").rsplit(".", 1)[0]
    name = "".join(c if c.isalnum() or c in " -()[]" else " " for c in name).strip() or "document"
    return {"document": {"format": fmt, "name": name, "source": {"bytes": part.raw_bytes()}}}


class _StreamAssembler:
    """Rebuild the message from ConverseStream events; tool input arrives as JSON pieces."""

    def __init__(self) -> None:
        self.blocks: dict[int, dict[str, Any]] = {}
        self.stop_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0

    def add(self, event: Mapping[str, Any]) -> str:
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            use = (start.get("start") or {}).get("toolUse")
            if use is not None:
                slot = {"id": use["toolUseId"], "name": use["name"], "json": []}
                self.blocks[start["contentBlockIndex"]] = slot
        elif "contentBlockDelta" in event:
            body = event["contentBlockDelta"]
            delta = body.get("delta") or {}
            index = body.get("contentBlockIndex", 0)
            if "text" in delta:
                self.blocks.setdefault(index, {"text": []})["text"].append(delta["text"])
                return str(delta["text"])
            if "toolUse" in delta and index in self.blocks:
                self.blocks[index]["json"].append(delta["toolUse"].get("input", ""))
        elif "messageStop" in event:
            self.stop_reason = event["messageStop"].get("stopReason")
        elif "metadata" in event:
            usage = event["metadata"].get("usage") or {}
            self.input_tokens = usage.get("inputTokens", 0)
            self.output_tokens = usage.get("outputTokens", 0)
        return ""

    def message(self) -> Message:
        texts: list[str] = []
        calls: list[ToolCall] = []
        for _, slot in sorted(self.blocks.items()):
            if "text" in slot:
                texts.extend(slot["text"])
            else:
                calls.append(
                    ToolCall(
                        id=slot["id"], name=slot["name"], arguments="".join(slot["json"]) or "{}"
                    )
                )
        return Message.assistant("".join(texts) or None, calls)


_AUTH_CODES = {
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "IncompleteSignature",
}
_THROTTLED = {"ThrottlingException", "throttlingException", "TooManyRequestsException"}


def translate_bedrock_error(exc: Exception, *, provider: str, model: str) -> Exception:
    """Map what botocore raised (also mid-stream) to a selectools ProviderError, our words."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        EventStreamError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        return ProviderTimeoutError(
            f"Bedrock did not answer in time ({provider}, model '{model}'). Retry, or raise "
            f"the provider's timeout.",
            provider=provider,
        )
    if isinstance(exc, EndpointConnectionError):
        return ProviderConnectionError(
            f"Could not reach Bedrock ({provider}). Check the region, endpoint_url and network.",
            provider=provider,
        )
    if isinstance(exc, NoCredentialsError):
        return ProviderAuthError(
            "No AWS credentials for Bedrock. Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a "
            "profile, or a role.",
            provider=provider,
        )
    if not isinstance(exc, ClientError):  # EventStreamError is a ClientError too
        return exc
    error = exc.response.get("Error") or {}
    code = str(error.get("Code", ""))
    detail = str(error.get("Message", ""))
    status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    if isinstance(exc, EventStreamError) and not status:
        status = None
    logger.warning("Bedrock error (%s, %s, HTTP %s): %s", provider, code, status, detail)
    result: ProviderError
    if code in _AUTH_CODES:
        result = ProviderAuthError(
            f"Bedrock refused the credentials or access to model '{model}' ({code}). Check "
            f"the IAM policy (bedrock:InvokeModel) and that the model is enabled in the region.",
            provider=provider,
            status_code=status or 403,
        )
    elif code in _THROTTLED or code == "ServiceQuotaExceededException":
        result = RateLimitError(
            "Bedrock is throttling requests (ThrottlingException). Retry after a pause.",
            provider=provider,
        )
    elif code in ("ModelTimeoutException", "modelTimeoutException"):
        result = ProviderTimeoutError(
            f"The model on Bedrock did not answer in time (model '{model}'). Retry.",
            provider=provider,
        )
    elif code in ("ValidationException", "validationException") and _too_long(detail):
        result = ContextLengthError(
            f"The conversation is too long for model '{model}'. Shorten the input "
            f"or use ConversationMemory(max_tokens=...) to trim history.",
            provider=provider,
            status_code=400,
        )
    elif code in ("ValidationException", "validationException"):
        result = ProviderError(
            f"Bedrock refused the request as invalid (model '{model}'). Check the model id, "
            f"messages, tools and settings sent.",
            provider=provider,
            status_code=400,
        )
    elif code == "ResourceNotFoundException":
        result = ProviderError(
            f"Bedrock has no model '{model}' here. Check the model id and region.",
            provider=provider,
            status_code=404,
        )
    else:
        unavailable = status if isinstance(status, int) and status >= 500 else 503
        result = ProviderError(  # 5xx, or a stream exception: retryable
            f"Bedrock failed ({code or 'error'}) for model '{model}'. Retry, or check the "
            f"service's health.",
            provider=provider,
            status_code=unavailable,
        )
    result.detail = detail
    return result


def _too_long(detail: str) -> bool:
    text = detail.lower()
    return (
        "too long" in text
        or "too many input tokens" in text
        or ("context" in text and ("length" in text or "window" in text))
    )
