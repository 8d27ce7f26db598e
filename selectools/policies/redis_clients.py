"""Redis clients for policies that share state between workers: one async client per event loop.

An async client is bound to the loop it first ran on; used from the next
`asyncio.run()` (a script, a Celery task, the sync bridge loop) it fails. So
`RedisClients` keeps one per running loop, plus one sync client.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..extras import require

__all__ = ["RedisClients", "redacted"]


class RedisClients:
    """The clients of one Redis URL: `sync` for sync code, `current()` inside a running loop."""

    def __init__(self, url: str, *, feature: str) -> None:
        redis = require("redis", extra="redis", feature=feature)
        self.url = url
        self.sync: Any = redis.Redis.from_url(url)
        self._lock = threading.Lock()
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RedisClients({redacted(self.url)!r})"

    def current(self) -> Any:
        """The async client of the running event loop (made on first use in that loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async.get(loop)
            if client is None:
                import redis.asyncio

                client = redis.asyncio.Redis.from_url(self.url)
                self._async[loop] = client
            return client


def redacted(url: str) -> str:
    """The URL without its password, for logs and reprs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))
