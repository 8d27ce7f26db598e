"""What test specs reference as `module:name`: tools, a list, a toolkit class, a provider."""

from __future__ import annotations

from selectools import Provider, ScriptedProvider, Tool, tool
from selectools.tools.toolkit import Toolkit

ORDERS = {1001: "shipped", 1002: "processing"}


@tool
def order_status(order_id: int) -> str:
    """The status of an order by its number."""
    return ORDERS.get(order_id, "unknown")


def shout(text: str) -> str:
    """Upper-cases the text (a plain typed function, not yet a tool)."""
    return text.upper()


@tool(writes=True)
def cancel_order(order_id: int) -> str:
    """Cancel an order."""
    return f"cancelled {order_id}"


BOTH = [order_status, shout]
NOT_A_TOOL = 42


class CounterToolkit(Toolkit):
    """A toolkit with a setting, to check that settings reach the constructor."""

    name = "counter"

    def __init__(self, start: int = 0) -> None:
        self.start = start

    def tools(self) -> list[Tool]:
        start = self.start

        @tool
        def count_from(steps: int) -> int:
            """Count `steps` from the configured start."""
            return start + steps

        return [count_from]

    def close(self) -> None:
        pass


def echo_provider(model: str | None = None) -> Provider:
    """Calls `order_status` once, then echoes the tool result: a spec's own factory."""
    from selectools import Reply, call

    def respond(request: object) -> Reply | str:
        last = request.messages[-1]  # type: ignore[attr-defined]
        if last.role == "tool":
            return f"Order says: {last.content}"
        return Reply(calls=(call("order_status", order_id=1001),))

    return ScriptedProvider(responder=respond, model=model or "scripted")


def failing_provider(model: str | None = None) -> Provider:
    """Every call fails like a provider outage (503): for a spec's circuit breaker."""
    from selectools.errors import ProviderError

    def respond(request: object) -> str:
        raise ProviderError("The model server is down.", provider="scripted", status_code=503)

    return ScriptedProvider(responder=respond, model=model or "scripted")


def file_reader(model: str | None = None) -> Provider:
    """A model a prompt talked into reading `secret.txt`, then repeating what it read."""
    from selectools import Reply, call

    def respond(request: object) -> Reply | str:
        last = request.messages[-1]  # type: ignore[attr-defined]
        if last.role == "tool":
            return f"The file says: {last.content}"
        return Reply(calls=(call("read_file", path="secret.txt"),))

    return ScriptedProvider(responder=respond, model=model or "scripted")
