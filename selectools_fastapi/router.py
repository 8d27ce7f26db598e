"""AgentRouter: the agent's routes as an APIRouter, for any prefix and any app.

A thin shell over `selectools.serving`: FastAPI parses and documents the
bodies with the wire models, the handlers do the work, and this module turns
their answers into responses.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

import pydantic_core
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope

from selectools import Agent, SelectoolsError, serving
from selectools.serving import (
    Answer,
    BodyBudget,
    Caller,
    InvalidRequestError,
    Page,
    ServingOptions,
    Stream,
    approvals,
    handlers,
    listing,
    pages,
    read_async,
    refuse_duplicate_keys,
    wire,
    wire_pages,
)

if TYPE_CHECKING:
    from selectools.jobs import Jobs


__all__ = ["AgentRouter"]

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
AgentFactory: TypeAlias = Callable[[Request], "Agent | Awaitable[Agent]"]
SessionPath = Annotated[str, Path(pattern=wire.SESSION_ID_PATTERN, max_length=128)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": wire.ErrorResponse, "description": text}
    for status, text in wire.ERROR_STATUSES.items()
}
_SSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}
}
_AUDIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    403: {"model": wire.ErrorResponse, "description": "No identity, or not an audit admin"},
    501: {"model": wire.ErrorResponse, "description": "The agent's audit sink cannot list"},
}
_SESSION = "/sessions/{session_id:path}"  # any text reaches the handler: odd ids get 422
_ANONYMOUS = Caller()


class AgentRouter(APIRouter):
    """The agent's HTTP API; include it under any prefix, behind your own dependencies.

    Args:
        agent: an Agent, or a factory `(request) -> Agent` (sync or async) for
            per-user tools or keys.
        identity: a FastAPI dependency returning the caller's id (from your
            auth); sessions are then private to that caller. Never a raw header.
        context: a FastAPI dependency returning a mapping passed to tools as
            `RunContext.metadata`.
        options: limits and streaming behaviour, shared with the Flask adapter.
        mcp: also serve the agent's tools over MCP (streamable HTTP) at
            `{prefix}/mcp`, behind the same dependencies; the caller's identity
            reaches tools as `RunContext.identity` (needs `selectools[mcp]`).
        jobs: background jobs at `{prefix}/jobs` (`selectools.jobs.Jobs`); by
            default in this process, surviving nothing.
        **kwargs: passed to APIRouter (dependencies, tags, ...).
    """

    def __init__(
        self,
        agent: Agent | AgentFactory,
        *,
        identity: Callable[..., Any] | None = None,
        context: Callable[..., Any] | None = None,
        options: ServingOptions | None = None,
        mcp: bool = False,
        jobs: Jobs | None = None,
        **kwargs: Any,
    ) -> None:
        opts = options or ServingOptions()
        wire.build_bodies()
        kwargs.setdefault("tags", ["agent"])
        kwargs.setdefault("route_class", _route_class(opts))
        super().__init__(**kwargs)
        self.serving_options = opts  # not `options`: APIRouter.options() is the HTTP verb
        get_agent = _agent_getter(agent)
        # Limits count anonymous callers by address, so they need the request's caller too.
        limited = opts.rate_limit is not None or opts.quota_tokens is not None
        hooked = (
            identity is not None or context is not None or limited or opts.quota_usd is not None
        )
        who: Any = Depends(_caller_dependency(identity, context)) if hooked else _ANONYMOUS
        with_caller = _caller_param(hooked)

        @self.post("/invoke", response_model=wire.InvokeResponse, responses=_ERRORS)
        @with_caller
        async def invoke(
            request: Request, body: wire.InvokeRequest, caller: Caller = who
        ) -> Response:
            """Run the agent to its final answer."""
            return _send(await handlers.invoke(await get_agent(request), body, caller, opts))

        @self.post("/stream", responses={**_SSE, **_ERRORS}, response_class=StreamingResponse)
        @with_caller
        async def stream(
            request: Request, body: wire.InvokeRequest, caller: Caller = who
        ) -> Response:
            """Run the agent, streaming its events as Server-Sent Events."""
            return _send(await handlers.stream(await get_agent(request), body, caller, opts))

        @self.post("/batch", response_model=wire.BatchResponse, responses=_ERRORS)
        @with_caller
        async def batch(
            request: Request, body: wire.BatchRequest, caller: Caller = who
        ) -> Response:
            """Run several inputs concurrently; each result or error is reported in order."""
            return _send(await handlers.batch(await get_agent(request), body, caller, opts))

        @self.get("/tools", response_model=wire.ToolsResponse, responses=_ERRORS)
        async def list_tools(request: Request) -> Response:
            """The tools' names, descriptions and JSON Schemas."""
            return _send(handlers.tools(await get_agent(request)))

        @self.get("/sessions", response_model=wire_pages.SessionListResponse, responses=_ERRORS)
        @with_caller
        async def list_sessions(request: Request, caller: Caller = who) -> Response:
            """The caller's own sessions, most recent first (none for anonymous callers)."""
            return _send(await listing.list_sessions(await get_agent(request), caller))

        if opts.websocket:
            from .websocket import add_websocket_route

            add_websocket_route(self, get_agent, identity, context, opts)

        if opts.builder:  # `serving.builder` loads here, with the first router that serves it

            @self.get("/builder/catalog", include_in_schema=False)
            async def builder_catalog(request: Request) -> Response:
                return _send(serving.builder.catalog(await get_agent(request), opts))

            @self.post("/builder/export", include_in_schema=False)
            async def builder_export(body: serving.builder.ExportRequest) -> Response:
                return _send(serving.builder.export(body))

            @self.post("/builder/try", include_in_schema=False)
            @with_caller
            async def builder_try(
                request: Request, body: serving.builder.TryRequest, caller: Caller = who
            ) -> Response:
                agent = await get_agent(request)
                return _send(await serving.builder.try_spec(agent, body, caller, opts))

        for name in pages.PAGES:
            if getattr(opts, name):
                self.add_api_route(f"/{name}", _page_endpoint(name), include_in_schema=False)

        @self.get(_SESSION, response_model=wire.SessionResponse, responses=_ERRORS)
        @with_caller
        async def read_session(
            request: Request, session_id: SessionPath, caller: Caller = who
        ) -> Response:
            """A stored conversation."""
            agent = await get_agent(request)
            return _send(await handlers.read_session(agent, session_id, caller))

        @self.delete(_SESSION, status_code=204, responses=_ERRORS)
        @with_caller
        async def clear_session(
            request: Request, session_id: SessionPath, caller: Caller = who
        ) -> Response:
            """Forget a conversation."""
            agent = await get_agent(request)
            return _send(await handlers.delete_session(agent, session_id, caller))

        @self.post(
            "/approvals/{approval_id}", response_model=wire.InvokeResponse, responses=_ERRORS
        )
        @with_caller
        async def decide(
            request: Request, approval_id: str, body: wire.DecisionRequest, caller: Caller = who
        ) -> Response:
            """Approve or reject a paused run's calls; the run goes on (answered like /invoke)."""
            agent = await get_agent(request)
            return _send(await approvals.decide(agent, approval_id, body, caller, opts))

        @self.post("/approvals/{approval_id}/stream", responses={**_SSE, **_ERRORS})
        @with_caller
        async def decide_stream(
            request: Request, approval_id: str, body: wire.DecisionRequest, caller: Caller = who
        ) -> Response:
            """Approve or reject, then stream the run's events (like /stream)."""
            agent = await get_agent(request)
            return _send(await approvals.decide_stream(agent, approval_id, body, caller, opts))

        @self.post(
            "/v1/chat/completions",
            response_model=wire.ChatCompletion,
            responses={**_SSE, **_ERRORS},
            tags=["openai-compatible"],
        )
        @with_caller
        async def chat_completions(
            request: Request, body: wire.ChatCompletionRequest, caller: Caller = who
        ) -> Response:
            """OpenAI-compatible chat completions (plain or `stream: true`)."""
            agent = await get_agent(request)
            return _send(await handlers.chat_completions(agent, body, caller, opts))

        @self.get("/v1/models", response_model=wire.ModelList, tags=["openai-compatible"])
        async def list_models() -> Response:
            """OpenAI-compatible model list: the agent, under `options.model_name`."""
            return _send(handlers.models(opts))

        if opts.audit_route:
            from selectools.serving import audit

            @self.get("/audit", response_model=audit.AuditPage, responses=_AUDIT_ERRORS)
            @with_caller
            async def list_audit(request: Request, caller: Caller = who) -> Response:
                """Audit records of the caller's runs (an audit admin: everyone's), newest first.

                Query: `session`, `tool`, `identity` (admins), `limit` (1-500), `before`."""
                params = dict(request.query_params)
                agent = await get_agent(request)
                return _send(await audit.list_audit(agent, params, caller, opts))

        if opts.analytics_route:
            from selectools.serving import analytics

            @self.get("/analytics", response_model=analytics.AnalyticsPage, responses=_ERRORS)
            @with_caller
            async def read_analytics(request: Request, caller: Caller = who) -> Response:
                """Usage analytics of the caller's runs (an analytics admin: everyone's).

                Query: `session`, `identity` (admins), `since` (epoch seconds)."""
                params = dict(request.query_params)
                agent = await get_agent(request)
                return _send(await analytics.read_analytics(agent, params, caller, opts))

        from selectools.jobs import Jobs  # here: importing the adapter stays light

        from .jobs import add_job_routes

        self.jobs = jobs if jobs is not None else Jobs()
        add_job_routes(self, self.jobs, get_agent, who, with_caller, opts, _send, _ERRORS)

        if mcp:
            if not isinstance(agent, Agent):
                raise TypeError("AgentRouter(mcp=True) needs an Agent, not a factory.")
            from selectools.mcp import mcp_app

            mcp_asgi = mcp_app(agent)

            @self.api_route("/mcp", methods=["GET", "POST", "DELETE"], include_in_schema=False)
            @with_caller
            async def mcp_endpoint(request: Request, caller: Caller = who) -> Response:
                """The agent's tools over MCP (streamable HTTP)."""
                return _MountedMCP(mcp_asgi, await request.body(), caller)


class _MountedMCP(Response):
    """Hands the request (its body already read under the limit) to the MCP app."""

    def __init__(self, app: Any, body: bytes, caller: Caller) -> None:
        super().__init__()
        self.app = app
        self.request_body = body
        self.caller = caller

    async def __call__(self, scope: Scope, receive: Receive, send: Any) -> None:
        from selectools.mcp import IDENTITY_KEY, METADATA_KEY

        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": self.request_body, "more_body": False}
            return await receive()

        state = {
            **dict(scope.get("state") or {}),
            IDENTITY_KEY: self.caller.identity,
            METADATA_KEY: self.caller.metadata,
        }
        await self.app({**scope, "state": state}, replay, send)


def _page_endpoint(name: pages.PageName) -> Callable[[], Awaitable[Response]]:
    async def endpoint() -> Response:
        return _send(pages.page(name))

    return endpoint


def _send(answer: Answer | Stream | Page) -> Response:
    if isinstance(answer, Page):
        return Response(answer.body, 200, answer.headers, answer.media_type)
    if isinstance(answer, Stream):
        return StreamingResponse(
            answer.frames, media_type=answer.media_type, headers=dict(answer.headers)
        )
    media_type = "application/json" if answer.body else None
    return Response(answer.body, answer.status, dict(answer.headers), media_type)


def _agent_getter(agent: Agent | AgentFactory) -> Callable[[Request], Awaitable[Agent]]:
    async def get(request: Request) -> Agent:
        if isinstance(agent, Agent):
            return agent
        made = agent(request)
        return await made if inspect.isawaitable(made) else made

    return get


def _caller_dependency(
    identity: Callable[..., Any] | None, context: Callable[..., Any] | None
) -> Callable[..., Coroutine[Any, Any, Caller]]:
    if identity is None and context is None:

        async def anonymous(request: Request) -> Caller:
            return Caller(address=_address(request))

        return anonymous

    async def no_value() -> None:
        return None

    async def caller(
        request: Request,
        user: Any = Depends(identity or no_value),
        facts: Any = Depends(context or no_value),
    ) -> Caller:
        return Caller.of(user, facts, address=_address(request))

    return caller


def _caller_param(hooked: bool) -> Callable[[Endpoint], Endpoint]:
    """Without identity or context hooks, hide `caller` from FastAPI: the endpoint's
    default (an anonymous caller) is used and no dependency is solved per request."""

    def apply(endpoint: Endpoint) -> Endpoint:
        if not hooked:
            signature = inspect.signature(endpoint)
            kept = [p for p in signature.parameters.values() if p.name != "caller"]
            endpoint.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
        return endpoint

    return apply


def _address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a proxy: `--proxy-headers`)."""
    return request.client.host if request.client is not None else None


class _ReadBody(Request):
    """A request whose body was already read under the limit; JSON parsed strictly."""

    def __init__(self, scope: Scope, receive: Receive, raw: bytes) -> None:
        super().__init__(scope, receive)
        self._raw = raw

    async def body(self) -> bytes:
        return self._raw

    async def json(self) -> Any:
        try:
            return pydantic_core.from_json(self._raw)
        except ValueError as exc:  # FastAPI answers JSONDecodeError with a validation error
            raise json.JSONDecodeError(str(exc), "", 0) from None


def _route_class(options: ServingOptions) -> type[APIRoute]:
    """Routes that read bodies under the byte limit and answer our errors in one JSON shape."""

    class AgentRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    if request.method == "POST":
                        budget = BodyBudget(
                            options.max_body_bytes, request.headers.get("content-length")
                        )
                        raw = await read_async(request.stream(), budget)
                        refuse_duplicate_keys(raw)
                        request = _ReadBody(request.scope, request.receive, raw)
                    return await handler(request)
                except ClientDisconnect:  # gone mid-body: nobody reads the answer
                    return Response(status_code=400)
                except RequestValidationError as exc:
                    return _send(Answer.failure(InvalidRequestError.from_errors(exc.errors())))
                except SelectoolsError as exc:  # only ours; the host's exceptions pass through
                    return _send(Answer.failure(exc))

            return handle

    return AgentRoute
