"""ConversationMemory: history per session, trimmed to a sliding window for each run."""

from __future__ import annotations

from collections.abc import Sequence

from ..content import parts_tokens
from ..messages import Message
from ..sessions.base import SessionStore
from ..sessions.in_memory import InMemorySessionStore

__all__ = ["ConversationMemory", "approx_tokens"]


def approx_tokens(message: Message) -> int:
    """A cheap token estimate (4 characters a token, plus per-message overhead)."""
    chars = len(message.content or "") + sum(
        len(c.name) + len(c.arguments) for c in message.tool_calls
    )
    return chars // 4 + 4 + parts_tokens(message.parts)


class ConversationMemory:
    """Keeps each session's history in a store and picks what the model sees.

    The window drops the oldest turns first, by message count and/or estimated
    tokens, but never separates an assistant tool-call message from its tool
    results and never drops system messages. The store keeps everything.
    """

    def __init__(
        self,
        store: SessionStore | None = None,
        *,
        max_messages: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        for label, value in (("max_messages", max_messages), ("max_tokens", max_tokens)):
            if value is not None and value < 1:
                raise ValueError(f"ConversationMemory({label}={value}) must be at least 1.")
        self.store: SessionStore = store if store is not None else InMemorySessionStore()
        self.max_messages = max_messages
        self.max_tokens = max_tokens

    def window(self, messages: Sequence[Message]) -> list[Message]:
        """The most recent messages that fit; the newest group is always kept."""
        if self.max_messages is None and self.max_tokens is None:
            return messages if isinstance(messages, list) else list(messages)
        pinned = [m for m in messages if m.role == "system"]
        groups = _groups([m for m in messages if m.role != "system"])
        count = len(pinned)
        tokens = sum(approx_tokens(m) for m in pinned)
        kept: list[list[Message]] = []
        for group in reversed(groups):
            group_tokens = sum(approx_tokens(m) for m in group)
            fits = (self.max_messages is None or count + len(group) <= self.max_messages) and (
                self.max_tokens is None or tokens + group_tokens <= self.max_tokens
            )
            if kept and not fits:
                break
            kept.append(group)
            count += len(group)
            tokens += group_tokens
        return pinned + [m for group in reversed(kept) for m in group]


def _groups(messages: Sequence[Message]) -> list[list[Message]]:
    """Split into units that must stay together: a tool-call turn with its results."""
    groups: list[list[Message]] = []
    for message in messages:
        if message.role == "tool" and groups and _expects_results(groups[-1]):
            groups[-1].append(message)
        elif message.role == "tool":
            continue  # an orphaned result (its call was trimmed earlier) would be rejected
        else:
            groups.append([message])
    return groups


def _expects_results(group: list[Message]) -> bool:
    return bool(group[0].role == "assistant" and group[0].tool_calls)
