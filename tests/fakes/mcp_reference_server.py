"""A reference MCP server written with the SDK's own MCPServer (FastMCP in SDK 1.x).

Run as `python mcp_reference_server.py stdio` or `... http PORT`.
"""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

server = MCPServer("reference")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    """Echo a text back."""
    return text


@server.tool()
def refuse(reason: str) -> str:
    """Always fails with the given reason (a tool error the SDK passes on)."""
    raise ToolError(f"refused: {reason}")


@server.tool()
def crash() -> str:
    """Raises an unexpected exception (the SDK hides its text)."""
    raise RuntimeError("secret internal detail")


@server.tool()
def die() -> str:
    """Kills the server process mid-call."""
    sys.stdout.flush()
    os._exit(3)


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]), stateless_http=True)
    else:
        server.run("stdio")
