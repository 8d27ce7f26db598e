"""Toolkits that installed packages publish, found through entry points.

A package publishes a toolkit by naming its class (or a factory) under the
entry-point group `selectools.toolkits` in its pyproject.toml:

    [project.entry-points."selectools.toolkits"]
    weather = "selectools_weather:WeatherToolkit"

`installed()` lists them without importing anything; `load_toolkit("weather",
**settings)` imports and builds one; `describe_installed()` says what each
offers (description, tools, write and approval flags) for listings such as
`python -m selectools.registry` (and the `selectools tools` command). A
package that fails to import is listed with the reason, never hidden and
never fatal to the listing. See `examples/plugin_package/` for a template.

Tools of a toolkit that needs settings (a database URL, a folder) are listed
when its class offers `catalog()` (a classmethod returning tools or
`ToolInfo`s); otherwise only toolkits that build without arguments list them.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from typing import Any

from .errors import SelectoolsError
from .tools.tool import Tool
from .tools.toolkit import Toolkit

__all__ = [
    "GROUP",
    "PluginNotFoundError",
    "ToolInfo",
    "ToolkitInfo",
    "ToolkitSettingsError",
    "describe_installed",
    "installed",
    "load_toolkit",
    "main",
]

GROUP = "selectools.toolkits"


class PluginNotFoundError(SelectoolsError, LookupError):
    """No installed package publishes a toolkit under that name."""


class ToolkitSettingsError(SelectoolsError, TypeError):
    """The settings given do not fit the toolkit's constructor (one missing, or unknown)."""

    default_status = 422


@dataclass(frozen=True)
class ToolInfo:
    """One tool as a listing shows it."""

    name: str
    description: str
    writes: bool = False
    requires_approval: bool = False

    @classmethod
    def of(cls, tool: Tool) -> ToolInfo:
        summary = tool.description.strip().split("\n\n", 1)[0].replace("\n", " ")
        approval = bool(getattr(tool, "requires_approval", False))
        return cls(tool.name, summary, tool.writes, approval)


@dataclass(frozen=True)
class ToolkitInfo:
    """An installed toolkit: where it comes from, what it is, and its tools when known."""

    name: str
    target: str
    distribution: str
    version: str
    description: str = ""
    tools: tuple[ToolInfo, ...] | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tools"] = None if self.tools is None else [asdict(t) for t in self.tools]
        return data


def installed() -> list[metadata.EntryPoint]:
    """Every published toolkit's entry point, by name (nothing is imported)."""
    found = {(ep.name, ep.value): ep for ep in metadata.entry_points(group=GROUP)}
    return sorted(found.values(), key=lambda ep: (ep.name, ep.value))


def load_toolkit(name: str, /, **settings: Any) -> Toolkit:
    """Import the toolkit published as `name` and build it with `settings`."""
    matches = [ep for ep in installed() if ep.name == name]
    if not matches:
        names = ", ".join(sorted({ep.name for ep in installed()})) or "none"
        raise PluginNotFoundError(
            f"No installed package publishes a toolkit named {name!r} (installed: {names}). "
            f"Install the package that provides it."
        )
    if len(matches) > 1:
        sources = ", ".join(_distribution(ep)[0] for ep in matches)
        raise PluginNotFoundError(
            f"Several packages publish a toolkit named {name!r} ({sources}). "
            f"Uninstall one, or import the class you want directly."
        )
    factory = matches[0].load()
    _check_settings(name, factory, settings)
    made = factory(**settings)
    if not isinstance(made, Toolkit):
        raise PluginNotFoundError(
            f"{matches[0].value} did not build a Toolkit (it has no name, tools() or close())."
        )
    return made


def describe_installed() -> list[ToolkitInfo]:
    """What each installed toolkit offers; problems become notes, never exceptions."""
    described = []
    seen: dict[str, str] = {}
    for ep in installed():
        distribution, version = _distribution(ep)
        info = _describe(ep, distribution, version)
        if ep.name in seen:
            info = _with_note(info, f"also published by {seen[ep.name]}: the name is ambiguous")
        seen.setdefault(ep.name, distribution)
        described.append(info)
    return described


def _check_settings(name: str, factory: Any, settings: dict[str, Any]) -> None:
    """Name the missing or unknown setting before building (not a bare TypeError)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no signature to read: the constructor will say
        return
    try:
        signature.bind(**settings)
    except TypeError as exc:
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        wanted = [p.name for p in signature.parameters.values() if p.kind not in variadic]
        raise ToolkitSettingsError(
            f"The {name!r} toolkit cannot be built with settings {sorted(settings)}: {exc}. "
            f"Its settings: {', '.join(wanted) or 'none'}."
        ) from None


def _describe(ep: metadata.EntryPoint, distribution: str, version: str) -> ToolkitInfo:
    base = ToolkitInfo(ep.name, ep.value, distribution, version)
    try:
        target = ep.load()
    except Exception as exc:  # a broken plugin is shown, not fatal
        return _with_note(base, f"cannot be imported: {type(exc).__name__}: {exc}")
    description = _summary(inspect.getdoc(target) or "")
    tools, note = _tools_of(target)
    return ToolkitInfo(ep.name, ep.value, distribution, version, description, tools, note)


def _tools_of(target: Any) -> tuple[tuple[ToolInfo, ...] | None, str]:
    catalog = getattr(target, "catalog", None)
    try:
        if callable(catalog):
            return tuple(t if isinstance(t, ToolInfo) else ToolInfo.of(t) for t in catalog()), ""
        if not _builds_without_arguments(target):
            return None, "needs settings to list its tools"
        try:
            kit = target()
        except (TypeError, ValueError):  # optional-looking settings it still needs
            return None, "needs settings to list its tools"
        try:
            return tuple(ToolInfo.of(t) for t in kit.tools()), ""
        finally:
            close = getattr(kit, "close", None)
            if callable(close):
                close()
    except Exception as exc:
        return None, f"could not list its tools: {type(exc).__name__}: {exc}"


def _builds_without_arguments(target: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in signature.parameters.values()
    )


def _distribution(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return "unknown", ""
    return dist.metadata["Name"] or "unknown", dist.version or ""


def _summary(doc: str) -> str:
    return doc.strip().split("\n\n", 1)[0].replace("\n", " ")


def _with_note(info: ToolkitInfo, note: str) -> ToolkitInfo:
    joined = f"{info.note}; {note}" if info.note else note
    return replace(info, note=joined)


# -- listing for people ----------------------------------------------------------------


def format_listing(infos: Sequence[ToolkitInfo]) -> str:
    """A plain-text listing: each toolkit, then its tools with [writes] / [approval] flags."""
    if not infos:
        return f"No toolkits installed (entry-point group '{GROUP}')."
    lines: list[str] = []
    for info in infos:
        origin = f"{info.distribution} {info.version}".strip()
        lines.append(f"{info.name}  ({info.target}, from {origin})")
        if info.description:
            lines.append(f"    {info.description}")
        for tool in info.tools or ():
            flags = "".join(
                f" [{flag}]"
                for flag, on in (("writes", tool.writes), ("approval", tool.requires_approval))
                if on
            )
            lines.append(f"    - {tool.name}{flags}: {tool.description}")
        if info.note:
            lines.append(f"    ({info.note})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m selectools.registry [--json]`: list installed toolkits."""
    parser = argparse.ArgumentParser(
        prog="python -m selectools.registry",
        description=f"List the toolkits installed packages publish ('{GROUP}' entry points).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    options = parser.parse_args(argv)
    infos = describe_installed()
    if options.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2))
    else:
        print(format_listing(infos))
    return 0


if __name__ == "__main__":
    sys.exit(main())
