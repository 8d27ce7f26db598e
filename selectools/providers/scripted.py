"""A provider that plays back a script: test agents and run demos without a model."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import field
from typing import Any, TypeAlias

from ..content import parts_tokens
from ..errors import ProviderError
from ..frozen import record
from ..messages import Message, ToolCall
from ..usage import Usage, estimate_cost
from .base import ModelRequest, ModelResponse, TextChunk

__all__ = ["Reply", "ScriptedCall", "ScriptedProvider", "Step", "call"]


@record
class ScriptedCall:
    """A tool call the script makes; `raw_arguments` sends text as is (e.g. broken JSON)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None

    def text(self) -> str:
        if self.raw_arguments is not None:
            return self.raw_arguments
        return json.dumps(self.arguments)


@record
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
    each turn from the request. The latest `keep_requests` requests (1,000 by
    default; None keeps all) are in `requests`, newest last, so a long-running
    demo or benchmark does not grow without bound. Token counts are a cheap
    estimate (4 characters a token) kept incrementally: a request that extends
    the previous one costs only its new messages, so the estimate stays flat as a
    session's history grows.
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
        keep_requests: int | None = 1000,
    ) -> None:
        self._steps = [_to_reply(step) for step in steps]
        if not self._steps and responder is None:
            raise ValueError("ScriptedProvider needs steps or a responder.")
        self._responder = responder
        self._cycle = cycle
        self.model = model
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.requests: deque[ModelRequest] = deque(maxlen=keep_requests)
        self._estimate = _PrefixEstimate()
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
            import asyncio  # only with a latency: sync-only programs never load asyncio

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
        if self.latency or self.chunk_delay:
            import asyncio
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
        input_tokens = self._estimate.tokens(request.messages)
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


def _approx_tokens(message: Message) -> int:
    chars = len(message.content or "") + sum(len(c.arguments) for c in message.tool_calls)
    return chars // 4 + 1 + parts_tokens(message.parts)


class _PrefixEstimate:
    """Token estimates that reuse the previous request's counts for a shared prefix.

    Consecutive requests share their leading messages (a run's second request
    extends its first; a session's next run starts with its history), so only
    the new tail is counted. The shared prefix is found by identity with a
    binary search: messages are immutable, and a window only ever drops from
    the front, where the first check catches it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: Sequence[Message] = ()
        self._cumulative: list[int] = []  # tokens of messages[: i + 1]

    def tokens(self, messages: Sequence[Message]) -> int:
        if not isinstance(messages, tuple):  # a view: one C-level copy beats indexing it
            messages = tuple(messages)
        with self._lock:
            shared = _shared_prefix(self._messages, messages)
            cumulative = self._cumulative
            del cumulative[shared:]  # in place: a long shared prefix is not copied
            total = cumulative[-1] if cumulative else 0
            for message in messages[shared:]:
                total += _approx_tokens(message)
                cumulative.append(total)
            self._messages, self._cumulative = messages, cumulative
            return total


def _shared_prefix(previous: Sequence[Message], current: Sequence[Message]) -> int:
    """How many leading messages `current` has in common (by identity) with `previous`."""
    limit = min(len(previous), len(current))
    if limit == 0 or previous[0] is not current[0]:
        return 0
    low, high = 1, limit  # previous[:low] is shared; find the largest such low
    while low < high:
        middle = (low + high + 1) // 2
        if previous[middle - 1] is current[middle - 1]:
            low = middle
        else:
            high = middle - 1
    return low
