"""Errors the S3 tools raise; the agent hands their messages to the model as written."""

from __future__ import annotations

from selectools.tools.toolkit import RefusedError, ToolkitError, UpstreamError

__all__ = ["S3RefusedError", "S3ToolError", "S3UpstreamError"]


class S3ToolError(ToolkitError):
    """Any failure of an S3 tool (catch this one to catch them all)."""


class S3RefusedError(S3ToolError, RefusedError):
    """Outside what the toolkit allows: a bucket, a key outside the prefix, a write, a cap."""


class S3UpstreamError(S3ToolError, UpstreamError):
    """S3 failed or refused the call (missing object, access denied, unreachable)."""
