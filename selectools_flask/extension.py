"""The Flask extension: config keys, per-app state, and a blueprint with the agent's routes.

A thin shell over `selectools.serving`: views read the body under the byte
limit, call the sync handlers, and turn their answers into responses.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from flask import Blueprint, Flask, Response, abort, current_app, request, stream_with_context
from pydantic import BaseModel

from selectools import Agent, SelectoolsError
from selectools.bridge import sync_iterate
from selectools.jobs import Jobs
from selectools.serving import (
    Answer,
    BodyBudget,
    Caller,
    Page,
    ServingOptions,
    Stream,
    approvals,
    handlers,
    listing,
    pages,
    parse,
    read_sync,
    wire,
)

from .jobs import add_job_routes

__all__ = ["Selectools"]

AgentSource: TypeAlias = Agent | Callable[[Any], Agent]
Model = TypeVar("Model", bound=BaseModel)

_DEFAULTS = ServingOptions()
# Each option is also a config key, SELECTOOLS_ and its name in capitals (one older
# name kept): derived from the fields, so an option added to ServingOptions is never
# silently dropped for Flask apps.
_RENAMED = {"keepalive_seconds": "SELECTOOLS_STREAM_KEEPALIVE"}
_CONFIG_FIELDS = {
    _RENAMED.get(field.name, f"SELECTOOLS_{field.name.upper()}"): field.name
    for field in dataclasses.fields(ServingOptions)
}


@dataclass(frozen=True, slots=True)
class _AppState:
    """What one app's views need; lives in `app.extensions["selectools"]`."""

    agent: AgentSource
    options: ServingOptions
    identity: Callable[[], Any] | None
    context: Callable[[], Mapping[str, Any] | None] | None


class Selectools:
    """Mounts an agent under `SELECTOOLS_URL_PREFIX` (default `/agent`).

    Constructor values are defaults; each app's `SELECTOOLS_*` config wins, so
    one extension object serves an app factory and several apps per process.

    Args:
        app: initialise now (otherwise call `init_app(app)` later).
        agent: an Agent, or a factory `(request) -> Agent`.
        url_prefix: where the routes go (config `SELECTOOLS_URL_PREFIX`).
        identity: called in the request context, returns the caller's id (e.g.
            from `g.user`); sessions are then private to that caller.
        context: called in the request context, returns a mapping given to
            tools as `RunContext.metadata`.
        options: limits and streaming defaults (each also a `SELECTOOLS_*` key).
        mcp: also serve the agent's tools over MCP (streamable HTTP) at
            `{prefix}/mcp`, behind your app's auth; `identity` reaches tools as
            `RunContext.identity` (config `SELECTOOLS_MCP`; needs `selectools[mcp]`).
        jobs: background jobs at `{prefix}/jobs` (`selectools.jobs.Jobs`); by
            default in this process, surviving nothing (one `Jobs` per app).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        agent: AgentSource | None = None,
        url_prefix: str = "/agent",
        identity: Callable[[], Any] | None = None,
        context: Callable[[], Mapping[str, Any] | None] | None = None,
        options: ServingOptions | None = None,
        mcp: bool = False,
        jobs: Jobs | None = None,
    ) -> None:
        self.mcp = mcp
        self.jobs = jobs
        self.agent = agent
        self.url_prefix = url_prefix
        self.identity = identity
        self.context = context
        self.options = options or _DEFAULTS
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, agent: AgentSource | None = None) -> None:
        chosen = agent or self.agent
        if chosen is None:
            raise ValueError(
                "Selectools needs an agent: Selectools(agent=...) or init_app(app, agent=...)."
            )
        app.config.setdefault("SELECTOOLS_URL_PREFIX", self.url_prefix)
        app.config.setdefault("SELECTOOLS_SESSION_STORE_URL", None)
        for key, field in _CONFIG_FIELDS.items():
            app.config.setdefault(key, getattr(self.options, field))
        options = ServingOptions(**{f: app.config[k] for k, f in _CONFIG_FIELDS.items()})
        store_url = app.config["SELECTOOLS_SESSION_STORE_URL"]
        if store_url:
            chosen = _with_store(chosen, store_url)
        app.extensions["selectools"] = _AppState(chosen, options, self.identity, self.context)
        app.config.setdefault("SELECTOOLS_MCP", self.mcp)
        app.extensions["selectools_jobs"] = self.jobs if self.jobs is not None else Jobs()
        bp = _blueprint()
        add_job_routes(bp)
        if app.config["SELECTOOLS_MCP"]:
            _add_mcp(bp, chosen)
        if options.builder:
            _add_builder(bp)
        if options.websocket:
            from .websocket import add_websocket_route

            add_websocket_route(bp, _agent, _caller, lambda: _state().options)
        if options.audit_route:
            _add_audit(bp)
        if options.analytics_route:
            _add_analytics(bp)
        app.register_blueprint(bp, url_prefix=app.config["SELECTOOLS_URL_PREFIX"])


def _with_store(source: AgentSource, url: str) -> AgentSource:
    """The agent, or each agent a factory makes, with its sessions in the database at
    `url`: one store (one connection pool) for the app, agents copied, never changed."""
    from selectools.sessions import SQLAlchemySessionStore

    store = SQLAlchemySessionStore(url)

    def stored(agent: Agent) -> Agent:
        clone = copy.copy(agent)
        clone.memory = agent.memory.using(store)
        return clone

    if isinstance(source, Agent):
        return stored(source)
    return lambda request: stored(source(request))


def _state() -> _AppState:
    state: _AppState = current_app.extensions["selectools"]
    return state


def _agent() -> Agent:
    source = _state().agent
    return source if isinstance(source, Agent) else source(request)


def _caller() -> Caller:
    state = _state()
    user = state.identity() if state.identity is not None else None
    facts = state.context() if state.context is not None else None
    return Caller.of(user, facts, address=request.remote_addr)


def _body(model: type[Model]) -> Model:
    """The body, counted while it streams (a chunked upload stops at the limit), parsed."""
    budget = BodyBudget(_state().options.max_body_bytes, request.headers.get("Content-Length"))
    return parse(model, read_sync(request.stream.read, budget))


def _send(answer: Answer | Stream | Page) -> Response:
    if isinstance(answer, Page):
        return Response(answer.body, 200, answer.headers, content_type=answer.media_type)
    if isinstance(answer, Stream):
        frames = stream_with_context(sync_iterate(answer.frames))
        return Response(frames, mimetype=answer.media_type, headers=dict(answer.headers))
    mimetype = "application/json" if answer.body else None
    return Response(answer.body, answer.status, dict(answer.headers), mimetype=mimetype)


ViewFunc = Callable[..., Response]


def _answers_our_errors(view: ViewFunc) -> ViewFunc:
    """Our errors (bad bodies, limits) in the one JSON shape; the host's own pass through."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except SelectoolsError as exc:
            return _send(Answer.failure(exc))

    return wrapper


def _add_mcp(bp: Blueprint, agent: AgentSource) -> None:
    """`{prefix}/mcp`: the agent's tools over MCP, each request answered whole."""
    if not isinstance(agent, Agent):
        raise TypeError("Selectools(mcp=True) needs an Agent, not a factory.")
    from selectools.bridge import run_coroutine_sync
    from selectools.mcp import answer_once, mcp_app

    asgi = mcp_app(agent)

    @bp.route("/mcp", methods=["GET", "POST", "DELETE"])
    @_answers_our_errors
    def mcp() -> Response:
        if request.method == "GET":  # the SDK's server-to-client stream: a WSGI view
            # answers whole, so it would wait forever; MCP lets a server say 405 here.
            return Response(
                b'{"error":{"type":"method_not_allowed","message":"This MCP endpoint does '
                b'not offer a GET stream; POST JSON-RPC requests."}}',
                405,
                {"Allow": "POST, DELETE", "Content-Type": "application/json"},
            )
        budget = BodyBudget(_state().options.max_body_bytes, request.headers.get("Content-Length"))
        body = read_sync(request.stream.read, budget)
        caller = _caller()
        status, headers, content = run_coroutine_sync(
            answer_once(
                asgi,
                method=request.method,
                headers=list(request.headers.items()),
                body=body,
                query_string=request.query_string,
                identity=caller.identity,
                metadata=caller.metadata,
            )
        )
        return Response(content, status, headers)


def _add_audit(bp: Blueprint) -> None:
    """`GET {prefix}/audit` (SELECTOOLS_AUDIT_ROUTE): see `selectools.serving.audit`."""
    from selectools.serving import audit

    @bp.get("/audit")
    @_answers_our_errors
    def list_audit() -> Response:
        params = request.args.to_dict()
        return _send(audit.list_audit_sync(_agent(), params, _caller(), _state().options))


def _add_builder(bp: Blueprint) -> None:
    """`{prefix}/builder/...` (SELECTOOLS_BUILDER): see `selectools.serving.builder`."""
    from selectools.bridge import run_coroutine_sync
    from selectools.serving import builder

    @bp.get("/builder/catalog")
    @_answers_our_errors
    def builder_catalog() -> Response:
        return _send(builder.catalog(_agent(), _state().options))

    @bp.post("/builder/export")
    @_answers_our_errors
    def builder_export() -> Response:
        return _send(builder.export(_body(builder.ExportRequest)))

    @bp.post("/builder/try")
    @_answers_our_errors
    def builder_try() -> Response:
        body = _body(builder.TryRequest)
        tried = builder.try_spec(_agent(), body, _caller(), _state().options)
        return _send(run_coroutine_sync(tried))


def _page_view(name: pages.PageName) -> ViewFunc:
    def view() -> Response:
        if not getattr(_state().options, name):
            abort(404)
        return _send(pages.page(name))

    return view


def _add_analytics(bp: Blueprint) -> None:
    """`GET {prefix}/analytics` (SELECTOOLS_ANALYTICS_ROUTE): see `selectools.serving.analytics`."""
    from selectools.serving import analytics

    @bp.get("/analytics")
    @_answers_our_errors
    def read_analytics() -> Response:
        params = request.args.to_dict()
        state = _state()
        return _send(analytics.read_analytics_sync(_agent(), params, _caller(), state.options))


def _blueprint() -> Blueprint:
    """A fresh blueprint per app, so several apps in one process stay independent."""
    bp = Blueprint("selectools", __name__)

    @bp.post("/invoke")
    @_answers_our_errors
    def invoke() -> Response:
        body = _body(wire.InvokeRequest)
        return _send(handlers.invoke_sync(_agent(), body, _caller(), _state().options))

    @bp.post("/stream")
    @_answers_our_errors
    def stream() -> Response:
        body = _body(wire.InvokeRequest)
        return _send(handlers.stream_sync(_agent(), body, _caller(), _state().options))

    @bp.post("/batch")
    @_answers_our_errors
    def batch() -> Response:
        body = _body(wire.BatchRequest)
        return _send(handlers.batch_sync(_agent(), body, _caller(), _state().options))

    @bp.get("/tools")
    @_answers_our_errors
    def tools() -> Response:
        return _send(handlers.tools(_agent()))

    @bp.get("/sessions")
    @_answers_our_errors
    def list_sessions() -> Response:
        return _send(listing.list_sessions_sync(_agent(), _caller()))

    for name in pages.PAGES:
        bp.add_url_rule(f"/{name}", f"page_{name}", _page_view(name))

    @bp.get("/sessions/<path:session_id>")
    @_answers_our_errors
    def read_session(session_id: str) -> Response:
        return _send(handlers.read_session_sync(_agent(), session_id, _caller()))

    @bp.delete("/sessions/<path:session_id>")
    @_answers_our_errors
    def clear_session(session_id: str) -> Response:
        return _send(handlers.delete_session_sync(_agent(), session_id, _caller()))

    @bp.post("/approvals/<approval_id>")
    @_answers_our_errors
    def decide(approval_id: str) -> Response:
        body = _body(wire.DecisionRequest)
        options = _state().options
        return _send(approvals.decide_sync(_agent(), approval_id, body, _caller(), options))

    @bp.post("/approvals/<approval_id>/stream")
    @_answers_our_errors
    def decide_stream(approval_id: str) -> Response:
        body = _body(wire.DecisionRequest)
        options = _state().options
        answer = approvals.decide_stream_sync(_agent(), approval_id, body, _caller(), options)
        return _send(answer)

    @bp.post("/v1/chat/completions")
    @_answers_our_errors
    def chat_completions() -> Response:
        body = _body(wire.ChatCompletionRequest)
        answer = handlers.chat_completions_sync(_agent(), body, _caller(), _state().options)
        return _send(answer)

    @bp.get("/v1/models")
    @_answers_our_errors
    def models() -> Response:
        return _send(handlers.models(_state().options))

    return bp
