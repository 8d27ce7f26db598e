"""The process-wide opt-in: trace every agent without listing a policy on each."""

from __future__ import annotations

import os

__all__ = ["auto_policies", "disable", "enable", "enabled"]

_ENV = "SELECTOOLS_OTEL"
_state: dict[str, bool | None] = {"on": None}  # None: follow the environment variable


def enable() -> None:
    """Trace every Agent created from now on (an `OpenTelemetry()` policy, outermost)."""
    _state["on"] = True


def disable() -> None:
    """Stop adding the policy to new agents (agents already built keep theirs)."""
    _state["on"] = False


def enabled() -> bool:
    """Whether new agents get the policy: `enable()`, else `SELECTOOLS_OTEL` set to 1/true."""
    on = _state["on"]
    if on is not None:
        return on
    return os.environ.get(_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def auto_policies(agent_name: str, policies: tuple[object, ...]) -> tuple[object, ...]:
    """`policies` with an OpenTelemetry policy first when opted in and none is listed yet."""
    if not enabled():
        return policies
    from .otel import OpenTelemetry

    if any(isinstance(policy, OpenTelemetry) for policy in policies):
        return policies
    return (OpenTelemetry(agent_name=agent_name), *policies)
