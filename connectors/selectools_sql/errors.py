"""Errors the SQL tools raise; the agent shows their messages to the model."""

from __future__ import annotations

from selectools import SelectoolsError


class QueryRefusedError(SelectoolsError):
    """The statement is not allowed here (not read-only, an unlisted table, ...)."""


class QueryFailedError(SelectoolsError):
    """The database rejected or aborted the statement; the message is the database's."""
