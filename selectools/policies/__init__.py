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
from .logging import LogCalls
from .retry import Retry, RetryScheduled, is_transient

__all__ = [
    "BeforeTool",
    "CircuitBreaker",
    "CircuitState",
    "CircuitStateChanged",
    "LogCalls",
    "ProviderPolicy",
    "ProviderWrapper",
    "Retry",
    "RetryScheduled",
    "ToolPolicy",
    "compose_provider",
    "is_transient",
    "tool_policies",
]
