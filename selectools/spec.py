"""Agent specs: an agent described in a YAML or TOML file, loaded with `Agent.from_spec(path)`.

A spec names everything and holds no secrets: tools are `module:name`
references (a tool, a typed function, a toolkit, or a list of them) or
toolkits published under the `selectools.toolkits` entry point; the provider
is chosen by name (`openai`, `anthropic`, `bedrock`) and reads its key from the
environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, the AWS credential chain).
Any key that looks like a credential (`api_key`, `token`, `password`, ...) is
refused, so a spec can be committed and shared.

    name: shop-helper
    system_prompt: You answer questions about orders.
    provider: {name: openai, model: gpt-4o-mini}
    tools:
      - examples.demo_shop:get_order
      - toolkit: toolbox
    limits: {max_iterations: 6, run_timeout: 60}
    policies: {retry: {attempts: 3}, rate_limit: "30/minute"}

The builder page exports specs in this shape, and `AgentSpec.to_python()`
writes the equivalent Python code.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib
import importlib.util
import inspect
import json
import keyword
import math
import os
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import SelectoolsError

__all__ = [
    "PROVIDERS",
    "AgentSpec",
    "Limits",
    "OneProvider",
    "Policies",
    "ProviderSpec",
    "SpecError",
    "ToolRef",
    "load_spec",
    "with_approval",
]

# Providers a spec names (others through `factory: module:name`): the class `selectools`
# exports, where its credentials come from, and whether it takes a `base_url`.
_NAMED_PROVIDERS = {
    "openai": ("OpenAIProvider", "OPENAI_API_KEY", True),
    "anthropic": ("AnthropicProvider", "ANTHROPIC_API_KEY", True),
    "bedrock": ("BedrockProvider", "the AWS credential chain (AWS_PROFILE, ...)", False),
}
PROVIDERS = tuple(_NAMED_PROVIDERS)
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_REFERENCE = re.compile(rf"^{_DOTTED}:{_DOTTED}$")  # what `from module import name` takes
_SECRET = re.compile(
    r"(api[_-]?key|secret|token|password|passwd|credential|authorization|cookie"
    r"|session[_-]?id|private[_-]?key|bearer)",
    re.IGNORECASE,
)
_NOT_SECRETS = frozenset({"max_tokens"})  # the spec's own fields that match the pattern


def _importable(reference: str) -> str:
    """A `module:name` whose parts are names, not keywords (the export imports it)."""
    if any(keyword.iskeyword(part) for part in reference.replace(":", ".").split(".")):
        raise ValueError(f"{reference!r} is not an importable module:name")
    return reference


# A `module:name` the Python export can import: dotted names, no keywords.
_Reference = Annotated[str, Field(pattern=_REFERENCE.pattern), AfterValidator(_importable)]


class SpecError(SelectoolsError, ValueError):
    """A spec that cannot become an agent; the message names the key and the fix."""

    http_status = 422
    error_type = "invalid_spec"


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", allow_inf_nan=False)


class OneProvider(_Strict):
    """One model: a provider by name, or your own factory `module:name`."""

    name: Literal["openai", "anthropic", "bedrock"] = "openai"
    model: str | None = None
    base_url: str | None = Field(
        default=None, description="The openai or anthropic API at another address."
    )
    factory: _Reference | None = Field(default=None, description="`module:callable` -> Provider.")

    @model_validator(mode="after")
    def _base_url_is_for_a_provider_by_name(self) -> Self:
        if self.factory is not None and self.base_url is not None:
            raise ValueError(
                "base_url is for a provider by name; a factory builds its own "
                "provider, so give it the URL there (or drop factory)"
            )
        if self.base_url is not None and not _NAMED_PROVIDERS[self.name][2]:
            raise ValueError(
                f"base_url is for openai and anthropic; {self.name} finds its endpoint "
                f"in the AWS configuration"
            )
        return self


class ProviderSpec(OneProvider):
    """Which model answers, and `fallbacks` to ask in order when it is unavailable
    (`FallbackProvider`: rate limited, down, timed out; not on bad requests)."""

    fallbacks: list[OneProvider] = Field(default_factory=list, max_length=4)

    def members(self) -> list[OneProvider]:
        """The primary, then each fallback."""
        return [self, *self.fallbacks]


class ToolRef(_Strict):
    """One entry of `tools`: a `module:name` reference or an installed toolkit by name."""

    ref: _Reference | None = None
    toolkit: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    only: list[str] | None = Field(default=None, description="Keep only these tools.")

    @field_validator("settings")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        _refuse_secrets(value, "tools[].settings")
        for key in value:  # constructor keywords; the Python export writes them as code
            if not key.isidentifier() or keyword.iskeyword(key):
                raise ValueError(f"setting {key!r} is not a keyword argument name")
        _plain(value, "settings")
        return value


class Limits(_Strict):
    """The agent's `AgentConfig`: iterations, timeouts and model settings."""

    max_iterations: int = Field(default=10, ge=1, le=100)
    run_timeout: float | None = Field(default=None, gt=0)
    tool_timeout: float | None = Field(default=None, gt=0)
    parallel_tool_calls: bool = True
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)


class RetrySpec(_Strict):
    attempts: int = Field(default=3, ge=1, le=10)
    max_time: float = Field(default=120.0, gt=0)


class BreakerSpec(_Strict):
    """`CircuitBreaker`: skip the provider after `failures` failures in a row, `reset_after` s."""

    failures: int = Field(default=5, ge=1, le=100)
    reset_after: float = Field(default=30.0, gt=0, le=86_400)


class CacheSpec(_Strict):
    """`ResponseCache` in this process: the same request gets the stored answer for `ttl` s."""

    ttl: float = Field(default=3600.0, gt=0, description="Seconds an answer is kept.")
    max_entries: int = Field(default=1024, ge=1, le=1_000_000)
    shared: bool = Field(
        default=False,
        description="Share answers between identities (only when no answer depends on who asks).",
    )


class Policies(_Strict):
    """Policies a spec can switch on; each maps to one class in `selectools.policies`.

    In the agent they run in this order, the first outermost: `cache` (a cached
    answer costs nothing below it), `circuit_breaker`, `retry`, `rate_limit`.
    Their state stays in the process; for many workers, build them in Python
    with `storage="redis://..."`.
    """

    cache: CacheSpec | None = None
    circuit_breaker: BreakerSpec | None = None
    retry: RetrySpec | None = None
    rate_limit: str | None = Field(
        default=None, description='Model calls per period, e.g. "30/minute" (RateLimiter).'
    )

    @field_validator("rate_limit")
    @classmethod
    def _a_rate(cls, value: str | None) -> str | None:
        if value is None or importlib.util.find_spec("limits") is None:
            return value  # without `limits`, building the RateLimiter names the extra
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as '30/minute'") from None
        return value

    approval: list[str] = Field(
        default_factory=list,
        description="Tools that need a person's approval before they run (when the "
        "approval policy is installed; otherwise loading fails with a clear error).",
    )


class AgentSpec(_Strict):
    """An agent as data: what the builder exports and `Agent.from_spec` loads."""

    name: str = Field(default="agent", min_length=1, max_length=64)
    system_prompt: str | None = None
    provider: ProviderSpec = Field(default_factory=ProviderSpec)
    tools: list[ToolRef] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    policies: Policies = Field(default_factory=Policies)

    @field_validator("tools", mode="before")
    @classmethod
    def _plain_references(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"ref": item} if isinstance(item, str) else item for item in value]
        return value

    # -- reading -------------------------------------------------------------------

    @classmethod
    def parse(cls, data: Mapping[str, Any], source: str = "the spec") -> AgentSpec:
        """Validate a mapping (from YAML, TOML or JSON); secrets and unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise SpecError(f"{source} must be a mapping of keys, got {type(data).__name__}.")
        _refuse_secrets(data, "")
        try:
            spec = cls.model_validate(dict(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
                for err in exc.errors(include_url=False)
            )
            raise SpecError(f"{source} is not a valid agent spec: {problems}.") from None
        for index, tool in enumerate(spec.tools):
            if (tool.ref is None) == (tool.toolkit is None):
                raise SpecError(
                    f"{source}: tools[{index}] needs exactly one of 'ref' (module:name) "
                    f"or 'toolkit' (an installed toolkit's name)."
                )
        return spec

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AgentSpec:
        """Read a `.yaml`/`.yml`, `.toml` or `.json` spec file."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"Cannot read the spec {str(file)!r}: {exc.strerror}.") from None
        return cls.parse(_decode(text, file.suffix.lower(), str(file)), repr(str(file)))

    # -- writing -------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The spec as plain data, without defaults, tools as plain references where possible."""
        data = self.model_dump(exclude_defaults=True, exclude_none=True, mode="json")
        data["name"] = self.name
        if self.tools:
            data["tools"] = [_tool_data(tool) for tool in self.tools]
        return data

    def to_yaml(self) -> str:
        dumped: str = _yaml().safe_dump(self.to_data(), sort_keys=False, allow_unicode=True)
        return dumped

    def to_toml(self) -> str:
        from .extras import require

        tomli_w = require("tomli_w", extra="spec", feature="Writing TOML specs")
        data = self.to_data()
        if "tools" in data:  # TOML arrays of tables need tables, not bare strings
            data["tools"] = [{"ref": t} if isinstance(t, str) else t for t in data["tools"]]
        dumped: str = tomli_w.dumps(data)
        return dumped

    def to_python(self) -> str:
        """Python code that builds the same agent (keys still come from the environment)."""
        return _python_code(self)

    # -- building ------------------------------------------------------------------

    def build(
        self,
        *,
        extra_tools: Iterable[Any] = (),
        known: Mapping[str, Any] | None = None,
        policies: Iterable[Any] = (),
    ) -> Any:
        """The Agent this spec describes (`extra_tools` are added after the spec's).

        `known` maps `tools[].ref` to the tool to use instead of importing it, and
        `policies` go before the spec's own: the builder's try passes the served
        agent's tools (with their approval flags) and policies.
        """
        from .agent import Agent
        from .config import AgentConfig

        tools = with_approval([*self.resolve_tools(known), *extra_tools], self.policies.approval)
        counted = collections.Counter(_tool_name(tool) for tool in tools)
        twice = sorted(name for name, count in counted.items() if count > 1)
        if twice:
            raise SpecError(f"tools: {', '.join(map(repr, twice))} given more than once.")
        return Agent(
            tools,
            self.build_provider(),
            system_prompt=self.system_prompt,
            config=AgentConfig(**self.limits.model_dump()),
            policies=[*policies, *self.build_policies()],
            name=self.name,
        )

    def resolve_tools(self, known: Mapping[str, Any] | None = None) -> list[Any]:
        """Each `tools` entry imported (or taken from `known`) or built, in order."""
        resolved: list[Any] = []
        for tool in self.tools:
            if tool.toolkit is not None:
                found: Any = _toolkit(tool.toolkit, tool.settings)
            elif known is not None and tool.ref is not None and tool.ref in known:
                found = known[tool.ref]
            else:
                assert tool.ref is not None
                found = import_reference(tool.ref)
                if isinstance(found, type):  # a toolkit class: built with its settings
                    found = _toolkit_class(found, tool.ref, tool.settings)
                elif tool.settings:
                    raise SpecError(
                        f"tools: {tool.ref} has settings, so it must be a toolkit class."
                    )
            resolved.extend(_only(found, tool.only, tool.ref or tool.toolkit or ""))
        return resolved

    def build_provider(self) -> Any:
        built = [self._build_one(member) for member in self.provider.members()]
        if len(built) == 1:
            return built[0]
        from .providers import FallbackProvider

        return FallbackProvider(*built)

    def _build_one(self, spec: OneProvider) -> Any:
        if spec.factory is not None:
            made = import_reference(spec.factory)
            if not _a_class_or_function(made):
                # A provider factory is a class or a Python function, never `os:system`
                # (a spec is still code: load only specs you would run as Python).
                raise SpecError(
                    f"provider.factory {spec.factory!r} is not a class or a Python function "
                    f"that makes a provider."
                )
            return made(spec.model) if spec.model is not None else made()
        from . import providers

        # A provider by name retries itself (one retry layer): the spec's retry configures it.
        named = getattr(providers, _NAMED_PROVIDERS[spec.name][0])
        options: dict[str, Any] = {}
        if spec.base_url is not None:
            options["base_url"] = spec.base_url
        if (retry := self._retry()) is not None:
            options["retry"] = retry
        return named(spec.model, **options)

    def _retry(self) -> Any:
        if self.policies.retry is None:
            return None
        from .policies import Retry

        return Retry(self.policies.retry.attempts, max_time=self.policies.retry.max_time)

    def build_policies(self) -> list[Any]:
        """The agent's policies, in the order `Policies` documents."""
        chosen = self.policies
        policies: list[Any] = []
        if chosen.cache is not None:
            from .policies import ResponseCache

            policies.append(ResponseCache(**chosen.cache.model_dump()))
        if chosen.circuit_breaker is not None:
            from .policies import CircuitBreaker

            policies.append(CircuitBreaker(**chosen.circuit_breaker.model_dump()))
        if chosen.retry is not None and self.provider.factory is not None:
            policies.append(self._retry())
        if chosen.rate_limit is not None:
            from .policies import RateLimiter

            policies.append(RateLimiter(chosen.rate_limit))
        return policies


def load_spec(path: str | os.PathLike[str]) -> AgentSpec:
    """`AgentSpec.load(path)`."""
    return AgentSpec.load(path)


def import_reference(reference: str) -> Any:
    """The object `module:name` (dots after the colon reach attributes)."""
    if not _REFERENCE.match(reference):
        raise SpecError(f"{reference!r} is not a 'module:name' reference.")
    module_name, _, attribute = reference.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(
            f"Cannot import {module_name!r} for {reference!r}: {exc}. "
            f"Install it or run from the folder that holds it."
        ) from None
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise SpecError(f"{module_name!r} has no {attribute!r} (from {reference!r}).") from None
    return found


# -- helpers -------------------------------------------------------------------------


def _decode(text: str, suffix: str, source: str) -> Any:
    if suffix not in (".yaml", ".yml", ".toml", ".json"):
        raise SpecError(f"{source}: a spec file ends in .yaml, .yml, .toml or .json.")
    kind = "YAML" if suffix in (".yaml", ".yml") else suffix[1:].upper()
    try:
        if kind == "YAML":
            return _load_yaml(text)
        if kind == "TOML":
            import tomllib

            return tomllib.loads(text)  # TOML refuses a key given twice itself
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise SpecError(f"{source} is nested too deeply to be an agent spec.") from None
    except ValueError as exc:
        raise SpecError(f"{source} is not valid {kind}: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A mapping that names a key given twice (a parser would keep the last, silently)."""
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise ValueError(f"the key {key!r} is given twice")
        mapping[key] = value
    return mapping


def _load_yaml(text: str) -> Any:
    """`safe_load`, refusing a key given twice and aliases (a few hundred bytes of
    aliases expand to millions of nodes)."""
    yaml = _yaml()

    class Loader(yaml.SafeLoader):  # type: ignore[misc, name-defined]
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases (*name) are not allowed in an agent spec")
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            pairs = [
                (self.construct_object(k, deep=deep), self.construct_object(v, deep=deep))
                for k, v in node.value
            ]
            return _unique_keys(pairs)

    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


def _yaml() -> Any:
    from .extras import require

    return require("yaml", extra="spec", feature="Reading and writing YAML specs")


def _refuse_secrets(data: Any, where: str, seen: set[int] | None = None) -> None:
    """Refuse secret-looking keys (as Python would read them: NFKC) and URLs that carry
    a password, anywhere; each container once (YAML aliases share them)."""
    seen = set() if seen is None else seen
    if isinstance(data, Mapping | list):
        if id(data) in seen:
            return
        seen.add(id(data))
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            name = unicodedata.normalize("NFKC", key) if isinstance(key, str) else ""
            if name not in _NOT_SECRETS and _SECRET.search(name):
                raise SpecError(
                    f"The spec has a secret-looking key {path!r}. Specs never hold secrets: "
                    f"set keys in the environment (e.g. OPENAI_API_KEY) instead."
                )
            _refuse_secrets(value, path, seen)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            _refuse_secrets(item, f"{where}[{index}]", seen)
    elif isinstance(data, str) and "@" in data and "://" in data and _has_password(data):
        raise SpecError(
            f"The spec has a URL with a password at {where!r}. Specs never hold secrets: "
            f"give the password to the program through the environment instead."
        )


def _has_password(text: str) -> bool:
    try:
        return urllib.parse.urlsplit(text.strip()).password is not None
    except ValueError:
        return False


def _toolkit(name: str, settings: Mapping[str, Any]) -> Any:
    """An installed toolkit; one its constructor refuses is a SpecError naming it."""
    from .registry import load_toolkit

    try:
        return load_toolkit(name, **settings)
    except SelectoolsError as exc:
        raise SpecError(f"tools: {exc}") from None
    except (TypeError, ValueError) as exc:  # e.g. a toolkit that needs a bucket or a key
        raise SpecError(f"tools: the {name!r} toolkit cannot be built: {exc}") from None


def _toolkit_class(found: type, ref: str, settings: Mapping[str, Any]) -> Any:
    """Build a referenced class only if it is a toolkit: building is a class's side effect."""
    members = ("tools", "close", "__enter__", "__exit__")  # `name` may be set in __init__
    if not all(callable(getattr(found, m, None)) for m in members):
        raise SpecError(f"tools: {ref} is a class but not a Toolkit; only toolkits are built.")
    try:
        return found(**settings)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"tools: {ref} cannot be built with these settings: {exc}") from None


def _a_class_or_function(found: Any) -> bool:
    return inspect.isclass(found) or inspect.isfunction(found)


def _tool_name(item: Any) -> str:
    """A tool's name, or the name a plain function becomes as a tool."""
    return str(getattr(item, "name", None) or getattr(item, "__name__", ""))


def _plain(value: Any, where: str) -> None:
    """Settings are plain data every format writes: text, true/false, finite numbers,
    lists and tables of them (TOML has no null; a YAML or Python `inf` is no number)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: {value!r} is not a finite number")
    if value is None:
        raise ValueError(f"{where}: null has no TOML form; leave the setting out")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain(item, f"{where}[{index}]")


def _tool_data(tool: ToolRef) -> Any:
    data = tool.model_dump(exclude_defaults=True, exclude_none=True, mode="json")
    return tool.ref if list(data) == ["ref"] else data


def _only(found: Any, only: list[str] | None, source: str) -> list[Any]:
    from .tools.tool import Tool
    from .tools.toolkit import Toolkit

    if isinstance(found, Toolkit) and not isinstance(found, Tool):
        items: list[Any] = list(found.tools())
    elif isinstance(found, (list, tuple)):
        items = list(found)
    else:
        items = [found]
    for item in items:
        if not callable(item) or isinstance(item, type):
            raise SpecError(
                f"tools: {source} gave {type(item).__name__} {item!r}; a tool reference "
                f"names a tool, a typed function, a toolkit or a list of them."
            )
    if only is None:
        return items
    by_name = {getattr(t, "name", getattr(t, "__name__", "")): t for t in items}
    unknown = [name for name in only if name not in by_name]
    if unknown:
        raise SpecError(f"tools: {source} has no tools named {unknown} (it has {sorted(by_name)}).")
    return [by_name[name] for name in only]


def with_approval(tools: list[Any], names: list[str]) -> list[Any]:
    """The tools, those named in `policies.approval` marked `requires_approval` (what
    `build()` and the Python export both do)."""
    if not names:
        return tools
    from .tools.tool import Tool, tool

    if "requires_approval" not in {f.name for f in dataclasses.fields(Tool)}:
        raise SpecError(
            "policies.approval needs a selectools with approvals (Tool.requires_approval). "
            "Remove the key or upgrade."
        )
    as_tools = [item if isinstance(item, Tool) else tool(item) for item in tools]
    missing = sorted(set(names) - {t.name for t in as_tools})
    if missing:
        raise SpecError(f"policies.approval names tools the spec does not have: {missing}.")
    marked: dict[str, Any] = {"requires_approval": True}
    return [dataclasses.replace(t, **marked) if t.name in names else t for t in as_tools]


def _keywords(settings: BaseModel) -> str:
    """`name=value, ...` for every setting (defaults too: the code says what it does)."""
    return ", ".join(f"{k}={v!r}" for k, v in settings.model_dump().items())


def _provider_code(
    provider: OneProvider, policies: Policies, imports: list[str], lines: list[str]
) -> str:
    """The expression that builds one provider (imports and comments added as needed)."""
    if provider.factory is not None:
        module, _, attribute = provider.factory.partition(":")
        imports.append(f"from {module} import {attribute.split('.')[0]}")
        return f"{attribute}({provider.model!r})" if provider.model else f"{attribute}()"
    class_name, credentials, _ = _NAMED_PROVIDERS[provider.name]
    imports.append(f"from selectools import {class_name}")
    args = [repr(provider.model)] if provider.model else []
    if provider.base_url:
        args.append(f"base_url={provider.base_url!r}")
    if policies.retry is not None:
        retry = policies.retry
        imports.append("from selectools.policies import Retry")
        args.append(f"retry=Retry({retry.attempts}, max_time={retry.max_time!r})")
    comment = f"# The credentials come from the environment: {credentials}."
    if comment not in lines:
        lines.append(comment)
    return f"{class_name}({', '.join(args)})"


def _python_code(spec: AgentSpec) -> str:
    imports = ["from selectools import Agent, AgentConfig"]
    lines: list[str] = []
    tool_exprs: list[str] = []
    for index, tool in enumerate(spec.tools):
        if tool.toolkit is not None:
            if "from selectools.registry import load_toolkit" not in imports:
                imports.append("from selectools.registry import load_toolkit")
            args = "".join(f", {k}={v!r}" for k, v in tool.settings.items())
            expr = f"load_toolkit({tool.toolkit!r}{args})"
        else:
            assert tool.ref is not None
            module, _, attribute = tool.ref.partition(":")
            head = attribute.split(".")[0]
            imports.append(f"from {module} import {head}")
            expr = attribute
            if tool.settings:
                expr += "(" + ", ".join(f"{k}={v!r}" for k, v in tool.settings.items()) + ")"
        if tool.only is not None:
            var = f"_tools_{index}"
            lines.append(f"{var} = {{t.name: t for t in _as_tools({expr})}}")
            tool_exprs.append(f"*({var}[n] for n in {tool.only!r})")
        else:
            tool_exprs.append(f"*_as_tools({expr})")
    if spec.tools:
        lines.insert(0, _AS_TOOLS)
    provider = spec.provider
    members = [_provider_code(one, spec.policies, imports, lines) for one in provider.members()]
    provider_expr = members[0]
    if len(members) > 1:
        imports.append("from selectools.providers import FallbackProvider")
        provider_expr = f"FallbackProvider({', '.join(members)})"
    policy_exprs: list[str] = []
    if spec.policies.cache is not None:
        imports.append("from selectools.policies import ResponseCache")
        policy_exprs.append(f"ResponseCache({_keywords(spec.policies.cache)})")
    if spec.policies.circuit_breaker is not None:
        imports.append("from selectools.policies import CircuitBreaker")
        policy_exprs.append(f"CircuitBreaker({_keywords(spec.policies.circuit_breaker)})")
    if spec.policies.retry is not None and provider.factory is not None:
        imports.append("from selectools.policies import Retry")
        retry = spec.policies.retry
        policy_exprs.append(f"Retry({retry.attempts}, max_time={retry.max_time!r})")
    if spec.policies.rate_limit is not None:
        imports.append("from selectools.policies import RateLimiter")
        policy_exprs.append(f"RateLimiter({spec.policies.rate_limit!r})")
    tools_expr = f"[{', '.join(tool_exprs)}]"
    if spec.policies.approval:  # the same marking as `build()`: these pause for a person
        imports.append("from selectools.spec import with_approval")
        tools_expr = f"with_approval({tools_expr}, {spec.policies.approval!r})"
    limits = spec.limits.model_dump(exclude_defaults=True)
    config = ", ".join(f"{k}={v!r}" for k, v in limits.items())
    body = [
        "agent = Agent(",
        f"    {tools_expr},",
        f"    {provider_expr},",
        f"    system_prompt={spec.system_prompt!r},",
        f"    config=AgentConfig({config}),",
        "    policies=[" + ", ".join(policy_exprs) + "],",
        f"    name={spec.name!r},",
        ")",
    ]
    unique_imports = list(dict.fromkeys(imports))
    return "\n".join(
        [
            repr(f"The agent {spec.name!r}, as the builder made it."),  # data, never code
            "",
            *sorted(unique_imports),
            "",
            *lines,
            *body,
            "",
        ]
    )


_AS_TOOLS = '''def _as_tools(found):
    """A toolkit's tools, a list as it is, anything else as one tool."""
    if hasattr(found, "tools") and callable(found.tools):
        return list(found.tools())
    return list(found) if isinstance(found, (list, tuple)) else [found]

'''
