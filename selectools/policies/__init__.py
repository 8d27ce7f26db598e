"""Policies: wrappers around the provider and interceptors around tool calls.

See `selectools.policies.base` for the shape every policy takes; each policy
lives in its own module here.
"""

from __future__ import annotations

from .base import (
    BeforeTool,
    ProviderPolicy,
    ProviderWrapper,
    ToolPolicy,
    compose_provider,
    tool_policies,
)
from .breaker import CircuitBreaker, CircuitState, CircuitStateChanged
from .cache import ResponseCache
from .logging import LogCalls
from .quota import Quota, QuotaUse
from .ratelimit import RateLimiter, ToolRateLimit
from .retry import Retry, RetryScheduled, is_transient
from .semantic_cache import SemanticCache
from .tool_cache import ToolCache

__all__ = [
    "BeforeTool",
    "CircuitBreaker",
    "CircuitState",
    "CircuitStateChanged",
    "LogCalls",
    "ProviderPolicy",
    "ProviderWrapper",
    "Quota",
    "QuotaUse",
    "RateLimiter",
    "ResponseCache",
    "Retry",
    "RetryScheduled",
    "SemanticCache",
    "ToolCache",
    "ToolPolicy",
    "ToolRateLimit",
    "compose_provider",
    "is_transient",
    "tool_policies",
]
