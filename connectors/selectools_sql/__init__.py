"""SQL databases as safe agent tools: read-only by default, held by parser, database and role."""

from __future__ import annotations

from selectools.extras import require

require("sqlalchemy", extra="sql", feature="selectools_sql")
require("sqlglot", extra="sql", feature="selectools_sql")

from .errors import (  # noqa: E402
    PrivilegedRoleError,
    QueryFailedError,
    QueryRefusedError,
    SQLToolError,
)
from .guard import check_read_only, check_write  # noqa: E402
from .roles import create_reader_role_sql  # noqa: E402
from .toolkit import SQLToolkit  # noqa: E402

__all__ = [
    "PrivilegedRoleError",
    "QueryFailedError",
    "QueryRefusedError",
    "SQLToolError",
    "SQLToolkit",
    "check_read_only",
    "check_write",
    "create_reader_role_sql",
]
