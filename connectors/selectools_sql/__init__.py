"""SQL databases as safe agent tools: read-only by default, enforced by parser and database."""

from __future__ import annotations

from selectools.extras import require

require("sqlalchemy", extra="sql", feature="selectools_sql")
require("sqlglot", extra="sql", feature="selectools_sql")

from .errors import QueryFailedError, QueryRefusedError  # noqa: E402
from .guard import check_read_only, check_write  # noqa: E402
from .toolkit import SQLToolkit  # noqa: E402

__all__ = [
    "QueryFailedError",
    "QueryRefusedError",
    "SQLToolkit",
    "check_read_only",
    "check_write",
]
