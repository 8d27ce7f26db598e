"""Memory: what a model sees of past turns.

- `conversation.py`: `ConversationMemory`, one session's history over a
  `SessionStore`, windowed by messages or tokens for each run
"""

from __future__ import annotations

from .conversation import ConversationMemory, approx_tokens

__all__ = ["ConversationMemory", "approx_tokens"]
