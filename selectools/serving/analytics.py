"""`GET {prefix}/analytics`: usage analytics for their owner (or an admin).

Off unless `ServingOptions.analytics_route` is set (Flask:
`SELECTOOLS_ANALYTICS_ROUTE`), and then behind the host app's own auth like
every route. A caller with an identity sees the tools, runs, tokens and cost
of its own runs; a caller without one gets 403 `analytics_forbidden`; a
caller for whom `ServingOptions.analytics_admin(caller)` is True sees
everyone's (and may filter by `identity`). Query parameters: `session`,
`identity` (admins), `since` (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..agent import Agent
from ..analytics import Analytics, AnalyticsReport
from ..bridge import run_in_thread
from ..errors import SelectoolsError
from .errors import InvalidRequestError
from .handlers import Answer
from .options import Caller, ServingOptions
from .wire import FilterText

__all__ = [
    "AnalyticsForbiddenError",
    "AnalyticsPage",
    "AnalyticsParams",
    "AnalyticsUnavailableError",
    "read_analytics",
    "read_analytics_sync",
]


class AnalyticsForbiddenError(SelectoolsError):
    """The caller may not read these analytics (HTTP 403 `analytics_forbidden`)."""

    default_status = 403

    @property
    def error_type(self) -> str:
        return "analytics_forbidden"


class AnalyticsUnavailableError(SelectoolsError):
    """The agent keeps no analytics (HTTP 501 `analytics_unavailable`)."""

    default_status = 501

    @property
    def error_type(self) -> str:
        return "analytics_unavailable"


class AnalyticsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: FilterText | None = None
    identity: FilterText | None = None
    since: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class AnalyticsPage(BaseModel):
    """The report (see `selectools.analytics.AnalyticsReport.to_dict`); runs without an
    identity are under the key ""."""

    runs: int
    tool_calls: int
    tools: dict[str, dict[str, Any]]
    identities: dict[str, dict[str, Any]]
    sessions: dict[str, dict[str, Any]]


async def read_analytics(
    agent: Agent, params: Mapping[str, str], caller: Caller, options: ServingOptions
) -> Answer:
    try:
        policy, kwargs = _prepare(agent, params, caller, options)
        report = await run_in_thread(lambda: policy.report(**kwargs))
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(_page(report))


def read_analytics_sync(
    agent: Agent, params: Mapping[str, str], caller: Caller, options: ServingOptions
) -> Answer:
    try:
        policy, kwargs = _prepare(agent, params, caller, options)
        report = policy.report(**kwargs)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(_page(report))


def _prepare(
    agent: Agent, params: Mapping[str, str], caller: Caller, options: ServingOptions
) -> tuple[Analytics, dict[str, Any]]:
    try:
        parsed = AnalyticsParams.model_validate(dict(params))
    except ValidationError as exc:
        raise InvalidRequestError.from_errors(
            exc.errors(include_url=False), prefix=("query",)
        ) from None
    admin = options.analytics_admin is not None and bool(options.analytics_admin(caller))
    if not admin:
        if caller.identity is None:
            raise AnalyticsForbiddenError(
                "Analytics show a caller's own runs, and this request has no identity. "
                "Give the agent's routes an identity hook from your auth."
            )
        if parsed.identity is not None and parsed.identity != caller.identity:
            raise AnalyticsForbiddenError("Only an analytics admin may read another identity's.")
    identity = parsed.identity if admin else caller.identity
    kwargs = {
        "identity": identity,
        "everyone": admin and parsed.identity is None,
        "session_id": parsed.session,
        "since": parsed.since,
    }
    for policy in agent.policies:
        if isinstance(policy, Analytics):
            return policy, kwargs
    raise AnalyticsUnavailableError(
        "This agent keeps no analytics. Add Analytics() (or Analytics(SQLAnalyticsStore(url)) "
        "for many workers) to its policies."
    )


def _page(report: AnalyticsReport) -> AnalyticsPage:
    return AnalyticsPage(**report.to_dict())
