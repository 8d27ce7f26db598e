"""One tool from a pipeline of tools: the output of each step feeds the next.

    weather = compose(geocode, forecast, description="Weather for a city.")

    @compose(fetch_page, step(extract_text, into="html"))
    def summarize(text: str) -> str:
        '''Summarize a web page.'''

The composed tool takes the first step's arguments (its schema is the first
step's) and returns the last step's result. Between two steps, the output
goes to the next step by the first rule that applies:

1. `step(tool, into="param")`: the whole output goes to that parameter;
2. the output is a record (a pydantic model, a dataclass, a TypedDict) whose
   fields, renamed by `step(tool, fields={"field": "param"})`, cover the next
   step's required parameters: each field goes to the parameter of its name;
3. the next step has exactly one required parameter: the whole output goes there.

`step(tool, fixed={"param": value})` sets parameters the pipeline does not
feed. Everything is checked when the pipeline is built: a parameter left
unfed, a step without a return type, or an output whose type does not fit the
parameter it feeds raises `ToolDefinitionError` naming both steps. At run
time each step's arguments are validated as if the model had sent them.

The composed tool is marked `writes` when any step writes, needs approval when
any step needs it (one decision covers the whole pipeline), and runs each
sandboxed step in that step's sandbox. The steps' own policies and timeouts do
not run inside it: put policies and a timeout on the composed tool
(`compose(..., timeout=...)`). A generator step's result is its
final result (see `selectools.tools.streaming`); its chunks are not streamed.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import itertools
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, Union, get_args, get_origin, overload

from ..bridge import run_coroutine_sync, run_in_thread
from ..errors import ToolDefinitionError
from .streaming import drain_async, drain_sync
from .tool import Tool, ToolInterceptor, tool

__all__ = ["ComposedTool", "Step", "compose", "step"]

_CONTEXT = "_selectools_run_context"


@dataclass(frozen=True)
class Step:
    """A pipeline step: a tool and how the previous output reaches it."""

    tool: Tool
    into: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)


def step(
    item: Tool | Callable[..., Any],
    *,
    into: str | None = None,
    fields: Mapping[str, str] | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> Step:
    """Say how the previous step's output feeds this one (see the module docs)."""
    made = item if isinstance(item, Tool) else tool(item)
    return Step(made, into, dict(fields or {}), dict(fixed or {}))


StepLike: TypeAlias = "Tool | Step | Callable[..., Any]"


@dataclass(frozen=True, eq=False)
class ComposedTool(Tool):
    """A pipeline as one tool; also a decorator that appends one more step.

    `@compose(a, b)` over a function makes it the last step, named and
    described by it. Calling a composed tool with keyword arguments runs it.
    """

    steps: tuple[Step, ...] = ()
    result_type: Any = Any

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], Tool):
            final = tool(args[0])
            return _build(
                [*self.steps, final],
                name=final.name,
                description=final.description,
                timeout=self.timeout,
                policies=self.policies,
            )
        return self.function(*args, **kwargs)


@overload
def compose(
    first: StepLike,
    /,
    *,
    timeout: float | None = None,
    policies: Iterable[ToolInterceptor] = (),
) -> Callable[[Callable[..., Any]], ComposedTool]: ...
@overload
def compose(
    first: StepLike,
    second: StepLike,
    /,
    *rest: StepLike,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    policies: Iterable[ToolInterceptor] = (),
) -> ComposedTool: ...
def compose(
    *steps: StepLike,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    policies: Iterable[ToolInterceptor] = (),
) -> ComposedTool | Callable[[Callable[..., Any]], ComposedTool]:
    """Build one tool from a pipeline of tools; checked now, not when the model calls it.

    `compose(a, b, ...)` is the tool. As a decorator, `@compose(a, ...)` over
    a function makes that function the last step and gives the tool its name
    and description (its docstring should describe the whole pipeline).
    """
    chosen_policies = tuple(policies)
    if not steps:
        raise ToolDefinitionError("compose() needs tools: the output of one feeds the next.")
    if len(steps) == 1:

        def decorate(fn: Callable[..., Any]) -> ComposedTool:
            final = tool(fn)
            return _build(
                [steps[0], final],
                name=name or final.name,
                description=description or final.description,
                timeout=timeout,
                policies=chosen_policies,
            )

        return decorate
    return _build(
        list(steps), name=name, description=description, timeout=timeout, policies=chosen_policies
    )


def _build(
    items: list[StepLike],
    *,
    name: str | None,
    description: str | None,
    timeout: float | None,
    policies: tuple[ToolInterceptor, ...],
) -> ComposedTool:
    pipeline = [item if isinstance(item, Step) else step(item) for item in items]
    first = pipeline[0]
    if first.into is not None or first.fields:
        raise ToolDefinitionError(
            f"The first step '{first.tool.name}' receives the model's arguments; "
            f"'into' and 'fields' only apply to later steps."
        )
    feeds = [_plan(before, after) for before, after in itertools.pairwise(pipeline)]
    chosen_name = name or "_then_".join(s.tool.name for s in pipeline)
    chosen_description = description or " Then: ".join(
        f"{s.tool.name}: {s.tool.description}" for s in pipeline
    )

    def run_sync(**arguments: Any) -> Any:
        context = arguments.pop(_CONTEXT, None)
        value = _call_sync(first, arguments, context)
        for feed, current in zip(feeds, pipeline[1:], strict=True):
            value = _call_sync(current, feed(value), context)
        return value

    async def run_async(**arguments: Any) -> Any:
        context = arguments.pop(_CONTEXT, None)
        value = await _call_async(first, arguments, context)
        for feed, current in zip(feeds, pipeline[1:], strict=True):
            value = await _call_async(current, feed(value), context)
        return value

    run_sync.__name__ = run_async.__name__ = chosen_name
    return ComposedTool(
        name=chosen_name,
        description=chosen_description,
        parameters=first.tool.parameters,
        function=run_sync,
        timeout=timeout,
        args_model=first.tool.args_model,
        context_param=_CONTEXT,
        afunction=run_async,
        writes=any(s.tool.writes for s in pipeline),
        requires_approval=any(s.tool.requires_approval for s in pipeline),
        policies=policies,
        steps=tuple(pipeline),
        result_type=_result_type(pipeline[-1].tool),
    )


# -- running a step ------------------------------------------------------------------


def _arguments(current: Step, given: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Validated as if the model had sent them, plus fixed values and the run context."""
    tool_ = current.tool
    arguments = tool_.parse_arguments({**current.fixed, **given})
    if tool_.context_param is not None:
        arguments[tool_.context_param] = context
    return arguments


def _call_sync(current: Step, given: Mapping[str, Any], context: Any) -> Any:
    tool_ = current.tool
    arguments = _arguments(current, given, context)
    if tool_.sandbox is not None:  # a step keeps its isolation inside a pipeline
        from .sandboxed import run_sandboxed_sync

        return run_sandboxed_sync(tool_, arguments)
    if tool_.is_async:
        value = run_coroutine_sync(tool_.function(**arguments))
    else:
        value = tool_.function(**arguments)
    if inspect.isgenerator(value):
        return drain_sync(value, None)
    if inspect.isasyncgen(value):
        return run_coroutine_sync(drain_async(value, None))
    return value


async def _call_async(current: Step, given: Mapping[str, Any], context: Any) -> Any:
    tool_ = current.tool
    arguments = _arguments(current, given, context)
    if tool_.sandbox is not None:
        from .sandboxed import run_sandboxed

        return await run_sandboxed(tool_, arguments)
    if tool_.afunction is not None:
        value = await tool_.afunction(**arguments)
    elif tool_.is_async:
        value = await tool_.function(**arguments)
    elif inspect.isasyncgenfunction(tool_.function):
        value = tool_.function(**arguments)
    else:  # never block the event loop with a sync step
        value = await run_in_thread(_call_plain, tool_.function, arguments)
    if inspect.isasyncgen(value):
        return await drain_async(value, None)
    return value


def _call_plain(function: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    value = function(**arguments)
    return drain_sync(value, None) if inspect.isgenerator(value) else value


# -- planning: which output goes where, checked at definition time ----------------------


Feed = Callable[[Any], dict[str, Any]]


def _plan(before: Step, after: Step) -> Feed:
    out_type = _result_type(before.tool)
    params = _parameters(after.tool)
    where = f"compose: '{before.tool.name}' -> '{after.tool.name}'"
    for fixed in after.fixed:
        if fixed not in params:
            raise ToolDefinitionError(
                f"{where}: 'fixed' names '{fixed}', which is not a parameter of it."
            )
    open_params = {n: p for n, p in params.items() if n not in after.fixed}
    required = [n for n, (_, needed) in open_params.items() if needed]

    if after.into is not None:
        if after.into not in open_params:
            raise ToolDefinitionError(
                f"{where}: into={after.into!r} is not a parameter of '{after.tool.name}' "
                f"(its parameters: {', '.join(open_params) or 'none'})."
            )
        _check_fits(where, out_type, after.into, open_params[after.into][0])
        _check_covered(where, required, {after.into})
        target = after.into
        return lambda value: {target: value}

    record = _record_fields(out_type)
    if record is not None:
        renamed = {after.fields.get(k, k): (k, t) for k, t in record.items()}
        for source in after.fields:
            if source not in record:
                raise ToolDefinitionError(
                    f"{where}: 'fields' names '{source}', which the output of "
                    f"'{before.tool.name}' does not have (it has: {', '.join(record)})."
                )
        if all(n in renamed for n in required) and any(n in renamed for n in open_params):
            pairs = {n: renamed[n][0] for n in open_params if n in renamed}
            for param, source in pairs.items():
                _check_fits(f"{where} (field '{source}')", record[source], param, params[param][0])
            return lambda value: {param: _field(value, src) for param, src in pairs.items()}

    if len(required) == 1 or (not required and len(open_params) == 1):
        target = required[0] if required else next(iter(open_params))
        _check_fits(where, out_type, target, open_params[target][0])
        return lambda value: {target: value}
    raise ToolDefinitionError(
        f"{where}: cannot tell where the output goes; '{after.tool.name}' needs "
        f"{', '.join(required) or 'no parameters'}. Use step({after.tool.name}, into='param'), "
        f"step(..., fields={{'output_field': 'param'}}) or step(..., fixed={{...}})."
    )


def _check_covered(where: str, required: list[str], fed: set[str]) -> None:
    missing = [n for n in required if n not in fed]
    if missing:
        raise ToolDefinitionError(
            f"{where}: required parameters {', '.join(missing)} are not fed by the pipeline. "
            f"Give them with step(..., fixed={{...}}) or default values."
        )


def _check_fits(where: str, source: Any, param: str, target: Any) -> None:
    if not _fits(source, target):
        raise ToolDefinitionError(
            f"{where}: the output is {_show(source)}, but parameter '{param}' takes "
            f"{_show(target)}. Convert in between with another step, or fix the type hints."
        )


def _parameters(tool_: Tool) -> dict[str, tuple[Any, bool]]:
    """Each parameter's type and whether it is required (Any when the tool has no model)."""
    if tool_.args_model is not None:
        return {
            n: (f.annotation if f.annotation is not None else Any, f.is_required())
            for n, f in tool_.args_model.model_fields.items()
        }
    required = set(tool_.parameters.get("required", ()))
    return {n: (Any, n in required) for n in tool_.parameters.get("properties", {})}


def _result_type(tool_: Tool) -> Any:
    """What a step returns, as the next step receives it (a generator's final result)."""
    if isinstance(tool_, ComposedTool):
        return tool_.result_type
    if tool_.args_model is None:  # built from a schema alone (MCP, LangChain): unknown
        return Any
    try:
        hints = typing.get_type_hints(tool_.function)
    except Exception:
        return Any
    if "return" not in hints:
        raise ToolDefinitionError(
            f"compose: '{tool_.name}' has no return type. Annotate it (e.g. '-> dict[str, int]') "
            f"so the pipeline can check what it feeds to the next step."
        )
    result = hints["return"]
    if get_origin(result) not in _GENERATORS:
        return result
    args = get_args(result)
    chunk = args[0] if args else Any
    returned = args[2] if len(args) == 3 else None
    if returned not in (None, type(None)):
        return Union[returned, str] if chunk is str else Any  # noqa: UP007 - built at run time
    return str if chunk is str else list[chunk]  # type: ignore[valid-type]


_GENERATORS = (
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.Generator,
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncGenerator,
)


def _record_fields(kind: Any) -> dict[str, Any] | None:
    """The fields of a record type (pydantic model, dataclass, TypedDict), else None."""
    if not isinstance(kind, type):
        return None
    model_fields = getattr(kind, "model_fields", None)
    if isinstance(model_fields, dict):
        return {n: f.annotation for n, f in model_fields.items()}
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(kind)}
    if typing.is_typeddict(kind):
        return dict(typing.get_type_hints(kind))
    return None


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value[name]
    return getattr(value, name)


def _fits(source: Any, target: Any) -> bool:
    """Can a value of type `source` be passed where `target` is expected? Unsure means yes."""
    if source is Any or target is Any or target is object:
        return True
    if get_origin(source) is typing.Annotated:
        return _fits(get_args(source)[0], target)
    if get_origin(target) is typing.Annotated:
        return _fits(source, get_args(target)[0])
    if _is_union(source):
        return all(_fits(member, target) for member in get_args(source))
    if get_origin(source) is Literal:
        if get_origin(target) is Literal:
            return set(get_args(source)) <= set(get_args(target))
        return all(_fits(type(v), target) for v in get_args(source))
    if _is_union(target):
        return any(_fits(source, member) for member in get_args(target))
    if get_origin(target) is Literal:
        return False
    if source is None or source is type(None):
        return target is None or target is type(None)
    source_base, target_base = get_origin(source) or source, get_origin(target) or target
    if not (isinstance(source_base, type) and isinstance(target_base, type)):
        return True  # TypeVars, forward references: not ours to refuse
    if source_base is int and target_base is float:
        return True
    if not issubclass(source_base, target_base):
        return False
    source_args, target_args = get_args(source), get_args(target)
    if not source_args or not target_args or len(source_args) != len(target_args):
        return True
    return all(_fits(s, t) for s, t in zip(source_args, target_args, strict=True))


def _is_union(kind: Any) -> bool:
    return get_origin(kind) in (Union, types.UnionType)


def _show(kind: Any) -> str:
    if isinstance(kind, type) and not get_args(kind):
        return kind.__name__
    return repr(kind).replace("typing.", "")
