"""ToolCache: a pure tool's results cached by its arguments (`@tool(cache_ttl=60)`).

A hit stands in for the call (`ToolCallRecord.cached` is True, the event
shows it); only successful results are kept. In this process (an LRU) or in
Redis, where results are stored as JSON (a result JSON cannot hold is not cached).

A result is only served to a call the same tool would answer the same way, so
one cache may serve per-tenant agents. The key is the tool's name and
arguments, and what else its answer depends on:

- the code: a module-level function by its module and qualified name (the same
  in every worker, so a Redis cache is shared across workers);
- the state it closes over: a toolkit's bound method or a closure (a tool made
  per tenant) by the object itself, a token never reused in this process, so
  its results are shared only with itself. A toolkit whose results depend on
  nothing but its settings may say so with a `cache_scope()` method returning
  a string of them (`"tenant=acme"`): equal scopes share results across
  instances and workers;
- the run context, when the tool takes it: identity, session id and metadata
  (a tenant read from the metadata).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import threading
import uuid
import weakref
from typing import Any

from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from ..tools.tool import Tool
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
        if key is None:
            return None
        if isinstance(self.entries, MemoryEntries):
            return self._answer(invocation, self.entries.get(key))
        return self._abefore(invocation, key)

    def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> Any:
        if not record.ok or record.cached:
            return None
        key = _key(invocation)
        if key is None:
            return None
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


def _key(invocation: ToolInvocation) -> str | None:
    """The entry's key; None: the tool's answer cannot be told apart from another's."""
    source = _source(invocation.tool)
    if source is None:
        return None
    context = invocation.context if invocation.tool.context_param else None
    facts = {
        "tool": invocation.name,
        "source": source,
        "arguments": dict(invocation.arguments),
        "context": None
        if context is None
        else [context.identity, context.session_id, dict(context.metadata)],
    }
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _source(tool: Tool) -> str | None:
    """What the tool's answer depends on besides its arguments (see the module)."""
    function: Any = tool.function
    if inspect.ismethod(function):
        code = _qualified(function.__func__)
        owner = function.__self__
        declared = getattr(owner, "cache_scope", None)
        if callable(declared):
            return f"{code}|scope={declared()}"
        token = _token(owner)
        return None if token is None else f"{code}|{token}"
    if inspect.isfunction(function) and not function.__closure__:
        return _qualified(function)
    return _token(function)


def _qualified(function: Any) -> str:
    return f"{getattr(function, '__module__', '?')}:{getattr(function, '__qualname__', '?')}"


_tokens: dict[int, str] = {}  # id of a live object -> its token; dropped when it dies
_tokens_lock = threading.Lock()


def _token(owner: object) -> str | None:
    """A token for this object alone, never handed to another (its id may be reused)."""
    key = id(owner)
    with _tokens_lock:
        token = _tokens.get(key)
        if token is None:
            try:
                weakref.finalize(owner, _forget, key)
            except TypeError:  # cannot tell when it dies: not cached at all
                logger.debug("%r cannot be weakly referenced; its tool is not cached", owner)
                return None
            token = _tokens[key] = f"instance:{uuid.uuid4().hex}"
    return token


def _forget(key: int) -> None:
    with _tokens_lock:
        _tokens.pop(key, None)
