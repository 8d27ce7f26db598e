"""MCPToolkit: the tools of any MCP server (a stdio command or a streamable-HTTP URL) as ours.

One MCP session per toolkit, held open on selectools' bridge event loop, so
sync runs, async runs on any event loop and many threads share it safely.
Each MCP tool becomes a `Tool` with the server's input schema; a call's text
(or structured) content is the result the model reads; an `isError` result
or a failing server is a `ToolkitError` whose message the model reads. A
server that dies fails the calls in flight with a readable error, and the
next call starts (or reconnects to) it again. `close()` ends the session
and, for stdio, the server process.

Tools are marked `writes=True` unless the server annotates them
`readOnlyHint` (the spec's own default), so approval and audit policies see
them as writes until the server says otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from typing import Any, TypeVar

from ..bridge import await_on_bridge, run_coroutine_sync
from ..extras import require
from ..tools.schema import clean_schema
from ..tools.tool import Tool
from ..tools.toolkit import Toolkit, ToolkitError, UpstreamError

__all__ = ["MCPConnectionError", "MCPToolError", "MCPToolkit"]

T = TypeVar("T")
_NAME = re.compile(r"[^A-Za-z0-9_-]")


class MCPToolError(ToolkitError):
    """The MCP server answered the call with an error (its text is the message)."""


class MCPConnectionError(UpstreamError):
    """The MCP server could not be started or reached, or it went away."""


class MCPToolkit(Toolkit):
    """The tools of one MCP server. Build it with `MCPToolkit.stdio(...)` or `MCPToolkit.http(...)`.

    Args:
        server: a streamable-HTTP URL, or `mcp.StdioServerParameters`.
        headers: HTTP headers for every request (an API key); never shown to the model.
        prefix: put before every tool name (several servers in one agent).
        include: only these tools (MCP names); `exclude`: all but these.
        timeout: seconds for connecting, listing and each call.
        name: the toolkit's name in listings.
    """

    name = "mcp"

    def __init__(
        self,
        server: Any,
        *,
        headers: Mapping[str, str] | None = None,
        prefix: str = "",
        include: Collection[str] | None = None,
        exclude: Collection[str] = (),
        timeout: float = 30.0,
        name: str = "mcp",
    ) -> None:
        require("mcp", extra="mcp", feature="MCPToolkit")
        self.server = server
        self.headers = dict(headers or {})
        self.prefix = prefix
        self.include = set(include) if include is not None else None
        self.exclude = set(exclude)
        self.timeout = timeout
        self.name = name
        self._session: _Session | None = None
        self._tools: list[Tool] | None = None

    @classmethod
    def stdio(
        cls,
        command: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        **options: Any,
    ) -> MCPToolkit:
        """A server started as a subprocess speaking MCP over its stdin/stdout.

        `env` is the server's whole environment beyond the SDK's safe defaults
        (PATH, HOME...): your own secrets are not passed on unless you list them.
        """
        mcp = require("mcp", extra="mcp", feature="MCPToolkit")
        parameters = mcp.StdioServerParameters(
            command=command, args=list(args), env=dict(env) if env else None, cwd=cwd
        )
        return cls(parameters, **options)

    @classmethod
    def http(
        cls, url: str, *, headers: Mapping[str, str] | None = None, **options: Any
    ) -> MCPToolkit:
        """A server reached over streamable HTTP at `url` (e.g. `https://host/mcp`)."""
        return cls(url, headers=headers, **options)

    # -- the Toolkit contract -----------------------------------------------------

    def tools(self) -> list[Tool]:
        """The server's tools (listed once; `refresh()` lists them again)."""
        if self._tools is None:
            self._tools = self._on_bridge(self._list())
        return list(self._tools)

    def refresh(self) -> list[Tool]:
        """List the server's tools again (after it says they changed)."""
        self._tools = None
        return self.tools()

    def close(self) -> None:
        """End the session (and a stdio server's process)."""
        session, self._session = self._session, None
        if session is not None:
            self._on_bridge(session.stop())

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await await_on_bridge(session.stop())

    # -- calls ----------------------------------------------------------------------

    async def _list(self) -> list[Tool]:
        session = await self._connected()
        listed = await session.run(lambda client: client.list_tools(), self.timeout)
        made = []
        for described in listed.tools:
            if self.include is not None and described.name not in self.include:
                continue
            if described.name in self.exclude:
                continue
            made.append(self._tool(described))
        return made

    def _tool(self, described: Any) -> Tool:
        remote = described.name
        local = _NAME.sub("_", f"{self.prefix}{remote}")[:64]
        annotations = described.annotations
        read_only = bool(annotations is not None and annotations.read_only_hint)
        schema = clean_schema(dict(described.input_schema or {"type": "object"}))
        schema.setdefault("type", "object")

        async def acall(**arguments: Any) -> Any:
            return await await_on_bridge(self._call(remote, arguments))

        def call(**arguments: Any) -> Any:
            return self._on_bridge(self._call(remote, arguments))

        call.__name__ = acall.__name__ = local
        return Tool(
            name=local,
            description=(described.description or described.title or remote).strip(),
            parameters=schema,
            function=call,
            afunction=acall,
            writes=not read_only,
        )

    async def _call(self, remote: str, arguments: dict[str, Any]) -> Any:
        session = await self._connected()
        result = await session.run(
            lambda client: client.call_tool(remote, arguments, read_timeout_seconds=self.timeout),
            self.timeout,
        )
        return _result(remote, result)

    async def _connected(self) -> _Session:
        session = self._session
        if session is None or session.dead:
            if session is not None:
                await session.stop()
            session = _Session(self._open, self.timeout, self._describe())
            await session.start()
            self._session = session
        return session

    def _open(self) -> Any:
        mcp = require("mcp", extra="mcp", feature="MCPToolkit")
        server = self.server
        if isinstance(server, str) and self.headers:
            httpx2 = require("httpx2", extra="mcp", feature="MCPToolkit")
            from mcp.client.streamable_http import streamable_http_client

            http_client = httpx2.AsyncClient(headers=self.headers, timeout=self.timeout)
            server = streamable_http_client(server, http_client=http_client)
        return mcp.Client(server, read_timeout_seconds=self.timeout)

    def _describe(self) -> str:
        server = self.server
        if isinstance(server, str):
            return server
        command = getattr(server, "command", "")
        return " ".join([command, *getattr(server, "args", [])]).strip() or repr(server)

    def _on_bridge(self, coro: Coroutine[Any, Any, T]) -> T:
        return run_coroutine_sync(coro)


# -- the session, held open on the bridge loop ----------------------------------------


class _Session:
    """An entered `mcp.Client`, kept open by one task until `stop()` (anyio wants one task)."""

    def __init__(self, open_client: Callable[[], Any], timeout: float, where: str) -> None:
        self._open = open_client
        self.timeout = timeout
        self.where = where
        self.client: Any = None
        self.dead: BaseException | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._hold())
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self.timeout)
        except TimeoutError:
            await self.stop()
            raise MCPConnectionError(
                f"The MCP server {self.where} did not answer within {self.timeout:g} s."
            ) from None

    async def _hold(self) -> None:
        assert self._ready is not None
        try:
            async with self._open() as client:
                self.client = client
                self._ready.set_result(None)
                await self._stopping.wait()
        except BaseException as exc:  # the server went away, or never came
            self.dead = exc
            if not self._ready.done():
                self._ready.set_exception(
                    MCPConnectionError(
                        f"Could not start or reach the MCP server {self.where} "
                        f"({_reason(exc)}). Check the command or URL."
                    )
                )
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.dead = self.dead or ConnectionError("closed")

    async def run(self, step: Callable[[Any], Awaitable[T]], limit: float) -> T:
        if self.dead is not None or self.client is None:
            raise self._gone()
        try:
            return await asyncio.wait_for(step(self.client), limit)
        except TimeoutError:
            raise MCPConnectionError(
                f"The MCP server {self.where} did not answer within {limit:g} s."
            ) from None
        except (ToolkitError, asyncio.CancelledError):
            raise
        except Exception as exc:
            if self.dead is not None or _is_disconnect(exc):
                self.dead = self.dead or exc
                raise self._gone() from None
            raise MCPToolError(f"The MCP call failed: {_reason(exc)}") from None

    def _gone(self) -> MCPConnectionError:
        return MCPConnectionError(
            f"The MCP server {self.where} is not running (it exited or the connection "
            f"dropped). The next call starts it again; if this repeats, check the server."
        )

    async def stop(self) -> None:
        self._stopping.set()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 10)
            except (TimeoutError, Exception):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


def _result(remote: str, result: Any) -> Any:
    texts = [getattr(block, "text", None) for block in result.content or ()]
    text = "\n".join(t for t in texts if t is not None)
    others = [block for block in result.content or () if getattr(block, "text", None) is None]
    if result.is_error:
        raise MCPToolError(text or f"The MCP tool '{remote}' failed without a message.")
    if text:
        return text  # what the server meant the model to read
    if result.structured_content is not None:
        return result.structured_content
    if others:
        kinds = ", ".join(sorted({getattr(b, "type", "content") for b in others}))
        return f"({len(others)} {kinds} item(s) that are not text)"
    return text


def _is_disconnect(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    if names & {"ClosedResourceError", "BrokenResourceError", "EndOfStream", "ConnectionError"}:
        return True
    text = str(exc).lower()
    return "connection closed" in text or ("closed" in text and "stream" in text)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    stack = [exc]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.append(current)
        stack.extend(getattr(current, "exceptions", ()))
        if current.__cause__ is not None:
            stack.append(current.__cause__)
        if current.__context__ is not None:
            stack.append(current.__context__)
    return seen


def _reason(exc: BaseException) -> str:
    leaves = [e for e in _chain(exc) if not getattr(e, "exceptions", None)]
    first = leaves[0] if leaves else exc
    text = str(first).strip()
    return f"{type(first).__name__}: {text}" if text else type(first).__name__
