"""Memory: what a model sees of past turns, and what it keeps across sessions.

- `window.py`: the sliding window with smart retention (pins, user turns, tool pairs)
- `conversation.py`: `ConversationMemory`, one session's history over a
  `SessionStore`, windowed by messages or tokens for each run
- `summary.py`: `Summarizer`, the running summary of what the window dropped
"""

from __future__ import annotations

from .conversation import ConversationMemory, Selection, Summarized
from .summary import Summarizer
from .window import approx_tokens

__all__ = ["ConversationMemory", "Selection", "Summarized", "Summarizer", "approx_tokens"]
