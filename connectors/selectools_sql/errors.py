"""Errors the SQL tools raise; the agent hands their messages to the model as written."""

from __future__ import annotations

from selectools.tools.toolkit import RefusedError, ToolkitError, UpstreamError

__all__ = ["PrivilegedRoleError", "QueryFailedError", "QueryRefusedError", "SQLToolError"]


class SQLToolError(ToolkitError):
    """Any failure of a SQL tool (catch this one to catch them all)."""


class QueryRefusedError(SQLToolError, RefusedError):
    """The statement is not allowed here: not read-only, an unlisted table or function, ..."""


class QueryFailedError(SQLToolError, UpstreamError):
    """The database rejected or stopped the statement; the message says why and what to try."""


class PrivilegedRoleError(SQLToolError, RefusedError):
    """The toolkit would connect as a role that can do more than it should (raised at setup).

    A superuser, a replication role or one with write privileges on the tables
    the model reads turns every gap in the other layers into a write. Connect
    as a reader role (`SQLToolkit.create_reader_role_sql`), or pass
    `allow_privileged_role=True` to accept the risk explicitly.
    """
