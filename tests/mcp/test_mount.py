"""MCP mounted at {prefix}/mcp (AgentRouter, Flask): behind the host's auth, with its identity."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("mcp", reason='needs the MCP SDK: pip install -e ".[mcp]"')

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from selectools import Agent, ScriptedProvider
from tests.fakes import mcp_our_server
from tests.fakes.servers import UvicornThread

TOKENS = {"token-ada": "ada"}


def host_app() -> Any:
    from fastapi import Depends, FastAPI, Header, HTTPException

    from selectools_fastapi import AgentRouter

    def current_user(authorization: str | None = Header(default=None)) -> str:
        user = TOKENS.get((authorization or "").removeprefix("Bearer "))
        if user is None:
            raise HTTPException(status_code=401, detail="login required")
        return user

    agent = Agent(mcp_our_server.TOOLS, ScriptedProvider(["unused"]))
    app = FastAPI()
    router = AgentRouter(agent, identity=current_user, mcp=True)
    app.include_router(router, prefix="/agent", dependencies=[Depends(current_user)])
    return app


def authed(url: str, token: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http))


async def test_the_official_client_reaches_the_mounted_server_with_the_hosts_identity() -> None:
    with UvicornThread(host_app()) as server:
        async with authed(f"{server.url}/agent/mcp", "token-ada") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            who = await client.call_tool("whoami", {})
            order = await client.call_tool("get_order", {"order_id": 5})
    assert {"get_order", "whoami"} <= names
    assert who.content[0].text == "identity=ada"
    assert order.structured_content == {"order_id": 5, "status": "shipped"}


async def test_without_the_hosts_auth_there_is_no_mcp() -> None:
    import httpx

    with UvicornThread(host_app()) as server:
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{server.url}/agent/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
                headers={"Accept": "application/json, text/event-stream"},
            )
        assert answer.status_code == 401
        with pytest.raises(Exception):  # noqa: B017, PT011 - the SDK's own error type
            async with authed(f"{server.url}/agent/mcp", "wrong") as client:
                await client.list_tools()


def test_mcp_needs_an_agent_not_a_factory() -> None:
    from selectools_fastapi import AgentRouter

    with pytest.raises(TypeError, match="needs an Agent"):
        AgentRouter(lambda request: Agent([], ScriptedProvider(["x"])), mcp=True)


def flask_host() -> Any:
    from flask import Flask, abort, g, request

    from selectools_flask import Selectools

    app = Flask(__name__)

    @app.before_request
    def login() -> None:
        user = TOKENS.get((request.headers.get("Authorization") or "").removeprefix("Bearer "))
        if user is None:
            abort(401)
        g.user = user

    agent = Agent(mcp_our_server.TOOLS, ScriptedProvider(["unused"]))
    Selectools(app, agent=agent, identity=lambda: g.user, mcp=True)
    return app


async def test_the_flask_extension_mounts_mcp_behind_the_hosts_auth() -> None:
    import threading

    import httpx
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, flask_host(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/agent/mcp"
    try:
        async with authed(url, "token-ada") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            who = await client.call_tool("whoami", {})
            wrong = await client.call_tool("get_order", {"order_id": "x"})
        async with httpx.AsyncClient() as http:
            denied = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    finally:
        server.shutdown()
        thread.join(10)
    assert "get_order" in names
    assert who.content[0].text == "identity=ada"
    assert wrong.is_error
    assert denied.status_code == 401
