"""Agent settings, fixed per agent and overridable per run."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .frozen import record

__all__ = ["AgentConfig"]


@record
class AgentConfig:
    """Limits and model settings for runs.

    Attributes:
        max_iterations: model calls allowed in one run before MaxIterationsError.
        run_timeout: seconds for the whole run (model calls and tools), or None.
        tool_timeout: default seconds per tool call; a tool's own timeout wins if lower.
        parallel_tool_calls: run the calls of one model turn concurrently.
        temperature: sampling temperature passed to the provider, if set.
        max_tokens: cap on tokens per model answer, if set.
    """

    max_iterations: int = 10
    run_timeout: float | None = None
    tool_timeout: float | None = None
    parallel_tool_calls: bool = True
    temperature: float | None = None
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        _require("max_iterations", self.max_iterations, int, "a whole number")
        if self.max_iterations < 1:
            raise ValueError(f"AgentConfig(max_iterations={self.max_iterations}) must be >= 1.")
        for label in ("run_timeout", "tool_timeout"):
            value = getattr(self, label)
            _require(label, value, (int, float, type(None)), "a number of seconds or None")
            if value is not None and value <= 0:
                raise ValueError(f"AgentConfig({label}={value}) must be positive or None.")
        _require("parallel_tool_calls", self.parallel_tool_calls, bool, "true or false")
        _require("temperature", self.temperature, (int, float, type(None)), "a number or None")
        _require("max_tokens", self.max_tokens, (int, type(None)), "a whole number or None")

    def merged(self, overrides: AgentConfig | dict[str, Any] | None) -> AgentConfig:
        """This config with per-run overrides applied."""
        if overrides is None:
            return self
        if isinstance(overrides, AgentConfig):
            return overrides
        return replace(self, **overrides)


def _require(label: str, value: object, kinds: type | tuple[type, ...], what: str) -> None:
    """A config value of the wrong type fails here, saying what it should be, not mid-run."""
    wrong_bool = isinstance(value, bool) and kinds is not bool  # True is an int to Python
    if wrong_bool or not isinstance(value, kinds):
        raise TypeError(f"AgentConfig({label}={value!r}) must be {what}.")
