"""AgentRouter: the agent's routes as an APIRouter, for any prefix and any app."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeAlias

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute

from selectools import Agent, protocol, serving
from selectools.serving import RequestTooLargeError, RunRequest, ServingOptions

__all__ = ["AgentRouter"]

AgentFactory: TypeAlias = Callable[[Request], "Agent | Awaitable[Agent]"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": protocol.ErrorResponse, "description": text}
    for status, text in (
        (404, "Unknown session, or not yours"),
        (413, "Body, input or batch over the limit"),
        (422, "Invalid body: `error.fields` names each field"),
        (429, "The model provider is rate limiting (see Retry-After)"),
        (502, "The model provider failed or rejected our credentials"),
        (504, "The run or the provider timed out"),
    )
}
_SSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}
}
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


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
        **kwargs: passed to APIRouter (dependencies, tags, ...).
    """

    def __init__(
        self,
        agent: Agent | AgentFactory,
        *,
        identity: Callable[..., Any] | None = None,
        context: Callable[..., Any] | None = None,
        options: ServingOptions | None = None,
        **kwargs: Any,
    ) -> None:
        opts = options or ServingOptions()
        kwargs.setdefault("tags", ["agent"])
        kwargs.setdefault("route_class", _route_class(opts))
        super().__init__(**kwargs)
        self.serving_options = opts  # not `options`: APIRouter.options() is the HTTP verb
        resolve_agent = _agent_dependency(agent)
        who = _caller_dependency(identity, context)

        @self.post("/invoke", response_model=protocol.InvokeResponse, responses=_ERRORS)
        async def invoke(
            body: protocol.InvokeRequest,
            agent: Agent = Depends(resolve_agent),
            caller: RunRequest = Depends(who),
        ) -> Response:
            """Run the agent to its final answer."""
            return JSONResponse(await serving.invoke(agent, body, caller, opts))

        @self.post("/stream", responses={**_SSE, **_ERRORS}, response_class=StreamingResponse)
        async def stream(
            body: protocol.InvokeRequest,
            agent: Agent = Depends(resolve_agent),
            caller: RunRequest = Depends(who),
        ) -> Response:
            """Run the agent, streaming its events as Server-Sent Events."""
            frames = await serving.stream(agent, body, caller, opts)
            return StreamingResponse(frames, media_type="text/event-stream", headers=_SSE_HEADERS)

        @self.post("/batch", response_model=protocol.BatchResponse, responses=_ERRORS)
        async def batch(
            body: protocol.BatchRequest,
            agent: Agent = Depends(resolve_agent),
            caller: RunRequest = Depends(who),
        ) -> Response:
            """Run several inputs concurrently; each result or error is reported in order."""
            return JSONResponse(await serving.batch(agent, body, caller, opts))

        @self.get("/tools", response_model=protocol.ToolsResponse)
        async def list_tools(agent: Agent = Depends(resolve_agent)) -> Response:
            """The tools' names, descriptions and JSON Schemas."""
            return JSONResponse(serving.tools(agent))

        @self.get(
            "/sessions/{session_id}", response_model=protocol.SessionResponse, responses=_ERRORS
        )
        async def read_session(
            session_id: str,
            agent: Agent = Depends(resolve_agent),
            caller: RunRequest = Depends(who),
        ) -> Response:
            """A stored conversation."""
            return JSONResponse(await serving.get_session(agent, session_id, caller))

        @self.delete("/sessions/{session_id}", status_code=204, responses=_ERRORS)
        async def clear_session(
            session_id: str,
            agent: Agent = Depends(resolve_agent),
            caller: RunRequest = Depends(who),
        ) -> Response:
            """Forget a conversation."""
            await serving.delete_session(agent, session_id, caller)
            return Response(status_code=204)

        @self.post(
            "/v1/chat/completions",
            responses={**_SSE, **_ERRORS},
            tags=["openai-compatible"],
        )
        async def chat_completions(
            body: protocol.ChatCompletionRequest,
            agent: Agent = Depends(resolve_agent),
            caller: RunRequest = Depends(who),
        ) -> Response:
            """OpenAI-compatible chat completions (plain or `stream: true`)."""
            if body.stream:
                frames = await serving.chat_completions_stream(agent, body, caller, opts)
                return StreamingResponse(
                    frames, media_type="text/event-stream", headers=_SSE_HEADERS
                )
            return JSONResponse(await serving.chat_completions(agent, body, caller, opts))

        @self.get("/v1/models", tags=["openai-compatible"])
        async def list_models() -> Response:
            """OpenAI-compatible model list: the agent, under `options.model_name`."""
            return JSONResponse(protocol.models_response(opts.model_name))


def _agent_dependency(agent: Agent | AgentFactory) -> Callable[[Request], Awaitable[Agent]]:
    async def resolve(request: Request) -> Agent:
        if isinstance(agent, Agent):
            return agent
        made = agent(request)
        return await made if inspect.isawaitable(made) else made

    return resolve


def _caller_dependency(
    identity: Callable[..., Any] | None, context: Callable[..., Any] | None
) -> Callable[..., Coroutine[Any, Any, RunRequest]]:
    async def no_value() -> None:
        return None

    async def caller(
        user: Any = Depends(identity or no_value),
        facts: Any = Depends(context or no_value),
    ) -> RunRequest:
        if user is not None and not isinstance(user, str):
            user = str(getattr(user, "id", user))
        if facts is not None and not isinstance(facts, Mapping):
            raise TypeError("The `context` dependency of AgentRouter must return a mapping.")
        return RunRequest(identity=user, metadata=facts)

    return caller


def _route_class(options: ServingOptions) -> type[APIRoute]:
    """Routes that answer every error in the one JSON shape, never a bare 500."""

    class AgentRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    length = request.headers.get("content-length")
                    serving.check_body_size(int(length) if length else None, options)
                    if request.method == "POST" and not length:
                        serving.check_body_size(len(await request.body()), options)
                    return await handler(request)
                except HTTPException:
                    raise  # the host app's own answers (its auth, its 404s) pass untouched
                except RequestValidationError as exc:
                    return JSONResponse(
                        protocol.validation_error_response(list(exc.errors())),
                        status_code=422,
                    )
                except RequestTooLargeError as exc:
                    body = protocol.error_body("request_too_large", str(exc))
                    return JSONResponse(body, status_code=413)
                except Exception as exc:
                    status, body, headers = protocol.error_response(exc)
                    serving.log_unexpected(exc)
                    return JSONResponse(body, status_code=status, headers=headers)

            return handle

    return AgentRoute
