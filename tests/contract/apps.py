"""Host apps for the wire contract: each has its own auth and mounts the agent at /agent."""

from __future__ import annotations

from typing import Any

from selectools import Agent
from selectools.serving import ServingOptions

TOKENS = {"token-ada": "ada", "token-bob": "bob"}
OPTIONS = ServingOptions(max_input_chars=2_000, max_batch=4, max_body_bytes=20_000)


def fastapi_app(agent: Agent, options: ServingOptions = OPTIONS) -> Any:
    from fastapi import Depends, FastAPI, Header, HTTPException

    from selectools_fastapi import AgentRouter

    def current_user(authorization: str | None = Header(default=None)) -> str:
        user = TOKENS.get((authorization or "").removeprefix("Bearer "))
        if user is None:
            raise HTTPException(status_code=401, detail="login required")
        return user

    def tenant() -> dict[str, str]:
        return {"tenant": "acme"}

    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    router = AgentRouter(agent, identity=current_user, context=tenant, options=options)
    app.include_router(router, prefix="/agent", dependencies=[Depends(current_user)])
    return app


def flask_app(agent: Agent, options: ServingOptions = OPTIONS) -> Any:
    from flask import Flask, abort, g, request

    from selectools_flask import Selectools

    app = Flask(__name__)

    @app.before_request
    def login() -> None:  # the host app's own auth, applied to every route
        if request.path == "/health":
            return
        user = TOKENS.get((request.headers.get("Authorization") or "").removeprefix("Bearer "))
        if user is None:
            abort(401)
        g.user = user

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    Selectools(
        app,
        agent=agent,
        identity=lambda: g.user,
        context=lambda: {"tenant": "acme"},
        options=options,
    )
    return app
