"""Summarizer: a model-written running summary of what the memory window left out.

The summary grows incrementally: each time the window drops more turns, the
model gets the previous summary and only the newly dropped messages, and
writes the extended summary. It is stored in the session as one marked
system message (`summary_record`), so every store keeps it without a schema
change, and the newest record wins when a session is loaded.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence

from ..context import RunContext
from ..frozen import record
from ..messages import Message
from ..providers.base import ModelRequest, ModelResponse, Provider
from ..usage import Usage

__all__ = [
    "SUMMARY_NAME",
    "StoredSummary",
    "Summarizer",
    "find_summary",
    "summary_note",
    "summary_record",
]

SUMMARY_NAME = "selectools.summary"
"""The `name` of the system message a session stores its summary in."""

INSTRUCTIONS = (
    "You keep a running summary of a conversation between a user and an assistant "
    "that uses tools. Extend the previous summary with the new messages. Keep the "
    "user's goals, decisions, facts learned from tools (names, ids, numbers, dates) "
    "and open questions; drop greetings and repetition. Write plain sentences in "
    "the third person, at most {max_tokens} tokens. Answer with the summary only."
)


@record
class StoredSummary:
    """A session's summary: `text` covers the first `covers` messages of its history."""

    text: str
    covers: int


def summary_record(summary: StoredSummary) -> Message:
    """The system message a session stores the summary in (never shown to a model as is)."""
    body = {"covers": summary.covers, "summary": summary.text}
    return Message(role="system", content=json.dumps(body, ensure_ascii=False), name=SUMMARY_NAME)


def summary_note(text: str) -> Message:
    """The system note the model sees in place of the summarized turns."""
    return Message.system(f"Summary of the earlier conversation:\n{text}")


_NAME = operator.attrgetter("name")


def find_summary(
    history: Sequence[Message], system_at: Sequence[int] | None = None
) -> tuple[Sequence[Message], StoredSummary | None]:
    """Split stored history into its plain messages and the summary covering the most.

    `system_at` (from `StoredSession.system_at`, when the store tracks it) lists
    where the system messages are, so only those are looked at: a long history
    without a summary costs nothing to check.
    """
    if system_at is not None:
        if not any(history[i].name == SUMMARY_NAME for i in system_at):
            return history, None  # the common case: nothing to copy
    elif SUMMARY_NAME not in map(_NAME, history):  # a C-level scan: history may be long
        return history, None
    plain: list[Message] = []
    best: StoredSummary | None = None
    for message in history:
        if message.role != "system" or message.name != SUMMARY_NAME:
            plain.append(message)
            continue
        try:
            body = json.loads(message.content or "")
            found = StoredSummary(str(body["summary"]), int(body["covers"]))
        except (ValueError, KeyError, TypeError):
            continue  # not one of ours after all
        if best is None or found.covers >= best.covers:
            best = found
    return plain, best


class Summarizer:
    """Writes the summary; `provider=None` uses the run's own provider (with its policies).

    `max_tokens` bounds the summary (the memory window reserves that much of
    its budget for it); `chunk_tokens` bounds each summarizer request, so a
    long backlog is folded in over several calls instead of one huge one.
    When the window overflows, enough turns are folded in to bring it down to
    `refill` of its budget, so the summarizer runs every few turns, not every turn.
    """

    def __init__(
        self,
        provider: Provider | None = None,
        *,
        max_tokens: int = 300,
        chunk_tokens: int = 6000,
        instructions: str = INSTRUCTIONS,
        max_message_chars: int = 2000,
        refill: float = 0.6,
    ) -> None:
        if max_tokens < 16 or chunk_tokens < 100:
            raise ValueError("Summarizer needs max_tokens >= 16 and chunk_tokens >= 100.")
        if not 0.1 <= refill <= 1.0:
            raise ValueError(f"Summarizer(refill={refill}) must be between 0.1 and 1.")
        self.refill = refill
        self.provider = provider
        self.max_tokens = max_tokens
        self.chunk_tokens = chunk_tokens
        self.instructions = instructions
        self.max_message_chars = max_message_chars

    def chunks(self, dropped: Sequence[Message]) -> list[list[str]]:
        """The dropped messages as transcript lines, in chunks of at most `chunk_tokens`."""
        chunks: list[list[str]] = [[]]
        size = 0
        for message in dropped:
            line = self._line(message)
            weight = len(line) // 4 + 1
            if chunks[-1] and size + weight > self.chunk_tokens:
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += weight
        return chunks

    def request(
        self, previous: str | None, lines: Sequence[str], context: RunContext | None
    ) -> ModelRequest:
        """One summarizer call: the previous summary and only the new lines."""
        parts = [f"Previous summary:\n{previous}" if previous else "Previous summary: (none)"]
        parts.append("New messages:\n" + "\n".join(lines))
        return ModelRequest(
            messages=(
                Message.system(self.instructions.format(max_tokens=self.max_tokens)),
                Message.user("\n\n".join(parts)),
            ),
            max_tokens=self.max_tokens,
            temperature=0.0,
            context=context,
        )

    def summarize(
        self,
        provider: Provider,
        previous: str | None,
        dropped: Sequence[Message],
        context: RunContext | None = None,
    ) -> tuple[str, Usage]:
        """The extended summary and what writing it cost."""
        model = self.provider or provider
        usage = Usage()
        text = previous
        for lines in self.chunks(dropped):
            response = model.complete(self.request(text, lines, context))
            text, usage = self._extended(text, response), usage + response.usage
        return text or "", usage

    async def asummarize(
        self,
        provider: Provider,
        previous: str | None,
        dropped: Sequence[Message],
        context: RunContext | None = None,
    ) -> tuple[str, Usage]:
        """Async `summarize`."""
        model = self.provider or provider
        usage = Usage()
        text = previous
        for lines in self.chunks(dropped):
            response = await model.acomplete(self.request(text, lines, context))
            text, usage = self._extended(text, response), usage + response.usage
        return text or "", usage

    def _extended(self, previous: str | None, response: ModelResponse) -> str | None:
        text = (response.message.content or "").strip()
        if not text:  # a model that answered nothing must not erase what we had
            return previous
        limit = self.max_tokens * 4
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def _line(self, message: Message) -> str:
        content = message.content if isinstance(message.content, str) else ""
        if len(content) > self.max_message_chars:
            content = content[: self.max_message_chars] + f" […{len(content)} chars]"
        if message.role == "tool":
            return f"tool {message.name or ''} result: {content}"
        calls = "; ".join(f"called {c.name}({c.arguments[:500]})" for c in message.tool_calls)
        return f"{message.role}: {' '.join(p for p in (content, calls) if p)}"
