"""`{prefix}/ws`: the agent over a WebSocket (see `selectools.serving.ws`), behind the router's
dependencies like every route: the host's auth runs on the handshake."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, WebSocket
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketState

from selectools import Agent
from selectools.serving import Caller, ServingOptions
from selectools.serving.ws import Disconnected, serve_connection

__all__ = ["add_websocket_route"]


class _StarletteConnection:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def receive_text(self) -> str:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise Disconnected
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode("utf-8", "replace")
        return str(text)

    async def send_text(self, text: str) -> None:
        try:
            await self.websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError):
            raise Disconnected from None

    async def close(self, code: int = 1000) -> None:
        if self.websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # already gone
                await self.websocket.close(code)


def add_websocket_route(
    router: APIRouter,
    get_agent: Callable[[Any], Awaitable[Agent]],
    identity: Callable[..., Any] | None,
    context: Callable[..., Any] | None,
    options: ServingOptions,
    approvals: Callable[..., Awaitable[Any]] | None = None,
) -> None:
    async def no_value() -> None:
        return None

    async def caller(
        connection: HTTPConnection,
        user: Any = Depends(identity or no_value),
        facts: Any = Depends(context or no_value),
    ) -> Caller:
        address = connection.client.host if connection.client is not None else None
        return Caller.of(user, facts, address=address)

    async def endpoint(websocket: WebSocket, who: Caller = Depends(caller)) -> None:
        agent = await get_agent(websocket)
        await websocket.accept()
        connection = _StarletteConnection(websocket)
        await serve_connection(connection, agent, who, options, approvals=approvals)
        await connection.close()

    router.add_api_websocket_route("/ws", endpoint)
