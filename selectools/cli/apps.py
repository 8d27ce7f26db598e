"""The web apps `selectools serve` runs around an agent: FastAPI (default) or Flask.

An app target (a FastAPI or Flask app the user already built) is served as is;
an Agent gets a small app with the adapter mounted at `prefix`, behind an
optional bearer key. `reload_app` rebuilds the app from environment variables,
because uvicorn's reloader imports the app again in a fresh process.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from ..agent import Agent
from ..extras import require
from .target import TargetError, is_asgi_app, is_wsgi_app, load

__all__ = [
    "ENV_KEY",
    "ENV_PLAYGROUND",
    "ENV_PREFIX",
    "ENV_TARGET",
    "fastapi_app",
    "flask_app",
    "reload_app",
]

ENV_TARGET = "SELECTOOLS_SERVE_TARGET"
ENV_PREFIX = "SELECTOOLS_SERVE_PREFIX"
ENV_KEY = "SELECTOOLS_API_KEY"
ENV_PLAYGROUND = "SELECTOOLS_SERVE_PLAYGROUND"

_KEY_MESSAGE = "Send the key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."


def _key_matches(expected: str, authorization: str | None, x_api_key: str | None) -> bool:
    sent = x_api_key or (authorization or "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(sent.encode(), expected.encode())


def fastapi_app(
    found: Any, *, prefix: str = "", api_key: str | None = None, playground: bool = True
) -> Any:
    """An ASGI app serving `found` (an Agent, or an ASGI app returned unchanged)."""
    if is_asgi_app(found):
        return found
    if not isinstance(found, Agent):
        raise TargetError(f"Cannot serve a {type(found).__name__} with FastAPI; use --flask.")
    require("fastapi", extra="fastapi", feature="selectools serve")
    from fastapi import Depends, FastAPI, Header, HTTPException, Request
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from selectools.serving import ServingOptions, error_body
    from selectools_fastapi import AgentRouter

    def check_key(
        authorization: str | None = Header(default=None),
        x_api_key: str | None = Header(default=None),
    ) -> None:
        if api_key is not None and not _key_matches(api_key, authorization, x_api_key):
            raise HTTPException(401, _KEY_MESSAGE)

    app = FastAPI(title="selectools agent")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "unauthorized" if exc.status_code == 401 else "not_found"
        if exc.status_code not in (401, 404):
            kind = "http_error"
        return JSONResponse(error_body(kind, str(exc.detail)), exc.status_code, exc.headers)

    router = AgentRouter(found, options=ServingOptions(playground=playground))
    app.include_router(router, prefix=prefix, dependencies=[Depends(check_key)])
    return app


def flask_app(
    found: Any, *, prefix: str = "", api_key: str | None = None, playground: bool = True
) -> Any:
    """A Flask app serving `found` (an Agent, or a Flask app returned unchanged)."""
    if is_wsgi_app(found):
        return found
    if not isinstance(found, Agent):
        raise TargetError(f"Cannot serve a {type(found).__name__} with Flask.")
    require("flask", extra="flask", feature="selectools serve --flask")
    from flask import Flask, jsonify, request
    from werkzeug.exceptions import HTTPException, Unauthorized

    from selectools.serving import ServingOptions, error_body
    from selectools_flask import Selectools

    app = Flask("selectools_agent")

    @app.before_request
    def check_key() -> None:
        headers = request.headers
        if api_key is not None and not _key_matches(
            api_key, headers.get("Authorization"), headers.get("X-API-Key")
        ):
            raise Unauthorized(_KEY_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Any, int]:
        kind = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(kind, exc.description or kind)), exc.code or 500

    Selectools(app, agent=found, url_prefix=prefix, options=ServingOptions(playground=playground))
    return app


def reload_app() -> Any:
    """uvicorn's factory under --reload: the app, rebuilt from the environment."""
    found = load(os.environ[ENV_TARGET])
    return fastapi_app(
        found,
        prefix=os.environ.get(ENV_PREFIX, ""),
        api_key=os.environ.get(ENV_KEY) or None,
        playground=bool(os.environ.get(ENV_PLAYGROUND, "1")),
    )
