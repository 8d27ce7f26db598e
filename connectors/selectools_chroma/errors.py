"""Errors the Chroma tools raise; the agent hands their messages to the model as written."""

from __future__ import annotations

from selectools.tools.toolkit import RefusedError, ToolkitError, UpstreamError

__all__ = ["ChromaRefusedError", "ChromaToolError", "ChromaUpstreamError"]


class ChromaToolError(ToolkitError):
    """Any failure of a Chroma tool (catch this one to catch them all)."""


class ChromaRefusedError(ChromaToolError, RefusedError):
    """Outside what the toolkit allows: a write on a read-only toolkit, an id outside the scope."""


class ChromaUpstreamError(ChromaToolError, UpstreamError):
    """Chroma rejected or failed the call (a malformed filter, an unreachable server)."""
