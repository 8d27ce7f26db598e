"""Our tools (or an agent's) as an MCP server: over stdio, or as a streamable-HTTP ASGI app.

    serve_mcp(agent)                 # stdio: run this as the command an MCP client starts
    app = mcp_app(agent)             # ASGI: uvicorn, or mounted by AgentRouter at {prefix}/mcp

Tools are listed from the tool set as it is at each request, so tools added
to a live agent appear to MCP clients too. Calls go through the same calling
layer as a run: arguments validated (a bad call is an `isError` result the
client's model can read), the agent's tool policies applied, timeouts kept.
A streaming (generator) tool's chunks become MCP progress notifications when
the client asks for progress. Over HTTP the app is stateless by default, so
any worker can answer any request; it has no auth of its own: mount it behind
your app's (AgentRouter and the Flask extension do), whose identity reaches
tools as `RunContext.identity`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..approval.flow import needs_approval
from ..context import RunContext
from ..extras import require
from ..messages import ToolCall
from ..policies.base import tool_policies
from ..tools.calling import ToolInvocation, call_tools_async, prepare
from ..tools.tool import Tool, ToolInterceptor, ToolSet
from ..tools.toolkit import Toolkit

if TYPE_CHECKING:
    pass

__all__ = [
    "IDENTITY_KEY",
    "METADATA_KEY",
    "MCPApp",
    "answer_once",
    "mcp_app",
    "mcp_server",
    "serve_mcp",
    "serve_mcp_async",
]

IDENTITY_KEY = "selectools.identity"
"""Where a host puts the caller's identity in the ASGI scope's `state` before the MCP app runs."""
METADATA_KEY = "selectools.metadata"
"""Where a host puts the caller's facts (its context hook's mapping): tools see them in
`RunContext.metadata`, as in a run over HTTP, with `transport: "mcp"` added."""

ToolsOrAgent = "Agent | ToolSet | Iterable[Tool | Toolkit | Callable[..., Any]]"


def mcp_server(
    tools_or_agent: Any,
    *,
    name: str = "selectools",
    instructions: str | None = None,
    tool_timeout: float | None = None,
) -> Any:
    """An `mcp.server.lowlevel.Server` listing and calling our tools."""
    require("mcp", extra="mcp", feature="serve_mcp")
    from mcp import types
    from mcp.server.lowlevel import Server

    tools, policies, timeout = _resolve(tools_or_agent, tool_timeout)

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=[_describe(t) for t in tools.snapshot().tools.values()])

    async def call_tool(ctx: Any, params: Any) -> Any:
        return await _call(tools, policies, timeout, ctx, params)

    return Server(
        name,
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve_mcp(tools_or_agent: Any, *, name: str = "selectools", **options: Any) -> None:
    """Serve over stdio until the client closes it (blocking): the command an MCP client runs."""
    asyncio.run(serve_mcp_async(tools_or_agent, name=name, **options))


async def serve_mcp_async(tools_or_agent: Any, *, name: str = "selectools", **options: Any) -> None:
    """`serve_mcp` for code already inside an event loop."""
    require("mcp", extra="mcp", feature="serve_mcp")
    from mcp.server.stdio import stdio_server

    server = mcp_server(tools_or_agent, name=name, **options)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def mcp_app(
    tools_or_agent: Any,
    *,
    name: str = "selectools",
    instructions: str | None = None,
    tool_timeout: float | None = None,
    stateless: bool = True,
    json_response: bool = False,
    allowed_hosts: Sequence[str] | None = None,
    allowed_origins: Sequence[str] | None = None,
) -> MCPApp:
    """A streamable-HTTP MCP endpoint as an ASGI app (answers at any path it is mounted on).

    `stateless=True` (default) needs no session affinity, so many workers can
    serve it. `allowed_hosts`/`allowed_origins` turn on the SDK's DNS-rebinding
    protection (use it when serving on localhost without other auth).
    """
    server = mcp_server(
        tools_or_agent, name=name, instructions=instructions, tool_timeout=tool_timeout
    )
    return MCPApp(server, stateless, json_response, allowed_hosts, allowed_origins)


class MCPApp:
    """The ASGI side of `mcp_app`: starts the SDK's session manager on first use in each loop.

    Mounted apps do not get lifespan events from most hosts, so the manager is
    started lazily (and stopped with the host's lifespan when it sends one).
    """

    def __init__(
        self,
        server: Any,
        stateless: bool,
        json_response: bool,
        allowed_hosts: Sequence[str] | None,
        allowed_origins: Sequence[str] | None,
    ) -> None:
        self.server = server
        self.stateless = stateless
        self.json_response = json_response
        self.allowed_hosts = list(allowed_hosts) if allowed_hosts else None
        self.allowed_origins = list(allowed_origins) if allowed_origins else None
        self._running: dict[asyncio.AbstractEventLoop, tuple[Any, asyncio.Event]] = {}
        self._lock = asyncio.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        manager = await self._manager()
        await manager.handle_request(_at_root(scope), receive, send)

    async def _manager(self) -> Any:
        loop = asyncio.get_running_loop()
        running = self._running.get(loop)
        if running is not None:
            return running[0]
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        security = None
        if self.allowed_hosts or self.allowed_origins:
            security = TransportSecuritySettings(
                enable_dns_rebinding_protection=True,
                allowed_hosts=self.allowed_hosts or [],
                allowed_origins=self.allowed_origins or [],
            )
        manager = StreamableHTTPSessionManager(
            app=self.server,
            stateless=self.stateless,
            json_response=self.json_response,
            security_settings=security,
        )
        started, stop = asyncio.Event(), asyncio.Event()

        async def keep_running() -> None:
            async with manager.run():
                started.set()
                await stop.wait()

        task = loop.create_task(keep_running())
        self._running[loop] = (manager, stop)
        task.add_done_callback(lambda _: self._running.pop(loop, None))
        await started.wait()
        return manager

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._manager()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Stop this loop's session manager (a lifespan shutdown does it for you)."""
        running = self._running.pop(asyncio.get_running_loop(), None)
        if running is not None:
            running[1].set()
            await asyncio.sleep(0)


async def answer_once(
    app: MCPApp,
    *,
    method: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    query_string: bytes = b"",
    identity: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP request to the MCP app, answered whole: how a WSGI host (Flask) serves it.

    Run it on one event loop for the process (e.g. `bridge.run_coroutine_sync`).
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": query_string,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 80),
        "state": {IDENTITY_KEY: identity, METADATA_KEY: metadata},
    }
    status = 500
    out_headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []
    finished = asyncio.Event()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            out_headers.extend(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())
            )
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                finished.set()

    try:
        await app(scope, receive, send)
    finally:
        finished.set()
    return status, out_headers, b"".join(chunks)


def _at_root(scope: Mapping[str, Any]) -> dict[str, Any]:
    """The SDK routes on the path; mounted anywhere, we answer there."""
    return {**scope, "path": "/", "raw_path": b"/", "root_path": ""}


# -- listing and calling ----------------------------------------------------------------


def _resolve(
    tools_or_agent: Any, tool_timeout: float | None
) -> tuple[ToolSet, tuple[ToolInterceptor, ...], float | None]:
    tools = getattr(tools_or_agent, "tools", None)
    if isinstance(tools, ToolSet):  # an Agent: its live tools, policies and tool timeout
        policies = tool_policies(getattr(tools_or_agent, "policies", ()))
        config = getattr(tools_or_agent, "config", None)
        timeout = (
            tool_timeout if tool_timeout is not None else getattr(config, "tool_timeout", None)
        )
        return tools, policies, timeout
    if isinstance(tools_or_agent, ToolSet):
        return tools_or_agent, (), tool_timeout
    items: list[Any] = []
    for item in tools_or_agent:
        if isinstance(item, Toolkit) and not isinstance(item, Tool):
            items.extend(item.tools())
        else:
            items.append(item)
    return ToolSet(items), (), tool_timeout


def _describe(tool: Tool) -> Any:
    from mcp import types

    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=dict(tool.parameters),
        annotations=types.ToolAnnotations(
            read_only_hint=not tool.writes, destructive_hint=tool.writes
        ),
    )


async def _call(
    tools: ToolSet,
    policies: tuple[ToolInterceptor, ...],
    limit: float | None,
    ctx: Any,
    params: Any,
) -> Any:
    from mcp import types

    call = ToolCall(
        id=f"mcp-{os.urandom(6).hex()}",
        name=params.name,
        arguments=json.dumps(params.arguments or {}),
    )
    context = RunContext(
        run_id=call.id, identity=_identity(ctx), metadata={**_metadata(ctx), "transport": "mcp"}
    )
    prepared = prepare(tools.snapshot().tools, call, context)
    if isinstance(prepared, ToolInvocation) and needs_approval(prepared, policies):
        # No person can be asked over MCP, so a call that needs one never runs here.
        prepared = prepared.refuse(
            f"Tool '{call.name}' needs a person's approval before it runs, and MCP has no "
            f"way to ask for it, so it was not run. Call it through the agent's HTTP API.",
            error_type="approval_required",
        )
    async with _progress(ctx) as on_progress:
        [record] = await call_tools_async(
            [prepared],
            tool_timeout=limit,
            parallel=False,
            policies=policies,
            on_progress=on_progress if isinstance(prepared, ToolInvocation) else None,
        )
    if record.error is not None:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=record.error)], is_error=True
        )
    structured = record.result if isinstance(record.result, dict) else None
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=record.output)],
        structured_content=structured,
    )


def _state(ctx: Any) -> Mapping[str, Any]:
    scope = getattr(getattr(ctx, "request", None), "scope", None)
    state = scope.get("state") if isinstance(scope, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def _identity(ctx: Any) -> str | None:
    value = _state(ctx).get(IDENTITY_KEY)
    return str(value) if value is not None else None


def _metadata(ctx: Any) -> dict[str, Any]:
    value = _state(ctx).get(METADATA_KEY)
    return dict(value) if isinstance(value, Mapping) else {}


@contextlib.asynccontextmanager
async def _progress(ctx: Any) -> AsyncIterator[Callable[[ToolCall, Any], None] | None]:
    """A sink turning streamed chunks into MCP progress notifications, sent in order."""
    meta = getattr(ctx, "meta", None) or {}
    token = meta.get("progress_token") if isinstance(meta, Mapping) else None
    if token is None:
        token = meta.get("progressToken") if isinstance(meta, Mapping) else None
    if token is None:
        yield None
        return
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[Any] = asyncio.Queue()
    done = object()

    def forward(_call: ToolCall, chunk: Any) -> None:  # from the loop or a tool thread
        loop.call_soon_threadsafe(chunks.put_nowait, chunk)

    async def send() -> None:
        count = 0
        while (chunk := await chunks.get()) is not done:
            count += 1
            text = chunk if isinstance(chunk, str) else json.dumps(chunk, default=str)
            with contextlib.suppress(Exception):  # a client that stopped listening
                await ctx.session.send_progress_notification(
                    token, count, None, text, related_request_id=ctx.request_id
                )

    sender = asyncio.create_task(send())
    try:
        yield forward
    finally:
        loop.call_soon_threadsafe(chunks.put_nowait, done)
        await sender
