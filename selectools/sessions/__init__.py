"""Session stores: where conversations live between runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import SessionStore, StoredSession
from .memory import InMemorySessionStore

if TYPE_CHECKING:
    from .sqlalchemy import SQLAlchemySessionStore

__all__ = ["InMemorySessionStore", "SQLAlchemySessionStore", "SessionStore", "StoredSession"]


def __getattr__(name: str) -> Any:
    if name == "SQLAlchemySessionStore":  # keeps `import selectools` free of SQLAlchemy
        from .sqlalchemy import SQLAlchemySessionStore

        return SQLAlchemySessionStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
