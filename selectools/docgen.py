"""Documentation from tool definitions: Markdown and JSON describing every tool.

For each tool: name, description, parameters (type, required, default,
description, constraints such as enum, minimum or pattern), whether it writes
and whether it needs approval, and the examples of its docstring. The source
is what the model sees (the tool's JSON Schema), so the docs cannot drift from
the tools.

    python -m selectools.docgen module:agent -o tools.md [--json]
    selectools docs module:agent -o tools.md [--json]

The target may name an Agent, a Toolkit, a Tool, a list of them, a function
returning one, or a module (every tool defined in it).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .tools.tool import Tool
from .tools.toolkit import Toolkit

__all__ = ["collect_tools", "describe_tool", "load_tools_from", "main", "to_json", "to_markdown"]

CONSTRAINTS = (
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
)


def describe_tool(tool: Tool) -> dict[str, Any]:
    """One tool as plain data (what the JSON output holds for it)."""
    schema = dict(tool.parameters)
    required = set(schema.get("required", ()))
    definitions = schema.get("$defs", {})
    parameters = [
        _parameter(name, spec, name in required, definitions)
        for name, spec in dict(schema.get("properties", {})).items()
    ]
    return {
        "name": tool.name,
        "description": tool.description,
        "parameters": parameters,
        "writes": bool(tool.writes),
        "requires_approval": bool(getattr(tool, "requires_approval", False)),
        "is_async": bool(tool.is_async),
        "streams": bool(tool.streams),
        "timeout": tool.timeout,
        "examples": _examples(tool),
    }


def _parameter(
    name: str, spec: Mapping[str, Any], required: bool, definitions: Mapping[str, Any]
) -> dict[str, Any]:
    spec = _deref(spec, definitions)
    entry: dict[str, Any] = {
        "name": name,
        "type": _type(spec, definitions),
        "required": required,
        "description": spec.get("description", ""),
    }
    if "default" in spec:
        entry["default"] = spec["default"]
    constraints = {key: spec[key] for key in CONSTRAINTS if key in spec}
    for option in spec.get("anyOf", ()):  # Optional[int] with bounds keeps them in the branch
        option = _deref(option, definitions)
        constraints.update(
            {k: option[k] for k in CONSTRAINTS if k in option and k not in constraints}
        )
    if constraints:
        entry["constraints"] = constraints
    return entry


def _deref(spec: Mapping[str, Any], definitions: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = definitions.get(ref.removeprefix("#/$defs/"), {})
        return {**target, **{k: v for k, v in spec.items() if k != "$ref"}}
    return spec


def _type(spec: Mapping[str, Any], definitions: Mapping[str, Any]) -> str:
    spec = _deref(spec, definitions)
    if "anyOf" in spec:
        return " | ".join(_type(option, definitions) for option in spec["anyOf"])
    kind = spec.get("type")
    if kind == "array":
        return f"array[{_type(spec.get('items', {}), definitions)}]"
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind is None and "enum" in spec:
        return "enum"
    if kind == "object" and spec.get("title"):
        return f"object ({spec['title']})"
    return str(kind or "any")


def _examples(tool: Tool) -> list[str]:
    """The Examples section of the function's docstring, or its `>>>` lines."""
    doc = inspect.getdoc(tool.function) or ""
    if not doc:
        return []
    from docstring_parser import parse

    found = [
        "\n".join(part for part in (example.description, example.snippet) if part)
        for example in parse(doc).examples
    ]
    if found:
        return [text.strip() for text in found if text.strip()]
    lines = doc.splitlines()
    examples: list[str] = []
    for index, line in enumerate(lines):
        if line.strip().startswith(">>>") and (
            index == 0 or not lines[index - 1].strip().startswith(">>>")
        ):
            block = []
            for follow in lines[index:]:
                if not follow.strip():
                    break
                block.append(follow.strip())
            examples.append("\n".join(block))
    return examples


def collect_tools(obj: Any) -> list[Tool]:
    """The tools of an Agent, Toolkit, Tool, module or iterable of these (sorted by name)."""
    from .agent import Agent

    found: dict[str, Tool] = {}

    def add(item: Any) -> None:
        if isinstance(item, Tool):
            found[item.name] = item
        elif isinstance(item, Agent):
            for tool in item.tools.snapshot().tools.values():
                add(tool)
        elif isinstance(item, Toolkit):
            for tool in item.tools():
                add(tool)
        elif inspect.ismodule(item):
            for value in vars(item).values():
                if isinstance(value, Tool | Agent) or (
                    isinstance(value, Toolkit) and not inspect.isclass(value)
                ):
                    add(value)
        elif isinstance(item, Iterable) and not isinstance(item, str | bytes | Mapping):
            for each in item:
                add(each)
        else:
            raise TypeError(
                f"Cannot find tools in a {type(item).__name__}: give an Agent, a Toolkit, "
                f"a Tool, a module or a list of them."
            )

    add(obj)
    return [found[name] for name in sorted(found)]


def load_tools_from(target: str) -> list[Tool]:
    """`module:name`, `path/file.py:name` or a module: the tools found there."""
    from .agent import Agent
    from .cli.target import TargetError, _import

    source, _, name = target.rpartition(":") if ":" in target else (target, "", "")
    module = _import(source, target)
    found: Any = module
    for part in name.split(".") if name else ():
        if not hasattr(found, part):
            raise TargetError(f"{module.__name__} has no {name!r} (from {target!r}).")
        found = getattr(found, part)
    if callable(found) and not isinstance(found, Tool | Agent):  # a factory or toolkit class
        found = found()
    return collect_tools(found)


def to_json(tools: Sequence[Tool]) -> str:
    return (
        json.dumps([describe_tool(t) for t in tools], indent=2, ensure_ascii=False, default=str)
        + "\n"
    )


def to_markdown(tools: Sequence[Tool], *, title: str = "Tools") -> str:
    """A Markdown page: a summary table, then a section per tool."""
    docs = [describe_tool(t) for t in tools]
    out = [f"# {title}", "", f"{len(docs)} tool(s).", ""]
    out += ["| tool | description | writes | approval |", "|---|---|---|---|"]
    for doc in docs:
        summary = _cell(doc["description"].splitlines()[0] if doc["description"] else "")
        writes = "yes" if doc["writes"] else ""
        approval = "yes" if doc["requires_approval"] else ""
        out.append(
            f"| [`{doc['name']}`](#{doc['name'].lower()}) | {summary} | {writes} | {approval} |"
        )
    for doc in docs:
        out += ["", f"## {doc['name']}", "", doc["description"] or "_No description._", ""]
        flags = [
            label
            for label, on in (
                ("writes: changes something outside the run", doc["writes"]),
                ("needs approval before it runs", doc["requires_approval"]),
                ("streams progress", doc["streams"]),
            )
            if on
        ]
        if doc["timeout"] is not None:
            flags.append(f"timeout: {doc['timeout']:g} s")
        if flags:
            out += [f"- {flag}" for flag in flags] + [""]
        if doc["parameters"]:
            out += ["| parameter | type | required | default | constraints | description |"]
            out += ["|---|---|---|---|---|---|"]
            for p in doc["parameters"]:
                default = f"`{json.dumps(p['default'])}`" if "default" in p else ""
                constraints = ", ".join(
                    f"{k}: `{json.dumps(v)}`" for k, v in p.get("constraints", {}).items()
                )
                out.append(
                    f"| `{p['name']}` | {_cell(p['type'])} | {'yes' if p['required'] else 'no'} "
                    f"| {default} | {constraints} | {_cell(p['description'])} |"
                )
        else:
            out.append("No parameters.")
        for example in doc["examples"]:
            out += ["", "Example:", "", "```python", example, "```"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m selectools.docgen",
        description="Markdown (or JSON) describing every tool of an agent, toolkit or module.",
    )
    parser.add_argument("target", help="module:agent, path/file.py:tools, or a module")
    parser.add_argument("-o", "--output", help="write here instead of printing")
    parser.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    parser.add_argument("--title", default="Tools", help="the Markdown page title")
    args = parser.parse_args(argv)
    try:
        tools = load_tools_from(args.target)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = to_json(tools) if args.json else to_markdown(tools, title=args.title)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
