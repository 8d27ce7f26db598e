"""`{prefix}/ws` for Flask through flask-sock: the connection is served by the async
`selectools.serving.ws` on the bridge loop; the app's `before_request` auth runs on
the handshake like on every route."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint

from selectools import Agent
from selectools.extras import require
from selectools.serving import Caller, ServingOptions
from selectools.serving.ws import Disconnected, serve_connection

__all__ = ["add_websocket_route"]


class _SimpleConnection:
    """simple-websocket's blocking calls, run in threads so the bridge loop stays free."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def receive_text(self) -> str:
        from simple_websocket import ConnectionClosed

        while True:
            try:
                data = await asyncio.to_thread(self.ws.receive, 5.0)
            except ConnectionClosed:
                raise Disconnected from None
            if data is None:
                if not self.ws.connected:
                    raise Disconnected
                continue  # a receive timeout: wait again
            return data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")

    async def send_text(self, text: str) -> None:
        from simple_websocket import ConnectionClosed

        try:
            await asyncio.to_thread(self.ws.send, text)
        except ConnectionClosed:
            raise Disconnected from None

    async def close(self, code: int = 1000) -> None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.ws.close, code)


def add_websocket_route(
    bp: Blueprint,
    agent: Callable[[], Agent],
    caller: Callable[[], Caller],
    options: Callable[[], ServingOptions],
) -> None:
    flask_sock = require("flask_sock", extra="flask", feature="The Flask WebSocket route")
    from selectools.bridge import run_coroutine_sync

    def websocket(ws: Any) -> None:
        connection = _SimpleConnection(ws)
        serving = serve_connection(connection, agent(), caller(), options())
        run_coroutine_sync(serving)

    flask_sock.Sock().route("/ws", bp=bp)(websocket)
