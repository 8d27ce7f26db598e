"""Tools: typed Python functions the model may call, with schemas built from their hints."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, overload

from ..context import RunContext
from ..errors import ToolArgumentError, ToolDefinitionError, refuse_class
from ..frozen import record
from ..unicode import decodes_to_lone_surrogate
from .results import format_tool_result
from .schema import describe_function
from .streaming import is_streaming_callable

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError
    from typing_extensions import ParamSpec, TypeVar

    from ..sandbox import SubprocessSandbox

    # Defaults (PEP 696): a bare `Tool` means `Tool[..., Any]`, any tool at all.
    P = ParamSpec("P", default=...)
    R = TypeVar("R", default=Any)
else:  # the defaults matter to type checkers only; typing's own need no extra import
    from typing import ParamSpec, TypeVar

    P = ParamSpec("P")
    R = TypeVar("R")


__all__ = [
    "Tool",
    "ToolInterceptor",
    "ToolSet",
    "ToolSnapshot",
    "format_tool_result",
    "intercepts_tools",
    "method_tool",
    "tool",
]


class ToolInterceptor(Protocol):
    """What a tool policy is to the calling layer: `before_tool` and/or `after_tool`.

    Both hooks are optional (looked up by name) and may be sync or `async def`;
    subclass `selectools.policies.ToolPolicy`, which documents them.
    """


def intercepts_tools(policy: object) -> bool:
    """Whether `policy` has a tool face (`before_tool` and/or `after_tool`)."""
    return hasattr(policy, "before_tool") or hasattr(policy, "after_tool")


@dataclass(frozen=True, eq=False)
class Tool(Generic[P, R]):
    """A callable the model can use: name, description, JSON Schema and the function.

    `Tool[P, R]` keeps the function's parameters and return type, so calling a
    tool directly is checked like calling the function (an `async def` tool
    returns its coroutine, as the function does). A bare `Tool` is any tool.

    Build one with `@tool`; construct directly only to wrap a callable whose
    schema is already known (it then validates only that the arguments are an
    object, and the callable checks the rest). `afunction`, when given, is the
    native async twin of a sync `function`: async runs await it, sync runs call
    `function`, and neither hops threads. `writes` marks a tool that changes
    something outside the run (a row, a record, an object): approval and audit
    policies find write tools by it. `policies` intercept this tool's calls only,
    after the agent's own.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    function: Callable[P, R]
    timeout: float | None = None
    args_model: type[BaseModel] | None = None
    context_param: str | None = None
    afunction: Callable[..., Awaitable[Any]] | None = None
    writes: bool = False
    policies: tuple[ToolInterceptor, ...] = ()
    requires_approval: bool = False
    sandbox: SubprocessSandbox | None = None
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ToolDefinitionError(
                f"Tool name {self.name!r} is invalid: use letters, digits, '_' or '-' "
                f"(what model APIs accept), e.g. 'get_order'."
            )
        object.__setattr__(self, "is_async", _is_async_callable(self.function))
        if self.sandbox is not None:
            _check_sandboxable(self)
        for policy in self.policies:  # mistakes surface here, not at the tool's first call
            refuse_class(policy, "a policy", owner=f"Tool {self.name!r}", error=ToolDefinitionError)
            if not intercepts_tools(policy):
                raise ToolDefinitionError(
                    f"Tool {self.name!r} got {policy!r:.100} as a policy; a tool's policies "
                    f"have before_tool and/or after_tool (see selectools.policies)."
                )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the underlying function directly: a decorated function stays a function."""
        return self.function(*args, **kwargs)

    @property
    def streams(self) -> bool:
        """A generator tool: what it yields is streamed as `tool_progress` events."""
        return is_streaming_callable(self.function)

    def schema(self) -> dict[str, Any]:
        """The entry for the `tools` list of an OpenAI-compatible request."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }

    def parse_arguments(self, raw: str | Mapping[str, Any]) -> dict[str, Any]:
        """Validate what the model sent; ToolArgumentError says what to fix."""
        if (
            isinstance(raw, str)
            and (not raw.isascii() or "\\u" in raw)  # the common case skips the call
            and decodes_to_lone_surrogate(raw)
        ):
            raise ToolArgumentError(
                f"Arguments for tool '{self.name}' hold a lone UTF-16 surrogate (an escape "
                f"like \\ud800 without its pair), which is not text. Send the characters "
                f"themselves, or complete pairs."
            )
        if self.args_model is not None and isinstance(raw, str) and raw.strip():
            try:  # fast path: pydantic parses and validates the JSON in one pass
                return dict(self.args_model.model_validate_json(raw).__dict__)
            except ValueError:  # pydantic's ValidationError, without importing it each call
                pass  # fall through to explain precisely what is wrong
        if isinstance(raw, Mapping):
            data: Any = dict(raw)
        else:
            text = raw.strip() if raw else ""
            if not text:
                data = {}
            else:
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ToolArgumentError(
                        f"Arguments for tool '{self.name}' are not valid JSON ({exc.msg} at "
                        f"position {exc.pos}): {_clip(text)}. Send a JSON object matching "
                        f"the tool's parameters."
                    ) from None
        if not isinstance(data, dict):
            raise ToolArgumentError(
                f"Arguments for tool '{self.name}' must be a JSON object, got "
                f"{type(data).__name__}: {_clip(json.dumps(data))}."
            )
        if self.args_model is None:
            return data
        from pydantic import ValidationError

        try:
            model = self.args_model.model_validate(data)
        except ValidationError as exc:
            raise ToolArgumentError(_describe_validation_error(self.name, exc)) from None
        return dict(model.__dict__)

    def bind(self, arguments: dict[str, Any], context: RunContext) -> dict[str, Any]:
        """Add the run context to validated arguments when the function asks for it."""
        if self.context_param is None:
            return arguments
        return {**arguments, self.context_param: context}


@overload
def tool(
    func: Callable[P, R],
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    writes: bool = False,
    policies: Iterable[ToolInterceptor] = (),
    cache_ttl: float | None = None,
    rate_limit: str | None = None,
    requires_approval: bool = False,
    sandbox: bool | SubprocessSandbox = False,
) -> Tool[P, R]: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    writes: bool = False,
    policies: Iterable[ToolInterceptor] = (),
    cache_ttl: float | None = None,
    rate_limit: str | None = None,
    requires_approval: bool = False,
    sandbox: bool | SubprocessSandbox = False,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...
def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    writes: bool = False,
    policies: Iterable[ToolInterceptor] = (),
    cache_ttl: float | None = None,
    rate_limit: str | None = None,
    requires_approval: bool = False,
    sandbox: bool | SubprocessSandbox = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a tool from a typed, documented function (sync or async).

    The schema comes from the type hints, the descriptions from the docstring
    (Google, NumPy or reST `Args:`); problems are reported now, not mid-run.
    The tool keeps the function's types (`Tool[P, R]`): type checkers and IDEs
    know its parameters and return type when it is called directly.
    `writes=True` marks a tool that changes outside state; `policies` intercept
    its calls (see `selectools.policies`). Shorthands, added after `policies`:
    `cache_ttl=60` caches a pure tool's results by arguments (`ToolCache`),
    `rate_limit="5/minute"` limits its calls (`ToolRateLimit`) in this process;
    pass the policies themselves for Redis. `requires_approval=True` makes the
    run pause before each call until a person decides (`agent.resume`).
    `sandbox=True` (or a configured `SubprocessSandbox`) runs each call in a
    fresh process with CPU, memory and wall-time limits and an empty
    environment: the function must be defined at module level, its arguments
    and result plain JSON data.
    """
    chosen_policies = (*policies, *_shorthand_policies(cache_ttl, rate_limit))
    chosen_sandbox = _sandbox_of(sandbox)

    def build(fn: Callable[..., Any]) -> Tool:
        if not callable(fn):
            raise ToolDefinitionError(f"@tool needs a function, got {type(fn).__name__}.")
        tool_name = name or str(getattr(fn, "__name__", ""))
        described = describe_function(fn, name=tool_name, description=description)
        return Tool(
            name=tool_name,
            description=described.description,
            parameters=described.parameters,
            function=fn,
            timeout=timeout,
            args_model=described.args_model,
            context_param=described.context_param,
            writes=writes,
            policies=chosen_policies,
            requires_approval=requires_approval,
            sandbox=chosen_sandbox,
        )

    return build(func) if func is not None else build


def _sandbox_of(sandbox: bool | SubprocessSandbox) -> SubprocessSandbox | None:
    if sandbox is False:
        return None
    from ..sandbox import SubprocessSandbox

    if sandbox is True:
        return SubprocessSandbox()
    if not isinstance(sandbox, SubprocessSandbox):
        raise ToolDefinitionError(
            f"@tool(sandbox=...) takes True or a SubprocessSandbox, got {type(sandbox).__name__}."
        )
    return sandbox


def _check_sandboxable(made: Tool) -> None:
    """A sandboxed function is imported by name in the child: say now if it cannot be."""
    fn = made.function
    qualname = str(getattr(fn, "__qualname__", ""))
    if made.afunction is not None or made.is_async or not qualname.isidentifier():
        raise ToolDefinitionError(
            f"Tool '{made.name}' cannot run in a sandbox: sandboxed tools must be plain sync "
            f"functions defined at module level (the child process imports them by name)."
        )
    if made.context_param is not None:
        raise ToolDefinitionError(
            f"Tool '{made.name}' cannot run in a sandbox with a RunContext parameter: the "
            f"child process gets only the model's arguments. Drop the context parameter."
        )


def _shorthand_policies(
    cache_ttl: float | None, rate_limit: str | None
) -> tuple[ToolInterceptor, ...]:
    made: list[ToolInterceptor] = []
    if cache_ttl is not None:  # first: a cached answer does not count against the limit
        from ..policies.tool_cache import ToolCache

        made.append(ToolCache(cache_ttl))
    if rate_limit is not None:
        from ..policies.ratelimit import ToolRateLimit

        made.append(ToolRateLimit(rate_limit))
    return tuple(made)


def method_tool(
    method: Callable[P, R],
    *,
    prefix: str = "",
    choices: Mapping[str, Sequence[str]] | None = None,
    hidden: Collection[str] = (),
    writes: bool = False,
    requires_approval: bool = False,
) -> Tool[P, R]:
    """A toolkit's bound method as a tool, its schema narrowed to what the toolkit allows.

    `prefix` goes before the method's name (several toolkits in one agent),
    `choices` lists the allowed values of a parameter (an `enum` in the schema),
    and `hidden` parameters are left out of the schema (the toolkit fills them).
    The toolkit still checks the values itself; this tells the model up front.
    `writes=True` marks the toolkit's write tools (see `Tool.writes`);
    `requires_approval=True` makes a call wait for a person's decision.
    """
    made = tool(
        name=f"{prefix}{getattr(method, '__name__', '')}",
        writes=writes,
        requires_approval=requires_approval,
    )(method)
    if not choices and not hidden:
        return made
    properties = {
        name: {**schema, "enum": list(choices[name])} if choices and name in choices else schema
        for name, schema in made.parameters["properties"].items()
        if name not in hidden
    }
    parameters = {**made.parameters, "properties": properties}
    if "required" in parameters:
        parameters["required"] = [n for n in parameters["required"] if n not in hidden]
    return dataclasses.replace(made, parameters=parameters)


class ToolSet(Mapping[str, Tool]):
    """The tools of one agent, by name; duplicate names are refused.

    Tools may be added, replaced or removed while the agent serves, from any
    thread: the next run sees the change, and a run already going keeps the
    set it started with (`snapshot()`). `change()` applies several at once.
    """

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._snapshot: ToolSnapshot | None = None
        self._lock = threading.Lock()
        for item in tools:
            self.add(item)

    def add(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (a plain typed function is wrapped with `@tool`); names must be new."""
        made = item if isinstance(item, Tool) else tool(item)
        with self._lock:
            if made.name in self._tools:
                raise ToolDefinitionError(
                    f"Two tools are named '{made.name}' ({self._tools[made.name].function!r} and "
                    f"{made.function!r}). Rename one with @tool(name=...), or use replace()."
                )
            self._set({**self._tools, made.name: made})
        return made

    def replace(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool, or swap the one of the same name."""
        made = item if isinstance(item, Tool) else tool(item)
        self.change(replace=[made])
        return made

    def remove(self, name: str) -> Tool:
        """Take a tool away; KeyError names the tools there are."""
        with self._lock:
            if name not in self._tools:
                raise KeyError(f"No tool named {name!r}; the tools are: {', '.join(self._tools)}.")
            tools = dict(self._tools)
            removed = tools.pop(name)
            self._set(tools)
        return removed

    def change(
        self, *, replace: Iterable[Tool | Callable[..., Any]] = (), remove: Iterable[str] = ()
    ) -> None:
        """Add or swap `replace` and drop the names in `remove`, as one change.

        A run starting meanwhile sees the set from before or after, never half
        of it (a reload swapping a file's tools, say). Unknown names in
        `remove` are ignored.
        """
        made = [item if isinstance(item, Tool) else tool(item) for item in replace]
        with self._lock:
            tools = {k: v for k, v in self._tools.items() if k not in set(remove)}
            tools.update((t.name, t) for t in made)
            self._set(tools)

    def _set(self, tools: dict[str, Tool]) -> None:
        self._tools = tools
        self._snapshot = None

    def snapshot(self) -> ToolSnapshot:
        """The tools and their schemas as they are now, built once per change."""
        current = self._snapshot
        tools = self._tools  # replaced (never mutated) on each change: identity says fresh
        if current is None or current.tools is not tools:
            current = ToolSnapshot(tools, tuple(t.schema() for t in tools.values()))
            self._snapshot = current
        return current

    def schemas(self) -> list[dict[str, Any]]:
        return list(self.snapshot().schemas)

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)


@record
class ToolSnapshot:
    """An agent's tools at one moment: what a run offers the model and may call."""

    tools: Mapping[str, Tool]
    schemas: tuple[dict[str, Any], ...]


def _is_async_callable(func: Callable[..., Any]) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - async callable objects
    )


def _describe_validation_error(tool_name: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "(arguments)"
        kind = err["type"]
        if kind == "missing":
            problems.append(f"'{where}' is required but was not sent")
        elif kind == "extra_forbidden":
            problems.append(f"'{where}' is not a parameter of this tool")
        else:
            got = err.get("input")
            problems.append(
                f"'{where}': {err['msg']}, got {_clip(repr(got))} ({type(got).__name__})"
            )
    return (
        f"Invalid arguments for tool '{tool_name}': "
        + "; ".join(problems)
        + ". Fix the arguments and call the tool again."
    )


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
