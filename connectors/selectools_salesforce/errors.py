"""Errors the Salesforce tools raise; the agent hands their messages to the model as written."""

from __future__ import annotations

from selectools.tools.toolkit import RefusedError, ToolkitError, UpstreamError

__all__ = [
    "SOQLRefusedError",
    "SalesforceRefusedError",
    "SalesforceToolError",
    "SalesforceUpstreamError",
]


class SalesforceToolError(ToolkitError):
    """Any failure of a Salesforce tool (catch this one to catch them all)."""


class SalesforceRefusedError(SalesforceToolError, RefusedError):
    """Outside what the toolkit allows: an object, a write, a malformed id."""


class SOQLRefusedError(SalesforceRefusedError):
    """The SOQL is not one SELECT that reaches only allowed objects."""


class SalesforceUpstreamError(SalesforceToolError, UpstreamError):
    """Salesforce failed or rejected the call (malformed query, expired session, ...)."""
