"""Tools from typed functions: schemas, definition errors, argument validation."""

from __future__ import annotations

import enum
from typing import Literal, Optional

import pytest
from pydantic import BaseModel

from selectools import RunContext, Tool, ToolArgumentError, ToolDefinitionError, ToolSet, tool


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    zip_code: int


class Customer(BaseModel):
    name: str
    addresses: list[Address]


def test_schema_covers_every_supported_hint() -> None:
    @tool
    def everything(
        count: int,
        ratio: float,
        flag: bool,
        label: str,
        maybe: int | None,
        mode: Literal["fast", "slow"],
        color: Color,
        tags: list[str],
        extra: dict[str, int],
        customer: Customer,
        legacy: Optional[str] = None,  # noqa: UP045 - the old spelling must work too
        limit: int = 10,
    ) -> str:
        """Exercise every type.

        Args:
            count: how many
            limit: at most this many
        """
        return "ok"

    props = everything.parameters["properties"]
    assert props["count"] == {"type": "integer", "description": "how many"}
    assert props["ratio"]["type"] == "number"
    assert props["flag"]["type"] == "boolean"
    assert props["label"]["type"] == "string"
    assert props["maybe"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert props["mode"] == {"enum": ["fast", "slow"], "type": "string"}
    assert props["color"]["enum"] == ["red", "blue"]
    assert props["tags"] == {"items": {"type": "string"}, "type": "array"}
    assert props["extra"]["additionalProperties"] == {"type": "integer"}
    # nested models are inlined: no $ref for local models to trip over
    address = props["customer"]["properties"]["addresses"]["items"]
    assert address["properties"]["zip_code"] == {"type": "integer"}
    assert "$defs" not in everything.parameters
    assert props["limit"] == {"default": 10, "description": "at most this many", "type": "integer"}
    # Optional without a default is required (and may be null); with a default it is not
    required = everything.parameters["required"]
    assert "maybe" in required
    assert "legacy" not in required
    assert "limit" not in required
    assert everything.description == "Exercise every type."


def test_numpy_docstring_and_overrides() -> None:
    @tool(name="lookup", description="Find an order.")
    def find(order_id: int) -> str:
        """Ignored summary.

        Parameters
        ----------
        order_id : int
            The order's number.
        """
        return str(order_id)

    assert find.name == "lookup"
    assert find.description == "Find an order."
    assert find.parameters["properties"]["order_id"]["description"] == "The order's number."
    assert find.schema()["function"]["name"] == "lookup"
    assert find(order_id=3) == "3"  # a decorated function stays callable


def test_async_function_is_detected() -> None:
    @tool
    async def fetch(url: str) -> str:
        """Fetch a URL."""
        return url

    assert fetch.is_async


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("def f(x: int): return x", "no description"),
        ('def f(x):\n    "Doc."\n    return x', "parameter 'x' has no type hint"),
        ('def f(*args: int):\n    "Doc."', "'*args'"),
        ('def f(**kw: int):\n    "Doc."', "'**kw'"),
        ('def f(x: int, /):\n    "Doc."', "positional-only"),
        ('def f(x: Unknown):\n    "Doc."', "cannot be resolved"),
        ('import socket\ndef f(s: socket.socket):\n    "Doc."', "parameter 's' has type socket"),
    ],
)
def test_definition_errors_name_the_function_parameter_and_fix(source: str, fragment: str) -> None:
    namespace: dict[str, object] = {}
    exec(source, namespace)
    with pytest.raises(ToolDefinitionError) as info:
        tool(namespace["f"])  # type: ignore[arg-type]
    message = str(info.value)
    assert fragment in message
    assert "'f'" in message


def test_duplicate_names_are_refused() -> None:
    def a() -> str:
        """A."""
        return "a"

    with pytest.raises(ToolDefinitionError, match="Two tools are named 'a'"):
        ToolSet([tool(a), tool(a)])


def test_invalid_tool_name() -> None:
    with pytest.raises(ToolDefinitionError, match="invalid"):
        Tool(name="has space", description="d", parameters={}, function=print)


@tool
def get_order(order_id: int, include_items: bool = False) -> dict[str, object]:
    """Look up an order."""
    return {"id": order_id, "items": include_items}


def test_numbers_sent_as_strings_are_coerced() -> None:
    assert get_order.parse_arguments('{"order_id": "42"}') == {
        "order_id": 42,
        "include_items": False,
    }


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('{"order_id": "abc"}', "'order_id': Input should be a valid integer"),
        ('{"order_id": "abc"}', "got 'abc' (str)"),
        ("{}", "'order_id' is required but was not sent"),
        ('{"order_id": 1, "bogus": 2}', "'bogus' is not a parameter"),
        ('{"order_id": 1', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
    ],
)
def test_bad_arguments_explain_what_to_fix(raw: str, fragment: str) -> None:
    with pytest.raises(ToolArgumentError) as info:
        get_order.parse_arguments(raw)
    assert fragment in str(info.value)
    assert "get_order" in str(info.value)


def test_falsy_values_are_real_values() -> None:
    @tool
    def f(n: int = 5, s: str = "x", b: bool = True, items: list[int] | None = None) -> str:
        """F."""
        return ""

    parsed = f.parse_arguments('{"n": 0, "s": "", "b": false, "items": []}')
    assert parsed == {"n": 0, "s": "", "b": False, "items": []}


def test_empty_arguments_mean_no_arguments() -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    assert ping.parse_arguments("") == {}
    assert ping.parameters["properties"] == {}


def test_run_context_parameter_is_hidden_from_the_schema() -> None:
    @tool
    def whoami(ctx: RunContext, greeting: str = "hi") -> str:
        """Say who asks."""
        return f"{greeting} {ctx.identity}"

    assert list(whoami.parameters["properties"]) == ["greeting"]
    context = RunContext(identity="ada")
    bound = whoami.bind(whoami.parse_arguments("{}"), context)
    assert whoami(**bound) == "hi ada"


def test_nested_models_arrive_as_models() -> None:
    @tool
    def register(customer: Customer) -> str:
        """Register."""
        return customer.addresses[0].street

    args = register.parse_arguments(
        '{"customer": {"name": "A", "addresses": [{"street": "Main", "zip_code": "123"}]}}'
    )
    assert isinstance(args["customer"], Customer)
    assert args["customer"].addresses[0].zip_code == 123
    assert register(**args) == "Main"


def test_method_tool_prefixes_narrows_and_hides() -> None:
    from selectools.tools import method_tool

    class Toolkit:
        def lookup(self, kind: str, key: str, scope: str | None = None) -> str:
            """Look something up."""
            return f"{kind}:{key}:{scope}"

    made = method_tool(
        Toolkit().lookup, prefix="crm_", choices={"kind": ("a", "b")}, hidden={"scope"}
    )
    assert made.name == "crm_lookup"
    assert made.parameters["properties"]["kind"]["enum"] == ["a", "b"]
    assert "scope" not in made.parameters["properties"]
    assert made.parameters["required"] == ["kind", "key"]
    assert made(kind="a", key="k") == "a:k:None"
    plain = method_tool(Toolkit().lookup)
    assert "enum" not in plain.parameters["properties"]["kind"]  # no shared schema mutated


def test_a_class_with_the_five_toolkit_members_is_a_toolkit_without_subclassing() -> None:
    """The contract as `Toolkit`'s docstring states it: name, tools(), close() and the
    context manager; such a class goes into an Agent like a subclass does."""
    from selectools import Agent, ScriptedProvider, call
    from selectools.tools import Toolkit

    closed: list[str] = []

    def ping() -> str:
        """Ping."""
        return "pong"

    class Duck:
        name = "duck"

        def tools(self) -> list[Tool]:
            return [tool(ping)]

        def close(self) -> None:
            closed.append(self.name)

        def __enter__(self) -> Duck:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    class Partial:  # no context manager: not a toolkit, and the error says what it got
        name = "partial"

        def tools(self) -> list[Tool]:
            return [tool(ping)]

        def close(self) -> None:
            pass

    assert isinstance(Duck(), Toolkit)
    assert not isinstance(Partial(), Toolkit)
    with Duck() as kit:
        agent = Agent([kit], ScriptedProvider([call("ping"), "done"]))
        assert agent.run("ping?").tool_calls[0].output == "pong"
    assert closed == ["duck"]
    with pytest.raises(ToolDefinitionError, match="Partial"):
        Agent([Partial()], ScriptedProvider(["x"]))


# -- call_tool: one call outside a run, with the same guarantees ---------------------


async def test_call_tool_validates_and_reports_failures_as_records() -> None:
    from selectools.tools import acall_tool, call_tool

    @tool
    def double(n: int) -> int:
        """Double a number."""
        return n * 2

    assert call_tool(double, {"n": 4}).result == 8
    assert (await acall_tool(double, {"n": 5})).result == 10
    bad = call_tool(double, {"n": "many"})
    assert not bad.ok
    assert bad.error_type == "invalid_arguments"


def test_call_tool_refuses_a_tool_that_needs_approval() -> None:
    from selectools.tools import call_tool

    ran: list[str] = []

    @tool(requires_approval=True)
    def wipe(table: str) -> str:
        """Delete every row."""
        ran.append(table)
        return "wiped"

    refused = call_tool(wipe, {"table": "orders"})
    assert refused.error_type == "approval_required"
    assert ran == []
