"""Agent specs: YAML/TOML/JSON files in, a working Agent out; secrets and bad references refused."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from selectools import Agent, AnthropicProvider, BedrockProvider, OpenAIProvider, ScriptedProvider
from selectools.errors import CircuitOpenError, ProviderError
from selectools.policies import CircuitBreaker, RateLimiter, ResponseCache, Retry
from selectools.spec import AgentSpec, SpecError
from selectools.tools.tool import Tool
from tests.fakes.anthropic_server import AnthropicReply, FakeAnthropicServer
from tests.fakes.bedrock_server import BedrockReply, FakeBedrockServer
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

SPEC = {
    "name": "orders",
    "system_prompt": "You answer about orders.",
    "provider": {"factory": "tests.fakes.spec_targets:echo_provider", "model": "scripted-1"},
    "tools": [
        "tests.fakes.spec_targets:order_status",
        "tests.fakes.spec_targets:shout",
        {"ref": "tests.fakes.spec_targets:CounterToolkit", "settings": {"start": 40}},
    ],
    "limits": {"max_iterations": 4, "run_timeout": 30, "tool_timeout": 5},
    "policies": {"retry": {"attempts": 2, "max_time": 10}, "rate_limit": "100/minute"},
}


def write(tmp_path: Path, suffix: str, spec: AgentSpec) -> Path:
    path = tmp_path / f"agent{suffix}"
    text = {".yaml": spec.to_yaml, ".toml": spec.to_toml}.get(suffix)
    path.write_text(text() if text else json.dumps(spec.to_data()))
    return path


@pytest.mark.parametrize("suffix", [".yaml", ".toml", ".json"])
def test_a_written_spec_loads_back_into_a_working_agent(tmp_path: Path, suffix: str) -> None:
    spec = AgentSpec.parse(SPEC)
    path = write(tmp_path, suffix, spec)
    assert AgentSpec.load(path) == spec  # the round trip keeps every setting

    agent = Agent.from_spec(path)
    assert list(agent.tools) == ["order_status", "shout", "count_from"]
    assert agent.name == "orders"
    assert agent.system_prompt == "You answer about orders."
    assert (agent.config.max_iterations, agent.config.run_timeout) == (4, 30)
    assert agent.config.tool_timeout == 5
    assert [type(p) for p in agent.policies] == [Retry, RateLimiter]
    assert agent.tools["count_from"].function(steps=2) == 42  # settings reached the toolkit
    result = agent.run("Where is 1001?")
    assert result.text == "Order says: shipped"
    assert result.model == "scripted-1"


def test_openai_by_name_reads_its_key_from_the_environment(
    tmp_path: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    path = tmp_path / "agent.yaml"
    path.write_text(
        "name: plain\n"
        f"provider: {{name: openai, model: gpt-4o-mini, base_url: '{openai_server.base_url}'}}\n"
        "tools: [tests.fakes.spec_targets:order_status]\n"
    )
    openai_server.add(
        FakeReply(tool_calls=[("order_status", {"order_id": 1002})]), FakeReply(text="Processing.")
    )
    agent = Agent.from_spec(path)
    assert isinstance(agent.provider, OpenAIProvider)
    result = agent.run("Order 1002?")
    assert result.text == "Processing."
    assert result.tool_calls[0].output == "processing"
    assert openai_server.requests[0]["_authorization"] == "Bearer sk-from-env"
    assert openai_server.requests[0]["model"] == "gpt-4o-mini"


def test_anthropic_by_name_reads_its_key_from_the_environment(
    tmp_path: Path, anthropic_server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    path = tmp_path / "agent.yaml"
    path.write_text(
        "name: claude\n"
        f"provider: {{name: anthropic, model: claude-x, base_url: '{anthropic_server.base_url}'}}\n"
        "tools: [tests.fakes.spec_targets:order_status]\n"
        "policies: {retry: {attempts: 2}}\n"
    )
    anthropic_server.add(
        AnthropicReply(tool_uses=[("order_status", {"order_id": 1002})]),
        AnthropicReply(status=529, error_type="overloaded_error"),  # the spec's retry
        AnthropicReply(text="Processing."),
    )
    agent = Agent.from_spec(path)
    assert isinstance(agent.provider, AnthropicProvider)
    result = agent.run("Order 1002?")
    assert result.text == "Processing."
    assert result.tool_calls[0].output == "processing"
    sent = anthropic_server.headers[0]
    assert "sk-ant-from-env" in (sent.get("x-api-key"), sent.get("authorization", "")[7:])
    assert anthropic_server.requests[0]["model"] == "claude-x"
    assert anthropic_server.count == 3


def test_bedrock_by_name_uses_the_aws_configuration(
    bedrock_server: FakeBedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock_server.endpoint_url)
    spec = {
        "provider": {"name": "bedrock", "model": "anthropic.claude-y"},
        "tools": ["tests.fakes.spec_targets:order_status"],
    }
    bedrock_server.add(
        BedrockReply(tool_uses=[("order_status", {"order_id": 1001})]),
        BedrockReply(text="Shipped."),
    )
    agent = AgentSpec.parse(spec).build()
    assert isinstance(agent.provider, BedrockProvider)
    result = agent.run("Order 1001?")
    assert result.text == "Shipped."
    assert result.tool_calls[0].output == "shipped"
    assert bedrock_server.count == 2
    with pytest.raises(SpecError, match="base_url is for openai and anthropic"):
        AgentSpec.parse({"provider": {"name": "bedrock", "base_url": "http://127.0.0.1:9"}})


@pytest.mark.parametrize(
    ("name", "provider_class"),
    [("openai", OpenAIProvider), ("anthropic", AnthropicProvider), ("bedrock", BedrockProvider)],
)
def test_the_python_export_names_the_same_provider(
    name: str, provider_class: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.setenv(key, "from-env")
    chosen = {"name": name, "model": "m-1"}
    if name != "bedrock":
        chosen["base_url"] = "http://127.0.0.1:9/v1"
    spec = AgentSpec.parse({"provider": chosen, "policies": {"retry": {"attempts": 4}}})
    namespace: dict[str, object] = {}
    exec(compile(spec.to_python(), "exported.py", "exec"), namespace)
    exported = namespace["agent"]
    assert isinstance(exported, Agent)
    for agent in (exported, spec.build()):
        assert type(agent.provider) is provider_class
        assert agent.provider.model == "m-1"
        assert getattr(agent.provider, "base_url", None) == chosen.get("base_url")
        assert agent.provider.retry.attempts == 4  # type: ignore[attr-defined]


def test_installed_toolkits_by_entry_point_name_and_only() -> None:
    spec = AgentSpec.parse(
        {
            "provider": {"factory": "tests.fakes.spec_targets:echo_provider"},
            "tools": [{"toolkit": "toolbox", "only": ["calculate", "convert_units"]}],
        }
    )
    assert list(spec.build().tools) == ["calculate", "convert_units"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"provider": {"api_key": "sk-live-123"}}, "secret-looking key 'provider.api_key'"),
        ({"tools": [{"toolkit": "sql", "settings": {"password": "x"}}]}, "tools[0].settings"),
        ({"OPENAI_API_KEY": "sk-1"}, "OPENAI_API_KEY"),
        ({"tools": [{"ref": "a:b", "settings": {"db": {"auth_token": "t"}}}]}, "auth_token"),
    ],
)
def test_secrets_are_refused_wherever_they_hide(data: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match="never hold secrets") as caught:
        AgentSpec.parse(data)
    assert message in str(caught.value)
    assert "sk-" not in str(caught.value)  # the value itself is never echoed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"modle": "x"}, "modle: Extra inputs are not permitted"),
        ({"limits": {"max_iterations": 0}}, "limits.max_iterations"),
        ({"provider": {"name": "gemini"}}, "provider.name"),
        ({"tools": ["no colon here"]}, "tools.0.ref"),
        ({"tools": [{"ref": "a:b", "toolkit": "c"}]}, "exactly one of 'ref'"),
        ({"tools": [{}]}, "exactly one of 'ref'"),
        ({"policies": {"retry": {"attempts": 99}}}, "policies.retry.attempts"),
        ({"policies": {"circuit_breaker": {"failures": 0}}}, "policies.circuit_breaker.failures"),
        ({"policies": {"cache": {"ttl": -1}}}, "policies.cache.ttl"),
        ({"policies": {"cache": {"ttl": None}}}, "policies.cache.ttl"),  # TOML has no null
        ({"policies": {"cache": {"storage": "redis://x"}}}, "policies.cache.storage"),
    ],
)
def test_invalid_specs_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        AgentSpec.parse(data)
    assert message in str(caught.value)
    assert caught.value.http_status == 422


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("tests.fakes.no_such_module:thing", "Cannot import 'tests.fakes.no_such_module'"),
        ("tests.fakes.spec_targets:missing", "has no 'missing'"),
        ("tests.fakes.spec_targets:NOT_A_TOOL", "gave int 42"),
        ("tests.fakes:spec_targets", "gave module"),
    ],
)
def test_bad_references_are_clear_errors(ref: str, message: str) -> None:
    spec = AgentSpec.parse({"tools": [ref]})
    with pytest.raises(SpecError, match=message):
        spec.build()


def test_only_names_unknown_tools_and_unknown_toolkits() -> None:
    spec = AgentSpec.parse({"tools": [{"ref": "tests.fakes.spec_targets:BOTH", "only": ["nope"]}]})
    with pytest.raises(SpecError, match=r"has no tools named \['nope'\]"):
        spec.resolve_tools()
    with pytest.raises(SpecError, match="no-such-toolkit"):
        AgentSpec.parse({"tools": [{"toolkit": "no-such-toolkit"}]}).resolve_tools()


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.yaml", "name: [unclosed", "not valid YAML"),
        ("a.toml", "name = ", "not valid TOML"),
        ("a.json", "{", "not valid JSON"),
        ("a.yaml", "- just\n- a list\n", "must be a mapping"),
        ("a.ini", "name=x", "ends in .yaml"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SpecError, match=message):
        Agent.from_spec(tmp_path / name)
    with pytest.raises(SpecError, match="Cannot read the spec"):
        Agent.from_spec(tmp_path / "missing.yaml")


def test_the_python_export_builds_the_same_agent() -> None:
    spec = AgentSpec.parse(
        {
            **SPEC,
            "tools": [*SPEC["tools"], {"toolkit": "toolbox", "only": ["calculate"]}],  # type: ignore[list-item]
            "policies": {**SPEC["policies"], **RESILIENT},  # type: ignore[dict-item]
        }
    )
    namespace: dict[str, object] = {}
    exec(compile(spec.to_python(), "exported.py", "exec"), namespace)
    exported = namespace["agent"]
    built = spec.build()
    assert isinstance(exported, Agent)
    assert list(exported.tools) == list(built.tools)
    assert exported.config == built.config
    assert exported.system_prompt == built.system_prompt
    assert [type(p) for p in exported.policies] == [type(p) for p in built.policies]
    assert [repr(p) for p in exported.policies[:2]] == [repr(p) for p in built.policies[:2]]
    assert exported.run("Where is 1001?").text == "Order says: shipped"


RESILIENT = {"cache": {"ttl": 60, "shared": True}, "circuit_breaker": {"failures": 2}}


@pytest.mark.parametrize("suffix", [".yaml", ".toml", ".json"])
def test_cache_and_breaker_settings_survive_a_written_spec(tmp_path: Path, suffix: str) -> None:
    settings = {"cache": {"ttl": 5, "max_entries": 10}, "circuit_breaker": {"reset_after": 2.5}}
    spec = AgentSpec.parse({**SPEC, "policies": settings})
    loaded = AgentSpec.load(write(tmp_path, suffix, spec))
    assert loaded == spec
    cache, breaker = loaded.build().policies
    assert (cache.ttl, repr(breaker)) == (5, "CircuitBreaker(failures=5, reset_after=2.5)")


def test_a_spec_caches_answers_and_breaks_the_circuit_in_the_documented_order() -> None:
    """Cache outermost (a cached answer costs no model call, no rate-limit token),
    then the circuit breaker, retry and rate limit."""
    spec = AgentSpec.parse({**SPEC, "policies": {**SPEC["policies"], **RESILIENT}})
    agent = spec.build()
    assert [type(p) for p in agent.policies] == [ResponseCache, CircuitBreaker, Retry, RateLimiter]
    first, second = agent.run("Where is 1001?"), agent.run("Where is 1001?")
    assert first.text == second.text == "Order says: shipped"
    provider = agent.provider
    assert isinstance(provider, ScriptedProvider)
    assert len(provider.requests) == 2  # the second run's two model calls came from the cache

    down = AgentSpec.parse(
        {
            "provider": {"factory": "tests.fakes.spec_targets:failing_provider"},
            "policies": {"circuit_breaker": {"failures": 2, "reset_after": 60}},
        }
    ).build()
    for _ in range(2):
        with pytest.raises(ProviderError, match="down"):
            down.run("hello")
    with pytest.raises(CircuitOpenError):
        down.run("hello")
    failing = down.provider
    assert isinstance(failing, ScriptedProvider)
    assert len(failing.requests) == 2  # the open circuit made no request


def test_the_python_export_keeps_approval_on_the_named_tools() -> None:
    """Before, the export only wrote a comment: the exported agent ran the tool unasked."""
    spec = AgentSpec.parse(
        {
            "provider": {"factory": "tests.fakes.spec_targets:echo_provider"},
            "tools": ["tests.fakes.spec_targets:BOTH", "tests.fakes.spec_targets:cancel_order"],
            "policies": {"approval": ["order_status"]},
        }
    )
    namespace: dict[str, object] = {}
    exec(compile(spec.to_python(), "exported.py", "exec"), namespace)
    exported = namespace["agent"]
    assert isinstance(exported, Agent)
    flags = {name: exported.tools[name].requires_approval for name in exported.tools}
    assert flags == {name: spec.build().tools[name].requires_approval for name in flags}
    assert flags == {"order_status": True, "shout": False, "cancel_order": False}
    paused = exported.run("Where is 1001?")
    assert paused.awaiting_approval
    assert [call.tool for call in paused.pending] == ["order_status"]
    assert paused.tool_calls == ()  # nothing ran before a person decided


def test_approval_marks_the_named_tools_or_says_what_is_missing() -> None:
    spec = AgentSpec.parse(
        {
            "provider": {"factory": "tests.fakes.spec_targets:echo_provider"},
            "tools": ["tests.fakes.spec_targets:BOTH", "tests.fakes.spec_targets:cancel_order"],
            "policies": {"approval": ["cancel_order"]},
        }
    )
    if "requires_approval" not in {f.name for f in dataclasses.fields(Tool)}:
        with pytest.raises(SpecError, match="needs a selectools with approvals"):
            spec.build()
        return
    agent = spec.build()
    flags = {name: agent.tools[name].requires_approval for name in agent.tools}
    assert flags == {"order_status": False, "shout": False, "cancel_order": True}
    unknown = AgentSpec.parse({**spec.to_data(), "policies": {"approval": ["drop_db"]}})
    with pytest.raises(SpecError, match=r"does not have: \['drop_db'\]"):
        unknown.build()


def test_a_base_url_beside_a_factory_is_refused_not_dropped() -> None:
    """Before, the factory was called with the model only and the URL silently ignored."""
    with pytest.raises(SpecError, match="base_url is for a provider by name"):
        AgentSpec.parse(
            {
                "provider": {
                    "factory": "tests.fakes.spec_targets:echo_provider",
                    "base_url": "http://127.0.0.1:9/v1",
                }
            }
        )


@pytest.mark.parametrize("key", ["x=print('INJECTED') or 1, y", "not valid", "class", "1st", "a-b"])
def test_a_setting_name_cannot_smuggle_code_into_the_python_export(key: str) -> None:
    """Settings keys were written into the export unchecked: a shared spec could make
    its Python export run anything. They must be keyword argument names."""
    with pytest.raises(SpecError, match="not a keyword argument name"):
        AgentSpec.parse({"tools": [{"toolkit": "toolbox", "settings": {key: 1}}]})


def test_values_that_look_like_code_stay_data_in_the_python_export() -> None:
    tricky = "'); print('INJECTED'); ('"
    spec = AgentSpec.parse(
        {
            "name": "x\nprint('INJECTED')",
            "system_prompt": tricky,
            "provider": {"model": tricky, "base_url": "http://h/'+print('INJECTED')+'"},
            "tools": [{"toolkit": "toolbox", "only": [tricky]}],
            "policies": {"rate_limit": "30/minute", "approval": [tricky]},
        }
    )
    tree = ast.parse(spec.to_python())  # valid Python, and every value stayed a literal:
    called = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert "print" not in called
    assert called == {
        *("Agent", "AgentConfig", "OpenAIProvider", "RateLimiter", "load_toolkit"),
        *("with_approval", "_as_tools", "callable", "found.tools", "hasattr", "isinstance", "list"),
    }


def test_fallbacks_answer_when_the_primary_is_down(
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    anthropic_server: FakeAnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    openai_server.add(*[FakeReply(status=503)] * 5)
    anthropic_server.add(AnthropicReply(text="From the fallback."))
    path = tmp_path / "agent.yaml"
    path.write_text(
        "provider:\n"
        f"  {{name: openai, model: gpt-x, base_url: '{openai_server.base_url}',\n"
        "   fallbacks: [{name: anthropic, model: claude-x, "
        f"base_url: '{anthropic_server.base_url}'}}]}}\n"
        "policies: {retry: {attempts: 1}}\n"
    )
    spec = AgentSpec.load(path)
    assert AgentSpec.parse(spec.model_dump()) == spec
    agent = Agent.from_spec(path)
    result = agent.run("hi")
    assert result.text == "From the fallback."
    assert result.provider == "anthropic"
    assert openai_server.count >= 1
    namespace: dict[str, object] = {}
    exec(compile(spec.to_python(), "exported.py", "exec"), namespace)
    exported = namespace["agent"]
    assert isinstance(exported, Agent)
    for built in (exported, agent):
        members = built.provider.providers  # type: ignore[attr-defined]
        assert [type(m) for m in members] == [OpenAIProvider, AnthropicProvider]
        assert [m.model for m in members] == ["gpt-x", "claude-x"]


def test_fallbacks_are_checked_like_the_primary() -> None:
    too_many = [{"name": "openai"}] * 5
    for provider, message in [
        ({"fallbacks": too_many}, "fallbacks"),
        ({"fallbacks": [{"name": "bedrock", "base_url": "http://x"}]}, "base_url"),
        ({"fallbacks": [{"api_key": "sk-live-1"}]}, "api_key"),
        ({"fallbacks": [{"fallbacks": []}]}, "fallbacks"),  # one level only
    ]:
        with pytest.raises(SpecError, match=message):
            AgentSpec.parse({"provider": provider})
