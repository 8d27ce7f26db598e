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
from .logging import LogCalls

__all__ = [
    "BeforeTool",
    "LogCalls",
    "ProviderPolicy",
    "ProviderWrapper",
    "ToolPolicy",
    "compose_provider",
    "tool_policies",
]
