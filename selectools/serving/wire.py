"""The wire format both web adapters speak: JSON bodies, SSE events, OpenAI-compatible shapes.

These pydantic models parse every request and build every answer, so a
client written against the FastAPI router works unchanged against the Flask
blueprint, and the OpenAPI schema is what the server really does.

SSE stream contract: `run_started`, then any of `text_delta`,
`tool_call_started`, `tool_progress`, `tool_call_finished`, then exactly one terminating
`run_finished` or `error`. A run that pauses for approval sends `approval_required`
just before its `run_finished` (status "awaiting_approval"); a resumed run's stream
(`POST {prefix}/approvals/{id}/stream`) sends one `approval_decided` per call after
`run_started`. `run_finished.output` repeats the whole text:
a client that renders the deltas must not append it. Lines starting with
`:` are keep-alive comments.

Session ids are 1 to 128 characters of `A-Z a-z 0-9 . _ : -` (422 otherwise).

Models build their validators with their first use (`defer_build=True`), not at
import: importing an adapter stays light, and an app builds only the models of
the routes it serves. A FastAPI router calls `build_bodies()` before declaring
its routes: FastAPI wraps a body model in its own adapter, which must find the
model built (a deferred one is rebuilt at the first request, with a warning).
"""

import time
from typing import Annotated, Any, Literal, Self, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    TypeAdapter,
    computed_field,
    field_validator,
    model_serializer,
    model_validator,
)

from ..approval.records import Decision, Decisions
from ..content import parse_part
from ..errors import InvalidInputError
from ..events import (
    ApprovalDecided,
    ApprovalRequested,
    Event,
    RunFailed,
    RunFinished,
    RunStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
)
from ..messages import NO_INPUT, Message, ToolCall
from ..results import AgentResult
from ..structured import check_output_schema
from ..usage import Usage

__all__ = [
    "APPROVAL_ID_PATTERN",
    "FilterText",
    "ERROR_STATUSES",
    "ApprovalDecidedEvent",
    "ApprovalRequiredEvent",
    "CallDecision",
    "DecisionRequest",
    "PendingCallOut",
    "FALLBACK_ANSWER",
    "SESSION_ID_PATTERN",
    "BatchItem",
    "BatchRequest",
    "BatchResponse",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ErrorDetail",
    "ErrorEvent",
    "ErrorResponse",
    "InvokeRequest",
    "InvokeResponse",
    "MessageIn",
    "ModelList",
    "RunFinishedEvent",
    "RunOptions",
    "RunStartedEvent",
    "SessionId",
    "SessionResponse",
    "StreamEvent",
    "TextDeltaEvent",
    "ToolCallFinishedEvent",
    "ToolCallStartedEvent",
    "ToolProgressEvent",
    "ToolInfo",
    "ToolsResponse",
    "build_bodies",
    "event_out",
]

SESSION_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"

ERROR_STATUSES = {  # every error status an agent route answers, for API docs
    400: "Unsupported request: client-side tools sent to /v1/chat/completions",
    404: "Unknown session or approval, or not yours",
    409: "The approval was already decided",
    413: "Body, input or batch over the limit",
    422: "Invalid request (`error.fields` names each field), or a guardrail refused the input "
    "or the answer (`guardrail_refused`)",
    429: "Over a rate limit or daily quota, or the model provider is rate limiting "
    "(see Retry-After)",
    500: "An unexpected failure (logged; the answer reveals nothing)",
    502: "The model provider failed or rejected our credentials",
    503: "The model provider is overloaded or unavailable, or every provider is down or "
    "switched off by a circuit breaker (see Retry-After)",
    504: "The run or the provider timed out",
}
NO_NUL = r"^[^\x00]*$"  # text a database stores: NUL is the one character they refuse

FilterText = Annotated[
    str,
    Field(
        max_length=255,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Up to 255 characters, no control characters.",
    ),
]
"""A query filter (a session, tool or identity to match): databases refuse NUL."""

SessionId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=SESSION_ID_PATTERN,
        description="1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'.",
        examples=["user-42:support"],
    ),
]
session_id_adapter: TypeAdapter[str] = TypeAdapter(SessionId)
APPROVAL_ID_PATTERN = r"^apr_[0-9a-f]{32}$"


# -- requests ------------------------------------------------------------------------


class FunctionCallIn(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str = Field(min_length=1)
    arguments: str | dict[str, Any] = ""


class ToolCallIn(BaseModel):
    """An assistant's earlier tool call, as OpenAI clients send it back."""

    model_config = ConfigDict(defer_build=True)

    id: str
    type: Literal["function"] = "function"
    function: FunctionCallIn

    def to_call(self) -> ToolCall:
        arguments = self.function.arguments
        if not isinstance(arguments, str):
            import json

            arguments = json.dumps(arguments)
        return ToolCall(id=self.id, name=self.function.name, arguments=arguments)


class ContentPart(BaseModel):
    """One content part (OpenAI shape: text, image_url, file; or Anthropic's image, document).

    Images and files reach the model as `selectools.ContentPart`s; a part type
    nobody can carry is a 422, never silently dropped.
    """

    model_config = ConfigDict(defer_build=True, extra="allow")

    type: str
    text: str | None = None


class MessageIn(BaseModel):
    """A chat message as clients send it (OpenAI shape; unknown keys are ignored)."""

    model_config = ConfigDict(defer_build=True)

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _tool_results_name_their_call(self) -> Self:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a 'tool' message needs the 'tool_call_id' of the call it answers")
        return self

    def text(self) -> str | None:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content

    def chars(self) -> int:
        calls = sum(
            len(c.function.name) + len(str(c.function.arguments)) for c in self.tool_calls or ()
        )
        return len(self.text() or "") + calls

    def to_message(self) -> Message:
        calls = tuple(call.to_call() for call in self.tool_calls or ())
        parts: tuple[Any, ...] = ()
        if isinstance(self.content, list):
            parsed = tuple(parse_part(p.model_dump(exclude_none=True)) for p in self.content)
            parts = parsed if any(p.is_media for p in parsed) else ()
        return Message(self.role, self.text(), calls, self.tool_call_id, self.name, parts)


class RunOptions(BaseModel):
    """Per-request settings a client may choose; the server's limits still cap them."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

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
    """Body of `/invoke` and `/stream`, and each input of `/batch`."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    input: str | list[MessageIn] = Field(
        description="A prompt, or a list of chat messages in the OpenAI shape (at least one)."
    )
    session_id: SessionId | None = Field(default=None, description="Continue this conversation.")
    config: RunOptions | None = None
    output_schema: dict[str, Any] | None = Field(
        default=None,
        description="A JSON Schema the answer must fit: the model is asked for it, an invalid "
        "answer is repaired, and the validated value comes back as `parsed` (`output` is its "
        "JSON). An answer that never fits is a 502 `output_validation_error`.",
    )

    @field_validator("output_schema")
    @classmethod
    def _a_real_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            check_output_schema(value)
        return value

    def input_chars(self) -> int:
        if isinstance(self.input, str):
            return len(self.input)
        return sum(m.chars() for m in self.input)

    def run_input(self) -> str | list[Message]:
        if isinstance(self.input, str):
            return self.input
        if not self.input:
            raise InvalidInputError(NO_INPUT)
        return [m.to_message() for m in self.input]


class CallDecision(BaseModel):
    """The decision for one pending call."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    approve: StrictBool
    reason: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class DecisionRequest(BaseModel):
    """Body of `POST /approvals/{id}`: one decision for every pending call, or one per call."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    approve: StrictBool | None = Field(
        default=None, description="Approve (true) or reject (false) every pending call."
    )
    reason: str | None = Field(
        default=None,
        max_length=2000,
        pattern=NO_NUL,
        description="Why; the model reads it on rejection (no NUL characters).",
    )
    decisions: dict[str, CallDecision] | None = Field(
        default=None, description="Per pending call id, instead of `approve`."
    )

    @model_validator(mode="after")
    def _one_way_to_decide(self) -> Self:
        if (self.approve is None) == (self.decisions is None):
            raise ValueError("send either 'approve' (true or false) or 'decisions', not both")
        return self

    def to_decisions(self) -> Decisions:
        if self.decisions is not None:
            return {k: Decision(d.approve, d.reason) for k, d in self.decisions.items()}
        return Decision(bool(self.approve), self.reason)


class BatchRequest(BaseModel):
    """Body of `/batch`: several independent runs."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    inputs: list[InvokeRequest] = Field(min_length=1)


def build_bodies() -> None:
    """Build the request models FastAPI wraps as route bodies (a no-op once built).

    Built, a model also stops asking to be deferred: FastAPI's adapter around it
    reads that flag and would otherwise defer itself to the first request.
    """
    for model in (InvokeRequest, DecisionRequest, BatchRequest, ChatCompletionRequest):
        if not model.__pydantic_complete__:
            model.model_rebuild()
        model.model_config["defer_build"] = False


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str = Field(default="output", max_length=64)
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None

    @field_validator("schema_")
    @classmethod
    def _a_real_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_output_schema(value)
        return value


class ResponseFormat(BaseModel):
    """OpenAI's `response_format`."""

    model_config = ConfigDict(defer_build=True)

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> Self:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format type 'json_schema' needs 'json_schema'")
        return self


class ChatCompletionRequest(BaseModel):
    """The subset of OpenAI's chat-completions body the agent honours (other keys ignored,
    except client-side tools, which are refused: see `check_supported`)."""

    model_config = ConfigDict(defer_build=True)

    model: str | None = None
    messages: list[MessageIn] = Field(min_length=1)
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stream_options: dict[str, Any] | None = None
    tools: list[Any] | None = Field(default=None, description="Refused unless empty (400).")
    functions: list[Any] | None = Field(default=None, description="Refused unless empty (400).")
    tool_choice: Any = Field(default=None, description='Only "auto" or "none" (else 400).')
    response_format: ResponseFormat | None = Field(
        default=None,
        description='{"type": "json_schema", "json_schema": {"name", "schema"}} makes the '
        'answer fit the schema (repaired when invalid); {"type": "json_object"} any JSON object.',
    )

    def output_type(self) -> dict[str, Any] | None:
        """The JSON Schema `response_format` asks for (None: free text)."""
        if self.response_format is None or self.response_format.type == "text":
            return None
        if self.response_format.type == "json_object":
            return {"type": "object"}
        assert self.response_format.json_schema is not None
        schema = dict(self.response_format.json_schema.schema_)
        schema.setdefault("title", self.response_format.json_schema.name)
        return schema

    def check_supported(self) -> None:
        """Client-side tools would be silently ignored (the agent runs its own): refuse them."""
        from .errors import UnsupportedRequestError

        if self.tools or self.functions or self.tool_choice not in (None, "auto", "none"):
            raise UnsupportedRequestError(
                "This endpoint answers with the agent's own server-side tools; client-side "
                "tools ('tools', 'functions', 'tool_choice') are not supported. Send the "
                "messages without them (GET the agent's /tools route to see what it can call)."
            )

    def run_input(self) -> list[Message]:
        return [m.to_message() for m in self.messages]

    def overrides(self) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        if self.temperature is not None:
            chosen["temperature"] = self.temperature
        tokens = self.max_completion_tokens or self.max_tokens
        if tokens is not None:
            chosen["max_tokens"] = tokens
        return chosen

    def input_chars(self) -> int:
        return sum(m.chars() for m in self.messages)

    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


# -- answers -------------------------------------------------------------------------


class ToolCallOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str
    output: str
    error: str | None
    error_type: str | None
    duration_ms: float


class UsageOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    input_tokens: int
    output_tokens: int
    total_tokens: int
    requests: int
    cost_usd: float | None
    cache_hits: int = Field(default=0, description="Model calls a response cache answered.")
    cache_misses: int = Field(default=0, description="Model calls a response cache passed on.")
    tokens_saved: int = Field(
        default=0, description="Input tokens prompt compression kept from being sent (estimate)."
    )


FALLBACK_ANSWER = "fallback_answer"  # the `provider` of a degraded answer


class PendingCallOut(BaseModel):
    """A tool call waiting for approval; it has not run."""

    model_config = ConfigDict(defer_build=True)

    id: str
    tool: str
    arguments: dict[str, Any]


class InvokeResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    run_id: str
    session_id: str | None
    output: str
    model: str
    iterations: int
    tool_calls: list[ToolCallOut]
    usage: UsageOut
    cost_usd: float | None
    provider: str = Field(default="", description="The provider that gave the last answer.")
    parsed: Any = Field(
        default=None,
        description="With `output_schema` (or `response_format`): the validated answer as JSON.",
    )
    status: Literal["completed", "awaiting_approval"] = Field(
        default="completed",
        description="`awaiting_approval`: the run paused; decide the `pending` calls at "
        "`POST /approvals/{approval_id}`.",
    )
    approval_id: str | None = None
    pending: list[PendingCallOut] = Field(default_factory=list)

    @computed_field(  # type: ignore[prop-decorator]
        description="True when the providers were down and `output` is the configured "
        "fallback answer (`ServingOptions.fallback_answer`)."
    )
    @property
    def degraded(self) -> bool:
        return self.provider == FALLBACK_ANSWER

    @classmethod
    def of(cls, result: AgentResult) -> Self:
        # Validating the plain dict runs in pydantic-core: cheaper than building each part.
        return cls.model_validate(result.to_dict())


class FieldError(BaseModel):
    model_config = ConfigDict(defer_build=True)

    loc: list[str]
    message: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: str = Field(description="A stable name, e.g. `rate_limit_error`, `invalid_request`.")
    message: str = Field(description="What happened and what to do; never upstream text.")
    fields: list[FieldError] | None = Field(default=None, description="On 422: each bad field.")
    status: int | None = Field(default=None, description="In SSE `error` events: the status.")

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class ErrorResponse(BaseModel):
    """Every error answer: `{"error": {"type", "message"}}`."""

    model_config = ConfigDict(defer_build=True)

    error: ErrorDetail


class BatchItem(BaseModel):
    """One batch result: `result` or `error`, never both."""

    model_config = ConfigDict(defer_build=True)

    index: int
    status: int
    result: InvokeResponse | None = None
    error: ErrorDetail | None = None


class BatchResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    results: list[BatchItem]


class ToolInfo(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str
    description: str
    parameters: dict[str, Any]


class ToolsResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    tools: list[ToolInfo]


class SessionResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    session_id: str
    messages: list[dict[str, Any]]


# -- SSE events ----------------------------------------------------------------------


class RunStartedEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["run_started"] = "run_started"
    run_id: str
    session_id: str | None


class TextDeltaEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["text_delta"] = "text_delta"
    run_id: str
    text: str


class ToolCallStartedEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["tool_call_started"] = "tool_call_started"
    run_id: str
    call_id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str


class ToolProgressEvent(BaseModel):
    """A chunk a streaming (generator) tool yielded; comes before its `tool_call_finished`."""

    model_config = ConfigDict(defer_build=True)

    type: Literal["tool_progress"] = "tool_progress"
    run_id: str
    call_id: str
    name: str
    chunk: Any


class ToolCallFinishedEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["tool_call_finished"] = "tool_call_finished"
    run_id: str
    call_id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str
    output: str
    error: str | None
    error_type: str | None
    duration_ms: float


class RunFinishedEvent(InvokeResponse):
    type: Literal["run_finished"] = "run_finished"

    @model_serializer(mode="wrap")
    def _type_first(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {"type": data.pop("type"), **data}


class ApprovalRequiredEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["approval_required"] = "approval_required"
    run_id: str
    session_id: str | None
    approval_id: str
    pending: list[PendingCallOut]


class ApprovalDecidedEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["approval_decided"] = "approval_decided"
    run_id: str
    session_id: str | None
    approval_id: str
    call_id: str
    tool: str
    arguments: dict[str, Any]
    approved: bool
    reason: str | None


class ErrorEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    type: Literal["error"] = "error"
    run_id: str
    error: ErrorDetail

    @classmethod
    def of(cls, failed: RunFailed) -> Self:
        detail = ErrorDetail(type=failed.error_type, message=failed.message, status=failed.status)
        return cls(run_id=failed.run_id, error=detail)


StreamEvent: TypeAlias = Annotated[
    RunStartedEvent
    | TextDeltaEvent
    | ToolCallStartedEvent
    | ToolProgressEvent
    | ToolCallFinishedEvent
    | ApprovalRequiredEvent
    | ApprovalDecidedEvent
    | RunFinishedEvent
    | ErrorEvent,
    Field(discriminator="type"),
]


_EVENT_MODELS: dict[type, type[BaseModel]] = {
    RunStarted: RunStartedEvent,
    TextDelta: TextDeltaEvent,
    ToolCallStarted: ToolCallStartedEvent,
    ToolProgress: ToolProgressEvent,
    ToolCallFinished: ToolCallFinishedEvent,
    ApprovalRequested: ApprovalRequiredEvent,
    ApprovalDecided: ApprovalDecidedEvent,
    RunFinished: RunFinishedEvent,
}


def event_out(event: Event) -> BaseModel:
    """The wire form of a run event (validated from the event's own dict, in pydantic-core)."""
    model = _EVENT_MODELS.get(type(event))
    if model is None:
        raise TypeError(f"not a run event: {event!r}")
    return model.model_validate(event.to_dict())


# -- OpenAI compatibility ------------------------------------------------------------


class ModelInfo(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "selectools"


class ModelList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    object: Literal["list"] = "list"
    data: list[ModelInfo]

    @classmethod
    def of(cls, model_name: str) -> Self:
        return cls(data=[ModelInfo(id=model_name)])


class OpenAIUsage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, usage: Usage) -> Self:
        return cls(
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
        )


class AssistantMessage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    model_config = ConfigDict(defer_build=True)

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: OpenAIUsage

    @classmethod
    def of(cls, result: AgentResult, model_name: str) -> Self:
        return cls(
            id=f"chatcmpl-{result.run_id}",
            created=int(time.time()),
            model=model_name,
            choices=[Choice(message=AssistantMessage(content=result.text))],
            usage=OpenAIUsage.of(result.usage),
        )


class ChunkDelta(BaseModel):
    model_config = ConfigDict(defer_build=True)

    role: Literal["assistant"] | None = None
    content: str | None = None

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class ChunkChoice(BaseModel):
    model_config = ConfigDict(defer_build=True)

    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    """One `data:` line of an OpenAI stream; the usage-only chunk has no choices."""

    model_config = ConfigDict(defer_build=True)

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: OpenAIUsage | None = None

    @model_serializer(mode="wrap")
    def _usage_only_when_sent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("usage") is None:
            data.pop("usage", None)
        return data

    @classmethod
    def of(
        cls,
        run_id: str,
        model_name: str,
        *,
        content: str | None = None,
        role: bool = False,
        finish: bool = False,
    ) -> Self:
        delta = ChunkDelta(role="assistant" if role else None, content=content)
        choice = ChunkChoice(delta=delta, finish_reason="stop" if finish else None)
        return cls(
            id=f"chatcmpl-{run_id}", created=int(time.time()), model=model_name, choices=[choice]
        )

    @classmethod
    def usage_of(cls, run_id: str, model_name: str, result: AgentResult) -> Self:
        return cls(
            id=f"chatcmpl-{run_id}",
            created=int(time.time()),
            model=model_name,
            choices=[],
            usage=OpenAIUsage.of(result.usage),
        )
