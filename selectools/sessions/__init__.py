"""Session stores: where conversations live between runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import SessionLister, SessionStore, SessionSummary, StoredSession
from .in_memory import InMemorySessionStore

if TYPE_CHECKING:
    from .redis import RedisSessionStore
    from .sqlalchemy import SQLAlchemySessionStore

__all__ = [
    "InMemorySessionStore",
    "RedisSessionStore",
    "SQLAlchemySessionStore",
    "SessionLister",
    "SessionStore",
    "SessionSummary",
    "StoredSession",
]


if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error

    def __getattr__(name: str) -> Any:
        """Load the database-backed stores on first use: `import selectools` stays light."""
        if name == "SQLAlchemySessionStore":
            from .sqlalchemy import SQLAlchemySessionStore

            return SQLAlchemySessionStore
        if name == "RedisSessionStore":
            from .redis import RedisSessionStore

            return RedisSessionStore
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
