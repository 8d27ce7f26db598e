"""`GET {prefix}/audit`: the agent's audit records, for their owner (or an admin), paged.

Off unless `ServingOptions.audit_route` is set (Flask: `SELECTOOLS_AUDIT_ROUTE`),
and then behind the host app's own auth like every route. Who sees what:

- a caller with an identity sees the records of runs made under that identity
  (and approval decisions it made), never anyone else's;
- a caller without an identity gets 403 `audit_forbidden`: anonymous runs
  belong to nobody, so no anonymous caller may list them;
- a caller for whom `ServingOptions.audit_admin(caller)` is True sees every
  record and may filter by `identity`.

Query parameters: `session`, `tool`, `identity` (admins), `limit` (1 to 500,
default 50) and `before` (the `next` of the previous page). Records come
newest first; `next` is null on the last page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..agent import Agent
from ..audit import AuditLog, AuditQuery, AuditReader, AuditRecord
from ..bridge import run_in_thread
from ..errors import SelectoolsError
from .errors import InvalidRequestError
from .handlers import Answer
from .options import Caller, ServingOptions
from .wire import FilterText

__all__ = [
    "AuditForbiddenError",
    "AuditPage",
    "AuditParams",
    "AuditUnavailableError",
    "list_audit",
    "list_audit_sync",
]

MAX_LIMIT = 500


class AuditForbiddenError(SelectoolsError):
    """The caller may not list these records (HTTP 403 `audit_forbidden`)."""

    default_status = 403

    @property
    def error_type(self) -> str:
        return "audit_forbidden"


class AuditUnavailableError(SelectoolsError):
    """The agent has no audit log that can list records (HTTP 501 `audit_unavailable`)."""

    default_status = 501

    @property
    def error_type(self) -> str:
        return "audit_unavailable"


class AuditParams(BaseModel):
    """The route's query parameters."""

    model_config = ConfigDict(extra="forbid")

    session: FilterText | None = None
    tool: FilterText | None = None
    identity: FilterText | None = None
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    before: int | None = Field(default=None, ge=1, le=2**63 - 1)  # a database's BIGINT


class AuditEntry(BaseModel):
    """One record on the wire (see `selectools.audit.AuditRecord`)."""

    id: int | None
    time: str
    identity: str | None
    session_id: str | None
    run_id: str
    call_id: str
    tool: str
    arguments: dict[str, Any]
    outcome: str
    error_type: str | None
    duration_ms: float
    reason: str | None


class AuditPage(BaseModel):
    """`records` newest first; pass `next` as `before` for the next page (null: the last)."""

    records: list[AuditEntry]
    next: int | None


async def list_audit(
    agent: Agent, params: Mapping[str, str], caller: Caller, options: ServingOptions
) -> Answer:
    try:
        reader, query = _prepare(agent, params, caller, options)
        records = await run_in_thread(reader.query, query)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(_page(records, query))


def list_audit_sync(
    agent: Agent, params: Mapping[str, str], caller: Caller, options: ServingOptions
) -> Answer:
    try:
        reader, query = _prepare(agent, params, caller, options)
        records = reader.query(query)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(_page(records, query))


def _prepare(
    agent: Agent, params: Mapping[str, str], caller: Caller, options: ServingOptions
) -> tuple[AuditReader, AuditQuery]:
    try:
        parsed = AuditParams.model_validate(dict(params))
    except ValidationError as exc:
        raise InvalidRequestError.from_errors(
            exc.errors(include_url=False), prefix=("query",)
        ) from None
    admin = options.audit_admin is not None and bool(options.audit_admin(caller))
    if not admin:
        if caller.identity is None:
            raise AuditForbiddenError(
                "The audit log lists a caller's own records, and this request has no "
                "identity. Give the agent's routes an identity hook from your auth."
            )
        if parsed.identity is not None and parsed.identity != caller.identity:
            raise AuditForbiddenError("Only an audit admin may list another identity's records.")
    query = AuditQuery(
        identity=parsed.identity if admin else caller.identity,
        everyone=admin and parsed.identity is None,
        session_id=parsed.session,
        tool=parsed.tool,
        limit=parsed.limit,
        before=parsed.before,
    )
    return _reader(agent), query


def _reader(agent: Agent) -> AuditReader:
    for policy in agent.policies:
        if isinstance(policy, AuditLog) and policy.reader is not None:
            return policy.reader
    raise AuditUnavailableError(
        "This agent has no audit log that can list records. Add "
        "AuditLog(SQLAuditSink(url)) (or a MemoryAuditSink) to its policies."
    )


def _page(records: list[AuditRecord], query: AuditQuery) -> AuditPage:
    entries = [AuditEntry(**record.to_dict()) for record in records]
    more = len(records) == query.limit and records[-1].id is not None
    return AuditPage(records=entries, next=records[-1].id if more else None)
