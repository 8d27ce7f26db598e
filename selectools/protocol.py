"""The wire format both web adapters speak: JSON bodies, SSE frames, OpenAI-compatible shapes.

Defined once here so a client written against the FastAPI router works
unchanged against the Flask blueprint. Imports pydantic; the core does not
import this module, only the adapters do.

SSE stream contract: `run_started`, then any of `text_delta`,
`tool_call_started`, `tool_call_finished`, then exactly one terminating
`run_finished` or `error`. `run_finished.output` repeats the whole text:
a client that renders the deltas must not append it. Lines starting with
`:` are keep-alive comments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import SelectoolsError
from .events import RunFailed
from .results import AgentResult

__all__ = [
    "BatchItem",
    "BatchRequest",
    "BatchResponse",
    "ChatCompletionRequest",
    "ErrorResponse",
    "InvokeRequest",
    "InvokeResponse",
    "MessageIn",
    "RunOptions",
    "SessionResponse",
    "ToolInfo",
    "ToolsResponse",
    "chat_completion",
    "chat_completion_chunk",
    "error_response",
    "models_response",
    "sse_comment",
    "sse_frame",
    "validation_error_response",
]


class MessageIn(BaseModel):
    """A chat message as clients send it (OpenAI shape)."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None


class RunOptions(BaseModel):
    """Per-request settings a client may choose; the server's limits still cap them."""

    model_config = ConfigDict(extra="forbid")

    max_iterations: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    parallel_tool_calls: bool | None = None

    def overrides(self, max_iterations_cap: int) -> dict[str, Any]:
        chosen = self.model_dump(exclude_none=True)
        if "max_iterations" in chosen:
            chosen["max_iterations"] = min(chosen["max_iterations"], max_iterations_cap)
        return chosen


class InvokeRequest(BaseModel):
    """Body of `/invoke` and `/stream`."""

    model_config = ConfigDict(extra="forbid")

    input: str | list[MessageIn] = Field(
        description="A prompt, or a list of chat messages in the OpenAI shape."
    )
    session_id: str | None = Field(
        default=None, min_length=1, max_length=255, description="Continue this conversation."
    )
    config: RunOptions | None = None

    def input_chars(self) -> int:
        if isinstance(self.input, str):
            return len(self.input)
        return sum(len(json.dumps(m.content)) for m in self.input)

    def run_input(self) -> str | list[dict[str, Any]]:
        if isinstance(self.input, str):
            return self.input
        return [m.model_dump(exclude_none=True) for m in self.input]


class ToolCallOut(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str
    output: str
    error: str | None
    error_type: str | None
    duration_ms: float


class UsageOut(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    requests: int
    cost_usd: float | None


class InvokeResponse(BaseModel):
    run_id: str
    session_id: str | None
    output: str
    model: str
    iterations: int
    tool_calls: list[ToolCallOut]
    usage: UsageOut
    cost_usd: float | None

    @classmethod
    def of(cls, result: AgentResult) -> InvokeResponse:
        return cls.model_validate(result.to_dict())


class BatchRequest(BaseModel):
    """Body of `/batch`: several independent runs."""

    model_config = ConfigDict(extra="forbid")

    inputs: list[InvokeRequest] = Field(min_length=1)


class ErrorDetail(BaseModel):
    type: str
    message: str
    fields: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class BatchItem(BaseModel):
    """One batch result: `result` or `error`, never both."""

    index: int
    status: int
    result: InvokeResponse | None = None
    error: ErrorDetail | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem]


class ToolInfo(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]


class ToolsResponse(BaseModel):
    tools: list[ToolInfo]


class SessionResponse(BaseModel):
    session_id: str
    messages: list[dict[str, Any]]


class ChatCompletionRequest(BaseModel):
    """The subset of OpenAI's chat-completions body the agent honours (extras ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[MessageIn] = Field(min_length=1)
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stream_options: dict[str, Any] | None = None

    def run_input(self) -> list[dict[str, Any]]:
        return [m.model_dump(exclude_none=True) for m in self.messages]

    def overrides(self) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        if self.temperature is not None:
            chosen["temperature"] = self.temperature
        tokens = self.max_completion_tokens or self.max_tokens
        if tokens is not None:
            chosen["max_tokens"] = tokens
        return chosen

    def input_chars(self) -> int:
        return sum(len(json.dumps(m.content)) for m in self.messages)


# -- errors --------------------------------------------------------------------------


def error_response(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and headers for any exception; unknown ones reveal nothing."""
    failed = RunFailed.from_exception("", exc)
    headers = exc.http_headers if isinstance(exc, SelectoolsError) else {}
    return failed.status, error_body(failed.error_type, failed.message), headers


def error_body(
    kind: str, message: str, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"type": kind, "message": message}
    if fields is not None:
        detail["fields"] = fields
    return {"error": detail}


def validation_error_response(errors: list[Any] | ValidationError) -> dict[str, Any]:
    """422 body that names each bad field and what is wrong with it."""
    items = errors.errors(include_url=False) if isinstance(errors, ValidationError) else errors
    fields = [
        {"loc": [str(p) for p in item.get("loc", ())], "message": str(item.get("msg", ""))}
        for item in items
    ]
    summary = "; ".join(f"{'.'.join(f['loc']) or 'body'}: {f['message']}" for f in fields)
    return error_body("invalid_request", f"The request body is invalid: {summary}.", fields)


def failed_event_dict(exc: BaseException, run_id: str = "") -> dict[str, Any]:
    return RunFailed.from_exception(run_id, exc).to_dict()


# -- SSE -----------------------------------------------------------------------------


def sse_frame(data: Mapping[str, Any], *, event: str | None = None) -> str:
    """One Server-Sent Event; the event name is the payload's `type` unless given."""
    name = event or str(data.get("type", "message"))
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def sse_comment(text: str = "keep-alive") -> str:
    return f": {text}\n\n"


def sse_error(exc: BaseException, run_id: str = "") -> str:
    return sse_frame(failed_event_dict(exc, run_id))


# -- OpenAI compatibility ------------------------------------------------------------


def models_response(model_name: str) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": model_name, "object": "model", "created": 0, "owned_by": "selectools"}],
    }


def chat_completion(result: AgentResult, model_name: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{result.run_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_name,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.text},
                "finish_reason": "stop",
            }
        ],
        "usage": _openai_usage(result),
    }


def chat_completion_chunk(
    run_id: str,
    model_name: str,
    *,
    content: str | None = None,
    role: bool = False,
    finish: bool = False,
    result: AgentResult | None = None,
) -> str:
    """One `data:` line of an OpenAI stream; `result` makes it the usage-only chunk."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    chunk: dict[str, Any] = {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model_name,
        "choices": []
        if result is not None
        else [{"index": 0, "delta": delta, "finish_reason": "stop" if finish else None}],
    }
    if result is not None:
        chunk["usage"] = _openai_usage(result)
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


OPENAI_DONE = "data: [DONE]\n\n"


def _openai_usage(result: AgentResult) -> dict[str, int]:
    return {
        "prompt_tokens": result.usage.input_tokens,
        "completion_tokens": result.usage.output_tokens,
        "total_tokens": result.usage.total_tokens,
    }
