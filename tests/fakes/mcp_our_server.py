"""Our tools served over MCP stdio with `serve_mcp`: the command an MCP client starts."""

from __future__ import annotations

from collections.abc import Iterator

from selectools import RunContext, ToolkitError, tool
from selectools.mcp import serve_mcp


@tool
def get_order(order_id: int) -> dict[str, object]:
    """Look up an order by its number."""
    if order_id < 0:
        raise ToolkitError("Order numbers are positive; ask the customer again.")
    return {"order_id": order_id, "status": "shipped"}


@tool(writes=True)
def cancel_order(order_id: int) -> str:
    """Cancel an order."""
    return f"cancelled {order_id}"


@tool
def import_rows(count: int) -> Iterator[str]:
    """Import rows, reporting progress."""
    for done in range(1, count + 1):
        yield f"{done}/{count}"
    return f"imported {count} rows"


@tool
def whoami(ctx: RunContext) -> str:
    """Who is calling."""
    return f"identity={ctx.identity}"


TOOLS = [get_order, cancel_order, import_rows, whoami]

if __name__ == "__main__":
    serve_mcp(TOOLS, name="shop")
