"""Policies: wrappers around the provider and interceptors around tool calls.

See `selectools.policies.base` for the shape every policy takes; each policy
lives in its own module here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from .base import (
    BeforeTool,
    ProviderPolicy,
    ProviderWrapper,
    ToolPolicy,
    compose_provider,
    tool_policies,
)

if TYPE_CHECKING:
    from .breaker import CircuitBreaker, CircuitState, CircuitStateChanged
    from .cache import ResponseCache
    from .compression import CompressPrompt
    from .logging import LogCalls
    from .quota import Quota, QuotaUse
    from .ratelimit import RateLimiter, ToolRateLimit
    from .retry import Retry, RetryScheduled, is_transient
    from .semantic_cache import SemanticCache
    from .tool_cache import ToolCache

# Each policy loads with its first use: `import selectools` stays lean, and a
# policy's own imports (datetime, limits, hashing) cost nothing until then.
_LAZY = {
    "CircuitBreaker": ".breaker",
    "CircuitState": ".breaker",
    "CircuitStateChanged": ".breaker",
    "ResponseCache": ".cache",
    "CompressPrompt": ".compression",
    "LogCalls": ".logging",
    "Quota": ".quota",
    "QuotaUse": ".quota",
    "RateLimiter": ".ratelimit",
    "ToolRateLimit": ".ratelimit",
    "Retry": ".retry",
    "RetryScheduled": ".retry",
    "is_transient": ".retry",
    "SemanticCache": ".semantic_cache",
    "ToolCache": ".tool_cache",
}

if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)


__all__ = [
    "BeforeTool",
    "CircuitBreaker",
    "CircuitState",
    "CircuitStateChanged",
    "CompressPrompt",
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
