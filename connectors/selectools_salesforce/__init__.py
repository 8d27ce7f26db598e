"""Salesforce as agent tools, on simple-salesforce: SOQL, SOSL, describe, get; writes opt-in."""

from __future__ import annotations

from selectools.extras import require

require("simple_salesforce", extra="salesforce", feature="selectools_salesforce")

from .soql import check_soql  # noqa: E402
from .toolkit import SalesforceToolError, SalesforceToolkit  # noqa: E402

__all__ = ["SalesforceToolError", "SalesforceToolkit", "check_soql"]
