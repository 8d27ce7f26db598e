"""Structured output: `agent.run(..., output_type=Model)` returns `result.output` as a Model.

The output type is a pydantic model, a dataclass, a TypedDict, a primitive
(or anything pydantic's TypeAdapter takes), or a JSON Schema as a dict (what
HTTP clients send; validated with `jsonschema`). How the model is asked
depends on the provider:

- `structured_output = "json_schema"` (OpenAIProvider): the native
  `response_format` JSON-schema mode; the final text is the JSON.
- `structured_output = "tool_any"` (AnthropicProvider): a `final_answer` tool
  whose input schema is the output schema, with tool use forced (the model
  may still call the other tools first).
- anything else (ScriptedProvider, LangChain, fallbacks): the same
  `final_answer` tool, not forced; a JSON text answer is accepted too.

An answer that does not validate goes back to the model with the validation
errors (as the tool's result, or as a user message), at most `retries`
times; then `OutputValidationError` (HTTP 502). All of this happens in a
provider wrapper around one model call, so the loop is unchanged: the run
sees a final text answer, the canonical JSON of the validated value.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .errors import SelectoolsError
from .events import Event, RunFinished
from .extras import require
from .messages import Message, ToolCall
from .policies.base import ProviderWrapper
from .providers.base import ModelRequest, ModelResponse, Provider, TextChunk
from .results import AgentResult
from .usage import Usage

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

__all__ = [
    "FINAL_ANSWER_TOOL",
    "OutputSpec",
    "OutputValidationError",
    "StructuredOutput",
    "astructured_events",
    "check_output_schema",
    "structured_events",
    "structured_result",
]

FINAL_ANSWER_TOOL = "final_answer"
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?```\s*$", re.S)


class OutputValidationError(SelectoolsError):
    """The model's answer did not fit the output type, even after being shown its errors."""

    default_status = 502

    def __init__(self, message: str, *, errors: list[str], raw: str) -> None:
        super().__init__(message)
        self.errors = errors
        self.raw = raw


class _Invalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class OutputSpec:
    """What the answer must be: its JSON Schema, and how to validate and re-serialise it."""

    name: str
    schema: dict[str, Any]  # always an object (primitives are wrapped as {"value": ...})
    wrapped: bool
    adapter: TypeAdapter[Any] | None = None
    raw_schema: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, output_type: Any) -> OutputSpec:
        """The spec for a type or schema, built once (a TypeAdapter costs about a millisecond)."""
        try:
            key: Any = (
                json.dumps(output_type, sort_keys=True)
                if isinstance(output_type, Mapping)
                else output_type
            )
            cached = _SPECS.get(key)
        except TypeError:  # unhashable or not JSON: build it each time
            return cls._build(output_type)
        if cached is None:
            cached = cls._build(output_type)
            if len(_SPECS) >= 256:
                _SPECS.pop(next(iter(_SPECS)))
            _SPECS[key] = cached
        return cached

    @classmethod
    def _build(cls, output_type: Any) -> OutputSpec:
        if isinstance(output_type, Mapping):
            schema = dict(output_type)
            name = str(schema.get("title") or "output")
            return cls._make(name, schema, None, schema)
        from pydantic import TypeAdapter  # on first use: `import selectools` stays light

        adapter: TypeAdapter[Any] = TypeAdapter(output_type)
        schema = adapter.json_schema()
        name = str(getattr(output_type, "__name__", None) or schema.get("title") or "output")
        return cls._make(name, schema, adapter, None)

    @classmethod
    def _make(
        cls,
        name: str,
        schema: dict[str, Any],
        adapter: TypeAdapter[Any] | None,
        raw: Mapping[str, Any] | None,
    ) -> OutputSpec:
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "output"
        if schema.get("type") == "object":
            return cls(name, schema, False, adapter, raw)
        defs = schema.pop("$defs", None)
        wrapper: dict[str, Any] = {
            "type": "object",
            "properties": {"value": schema},
            "required": ["value"],
        }
        if defs is not None:
            wrapper["$defs"] = defs
        return cls(name, wrapper, True, adapter, raw)

    def tool_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": FINAL_ANSWER_TOOL,
                "description": "Give the final answer, in exactly this shape. Call it once, "
                "when done with the other tools.",
                "parameters": self.schema,
            },
        }

    def response_format(self) -> dict[str, Any]:
        return {
            "type": "json_schema",
            "json_schema": {"name": self.name, "schema": self.schema, "strict": False},
        }

    def check_object(self, data: Any) -> str:
        """Validate the model's JSON object; return the canonical JSON of the value."""
        if self.wrapped:
            if not isinstance(data, Mapping) or "value" not in data:
                raise _Invalid(["the answer must be an object with the key 'value'"])
            data = data["value"]
        return self.dump(self.validate(data))

    def validate(self, data: Any) -> Any:
        if self.adapter is not None:
            from pydantic import ValidationError

            try:
                return self.adapter.validate_python(data)
            except ValidationError as exc:
                raise _Invalid(_pydantic_errors(exc)) from None
        assert self.raw_schema is not None
        jsonschema = require("jsonschema", extra="schema", feature="output_schema")
        validator = jsonschema.validators.validator_for(self.raw_schema)(self.raw_schema)
        errors = [
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in validator.iter_errors(data)
        ]
        if errors:
            raise _Invalid(errors[:10])
        return data

    def dump(self, value: Any) -> str:
        if self.adapter is not None:
            return self.adapter.dump_json(value).decode()
        return json.dumps(value, ensure_ascii=False)

    def parse_final(self, text: str) -> Any:
        """The validated value of a run's final (canonical JSON) text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise OutputValidationError(
                "The run ended without a structured answer (its last answer is not JSON).",
                errors=["not JSON"],
                raw=text,
            ) from None
        try:
            return self.validate(data)
        except _Invalid as exc:
            raise OutputValidationError(
                f"The run's answer does not fit the output type: {exc}",
                errors=exc.errors,
                raw=text,
            ) from None


_SPECS: dict[Any, OutputSpec] = {}


def check_output_schema(schema: Mapping[str, Any]) -> None:
    """Raise ValueError (a 422 on the wire) for a dict that is not a usable JSON Schema."""
    jsonschema = require("jsonschema", extra="schema", feature="output_schema")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
    if len(json.dumps(schema)) > 20_000:
        raise ValueError("the JSON Schema is too large (over 20,000 characters)")


def _pydantic_errors(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:10]
    ]


@dataclass
class _Verdict:
    response: ModelResponse | None = None  # the answer to hand the run
    feedback: tuple[Message, ...] = ()  # else: what to show the model before asking again
    errors: tuple[str, ...] = ()
    raw: str = ""


class StructuredOutput(ProviderWrapper):
    """Asks for the output type and repairs invalid answers, within one model call."""

    def __init__(self, inner: Provider, spec: OutputSpec, *, mode: str, retries: int) -> None:
        super().__init__(inner)
        self.spec = spec
        self.mode = mode
        self.retries = retries

    @classmethod
    def for_provider(
        cls, provider: Provider, wrapped: Provider, output_type: Any, retries: int
    ) -> StructuredOutput:
        mode = getattr(provider, "structured_output", "tool")
        return cls(wrapped, OutputSpec.of(output_type), mode=str(mode), retries=retries)

    # -- the request ----------------------------------------------------------------

    def _request(self, request: ModelRequest) -> ModelRequest:
        if self.mode == "json_schema":
            extra = {**request.extra, "response_format": self.spec.response_format()}
            return replace(request, extra=extra)
        extra = dict(request.extra)
        if self.mode == "tool_any":
            choice: dict[str, Any] = {"type": "any"}
            if not request.parallel_tool_calls:
                choice["disable_parallel_tool_use"] = True
            extra["tool_choice"] = choice
        return replace(request, tools=(*request.tools, self.spec.tool_schema()), extra=extra)

    # -- judging an answer ----------------------------------------------------------

    def _judge(self, response: ModelResponse) -> _Verdict:
        message = response.message
        finals = [c for c in message.tool_calls if c.name == FINAL_ANSWER_TOOL]
        others = [c for c in message.tool_calls if c.name != FINAL_ANSWER_TOOL]
        if others:  # real tools first: the final answer (if any) comes after their results
            if finals:
                message = Message.assistant(message.content, others)
                response = replace(response, message=message)
            return _Verdict(response)
        if finals:
            return self._judge_call(response, finals[0])
        return self._judge_text(response)

    def _judge_call(self, response: ModelResponse, call: ToolCall) -> _Verdict:
        try:
            data = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as exc:
            errors = [f"the arguments are not valid JSON ({exc.msg})"]
        else:
            try:
                return self._final(response, self.spec.check_object(data))
            except _Invalid as exc:
                errors = exc.errors
        note = (
            "Invalid final answer: " + "; ".join(errors) + f". Call {FINAL_ANSWER_TOOL} again "
            "with corrected arguments."
        )
        feedback = (
            Message.assistant(response.message.content, [call]),
            Message.tool(note, tool_call_id=call.id, name=FINAL_ANSWER_TOOL),
        )
        return _Verdict(feedback=feedback, errors=tuple(errors), raw=call.arguments)

    def _judge_text(self, response: ModelResponse) -> _Verdict:
        text = response.message.content or ""
        fenced = _FENCE.match(text)
        try:
            data = json.loads(fenced.group(1) if fenced else text)
        except json.JSONDecodeError:
            errors = ["the answer is not JSON"]
        else:
            try:
                return self._final(response, self.spec.check_object(data))
            except _Invalid as exc:
                errors = exc.errors
        how = (
            "Reply with only the JSON object."
            if self.mode == "json_schema"
            else f"Call the {FINAL_ANSWER_TOOL} tool with it."
        )
        note = "Your answer does not fit the required output: " + "; ".join(errors) + ". " + how
        feedback = (response.message, Message.user(note))
        return _Verdict(feedback=feedback, errors=tuple(errors), raw=text)

    def _final(self, response: ModelResponse, text: str) -> _Verdict:
        message = Message.assistant(text)
        return _Verdict(replace(response, message=message, finish_reason="stop"))

    def _give_up(self, verdict: _Verdict) -> OutputValidationError:
        return OutputValidationError(
            f"The model's answer did not fit the output type '{self.spec.name}' after "
            f"{self.retries} repair attempt(s): {'; '.join(verdict.errors)}. Simplify the "
            f"output type, raise output_retries, or use a stronger model.",
            errors=list(verdict.errors),
            raw=verdict.raw,
        )

    # -- the four calls -----------------------------------------------------------

    def complete(self, request: ModelRequest) -> ModelResponse:
        request = self._request(request)
        response = self.inner.complete(request)
        usage = Usage()
        for attempt in range(self.retries + 1):
            usage = usage + response.usage
            verdict = self._judge(response)
            if verdict.response is not None:
                return replace(verdict.response, usage=usage)
            if attempt == self.retries:
                raise self._give_up(verdict)
            request = replace(request, messages=(*request.messages, *verdict.feedback))
            response = self.inner.complete(request)
        raise AssertionError("unreachable")

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        request = self._request(request)
        response = await self.inner.acomplete(request)
        usage = Usage()
        for attempt in range(self.retries + 1):
            usage = usage + response.usage
            verdict = self._judge(response)
            if verdict.response is not None:
                return replace(verdict.response, usage=usage)
            if attempt == self.retries:
                raise self._give_up(verdict)
            request = replace(request, messages=(*request.messages, *verdict.feedback))
            response = await self.inner.acomplete(request)
        raise AssertionError("unreachable")

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        """Text is held until the answer is judged: a JSON answer is sent once, valid."""
        asked = self._request(request)
        chunks: list[TextChunk] = []
        response: ModelResponse | None = None
        for item in self.inner.stream(asked):
            if isinstance(item, TextChunk):
                chunks.append(item)
            else:
                response = item
        if response is None:
            return
        verdict = self._judge(response)
        if verdict.response is not None and verdict.response.message.tool_calls:
            yield from chunks  # a tool-calling turn: its text as it came
            yield verdict.response
            return
        if verdict.response is None:  # repair without streaming, then send the valid answer
            repaired = replace(asked, messages=(*asked.messages, *verdict.feedback))
            answer = self._repair(repaired, verdict, response.usage)
        else:
            answer = verdict.response
        yield TextChunk(answer.message.content or "")
        yield answer

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        asked = self._request(request)
        chunks: list[TextChunk] = []
        response: ModelResponse | None = None
        async for item in self.inner.astream(asked):
            if isinstance(item, TextChunk):
                chunks.append(item)
            else:
                response = item
        if response is None:
            return
        verdict = self._judge(response)
        if verdict.response is not None and verdict.response.message.tool_calls:
            for chunk in chunks:
                yield chunk
            yield verdict.response
            return
        if verdict.response is None:
            repaired = replace(asked, messages=(*asked.messages, *verdict.feedback))
            answer = await self._arepair(repaired, verdict, response.usage)
        else:
            answer = verdict.response
        yield TextChunk(answer.message.content or "")
        yield answer

    def _repair(self, request: ModelRequest, verdict: _Verdict, usage: Usage) -> ModelResponse:
        for attempt in range(self.retries):
            response = self.inner.complete(request)
            usage = usage + response.usage
            verdict = self._judge(response)
            if verdict.response is not None:
                return replace(verdict.response, usage=usage)
            if attempt < self.retries - 1:
                request = replace(request, messages=(*request.messages, *verdict.feedback))
        raise self._give_up(verdict)

    async def _arepair(
        self, request: ModelRequest, verdict: _Verdict, usage: Usage
    ) -> ModelResponse:
        for attempt in range(self.retries):
            response = await self.inner.acomplete(request)
            usage = usage + response.usage
            verdict = self._judge(response)
            if verdict.response is not None:
                return replace(verdict.response, usage=usage)
            if attempt < self.retries - 1:
                request = replace(request, messages=(*request.messages, *verdict.feedback))
        raise self._give_up(verdict)


# -- the run's result ------------------------------------------------------------------


def structured_result(result: AgentResult[Any], output_type: Any) -> AgentResult[Any]:
    """The result with `output` set to the validated value (unchanged without an output type)."""
    if output_type is None or result.status != "completed":
        return result
    spec = OutputSpec.of(output_type)
    return replace(result, parsed=spec.parse_final(result.text), structured=True)


def structured_events(events: Iterator[Event], output_type: Any) -> Iterator[Event]:
    """`events` with the final RunFinished carrying the structured result."""
    if output_type is None:
        return events
    return _mapped(events, output_type)


def _mapped(events: Iterator[Event], output_type: Any) -> Iterator[Event]:
    try:
        for event in events:
            if isinstance(event, RunFinished):
                event = RunFinished(event.run_id, structured_result(event.result, output_type))
            yield event
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def astructured_events(events: AsyncIterator[Event], output_type: Any) -> AsyncIterator[Event]:
    if output_type is None:
        return events
    return _amapped(events, output_type)


async def _amapped(events: AsyncIterator[Event], output_type: Any) -> AsyncIterator[Event]:
    try:
        async for event in events:
            if isinstance(event, RunFinished):
                event = RunFinished(event.run_id, structured_result(event.result, output_type))
            yield event
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
