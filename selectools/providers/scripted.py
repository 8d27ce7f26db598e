"""A provider that plays back a script: test agents and run demos without a model."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ..errors import ProviderError
from ..messages import Message, ToolCall
from ..usage import Usage, estimate_cost
from .base import ModelRequest, ModelResponse, TextChunk

__all__ = ["Reply", "ScriptedCall", "ScriptedProvider", "Step", "call"]


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """A tool call the script makes; `raw_arguments` sends text as is (e.g. broken JSON)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None

    def text(self) -> str:
        if self.raw_arguments is not None:
            return self.raw_arguments
        return json.dumps(self.arguments)


@dataclass(frozen=True, slots=True)
class Reply:
    """One model turn: text, tool calls, or both."""

    text: str | None = None
    calls: tuple[ScriptedCall, ...] = ()


def call(name: str, raw_arguments: str | None = None, /, **arguments: Any) -> ScriptedCall:
    """A scripted tool call: `call("get_weather", city="Paris")`."""
    return ScriptedCall(name=name, arguments=arguments, raw_arguments=raw_arguments)


Step: TypeAlias = "str | ScriptedCall | Sequence[ScriptedCall] | Reply"
Responder: TypeAlias = Callable[[ModelRequest], Step]


class ScriptedProvider:
    """Answers each model call with the next step of a script.

    A step is a string (final text), `call(...)` (one tool call), a list of
    calls (parallel calls), or a `Reply`. Pass `responder=` instead to decide
    each turn from the request. Every request is kept in `requests`.
    """

    name = "scripted"

    def __init__(
        self,
        steps: Iterable[Step] = (),
        *,
        responder: Responder | None = None,
        cycle: bool = False,
        model: str = "scripted",
        latency: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> None:
        self._steps = [_to_reply(step) for step in steps]
        if not self._steps and responder is None:
            raise ValueError("ScriptedProvider needs steps or a responder.")
        self._responder = responder
        self._cycle = cycle
        self.model = model
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.requests: list[ModelRequest] = []
        self._lock = threading.Lock()
        self._position = 0
        self._ids = itertools.count(1)

    @property
    def remaining(self) -> int:
        """Steps not played yet (0 when cycling or responding)."""
        return 0 if self._cycle else len(self._steps) - self._position

    def complete(self, request: ModelRequest) -> ModelResponse:
        if self.latency:
            time.sleep(self.latency)
        return self._respond(request)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._respond(request)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        if self.latency:
            time.sleep(self.latency)
        response = self._respond(request)
        for piece in _pieces(response.message.content):
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
            yield TextChunk(piece)
        yield response

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        if self.latency:
            await asyncio.sleep(self.latency)
        response = self._respond(request)
        for piece in _pieces(response.message.content):
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield TextChunk(piece)
        yield response

    def _next_reply(self, request: ModelRequest) -> Reply:
        if self._responder is not None:
            return _to_reply(self._responder(request))
        with self._lock:
            if self._position >= len(self._steps):
                if not self._cycle:
                    raise ProviderError(
                        f"The script has no step left (it had {len(self._steps)}); the agent "
                        f"asked the model once more. Add a final text step to the script.",
                        provider=self.name,
                    )
                self._position = 0
            reply = self._steps[self._position]
            self._position += 1
            return reply

    def _respond(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        reply = self._next_reply(request)
        calls = tuple(
            ToolCall(id=f"call_{next(self._ids)}", name=c.name, arguments=c.text())
            for c in reply.calls
        )
        input_tokens = _approx_tokens(request.messages)
        output_tokens = (len(reply.text or "") + sum(len(c.arguments) for c in calls)) // 4 + 1
        usage = Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            requests=1,
            cost_usd=estimate_cost(self.model, input_tokens, output_tokens),
        )
        return ModelResponse(
            message=Message.assistant(reply.text, calls),
            usage=usage,
            model=self.model,
            finish_reason="tool_calls" if calls else "stop",
            provider=self.name,
        )


def _to_reply(step: Any) -> Reply:
    if isinstance(step, Reply):
        return step
    if isinstance(step, str):
        return Reply(text=step)
    if isinstance(step, ScriptedCall):
        return Reply(calls=(step,))
    if isinstance(step, Sequence) and step and all(isinstance(s, ScriptedCall) for s in step):
        return Reply(calls=tuple(step))
    raise TypeError(
        f"A script step must be text, call(...), a list of calls or Reply; got {step!r}."
    )


def _pieces(text: str | None) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) if text else []


def _approx_tokens(messages: Sequence[Message]) -> int:
    chars = sum(
        len(m.content or "") + sum(len(c.arguments) for c in m.tool_calls) for m in messages
    )
    return chars // 4 + len(messages)
