"""Memory: what a model sees of past turns, and what it keeps across sessions.

- `window.py`: the sliding window with smart retention (pins, user turns, tool pairs)
- `conversation.py`: `ConversationMemory`, one session's history over a
  `SessionStore`, windowed by messages or tokens for each run
- `summary.py`: `Summarizer`, the running summary of what the window dropped
- `facts.py`: long-term facts per identity (memory, SQL, Redis, Chroma stores)
- `longterm.py`: `memory_tools()` (remember/recall/forget) and `RecallMemories`
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .conversation import ConversationMemory, Selection, Summarized
from .summary import Summarizer
from .window import approx_tokens

if TYPE_CHECKING:
    from .facts import (
        ChromaFactStore,
        Fact,
        FactStore,
        InMemoryFactStore,
        RedisFactStore,
        SQLAlchemyFactStore,
        facts_for,
    )
    from .longterm import RecallMemories, memory_tools

# Long-term memory loads with its first use: `import selectools` stays lean.
_LAZY = {
    **dict.fromkeys(
        (
            "ChromaFactStore",
            "Fact",
            "FactStore",
            "InMemoryFactStore",
            "RedisFactStore",
            "SQLAlchemyFactStore",
            "facts_for",
        ),
        ".facts",
    ),
    "RecallMemories": ".longterm",
    "memory_tools": ".longterm",
}


if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value


__all__ = [
    "ChromaFactStore",
    "ConversationMemory",
    "Fact",
    "FactStore",
    "InMemoryFactStore",
    "RecallMemories",
    "RedisFactStore",
    "SQLAlchemyFactStore",
    "Selection",
    "Summarized",
    "Summarizer",
    "approx_tokens",
    "facts_for",
    "memory_tools",
]
