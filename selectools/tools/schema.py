"""JSON Schema from a typed signature: a pydantic model for validation, a flat schema for models.

Public so adapters and plugins describe functions exactly as `@tool` does.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from ..context import RunContext
from ..errors import ToolDefinitionError
from ..frozen import record

if typing.TYPE_CHECKING:
    from pydantic import BaseModel


@record
class FunctionSchema:
    """What `describe_function` finds: the description and JSON Schema the model reads, the
    pydantic model that validates arguments, and the parameter that takes the run context."""

    description: str
    parameters: dict[str, Any]
    args_model: type[BaseModel]
    context_param: str | None


def describe_function(
    func: Callable[..., Any], *, name: str, description: str | None
) -> FunctionSchema:
    """Build the schema of `func`, raising ToolDefinitionError with the fix when it can't."""
    from pydantic import ConfigDict, Field, TypeAdapter, create_model
    from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

    where = f"Tool '{name}' (function {func.__qualname__})"
    summary, param_docs = _parse_docstring(func)
    description = description if description is not None else summary
    if not description or not description.strip():
        raise ToolDefinitionError(
            f"{where} has no description. Add a docstring saying what it does, "
            f"or pass @tool(description=...)."
        )
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # unresolved forward references and the like
        raise ToolDefinitionError(
            f"{where}: its type hints cannot be resolved ({exc}). "
            f"Import every type the signature names at module level."
        ) from None

    fields: dict[str, Any] = {}
    context_param: str | None = None
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise ToolDefinitionError(
                f"{where}: parameter '{star}{param.name}' cannot be described to a model. "
                f"Replace it with named, typed parameters."
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise ToolDefinitionError(
                f"{where}: parameter '{param.name}' is positional-only; models pass "
                f"arguments by name. Remove the '/' from the signature."
            )
        if param.name not in hints:
            raise ToolDefinitionError(
                f"{where}: parameter '{param.name}' has no type hint. "
                f"Annotate it, e.g. '{param.name}: str'."
            )
        annotation = hints[param.name]
        if annotation is RunContext:
            context_param = param.name
            continue
        try:
            TypeAdapter(annotation).json_schema()
        except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
            raise ToolDefinitionError(
                f"{where}: parameter '{param.name}' has type {_type_name(annotation)}, "
                f"which has no JSON Schema. Use str, int, float, bool, Literal, Enum, "
                f"list, dict, Optional or a pydantic model. ({type(exc).__name__})"
            ) from None
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, Field(default, description=param_docs.get(param.name)))

    args_model = create_model(
        f"{name}_arguments",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
        **fields,
    )
    return FunctionSchema(
        description=description.strip(),
        parameters=clean_schema(args_model.model_json_schema()),
        args_model=args_model,
        context_param=context_param,
    )


def _parse_docstring(func: Callable[..., Any]) -> tuple[str | None, dict[str, str]]:
    doc = inspect.getdoc(func)
    if not doc:
        return None, {}
    import docstring_parser

    parsed = docstring_parser.parse(doc)
    parts = [p for p in (parsed.short_description, parsed.long_description) if p]
    params = {p.arg_name: p.description for p in parsed.params if p.description}
    return "\n\n".join(parts) or None, params


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline `$ref`s and drop pydantic's titles: local models handle flat schemas best."""
    defs = schema.pop("$defs", {})

    def visit(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [visit(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            key = ref.removeprefix("#/$defs/")
            if key in seen:  # recursive model: keep the reference and its definition
                keep_defs[key] = defs[key]
                return node
            merged = {**defs[key], **{k: v for k, v in node.items() if k != "$ref"}}
            return visit(merged, seen | {key})
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: visit(sub, seen) for name, sub in value.items()}
            else:
                out[key] = visit(value, seen)
        return out

    keep_defs: dict[str, Any] = {}
    cleaned: dict[str, Any] = visit(schema, frozenset())
    if keep_defs:
        cleaned["$defs"] = {k: visit(v, frozenset({k})) for k, v in keep_defs.items()}
    cleaned.setdefault("properties", {})
    return cleaned
