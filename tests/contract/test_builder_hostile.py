"""The builder's `try` as a hostile page would use it: a tried spec reaches only what the
server offers, and never sends the server's own API key anywhere else."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from selectools import Agent, Reply, ScriptedProvider, call
from selectools.serving import ServingOptions
from tests.fakes.anthropic_server import AnthropicReply, FakeAnthropicServer
from tests.fakes.openai_server import FakeOpenAIServer

SECRET = "sk-server-secret-0000"


def fastapi_client(options: ServingOptions) -> Any:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from selectools_fastapi import AgentRouter

    app = FastAPI()
    router = AgentRouter(Agent([], ScriptedProvider(["hi"])), options=options)
    app.include_router(router, prefix="/agent")  # Flask's default prefix
    return TestClient(app)


def flask_client(options: ServingOptions) -> Any:
    from flask import Flask

    from selectools_flask import Selectools

    app = Flask("builder_hostile")
    Selectools(app, agent=Agent([], ScriptedProvider(["hi"])), options=options)
    return app.test_client()


def post(client: Any, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """Status and JSON body; a streamed answer is read to its end and closed."""
    answer = client.post(path, json=body)
    try:
        return answer.status_code, json.loads(
            answer.get_data() if hasattr(answer, "get_data") else answer.content
        )
    except ValueError:
        return answer.status_code, None
    finally:
        answer.close()


@pytest.fixture(params=[fastapi_client, flask_client], ids=["fastapi", "flask"])
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    make: Callable[[ServingOptions], Any] = request.param
    offered = ("toolbox", "files", "sql", "mcp", "http")  # to probe what settings could reach
    return make(ServingOptions(builder=True, builder_toolkits=offered))


@pytest.mark.parametrize(
    "provider",
    [
        {"name": "openai", "base_url": "{url}"},
        {"name": "openai", "model": "gpt-4o-mini", "base_url": "{url}/v1"},
        {"name": "anthropic", "base_url": "{url}"},
    ],
)
def test_a_tried_spec_cannot_send_the_servers_key_to_its_own_url(
    client: Any, openai_server: FakeOpenAIServer, provider: dict[str, str]
) -> None:
    """Before, `provider.base_url` was accepted: the server's OPENAI_API_KEY went to
    whatever URL the page sent (here a listener standing in for the attacker's)."""
    chosen = {k: v.format(url=openai_server.base_url) for k, v in provider.items()}
    status, body = post(client, "/agent/builder/try", {"spec": {"provider": chosen}, "input": "hi"})
    assert status == 422
    assert "base_url" in body["error"]["message"]
    assert openai_server.count == 0
    assert all(SECRET not in str(body.get("_authorization")) for body in openai_server.requests)


@pytest.mark.parametrize(
    "toolkit",
    [
        {"toolkit": "mcp", "settings": {"server": "http://127.0.0.1:9/mcp"}},  # any URL
        {"toolkit": "sql", "settings": {"url": "sqlite:///server.db"}},  # any database
        {"toolkit": "http", "settings": {"allowed_hosts": ["169.254.169.254"]}},
    ],
)
def test_a_tried_spec_cannot_configure_an_installed_toolkit(
    client: Any, toolkit: dict[str, Any]
) -> None:
    """The page lists toolkits that need no settings and never sends any; settings
    would let it point a toolkit at any server, database or folder the server reaches."""
    status, body = post(client, "/agent/builder/try", {"spec": {"tools": [toolkit]}, "input": "hi"})
    assert status == 422
    assert "settings" in body["error"]["message"]


@pytest.mark.parametrize(("toolkit", "setting"), [("files", "root"), ("sql", "engine_or_url")])
def test_a_toolkit_that_needs_settings_is_a_clear_422_not_a_bare_500(
    client: Any, toolkit: str, setting: str
) -> None:
    spec = {"tools": [{"toolkit": toolkit}]}
    status, body = post(client, "/agent/builder/try", {"spec": spec, "input": "hi"})
    assert status == 422
    assert f"missing a required argument: '{setting}'" in body["error"]["message"]


def test_a_tried_toolkit_never_reads_the_servers_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What settings allowed before: a files toolkit rooted where the page chose, and a
    model talked into reading a secret there and repeating it in the answer."""
    (tmp_path / "secret.txt").write_text("OPENAI_API_KEY=sk-live-1234")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    options = ServingOptions(
        builder=True,
        builder_providers=("tests.fakes.spec_targets:file_reader",),
        builder_toolkits=("files",),
    )
    for make in (fastapi_client, flask_client):
        spec = {
            "provider": {"factory": "tests.fakes.spec_targets:file_reader"},
            "tools": [{"toolkit": "files", "settings": {"root": str(tmp_path)}}],
        }
        answer = make(options).post("/agent/builder/try", json={"spec": spec, "input": "hi"})
        text = answer.get_data(as_text=True) if hasattr(answer, "get_data") else answer.text
        answer.close()
        assert answer.status_code == 422, text
        assert "sk-live-1234" not in text


def test_the_export_still_writes_a_base_url(client: Any) -> None:
    """Exporting runs nothing: a spec for another server is still written out."""
    spec = {"provider": {"name": "openai", "base_url": "http://models.internal/v1"}}
    status, body = post(client, "/agent/builder/export", {"spec": spec})
    assert status == 200
    assert "http://models.internal/v1" in body["yaml"]


def coder(model: str | None = None) -> ScriptedProvider:
    """A model talked into running code: `run_python`, then it repeats the output."""

    def respond(request: Any) -> Reply | str:
        last = request.messages[-1]
        if last.role == "tool":
            return f"Ran: {last.content}"
        return Reply(calls=(call("run_python", code="print(6 * 7)"),))

    return ScriptedProvider(responder=respond, model=model or "scripted")


CODER = "tests.contract.test_builder_hostile:coder"


@pytest.mark.parametrize("make", [fastapi_client, flask_client], ids=["fastapi", "flask"])
def test_the_builder_runs_no_code_unless_the_server_offers_it(
    make: Callable[[ServingOptions], Any],
) -> None:
    """Before, every installed toolkit that builds without settings was offered, `python`
    among them: anyone reaching the builder could have a model run code on the server."""
    client = make(ServingOptions(builder=True, builder_providers=(CODER,)))
    listed = client.get("/agent/builder/catalog").json
    listed = listed() if callable(listed) else listed
    assert [toolkit["name"] for toolkit in listed["toolkits"]] == ["toolbox"]
    spec = {"provider": {"factory": CODER}, "tools": [{"toolkit": "python"}]}
    status, body = post(client, "/agent/builder/try", {"spec": spec, "input": "hi"})
    assert status == 422
    assert "builder_toolkits" in body["error"]["message"]


@pytest.mark.parametrize("make", [fastapi_client, flask_client], ids=["fastapi", "flask"])
def test_a_server_can_offer_the_python_toolkit_to_its_builder(
    make: Callable[[ServingOptions], Any],
) -> None:
    options = ServingOptions(
        builder=True, builder_providers=(CODER,), builder_toolkits=("toolbox", "python")
    )
    client = make(options)
    listed = client.get("/agent/builder/catalog").json
    listed = listed() if callable(listed) else listed
    assert {toolkit["name"] for toolkit in listed["toolkits"]} == {"toolbox", "python"}
    spec = {"provider": {"factory": CODER}, "tools": [{"toolkit": "python"}]}
    answer = client.post("/agent/builder/try", json={"spec": spec, "input": "hi"})
    text = answer.get_data(as_text=True) if hasattr(answer, "get_data") else answer.text
    answer.close()
    assert answer.status_code == 200, text
    assert "Ran: " in text
    assert "42" in text


@pytest.mark.parametrize("make", [fastapi_client, flask_client], ids=["fastapi", "flask"])
def test_a_tried_spec_may_name_anthropic_at_the_servers_own_endpoint(
    make: Callable[[ServingOptions], Any],
    anthropic_server: FakeAnthropicServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Providers by name are offered like `openai`: endpoint and key from the server."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.base_url)
    anthropic_server.add(AnthropicReply(text="Hello from Claude."))
    client = make(ServingOptions(builder=True))
    listed = client.get("/agent/builder/catalog").json
    listed = listed() if callable(listed) else listed
    assert listed["providers"][:3] == ["openai", "anthropic", "bedrock"]
    spec = {"provider": {"name": "anthropic", "model": "claude-z"}}
    answer = client.post("/agent/builder/try", json={"spec": spec, "input": "hi"})
    text = answer.get_data(as_text=True) if hasattr(answer, "get_data") else answer.text
    answer.close()
    assert answer.status_code == 200, text
    assert "Hello from Claude." in text
    assert anthropic_server.requests[0]["model"] == "claude-z"


@pytest.mark.parametrize(
    ("fallback", "message"),
    [
        ({"name": "anthropic", "base_url": "http://127.0.0.1:9"}, "fallbacks.0.base_url"),
        ({"factory": "os:system"}, "fallbacks.0.factory"),
    ],
)
def test_a_tried_spec_checks_its_fallbacks_like_its_primary(
    client: Any, fallback: dict[str, str], message: str
) -> None:
    """A fallback is a provider too: its base_url would receive the server's key."""
    spec = {"provider": {"name": "openai", "fallbacks": [fallback]}}
    status, body = post(client, "/agent/builder/try", {"spec": spec, "input": "hi"})
    assert status == 422
    assert message in body["error"]["message"]
