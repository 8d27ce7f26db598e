"""The agent builder's routes (`{prefix}/builder/...`), for `ServingOptions(builder=True)`.

- `GET builder/catalog`: what an agent can be built from: the served agent's
  tools (each with its `module:name` reference), installed toolkits (from
  `selectools.registry`) and the providers a spec may name here.
- `POST builder/export` `{"spec": {...}}`: the spec as YAML, TOML and Python.
- `POST builder/try` `{"spec": {...}, "input": "..."}`: build that agent and
  stream one run as SSE, like `/stream`.

A spec tried here may use only what the catalog lists: the served agent's
tools, the installed toolkits in `ServingOptions.builder_toolkits`, the
providers by name (`openai`, `anthropic`, `bedrock`: their endpoints and keys
from the server's environment) and the factories
in `ServingOptions.builder_providers`. Nothing a caller sends is imported
beyond that, and no secret is ever shown: specs refuse secret-looking keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..agent import Agent
from ..config import AgentConfig
from ..spec import PROVIDERS, AgentSpec, SpecError
from ..tools.calling import shortest_timeout
from .handlers import Answer, Stream, stream
from .options import Caller, ServingOptions
from .wire import InvokeRequest

__all__ = ["ExportRequest", "TryRequest", "catalog", "export", "try_spec"]


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    spec: dict[str, Any]


class TryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    spec: dict[str, Any]
    input: str = Field(min_length=1)
    session_id: str | None = None


def _reference(tool: Any) -> str | None:
    function = getattr(tool, "function", None)
    module = getattr(function, "__module__", None)
    name = getattr(function, "__name__", None)
    if not module or not name or module == "__main__":
        return None
    import importlib

    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return f"{module}:{name}" if found is tool or found is function else None


def _catalog_data(agent: Agent, options: ServingOptions) -> dict[str, Any]:
    from ..registry import describe_installed

    tools = [
        {
            "name": name,
            "description": agent.tools[name].description.strip().split("\n\n", 1)[0],
            "ref": _reference(agent.tools[name]),
            "writes": agent.tools[name].writes,
        }
        for name in agent.tools
    ]
    toolkits = [
        {
            "name": info.name,
            "description": info.description,
            "tools": None if info.tools is None else [t.name for t in info.tools],
            "note": info.note,
        }
        for info in describe_installed()
        if info.name in options.builder_toolkits
    ]
    return {
        "tools": tools,
        "toolkits": toolkits,
        "providers": [*PROVIDERS, *options.builder_providers],
        "system_prompt": agent.system_prompt,
        "limits": {
            "max_iterations": agent.config.max_iterations,
            "run_timeout": agent.config.run_timeout,
            "tool_timeout": agent.config.tool_timeout,
        },
    }


def catalog(agent: Agent, options: ServingOptions) -> Answer:
    import json

    return Answer(200, json.dumps(_catalog_data(agent, options)).encode())


def export(body: ExportRequest) -> Answer:
    import json

    try:
        spec = AgentSpec.parse(body.spec)
        files = {"yaml": spec.to_yaml(), "toml": spec.to_toml(), "python": spec.to_python()}
    except Exception as exc:
        return Answer.failure(exc)
    return Answer(200, json.dumps(files).encode())


def _served_tools(agent: Agent) -> dict[str, Any]:
    """The served agent's tools by the `module:name` reference the catalog lists."""
    tools = agent.tools
    return {ref: tools[name] for name in tools if (ref := _reference(tools[name]))}


def _allowed(spec: AgentSpec, known: Mapping[str, Any], options: ServingOptions) -> None:
    from ..registry import installed

    toolkits = {ep.name for ep in installed()}
    for tool in spec.tools:
        if tool.ref is not None and tool.ref not in known:
            raise SpecError(f"tools: {tool.ref} is not one of this server's tools.")
        if tool.toolkit is not None and tool.toolkit not in toolkits:
            raise SpecError(f"tools: no installed toolkit is named {tool.toolkit!r}.")
        if tool.toolkit is not None and tool.toolkit not in options.builder_toolkits:
            raise SpecError(
                f"tools: the {tool.toolkit!r} toolkit is not offered by this server's builder "
                f"(ServingOptions.builder_toolkits); export the spec to run it yourself."
            )
        if tool.toolkit is not None and tool.settings:  # the page never sends any
            raise SpecError(
                f"tools: settings for the {tool.toolkit!r} toolkit are not offered by this "
                f"server (they could point it at any server, database or folder it reaches); "
                f"a tried toolkit runs with its defaults. Export the spec to configure it."
            )
    for index, member in enumerate(spec.provider.members()):  # the fallbacks too
        where = "provider" if index == 0 else f"provider.fallbacks.{index - 1}"
        factory = member.factory
        if factory is not None and factory not in options.builder_providers:
            raise SpecError(f"{where}.factory {factory!r} is not offered by this server.")
        if member.base_url is not None:  # it would send the server's key to that URL
            raise SpecError(
                f"{where}.base_url is not offered by this server: a tried agent uses the "
                f"provider's endpoint and key from the server's environment. Export the "
                f"spec to point it elsewhere."
            )


def _within(tried: AgentConfig, served: AgentConfig) -> AgentConfig:
    """The tried limits, never above the served agent's (iterations, run and tool time)."""
    return dataclasses.replace(
        tried,
        max_iterations=min(tried.max_iterations, served.max_iterations),
        run_timeout=shortest_timeout(tried.run_timeout, served.run_timeout),
        tool_timeout=shortest_timeout(tried.tool_timeout, served.tool_timeout),
    )


async def try_spec(
    agent: Agent, body: TryRequest, caller: Caller, options: ServingOptions
) -> Answer | Stream:
    """Build the spec's agent (from the catalog only) and stream one run of it."""
    try:
        spec = AgentSpec.parse(body.spec)
        served = _served_tools(agent)
        _allowed(spec, served, options)
        # No looser than the served agent: its own tool objects (approval flags, sandboxes),
        # its policies first (approval, guardrails, audit), its limits as a ceiling.
        built = spec.build(known=served, policies=agent.policies)
        built.config = _within(built.config, agent.config)
        built.memory = agent.memory  # the served agent's sessions, owner-checked as usual
        request = InvokeRequest(input=body.input, session_id=body.session_id)
    except Exception as exc:
        return Answer.failure(exc)
    return await stream(built, request, caller, options)
