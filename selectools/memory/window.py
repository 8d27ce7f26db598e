"""The sliding window with smart retention: which messages of a conversation the model sees.

Three rules make a window a conversation a model can follow:

- it starts at a user turn, so no answer or tool call appears without the
  question that caused it;
- a tool call and its results stay together (a result without its call is
  rejected by every provider, a call without results too);
- pinned messages stay: system messages, the first user message (the goal
  of the conversation) and any message marked `Message(..., pinned=True)`.

The newest turns are kept whole while they fit. When even the newest turn is
too big, its user message and its newest tool exchanges are kept and the
middle of the turn is left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..content import parts_tokens
from ..frozen import record
from ..messages import Message

__all__ = ["Budget", "WindowPlan", "approx_tokens", "plan_window"]


def approx_tokens(message: Message) -> int:
    """A cheap token estimate (4 characters a token, plus per-message overhead and media)."""
    chars = len(message.content or "") + sum(
        len(c.name) + len(c.arguments) for c in message.tool_calls
    )
    return chars // 4 + 4 + parts_tokens(message.parts)


@record
class Budget:
    """At most `messages` messages and/or `tokens` estimated tokens (None: no limit)."""

    messages: int | None = None
    tokens: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.messages is None and self.tokens is None

    def fits(self, count: int, tokens: int) -> bool:
        return (self.messages is None or count <= self.messages) and (
            self.tokens is None or tokens <= self.tokens
        )


@record
class WindowPlan:
    """What the window keeps of `messages`, by position.

    `kept` lists the kept positions in order. `start` is where the kept run of
    recent turns begins: everything before it that is not pinned was left
    out (what a summarizer would summarize).
    """

    kept: tuple[int, ...]
    start: int


def plan_window(
    messages: Sequence[Message],
    budget: Budget,
    *,
    pin_first_user: bool = True,
    reserved: tuple[int, int] = (0, 0),
    floor: int = 0,
) -> WindowPlan:
    """Choose the messages that fit `budget`.

    `reserved` is (messages, tokens) set aside for a summary note; messages
    before `floor` (already summarized) are kept only when pinned.
    """
    groups = _groups(messages)
    pinned = _pinned(messages, groups, pin_first_user)
    if budget.unlimited:
        pins = set(pinned)
        kept_all = [group for g, group in enumerate(groups) if group[0] >= floor or g in pins]
        return WindowPlan(tuple(i for group in kept_all for i in group), floor)
    count, tokens = reserved
    for g in pinned:
        count += len(groups[g])
        tokens += sum(approx_tokens(messages[i]) for i in groups[g])
    turns = _turns(messages, groups, pinned, floor)
    kept_groups: set[int] = set(pinned)
    start = max(len(messages), floor)
    for n, turn in enumerate(reversed(turns)):
        turn_count = sum(len(groups[g]) for g in turn)
        turn_tokens = sum(approx_tokens(messages[i]) for g in turn for i in groups[g])
        if budget.fits(count + turn_count, tokens + turn_tokens):
            kept_groups.update(turn)
            count += turn_count
            tokens += turn_tokens
            start = groups[turn[0]][0]
            continue
        if n == 0:  # the newest turn never fits: its question and its newest exchanges
            kept_groups.update(_newest_that_fit(messages, groups, turn, budget, count, tokens))
            start = groups[turn[0]][0]
        break
    kept = tuple(i for g, group in enumerate(groups) if g in kept_groups for i in group)
    return WindowPlan(kept, start)


def _groups(messages: Sequence[Message]) -> list[list[int]]:
    """Positions in units that must stay together: a tool-call message with its results."""
    groups: list[list[int]] = []
    open_calls: set[str] = set()
    for i, message in enumerate(messages):
        if message.role == "tool":
            if groups and message.tool_call_id in open_calls:
                groups[-1].append(i)
                open_calls.discard(message.tool_call_id)
            # else: an orphaned result (its call was trimmed earlier) would be rejected
            continue
        groups.append([i])
        open_calls = {c.id for c in message.tool_calls} if message.role == "assistant" else set()
    return groups


def _pinned(messages: Sequence[Message], groups: list[list[int]], first_user: bool) -> list[int]:
    pinned = []
    seen_user = False
    for g, group in enumerate(groups):
        head = messages[group[0]]
        is_first_user = first_user and head.role == "user" and not seen_user
        seen_user = seen_user or head.role == "user"
        if head.role == "system" or is_first_user or any(messages[i].pinned for i in group):
            pinned.append(g)
    return pinned


def _turns(
    messages: Sequence[Message], groups: list[list[int]], pinned: list[int], floor: int
) -> list[list[int]]:
    """Unpinned groups from `floor` on, in turns opening with a user message (but the first)."""
    skip = set(pinned)
    turns: list[list[int]] = []
    for g, group in enumerate(groups):
        if group[0] < floor:
            continue
        if messages[group[0]].role == "user" or not turns:
            turns.append([])
        if g not in skip:  # pins are counted once, with the pins
            turns[-1].append(g)
    return [turn for turn in turns if turn]


def _newest_that_fit(
    messages: Sequence[Message],
    groups: list[list[int]],
    turn: list[int],
    budget: Budget,
    count: int,
    tokens: int,
) -> list[int]:
    """The turn's opening message and its newest groups within budget (the last always)."""
    chosen = [turn[-1]]
    count += len(groups[turn[-1]])
    tokens += sum(approx_tokens(messages[i]) for i in groups[turn[-1]])
    head = turn[0]
    if head != turn[-1] and messages[groups[head][0]].role == "user":
        chosen.append(head)
        count += len(groups[head])
        tokens += sum(approx_tokens(messages[i]) for i in groups[head])
    for g in reversed(turn[1:-1]):
        size = len(groups[g])
        weight = sum(approx_tokens(messages[i]) for i in groups[g])
        if not budget.fits(count + size, tokens + weight):
            break
        chosen.append(g)
        count += size
        tokens += weight
    return chosen
