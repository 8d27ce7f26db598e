"""RequireApproval: mark calls as needing a person's approval from the agent's policies."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..policies.base import ToolPolicy
from ..tools.calling import ToolInvocation

__all__ = ["RequireApproval"]


class RequireApproval(ToolPolicy):
    """Calls it matches pause the run until a person decides (see `Agent.resume`).

    With no arguments it matches every write tool (`Tool.writes`); `tools`
    names tools, `when` decides per call from the arguments (a refund above
    a limit, say). A call matches if any given rule matches.

        Agent(tools, policies=[RequireApproval(tools=["refund"])])
    """

    def __init__(
        self,
        *,
        tools: Iterable[str] | None = None,
        writes: bool | None = None,
        when: Callable[[ToolInvocation], bool] | None = None,
    ) -> None:
        self.tools = frozenset(tools) if tools is not None else None
        self.when = when
        nothing_chosen = self.tools is None and when is None
        self.writes = writes if writes is not None else nothing_chosen

    def needs_approval(self, invocation: ToolInvocation) -> bool:
        if self.writes and invocation.tool.writes:
            return True
        if self.tools is not None and invocation.name in self.tools:
            return True
        return self.when is not None and bool(self.when(invocation))
