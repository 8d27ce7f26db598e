"""Read-only message sequences that share a long history instead of copying it.

A run over a session with a thousand messages used to copy them three times
(the window, the result's transcript, the session's new tuple) and free the
copies again: its cost grew with the history though nothing looked at it.
Messages are immutable, so a run can hand out views instead:

- `joined(a, b, ...)` is the parts one after another. Short results are plain
  tuples (copying a few items is cheaper than a view); long ones are a
  `JoinedView` over the parts.
- `PrefixView(items, n)` is the first `n` items of a list that only ever
  grows (the in-memory session store's log): later appends do not show.

Both behave as tuples do where it matters: `len`, iteration, indexing and
slicing (a slice is a tuple), `==` with tuples and each other, hashing, `+`
with tuples, and `repr`; they pickle and copy as plain tuples.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence
from typing import Any, SupportsIndex, TypeVar, overload

__all__ = ["SHARE_FROM", "JoinedView", "PrefixView", "joined"]

T = TypeVar("T")

SHARE_FROM = 64
"""From this many items on, a view costs less than a copy: callers on a hot path
check it first and concatenate short sequences themselves (`(*a, *b)`)."""


class _TupleLike(Sequence[T]):
    """What the views share: tuple equality, hashing, `+`, repr and pickling."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple | _TupleLike):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __add__(self, other: Sequence[T]) -> Sequence[T]:
        if not isinstance(other, tuple | _TupleLike):
            return NotImplemented
        return joined(self, other)

    def __radd__(self, other: Sequence[T]) -> Sequence[T]:
        if not isinstance(other, tuple):
            return NotImplemented
        return joined(other, self)

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))

    @overload
    def __getitem__(self, index: SupportsIndex) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return self._slice(index)
        return self._item(index)

    def _item(self, index: SupportsIndex) -> T:
        raise NotImplementedError

    def _slice(self, index: slice) -> tuple[T, ...]:
        raise NotImplementedError


class JoinedView(_TupleLike[T]):
    """Several sequences read as one, without copying them (see `joined`)."""

    __slots__ = ("_ends", "_length", "_parts")

    def __init__(self, parts: Sequence[Sequence[T]]) -> None:
        self._parts = tuple(parts)
        self._ends = list(itertools.accumulate(map(len, self._parts)))
        self._length = self._ends[-1] if self._ends else 0

    @property
    def parts(self) -> tuple[Sequence[T], ...]:
        return self._parts

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[T]:
        return itertools.chain.from_iterable(self._parts)

    def __reversed__(self) -> Iterator[T]:
        for part in reversed(self._parts):
            yield from reversed(part)

    def _item(self, index: SupportsIndex) -> T:
        position = _position(index, self._length)
        part = bisect.bisect_right(self._ends, position)
        return self._parts[part][position - self._ends[part - 1] if part else position]

    def _slice(self, index: slice) -> tuple[T, ...]:
        start, stop, step = index.indices(self._length)
        if step != 1:
            return tuple(self)[index]
        pieces: list[T] = []
        offset = 0
        for part, end in zip(self._parts, self._ends, strict=True):
            if end > start and offset < stop:
                pieces.extend(part[max(start - offset, 0) : min(stop, end) - offset])
            offset = end
        return tuple(pieces)


class PrefixView(_TupleLike[T]):
    """The first `length` items of a list that only grows: what it held at one moment.

    Only the list's owner appends to it (under its own lock); nothing ever
    changes or removes an item, so the view never changes.
    """

    __slots__ = ("_items", "_length")

    def __init__(self, items: list[T], length: int) -> None:
        self._items = items
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[T]:
        return itertools.islice(self._items, self._length)

    def _item(self, index: SupportsIndex) -> T:
        return self._items[_position(index, self._length)]

    def _slice(self, index: slice) -> tuple[T, ...]:
        return tuple(self._items[slice(*index.indices(self._length))])


def joined(*parts: Sequence[T]) -> Sequence[T]:
    """The parts one after another: a tuple when short, else a view sharing them.

    Parts must not change afterwards; a list is copied for that reason.
    """
    flat: list[Sequence[T]] = []
    for part in parts:
        if type(part) is JoinedView:
            flat.extend(part.parts)
        elif part:
            flat.append(tuple(part) if type(part) is list else part)
    if len(flat) == 1 and isinstance(flat[0], tuple | _TupleLike):
        return flat[0]
    view = JoinedView(flat)
    return view if view._length >= SHARE_FROM else tuple(view)  # short: a copy is cheaper


def _position(index: SupportsIndex, length: int) -> int:
    position = index.__index__()
    if position < 0:
        position += length
    if not 0 <= position < length:
        raise IndexError("sequence index out of range")
    return position
