"""selectools and LangChain, both ways: tools, chat models as providers, agents as Runnables."""

from __future__ import annotations

from selectools.extras import require

require("langchain_core", extra="langchain", feature="selectools_langchain")

from .provider import LangChainProvider  # noqa: E402
from .runnable import AgentRunnable, as_runnable  # noqa: E402
from .tools import SelectoolsTool, from_langchain_tool, to_langchain_tool, to_langchain_tools  # noqa: E402

__all__ = [
    "AgentRunnable",
    "LangChainProvider",
    "SelectoolsTool",
    "as_runnable",
    "from_langchain_tool",
    "to_langchain_tool",
    "to_langchain_tools",
]
