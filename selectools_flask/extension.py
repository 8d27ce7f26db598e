"""The Flask extension: config keys, per-app state, and a blueprint with the agent's routes."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from flask import Blueprint, Flask, Response, current_app, request, stream_with_context
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from selectools import Agent, ConversationMemory, protocol, serving
from selectools.bridge import run_coroutine_sync, sync_iterate
from selectools.serving import RequestTooLargeError, RunRequest, ServingOptions

__all__ = ["Selectools"]

AgentSource: TypeAlias = Agent | Callable[[Any], Agent]
Model = TypeVar("Model", bound=BaseModel)

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_DEFAULTS = ServingOptions()
_CONFIG_FIELDS = {
    "SELECTOOLS_MAX_BODY_BYTES": "max_body_bytes",
    "SELECTOOLS_MAX_INPUT_CHARS": "max_input_chars",
    "SELECTOOLS_MAX_BATCH": "max_batch",
    "SELECTOOLS_BATCH_CONCURRENCY": "batch_concurrency",
    "SELECTOOLS_STREAM_KEEPALIVE": "keepalive_seconds",
    "SELECTOOLS_ON_DISCONNECT": "on_disconnect",
    "SELECTOOLS_MODEL_NAME": "model_name",
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
    ) -> None:
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
        if store_url and isinstance(chosen, Agent):
            chosen = _with_store(chosen, store_url)
        app.extensions["selectools"] = _AppState(chosen, options, self.identity, self.context)
        app.register_blueprint(_blueprint(), url_prefix=app.config["SELECTOOLS_URL_PREFIX"])


def _with_store(agent: Agent, url: str) -> Agent:
    """A copy of the agent whose sessions live in the database at `url`."""
    from selectools.sessions import SQLAlchemySessionStore

    clone = copy.copy(agent)
    memory = agent.memory
    clone.memory = ConversationMemory(
        SQLAlchemySessionStore(url), max_messages=memory.max_messages, max_tokens=memory.max_tokens
    )
    return clone


def _state() -> _AppState:
    state: _AppState = current_app.extensions["selectools"]
    return state


def _agent() -> Agent:
    source = _state().agent
    return source if isinstance(source, Agent) else source(request)


def _caller() -> RunRequest:
    state = _state()
    user = state.identity() if state.identity is not None else None
    if user is not None and not isinstance(user, str):
        user = str(getattr(user, "id", user))
    facts = state.context() if state.context is not None else None
    return RunRequest(identity=user, metadata=facts)


def _body(model: type[Model]) -> Model:
    raw = request.get_data(cache=True)
    serving.check_body_size(len(raw), _state().options)
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise _InvalidBody(
            [{"loc": ("body",), "msg": f"The body is not valid JSON ({exc})"}]
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise _InvalidBody(errors) from None


class _InvalidBody(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid body")
        self.errors = errors


def _json(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        headers=dict(headers or {}),
        mimetype="application/json",
    )


ViewFunc = Callable[..., Response]


def _answers_errors_as_json(view: ViewFunc) -> ViewFunc:
    """Every failure in the one JSON shape; the host app's own HTTP errors pass through."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            content_length = request.content_length
            serving.check_body_size(content_length, _state().options)
            return view(*args, **kwargs)
        except HTTPException:
            raise
        except _InvalidBody as exc:
            return _json(protocol.validation_error_response(exc.errors), 422)
        except RequestTooLargeError as exc:
            return _json(protocol.error_body("request_too_large", str(exc)), 413)
        except Exception as exc:
            status, body, headers = protocol.error_response(exc)
            serving.log_unexpected(exc)
            return _json(body, status, headers)

    return wrapper


def _sse(frames: Iterator[str]) -> Response:
    return Response(stream_with_context(frames), mimetype="text/event-stream", headers=_SSE_HEADERS)


def _blueprint() -> Blueprint:
    """A fresh blueprint per app, so several apps in one process stay independent."""
    bp = Blueprint("selectools", __name__)

    @bp.post("/invoke")
    @_answers_errors_as_json
    def invoke() -> Response:
        body = _body(protocol.InvokeRequest)
        agent = _agent()
        kwargs = serving.run_kwargs(agent, body, _caller(), _state().options)
        result = agent.run(body.run_input(), **kwargs)
        return _json(protocol.InvokeResponse.of(result).model_dump())

    @bp.post("/stream")
    @_answers_errors_as_json
    def stream() -> Response:
        body = _body(protocol.InvokeRequest)
        frames = run_coroutine_sync(serving.stream(_agent(), body, _caller(), _state().options))
        return _sse(sync_iterate(frames))

    @bp.post("/batch")
    @_answers_errors_as_json
    def batch() -> Response:
        body = _body(protocol.BatchRequest)
        coro = serving.batch(_agent(), body, _caller(), _state().options)
        return _json(run_coroutine_sync(coro))

    @bp.get("/tools")
    @_answers_errors_as_json
    def tools() -> Response:
        return _json(serving.tools(_agent()))

    @bp.get("/sessions/<session_id>")
    @_answers_errors_as_json
    def read_session(session_id: str) -> Response:
        return _json(run_coroutine_sync(serving.get_session(_agent(), session_id, _caller())))

    @bp.delete("/sessions/<session_id>")
    @_answers_errors_as_json
    def clear_session(session_id: str) -> Response:
        run_coroutine_sync(serving.delete_session(_agent(), session_id, _caller()))
        return Response(status=204)

    @bp.post("/v1/chat/completions")
    @_answers_errors_as_json
    def chat_completions() -> Response:
        body = _body(protocol.ChatCompletionRequest)
        agent, caller, options = _agent(), _caller(), _state().options
        if body.stream:
            coro = serving.chat_completions_stream(agent, body, caller, options)
            return _sse(sync_iterate(run_coroutine_sync(coro)))
        return _json(run_coroutine_sync(serving.chat_completions(agent, body, caller, options)))

    @bp.get("/v1/models")
    @_answers_errors_as_json
    def models() -> Response:
        return _json(protocol.models_response(_state().options.model_name))

    return bp
