"""ToolCache: a pure tool's results cached by its arguments (`@tool(cache_ttl=60)`).

A hit stands in for the call (`ToolCallRecord.cached` is True, the event
shows it); only successful results are kept. The key is the tool's name and
its arguments, plus the caller's identity when the tool takes the run context
(its result may depend on who asks). In this process (an LRU) or in Redis,
where results are stored as JSON (a result JSON cannot hold is not cached).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from typing import Any

from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from .base import BeforeTool, ToolPolicy
from .cache import MemoryEntries, RedisEntries

__all__ = ["ToolCache"]

logger = logging.getLogger("selectools.cache")


class ToolCache(ToolPolicy):
    """Cache successful results of pure tools for `ttl` seconds.

    Args:
        ttl: seconds a result stays.
        storage: None (this process) or a Redis URL shared by every worker.
        max_entries: the in-process LRU's size.
        prefix: Redis key prefix.
    """

    def __init__(
        self,
        ttl: float = 60.0,
        *,
        storage: str | None = None,
        max_entries: int = 1024,
        prefix: str = "selectools:toolcache:",
    ) -> None:
        self.ttl = ttl
        self.entries: MemoryEntries | RedisEntries = (
            MemoryEntries(max_entries)
            if storage is None
            else RedisEntries(
                storage,
                prefix=prefix,
                encode=lambda value: {"result": value},
                decode=lambda data: _Found(data["result"]),
                feature="ToolCache",
            )
        )
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ToolCache(ttl={self.ttl:g})"

    def before_tool(self, invocation: ToolInvocation) -> Any:
        key = _key(invocation)
        if isinstance(self.entries, MemoryEntries):
            return self._answer(invocation, self.entries.get(key))
        return self._abefore(invocation, key)

    def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> Any:
        if not record.ok or record.cached:
            return None
        key = _key(invocation)
        if isinstance(self.entries, MemoryEntries):
            self.entries.put(key, _Found(record.result), self.ttl)
            return None
        try:
            json.dumps(record.result)
        except (TypeError, ValueError):
            logger.debug("tool %s returned a value JSON cannot hold; not cached", record.name)
            return None
        return self.entries.aput(key, record.result, self.ttl)

    async def _abefore(self, invocation: ToolInvocation, key: str) -> BeforeTool:
        return self._answer(invocation, await self.entries.aget(key))

    def _answer(self, invocation: ToolInvocation, found: _Found | None) -> ToolCallRecord | None:
        with self._lock:
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        if found is None:
            return None
        return dataclasses.replace(invocation.succeed(found.value), cached=True)


@dataclasses.dataclass(frozen=True, slots=True)
class _Found:
    """A cached result (a box, so a cached None is still a hit)."""

    value: Any


def _key(invocation: ToolInvocation) -> str:
    facts = {
        "tool": invocation.name,
        "arguments": dict(invocation.arguments),
        "identity": invocation.context.identity if invocation.tool.context_param else None,
    }
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
