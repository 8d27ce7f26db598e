"""CompressPrompt: send fewer tokens without changing what the conversation says.

A provider policy: it rewrites each request on its way to the model (the
session and the run keep every message as it was) and reports the estimated
tokens it saved in `Usage.tokens_saved`. Each step is conservative:

- whitespace: trailing spaces and runs of blank lines go; JSON tool results
  are re-encoded compactly (same data, no indentation);
- long tool results keep their head and tail with a note of how much was
  left out (`max_tool_chars`);
- tool results of earlier turns (before the latest user message) longer
  than `elide_over` are replaced by a short note: the answer the model gave
  from them is still in the conversation;
- duplicates: a tool result identical to a later one, and a repeated system
  message, are sent once.

The current turn's tool results are never elided: the model is working with them.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence

from ..memory.window import approx_tokens
from ..messages import Message
from ..providers.base import ModelRequest, ModelResponse, Provider, TextChunk
from .base import ProviderWrapper

__all__ = ["CompressPrompt", "Compressed"]

_TRAILING = re.compile(r"[ \t]+$", re.M)
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclasses.dataclass(frozen=True, slots=True)
class Compressed:
    """A compressed message list and the estimated tokens it saved."""

    messages: tuple[Message, ...]
    tokens_saved: int


class CompressPrompt:
    """A policy shrinking what is sent to the model; see the module docstring.

    Args:
        max_tool_chars: longest tool result sent whole (None: no limit).
        elide_over: earlier turns' tool results longer than this become a note
            (None: keep them).
        whitespace: tidy whitespace and compact JSON tool results.
        dedupe: send repeated tool results and system messages once.
    """

    def __init__(
        self,
        *,
        max_tool_chars: int | None = 4000,
        elide_over: int | None = 200,
        whitespace: bool = True,
        dedupe: bool = True,
    ) -> None:
        if max_tool_chars is not None and max_tool_chars < 100:
            raise ValueError(f"max_tool_chars={max_tool_chars} must be at least 100.")
        self.max_tool_chars = max_tool_chars
        self.elide_over = elide_over
        self.whitespace = whitespace
        self.dedupe = dedupe

    def __repr__(self) -> str:
        return f"CompressPrompt(max_tool_chars={self.max_tool_chars}, elide_over={self.elide_over})"

    def wrap(self, provider: Provider) -> Provider:
        return CompressedProvider(provider, self)

    def compress(self, messages: Sequence[Message]) -> Compressed:
        """The messages as they will be sent, and the tokens that saves."""
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
        out: list[Message] = []
        seen_system: set[str] = set()
        later_results = self._later_results(messages) if self.dedupe else {}
        for i, message in enumerate(messages):
            content = message.content
            if message.role == "system" and self.dedupe and content is not None:
                if content in seen_system:
                    continue
                seen_system.add(content)
            if content is None or message.parts:  # images and files are left as they are
                out.append(message)
                continue
            if self.whitespace:
                content = _tidy(content, tool=message.role == "tool")
            if message.role == "tool":
                content = self._tool_result(content, i, last_user, later_results)
            out.append(message if content == message.content else _with(message, content))
        before = sum(approx_tokens(m) for m in messages)
        after = sum(approx_tokens(m) for m in out)
        return Compressed(tuple(out), max(0, before - after))

    def _tool_result(self, content: str, index: int, last_user: int, later: dict[int, str]) -> str:
        if index in later:
            return f"[Same result as the later call {later[index]}.]"
        if self.elide_over is not None and index < last_user and len(content) > self.elide_over:
            return (
                f"[Earlier tool result left out ({len(content)} characters); "
                f"call the tool again if you need it.]"
            )
        limit = self.max_tool_chars
        if limit is not None and len(content) > limit:
            head, tail = content[: limit * 3 // 4], content[-(limit // 4) :]
            left_out = len(content) - len(head) - len(tail)
            return f"{head}\n[… {left_out} characters left out …]\n{tail}"
        return content

    @staticmethod
    def _later_results(messages: Sequence[Message]) -> dict[int, str]:
        """Positions of tool results repeated later (same tool, same text) -> the later call id."""
        newest: dict[tuple[str | None, str], str] = {}
        repeated: dict[int, str] = {}
        for i in range(len(messages) - 1, -1, -1):
            message = messages[i]
            if message.role != "tool" or not message.content or len(message.content) < 40:
                continue
            key = (message.name, message.content)
            if key in newest:
                repeated[i] = newest[key]
            else:
                newest[key] = message.tool_call_id or "?"
        return repeated


def _tidy(text: str, *, tool: bool) -> str:
    if tool and text[:1] in "{[":
        try:
            return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            pass
    return _BLANK_RUNS.sub("\n\n", _TRAILING.sub("", text))


def _with(message: Message, content: str) -> Message:
    return dataclasses.replace(message, content=content)


class CompressedProvider(ProviderWrapper):
    """The provider a `CompressPrompt` wraps: compresses each request, counts what it saved."""

    def __init__(self, inner: Provider, policy: CompressPrompt) -> None:
        super().__init__(inner)
        self.policy = policy

    def _shrink(self, request: ModelRequest) -> tuple[ModelRequest, int]:
        compressed = self.policy.compress(request.messages)
        if not compressed.tokens_saved and tuple(request.messages) == compressed.messages:
            return request, 0
        return dataclasses.replace(request, messages=compressed.messages), compressed.tokens_saved

    @staticmethod
    def _counted(response: ModelResponse, saved: int) -> ModelResponse:
        usage = dataclasses.replace(
            response.usage, tokens_saved=response.usage.tokens_saved + saved
        )
        return dataclasses.replace(response, usage=usage)

    def complete(self, request: ModelRequest) -> ModelResponse:
        smaller, saved = self._shrink(request)
        return self._counted(self.inner.complete(smaller), saved)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        smaller, saved = self._shrink(request)
        return self._counted(await self.inner.acomplete(smaller), saved)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        smaller, saved = self._shrink(request)
        items = iter(self.inner.stream(smaller))
        try:
            for item in items:
                yield self._counted(item, saved) if isinstance(item, ModelResponse) else item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        smaller, saved = self._shrink(request)
        items = aiter(self.inner.astream(smaller))
        try:
            async for item in items:
                yield self._counted(item, saved) if isinstance(item, ModelResponse) else item
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()
