"""Telemetry: OpenTelemetry traces and metrics for runs, model calls and tool calls.

`Agent(policies=[OpenTelemetry()])` traces one agent; `enable()` (or the
environment variable `SELECTOOLS_OTEL=1`) traces every agent built after it.
OpenTelemetry itself is imported only when a policy is built, so an app that
never asks for traces pays nothing (`pip install -e ".[otel]"`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .switch import disable, enable, enabled

if TYPE_CHECKING:  # what type checkers see; at run time, `__getattr__` below
    from .otel import OpenTelemetry

__all__ = ["OpenTelemetry", "disable", "enable", "enabled"]


if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error

    def __getattr__(name: str) -> Any:
        if name == "OpenTelemetry":  # imported on first use: it reaches for opentelemetry-api
            from .otel import OpenTelemetry

            return OpenTelemetry
        raise AttributeError(f"module 'selectools.telemetry' has no attribute {name!r}")
