"""Salesforce as agent tools, on simple-salesforce: SOQL, SOSL, describe, get; writes opt-in."""

from __future__ import annotations

from selectools.extras import require

require("simple_salesforce", extra="salesforce", feature="selectools_salesforce")

from .errors import (  # noqa: E402
    SalesforceRefusedError,
    SalesforceToolError,
    SalesforceUpstreamError,
    SOQLRefusedError,
)
from .guard import check_soql, parse_soql  # noqa: E402
from .toolkit import SalesforceToolkit  # noqa: E402

__all__ = [
    "SOQLRefusedError",
    "SalesforceRefusedError",
    "SalesforceToolError",
    "SalesforceToolkit",
    "SalesforceUpstreamError",
    "check_soql",
    "parse_soql",
]
