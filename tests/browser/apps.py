"""The apps the browser tests drive: one agent behind FastAPI and Flask, keys per user."""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Iterator
from typing import Any

from starlette.requests import HTTPConnection

from selectools import Agent, ConversationMemory, ModelRequest, Reply, ScriptedProvider, call, tool
from selectools.serving import ServingOptions
from selectools.sessions import InMemorySessionStore

KEYS = {"key-ada": "ada", "key-bob": "bob"}
HOSTILE = (
    'Look: <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script> '
    "and **bold** and `code`"
)
SLOW_ANSWER = "Streaming **answer** " + " ".join(f"word{i}" for i in range(12)) + " end."


@tool
def forecast(city: str) -> Iterator[str]:
    """The weather for a city, reporting progress."""
    yield f"asking the {city} station"
    yield "reading the sky"
    return f"sunny in {city}"


HANG_CANCELLED = threading.Event()
REFUNDS: list[int] = []


def refund(order_id: int) -> str:
    """Refund an order (a write: it waits for a person's approval)."""
    REFUNDS.append(order_id)
    return f"refunded {order_id}"


try:  # approvals (Tool.requires_approval) may not be in this selectools yet
    refund_tool: Any = tool(writes=True, requires_approval=True)(refund)  # type: ignore[call-overload]
except TypeError:
    refund_tool = None


@tool
async def hang() -> str:
    """Waits until the run is cancelled (then says so through HANG_CANCELLED)."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        HANG_CANCELLED.set()
        raise
    return "never"


@tool
def broken(reason: str) -> str:
    """Always fails (for the error card)."""
    raise ValueError(f"the gauge is broken: {reason}")


def respond(request: ModelRequest) -> Reply | str:
    last = request.messages[-1]
    if last.role == "tool":
        return f"Tool said: {last.content}"
    text = (last.content or "").lower()
    if "weather" in text:
        return Reply(calls=(call("forecast", city="Oslo"),))
    if "refund" in text:
        return Reply(calls=(call("refund", order_id=1001),))
    if "hang" in text:
        return Reply(calls=(call("hang"),))
    if "break" in text:
        return Reply(calls=(call("broken", reason="rusty"),))
    if "hostile" in text:
        return HOSTILE
    if "code" in text:
        return "Here:\n\n```python\nprint('<b>hi</b>')\n```\n\n- one\n- two"
    return SLOW_ANSWER


def build_agent() -> Agent:
    provider = ScriptedProvider(responder=respond, chunk_delay=0.08)
    tools = [forecast, broken, hang, *([refund_tool] if refund_tool is not None else [])]
    return Agent(tools, provider, memory=ConversationMemory(InMemorySessionStore()))


def builder_model(model: str | None = None) -> ScriptedProvider:
    """The model the builder may try here (`ServingOptions.builder_providers`)."""
    return ScriptedProvider(responder=respond, model=model or "scripted")


OPTIONS = ServingOptions(
    playground=True, builder=True, builder_providers=("tests.browser.apps:builder_model",)
)


def key_of(headers: Any, query: Any) -> str | None:
    sent = headers.get("X-API-Key") or query.get("key") or ""
    for key, user in KEYS.items():
        if hmac.compare_digest(sent.encode(), key.encode()):
            return user
    return None


def fastapi_app() -> Any:
    from fastapi import Depends, FastAPI, HTTPException

    from selectools_fastapi import AgentRouter

    def user(request: HTTPConnection) -> str:
        found = key_of(request.headers, request.query_params)
        if found is None:
            raise HTTPException(401, "Send X-API-Key.")
        return found

    app = FastAPI()
    app.include_router(
        AgentRouter(build_agent(), identity=user, options=OPTIONS),
        prefix="/bot",
        dependencies=[Depends(user)],
    )
    return app


def flask_app() -> Any:
    from flask import Flask, abort, g, request

    from selectools_flask import Selectools

    app = Flask("browser_tests")

    @app.before_request
    def check() -> None:
        found = key_of(request.headers, request.args)
        if found is None:
            abort(401)
        g.user = found

    Selectools(
        app, agent=build_agent(), url_prefix="/bot", identity=lambda: g.user, options=OPTIONS
    )
    return app


class WerkzeugThread:
    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WerkzeugThread:
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(10)
