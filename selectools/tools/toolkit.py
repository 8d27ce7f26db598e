"""The Toolkit contract: what every connector (SQL, Chroma, S3, HubSpot, ...) implements.

A toolkit binds one outside system at construction (a database, a bucket, a
CRM account: the model never chooses where to connect) and hands out a few
tools over it. Each connector package has the same inner shape: `toolkit.py`
(the class), `errors.py` (its `ToolkitError` children) and, where there is a
language to check (SQL, SOQL), a guard module.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from ..errors import SelectoolsError
from .tool import Tool

__all__ = ["RefusedError", "Toolkit", "ToolkitError", "UpstreamError"]


class ToolkitError(SelectoolsError):
    """A toolkit could not do what the model asked.

    The message is written for the model: the agent hands it over as the
    tool's error (with this error's `error_type`), and the model can correct
    its call. Never put secrets or connection strings in it.
    """


class RefusedError(ToolkitError):
    """The call is outside what the toolkit allows: read-only, a scope, an allowlist, a cap."""


class UpstreamError(ToolkitError):
    """The outside system failed or rejected the call; `retry_after` is seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class Toolkit(Protocol):
    """A set of tools over one outside system.

    Subclass it (`with` then closes it), or implement `name`, `tools()`,
    `close()`, `__enter__` and `__exit__` on any class: `isinstance(x, Toolkit)`
    checks all five. `tools()` goes straight into `Agent(tools=...)`
    (or pass the toolkit itself); write tools are marked `Tool.writes`, so
    approval and audit policies find them. An optional `cache_scope()`
    returning a string of the settings its results depend on lets a shared
    `ToolCache` serve them to equal toolkits in other workers; without it,
    each instance's cached results are its own.
    """

    name: str

    def tools(self) -> list[Tool]:
        """The tools to give an agent (write tools only when writes were enabled)."""
        ...

    def close(self) -> None:
        """Release connections and clients; the toolkit is not used afterwards."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
