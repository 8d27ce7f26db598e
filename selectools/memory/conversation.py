"""ConversationMemory: history per session, trimmed to a sliding window for each run."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import field

from ..context import RunContext
from ..frozen import record
from ..messages import Message
from ..providers.base import Provider
from ..sequences import SHARE_FROM, joined
from ..sessions.base import SessionStore
from ..sessions.in_memory import InMemorySessionStore
from ..usage import Usage
from .summary import StoredSummary, Summarizer, find_summary, summary_note, summary_record
from .window import Budget, approx_tokens, plan_window

__all__ = ["ConversationMemory", "Selection", "Summarized", "approx_tokens"]


@record
class Selection:
    """What a run starts from: the window, and what is left to summarize before it.

    `pending` are the messages the window dropped that no summary covers yet
    (pinned ones excluded); `covers` is how many stored messages the summary
    will cover once they are folded in.
    """

    messages: Sequence[Message]
    summary: StoredSummary | None = None
    pending: tuple[Message, ...] = ()
    covers: int = 0
    note_at: int = 0


@record
class Summarized:
    """The window with the extended summary, the record to store, and the summarizer's usage."""

    messages: Sequence[Message]
    record: Message
    usage: Usage = field(default_factory=Usage)


class ConversationMemory:
    """Keeps each session's history in a store and picks what the model sees.

    The window (`max_messages`, `max_tokens`) keeps the newest turns whole,
    always starts at a user turn, never separates a tool call from its
    results, and keeps pinned messages: system messages, the first user
    message (`pin_first_user`) and `Message(..., pinned=True)`. The store
    keeps everything.

    With `summarize=True` (or a `Summarizer` with its own provider), the
    turns the window drops are folded into a model-written summary, shown as
    a system note and stored with the session; each run extends it with only
    the newly dropped turns. The window reserves `Summarizer.max_tokens` of
    its budget for the note.
    """

    def __init__(
        self,
        store: SessionStore | None = None,
        *,
        max_messages: int | None = None,
        max_tokens: int | None = None,
        pin_first_user: bool = True,
        summarize: bool | Summarizer = False,
    ) -> None:
        for label, value in (("max_messages", max_messages), ("max_tokens", max_tokens)):
            if value is not None and value < 1:
                raise ValueError(f"ConversationMemory({label}={value}) must be at least 1.")
        self.store: SessionStore = store if store is not None else InMemorySessionStore()
        self.max_messages = max_messages
        self.max_tokens = max_tokens
        self.pin_first_user = pin_first_user
        self.summarizer: Summarizer | None = (
            Summarizer() if summarize is True else summarize if summarize else None
        )
        if self.summarizer is not None and max_tokens is None and max_messages is None:
            raise ValueError(
                "ConversationMemory(summarize=...) summarizes what the window drops: "
                "set max_tokens= (or max_messages=) too."
            )
        summary_tokens = self.summarizer.max_tokens if self.summarizer is not None else 0
        if summary_tokens and max_tokens is not None and max_tokens <= summary_tokens + 8:
            raise ValueError(
                f"ConversationMemory(max_tokens={max_tokens}) leaves no room beside a "
                f"summary of up to {summary_tokens} tokens: raise max_tokens "
                f"or pass Summarizer(max_tokens=...) with less."
            )

    def using(self, store: SessionStore) -> ConversationMemory:
        """The same memory settings over another store."""
        clone = copy.copy(self)
        clone.store = store
        return clone

    @property
    def budget(self) -> Budget:
        return Budget(self.max_messages, self.max_tokens)

    def window(self, messages: Sequence[Message]) -> list[Message]:
        """The messages that fit (no summary): see the class docstring for what is kept."""
        plan = plan_window(messages, self.budget, pin_first_user=self.pin_first_user)
        return [messages[i] for i in plan.kept]

    def select(
        self,
        system: Sequence[Message],
        history: Sequence[Message],
        input: Sequence[Message],
        *,
        system_at: Sequence[int] | None = None,
    ) -> Selection:
        """The window for a run over stored `history`, and what is left to summarize.

        `system_at`: where `history`'s system messages are, if the store knows.
        """
        plain, summary = find_summary(history, system_at)
        if summary is None and self.summarizer is None and self.budget.unlimited:
            if len(plain) < SHARE_FROM:  # no window: no planning, and a long history no copy
                return Selection((*system, *plain, *input))
            return Selection(joined(system, plain, input))
        conversation = [*plain, *input]
        everything = [*system, *conversation]
        covered = min(summary.covers, len(plain)) if summary is not None else 0
        reserved = (1, self.summarizer.max_tokens + 8) if self.summarizer is not None else (0, 0)
        plan = plan_window(
            everything,
            self.budget,
            pin_first_user=self.pin_first_user,
            reserved=reserved,
            floor=len(system) + covered,
        )
        if self.summarizer is not None and self.summarizer.refill < 1.0:
            dropped = any(
                i not in plan.kept and m.role != "system"
                for i, m in enumerate(everything[: plan.start])
                if i >= len(system) + covered
            )
            if dropped:  # fold in enough to leave room for the next few turns
                plan = plan_window(
                    everything,
                    _scaled(self.budget, self.summarizer.refill, reserved),
                    pin_first_user=self.pin_first_user,
                    reserved=reserved,
                    floor=len(system) + covered,
                )
        kept = [everything[i] for i in plan.kept]
        note_at = 0
        while note_at < len(kept) and kept[note_at].role == "system":
            note_at += 1
        if summary is not None:
            kept.insert(note_at, summary_note(summary.text))
        if self.summarizer is None:
            return Selection(tuple(kept))
        start = plan.start - len(system)
        kept_set = set(plan.kept)
        pending = tuple(
            m
            for i, m in enumerate(conversation[covered:start], start=len(system) + covered)
            if i not in kept_set and m.role != "system"
        )
        return Selection(tuple(kept), summary, pending, max(start, covered), note_at)

    def summarize(
        self, selection: Selection, provider: Provider, context: RunContext | None = None
    ) -> Summarized:
        """Fold the selection's pending messages into the summary (one or more model calls)."""
        assert self.summarizer is not None, "only called with a summarizer"
        previous = selection.summary.text if selection.summary is not None else None
        text, usage = self.summarizer.summarize(provider, previous, selection.pending, context)
        return self._summarized(selection, text, usage)

    async def asummarize(
        self, selection: Selection, provider: Provider, context: RunContext | None = None
    ) -> Summarized:
        """Async `summarize`."""
        assert self.summarizer is not None, "only called with a summarizer"
        previous = selection.summary.text if selection.summary is not None else None
        text, usage = await self.summarizer.asummarize(
            provider, previous, selection.pending, context
        )
        return self._summarized(selection, text, usage)

    @staticmethod
    def _summarized(selection: Selection, text: str, usage: Usage) -> Summarized:
        messages = list(selection.messages)
        if selection.summary is not None:
            messages[selection.note_at] = summary_note(text)
        else:
            messages.insert(selection.note_at, summary_note(text))
        record = summary_record(StoredSummary(text, selection.covers))
        return Summarized(tuple(messages), record, usage)


def _scaled(budget: Budget, ratio: float, reserved: tuple[int, int]) -> Budget:
    """`budget` brought down to `ratio` of what it leaves beside the reserved room."""

    def scale(limit: int | None, kept: int) -> int | None:
        return None if limit is None else kept + max(1, int((limit - kept) * ratio))

    return Budget(scale(budget.messages, reserved[0]), scale(budget.tokens, reserved[1]))
