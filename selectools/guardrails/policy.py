"""`Guardrails`: the policy that runs guardrails around the model and around every tool call.

Pass it with the other policies (`Agent(policies=[Guardrails(...)])`). Its
provider face checks each user message before the model sees it (stage
`input`) and the model's text before the run hands it on (stage `output`),
streamed answers segment by segment (see `segments`). Its tool face checks
a call's string arguments before the tool runs (`tool_arguments`) and the
result before the model reads it (`tool_result`).

A refusal at `input` or `output` fails the run with `GuardrailRefused`
(HTTP 422 `guardrail_refused`); at a tool stage the call becomes a refused
tool result the model reads (`error_type="guardrail_refused"`), or, with
`tool_refusal="raise"`, fails the run too.

What is checked, and what is not: the text of user messages in each model
request (so stored history is checked again each turn, and the session store
keeps what the user sent), the assistant's text (streamed deltas, the final
message and what the session stores), tool arguments as the model wrote
them (re-validated after a rewrite), and a tool's output text. The system
prompt is the application's own and is not checked.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Literal

from ..errors import GuardrailRefused, ToolArgumentError
from ..messages import Message, RunInput, coerce_messages
from ..policies.base import BeforeTool, ProviderWrapper, ToolPolicy
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from .base import Guardrail, Stage, apply
from .segments import Segmenter

__all__ = ["GuardedProvider", "Guardrails", "check_input"]

_REMEMBERED_INPUTS = 1024


class Guardrails(ToolPolicy):
    """Run `guardrails` (in order) at every stage each one names.

    Args:
        *guardrails: objects with `stages` and `check(text, stage)` (see `base`).
        tool_refusal: "result" (default) turns a refused tool call or result
            into an error the model reads; "raise" fails the run.
        max_segment: the longest streamed text held back waiting for a
            sentence or line end before it is checked and sent.
    """

    def __init__(
        self,
        *guardrails: Guardrail,
        tool_refusal: Literal["result", "raise"] = "result",
        max_segment: int = 2000,
    ) -> None:
        for guardrail in guardrails:
            if not isinstance(guardrail, Guardrail):
                raise TypeError(
                    f"{guardrail!r} is not a guardrail: it needs `stages` and `check(text, stage)`."
                )
        self.guardrails = tuple(guardrails)
        self.tool_refusal = tool_refusal
        self.max_segment = max_segment
        self._inputs: dict[str, str] = {}
        self._lock = threading.Lock()
        Segmenter(max_segment)  # validate now, not at the first stream

    def __repr__(self) -> str:
        return f"Guardrails({', '.join(type(g).__name__ for g in self.guardrails)})"

    def checks(self, stage: Stage) -> bool:
        return any(stage in g.stages for g in self.guardrails)

    def check(self, text: str, stage: Stage) -> str:
        """`text` after every guardrail for `stage`; raises `GuardrailRefused` on a refusal."""
        if stage != "input":
            return apply(self.guardrails, text, stage)
        # User messages come back on every model call of a run and every later turn of
        # its session: remember what passed (checks are pure functions of the text).
        known = self._inputs.get(text)
        if known is not None:
            return known
        checked = apply(self.guardrails, text, stage)
        with self._lock:
            if len(self._inputs) >= _REMEMBERED_INPUTS:
                self._inputs.pop(next(iter(self._inputs)))
            self._inputs[text] = checked
        return checked

    # -- provider face --------------------------------------------------------------

    def wrap(self, provider: Provider) -> Provider:
        return GuardedProvider(provider, self)

    # -- tool face ------------------------------------------------------------------

    def before_tool(self, invocation: ToolInvocation) -> BeforeTool:
        if not self.checks("tool_arguments"):
            return None
        call = invocation.call
        try:
            raw = json.loads(call.arguments) if call.arguments.strip() else {}
            checked = self._walk(raw)
            if checked == raw:
                return None
            text = json.dumps(checked, ensure_ascii=False)
            arguments = invocation.tool.parse_arguments(text)
        except GuardrailRefused as exc:
            if self.tool_refusal == "raise":
                raise
            return invocation.refuse(str(exc), error_type=exc.error_type)
        except (ValueError, ToolArgumentError) as exc:  # the rewrite no longer fits the tool
            message = f"The arguments were changed by a guardrail and no longer fit: {exc}"
            return invocation.refuse(message, error_type="guardrail_refused")
        call = dataclasses.replace(call, arguments=text)
        return dataclasses.replace(invocation, call=call, arguments=arguments)

    def after_tool(
        self, invocation: ToolInvocation, record: ToolCallRecord
    ) -> ToolCallRecord | None:
        if not self.checks("tool_result") or not record.output:
            return None
        try:
            output = self.check(record.output, "tool_result")
        except GuardrailRefused as exc:
            if self.tool_refusal == "raise":
                raise
            message = str(exc)
            return dataclasses.replace(
                record,
                result=None,
                output=f"Error: {message}",
                error=message,
                error_type=exc.error_type,
            )
        if output == record.output:
            return None
        return dataclasses.replace(record, output=output)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.check(value, "tool_arguments")
        if isinstance(value, dict):
            return {key: self._walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        return value


class GuardedProvider(ProviderWrapper):
    """The provider face of `Guardrails`: user messages checked in, the model's text checked out."""

    def __init__(self, inner: Provider, guardrails: Guardrails) -> None:
        super().__init__(inner)
        self.guardrails = guardrails

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self._answer(self.inner.complete(self._request(request)))

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        return self._answer(await self.inner.acomplete(self._request(request)))

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        checked = self._request(request)  # a refusal raises before the model is called
        chunks = iter(self.inner.stream(checked))
        return self._checked_stream(chunks)

    def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        return self._checked_astream(request)

    # -- in --------------------------------------------------------------------------

    def _request(self, request: ModelRequest) -> ModelRequest:
        guards = self.guardrails
        if not guards.checks("input"):
            return request
        messages = [_checked_message(guards, m) for m in request.messages]
        if all(a is b for a, b in zip(messages, request.messages, strict=True)):
            return request
        return dataclasses.replace(request, messages=tuple(messages))

    # -- out -------------------------------------------------------------------------

    def _answer(self, response: ModelResponse, streamed: str | None = None) -> ModelResponse:
        message = response.message
        if streamed is not None:
            content: str | None = streamed
        elif message.content and self.guardrails.checks("output"):
            content = self.guardrails.check(message.content, "output")
        else:
            return response
        if content == message.content:
            return response
        return dataclasses.replace(response, message=dataclasses.replace(message, content=content))

    def _checked_stream(
        self, chunks: Iterator[TextChunk | ModelResponse]
    ) -> Iterator[TextChunk | ModelResponse]:
        out = _Outbound(self.guardrails)
        try:
            for item in chunks:
                if isinstance(item, TextChunk):
                    yield from out.feed(item.text)
                else:
                    out.response = item
            yield from out.end()
        finally:
            close_stream(chunks)
        if out.response is not None:
            yield self._answer(out.response, out.sent_text())

    async def _checked_astream(
        self, request: ModelRequest
    ) -> AsyncIterator[TextChunk | ModelResponse]:
        checked = self._request(request)
        chunks = aiter(self.inner.astream(checked))
        out = _Outbound(self.guardrails)
        try:
            async for item in chunks:
                if isinstance(item, TextChunk):
                    for piece in out.feed(item.text):
                        yield piece
                else:
                    out.response = item
            for piece in out.end():
                yield piece
        finally:
            await aclose_stream(chunks)
        if out.response is not None:
            yield self._answer(out.response, out.sent_text())


class _Outbound:
    """One streamed answer: pieces held until a segment is whole, then checked and sent."""

    def __init__(self, guardrails: Guardrails) -> None:
        self.guardrails = guardrails
        self.active = guardrails.checks("output")
        self.segmenter = Segmenter(guardrails.max_segment)
        self.sent: list[str] = []
        self.response: ModelResponse | None = None

    def feed(self, text: str) -> list[TextChunk]:
        if not self.active:
            self.sent.append(text)
            return [TextChunk(text)]
        return self._checked(self.segmenter.feed(text))

    def end(self) -> list[TextChunk]:
        if not self.active:
            return []
        rest = self.segmenter.flush()
        return self._checked([rest] if rest else [])

    def sent_text(self) -> str | None:
        """What the client saw, so the final message matches the deltas (None: nothing streamed)."""
        return "".join(self.sent) if self.sent else None

    def _checked(self, segments: list[str]) -> list[TextChunk]:
        pieces = []
        for segment in segments:
            text = self.guardrails.check(segment, "output")
            self.sent.append(text)
            if text:
                pieces.append(TextChunk(text))
        return pieces


def check_input(policies: Iterable[object], run_input: RunInput) -> None:
    """Raise `GuardrailRefused` now if the agent's guardrails would refuse this input.

    The run checks its input anyway; a web handler calls this before a stream
    starts, so a refused input is a 422 answer rather than an error event.
    """
    guards = [p for p in policies if isinstance(p, Guardrails) and p.checks("input")]
    if not guards:
        return
    for message in coerce_messages(run_input):
        for guard in guards:  # in policy order, each on the text the previous one left
            message = _checked_message(guard, message)


def _checked_message(guardrails: Guardrails, message: Message) -> Message:
    """A user message after the `input` checks (content and the text parts beside media)."""
    if message.role != "user":
        return message
    check = guardrails.check
    content = check(message.content, "input") if message.content else message.content
    parts = tuple(  # with images or files, the text parts are what the model reads
        dataclasses.replace(p, text=check(p.text, "input")) if p.type == "text" and p.text else p
        for p in message.parts
    )
    if content == message.content and parts == message.parts:
        return message
    return dataclasses.replace(message, content=content, parts=parts)
