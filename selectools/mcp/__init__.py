"""MCP both ways (`pip install -e ".[mcp]"`, the official `mcp` SDK).

- `MCPToolkit`: the tools of any MCP server (stdio command or streamable-HTTP URL) as ours.
- `serve_mcp`, `mcp_app`, `mcp_server`: our tools (or an agent's) as an MCP server,
  over stdio or as a streamable-HTTP ASGI app.

Importing this package does not import the SDK; using either side does.
"""

from __future__ import annotations

from .client import MCPConnectionError, MCPToolError, MCPToolkit
from .server import (
    IDENTITY_KEY,
    METADATA_KEY,
    MCPApp,
    answer_once,
    mcp_app,
    mcp_server,
    serve_mcp,
    serve_mcp_async,
)

__all__ = [
    "IDENTITY_KEY",
    "METADATA_KEY",
    "MCPApp",
    "MCPConnectionError",
    "MCPToolError",
    "MCPToolkit",
    "answer_once",
    "mcp_app",
    "mcp_server",
    "serve_mcp",
    "serve_mcp_async",
]
