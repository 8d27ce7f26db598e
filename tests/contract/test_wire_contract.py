"""The HTTP contract both adapters honour: same routes, bodies, statuses and SSE events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.conftest import Answer, parse_sse

BOB = {"Authorization": "Bearer token-bob"}


def invoke(api: Any, body: dict[str, Any], **kwargs: Any) -> Answer:
    result: Answer = api.request("POST", "/agent/invoke", json=body, **kwargs)
    return result


def test_invoke_returns_output_tool_calls_and_usage(api: Any) -> None:
    answer = invoke(api, {"input": "weather in Paris"})
    assert answer.status == 200
    body = answer.body
    assert body["output"] == "Done: sunny in Paris"
    assert body["tool_calls"][0]["name"] == "get_weather"
    assert body["tool_calls"][0]["arguments"] == {"city": "Paris"}
    assert body["usage"]["requests"] == 2
    assert set(body) >= {"run_id", "session_id", "model", "iterations", "cost_usd"}


def test_tools_receive_identity_and_context_from_the_host_app(api: Any) -> None:
    answer = invoke(api, {"input": "whoami"})
    assert answer.body["output"] == "Done: identity=ada tenant=acme"


def test_host_auth_applies(api: Any) -> None:
    assert invoke(api, {"input": "hi"}, headers={}).status == 401
    assert api.request("GET", "/agent/tools", headers={}).status == 401


def test_sessions_continue_and_belong_to_their_owner(api: Any) -> None:
    first = invoke(api, {"input": "hello", "session_id": "s-1"})
    second = invoke(api, {"input": "again", "session_id": "s-1"})
    assert first.body["output"] == "You said: hello (turn 1)"
    assert second.body["output"] == "You said: again (turn 2)"

    stored = api.request("GET", "/agent/sessions/s-1")
    assert stored.status == 200
    assert [m["content"] for m in stored.body["messages"]] == [
        "hello",
        "You said: hello (turn 1)",
        "again",
        "You said: again (turn 2)",
    ]
    # another user can neither read, delete nor continue it: it does not exist for them
    assert api.request("GET", "/agent/sessions/s-1", headers=BOB).status == 404
    assert api.request("DELETE", "/agent/sessions/s-1", headers=BOB).status == 404
    assert invoke(api, {"input": "x", "session_id": "s-1"}, headers=BOB).status == 404

    assert api.request("DELETE", "/agent/sessions/s-1").status == 204
    gone = api.request("GET", "/agent/sessions/s-1")
    assert gone.status == 404
    assert gone.body["error"]["type"] == "session_not_found_error"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.input"),
        ({"input": 42}, "body.input"),
        ({"input": "x", "surprise": 1}, "body.surprise"),
        ({"input": [{"role": "wizard", "content": "x"}]}, "body.input"),
        ({"input": "x", "config": {"max_iterations": 0}}, "body.config.max_iterations"),
        ({"input": "x", "session_id": ""}, "body.session_id"),
    ],
)
def test_bad_bodies_get_422_naming_the_field(api: Any, body: dict[str, Any], field: str) -> None:
    answer = invoke(api, body)
    assert answer.status == 422
    assert answer.body["error"]["type"] == "invalid_request"
    locs = [".".join(f["loc"]) for f in answer.body["error"]["fields"]]
    assert any(loc.startswith(field) for loc in locs), locs
    assert field.removeprefix("body.").split(".")[0] in answer.body["error"]["message"]


def test_malformed_json_gets_422(api: Any) -> None:
    answer = api.request(
        "POST",
        "/agent/invoke",
        content=b'{"input": ',
        headers={**{"Content-Type": "application/json"}, **{"Authorization": "Bearer token-ada"}},
    )
    assert answer.status == 422
    assert answer.body["error"]["type"] == "invalid_request"


def test_empty_message_list_gets_422(api: Any) -> None:
    answer = invoke(api, {"input": []})
    assert answer.status == 422
    assert "needs input" in answer.body["error"]["message"]


def test_limits_give_413(api: Any) -> None:
    long_input = invoke(api, {"input": "x" * 2_001})
    assert long_input.status == 413
    assert "limit is 2000" in long_input.body["error"]["message"]
    huge_body = invoke(api, {"input": "x", "pad": "y" * 30_000})
    assert huge_body.status == 413
    assert huge_body.body["error"]["type"] == "request_too_large"
    batch = api.request("POST", "/agent/batch", json={"inputs": [{"input": "a"}] * 5})
    assert batch.status == 413


@pytest.mark.parametrize(
    ("prompt", "status", "kind"),
    [
        ("fail:auth", 502, "provider_auth_error"),
        ("fail:ratelimit", 429, "rate_limit_error"),
        ("fail:timeout", 504, "provider_timeout_error"),
        ("fail:context", 400, "context_length_error"),
    ],
)
def test_provider_errors_are_translated(api: Any, prompt: str, status: int, kind: str) -> None:
    answer = invoke(api, {"input": prompt})
    assert answer.status == status
    assert answer.body["error"]["type"] == kind
    assert answer.body["error"]["message"]
    if status == 429:
        assert answer.headers.get("retry-after") == "3"


def test_unexpected_errors_reveal_nothing(api: Any) -> None:
    answer = invoke(api, {"input": "fail:bug"})
    assert answer.status == 500
    assert answer.body == {
        "error": {
            "type": "internal_error",
            "message": "The run failed unexpectedly; see server logs.",
        }
    }
    assert "secret" not in answer.text
    assert "Traceback" not in answer.text


def test_stream_events_and_terminal_event(api: Any) -> None:
    answer = api.request("POST", "/agent/stream", json={"input": "weather in Oslo"})
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(answer.text)
    names = [name for name, _ in events]
    assert names[0] == "run_started"
    assert names[-1] == "run_finished"
    assert names.count("run_finished") == 1
    assert "tool_call_started" in names
    assert "tool_call_finished" in names
    for name, data in events:
        assert data["type"] == name
    deltas = "".join(d["text"] for n, d in events if n == "text_delta")
    assert deltas == events[-1][1]["output"] == "Done: sunny in Oslo"


def test_stream_errors_end_with_an_error_event(api: Any) -> None:
    answer = api.request("POST", "/agent/stream", json={"input": "fail:ratelimit"})
    events = parse_sse(answer.text)
    assert [n for n, _ in events] == ["run_started", "error"]
    assert events[-1][1]["error"]["type"] == "rate_limit_error"
    assert events[-1][1]["error"]["status"] == 429


def test_stream_validates_before_streaming(api: Any) -> None:
    assert api.request("POST", "/agent/stream", json={"nope": 1}).status == 422
    assert api.request("POST", "/agent/stream", json={"input": "x" * 3000}).status == 413


def test_batch_runs_all_inputs_in_order_and_isolates_failures(api: Any) -> None:
    inputs = [{"input": "weather in Rome"}, {"input": "fail:auth"}, {"input": "hello"}]
    answer = api.request("POST", "/agent/batch", json={"inputs": inputs})
    assert answer.status == 200
    results = answer.body["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert results[0]["result"]["output"] == "Done: sunny in Rome"
    assert results[1]["status"] == 502
    assert results[1]["error"]["type"] == "provider_auth_error"
    assert results[2]["result"]["output"] == "You said: hello (turn 1)"


def test_tools_route(api: Any) -> None:
    answer = api.request("GET", "/agent/tools")
    tools = {t["name"]: t for t in answer.body["tools"]}
    assert set(tools) == {"get_weather", "whoami", "slow_lookup"}
    assert tools["get_weather"]["parameters"]["properties"]["city"]["type"] == "string"
    assert tools["whoami"]["parameters"]["properties"] == {}  # run context is hidden


def test_openai_models_and_completion(api: Any) -> None:
    models = api.request("GET", "/agent/v1/models")
    assert models.body["data"][0]["id"] == "selectools-agent"
    body = {"model": "selectools-agent", "messages": [{"role": "user", "content": "hi"}]}
    answer = api.request("POST", "/agent/v1/chat/completions", json=body)
    assert answer.status == 200
    assert answer.body["object"] == "chat.completion"
    assert answer.body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "You said: hi (turn 1)",
    }
    assert answer.body["usage"]["total_tokens"] > 0


def test_openai_stream(api: Any) -> None:
    body = {
        "messages": [{"role": "user", "content": "weather in Lima"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    answer = api.request("POST", "/agent/v1/chat/completions", json=body)
    chunks = [data for _, data in parse_sse(answer.text)]
    assert chunks[-1] == {"done": True}
    text = "".join(
        c["choices"][0]["delta"].get("content", "") for c in chunks[:-1] if c.get("choices")
    )
    assert text == "Done: sunny in Lima"
    finals = [c for c in chunks[:-1] if c.get("choices") and c["choices"][0]["finish_reason"]]
    assert len(finals) == 1
    assert chunks[-2]["usage"]["total_tokens"] > 0


def test_openai_errors_use_openai_shape(api: Any) -> None:
    body = {"messages": [{"role": "user", "content": "fail:auth"}]}
    answer = api.request("POST", "/agent/v1/chat/completions", json=body)
    assert answer.status == 502
    assert answer.body["error"]["message"]
    empty = api.request("POST", "/agent/v1/chat/completions", json={"messages": []})
    assert empty.status == 422


CLIENT_TOOL = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}


@pytest.mark.parametrize(
    "extra",
    [
        {"tools": [CLIENT_TOOL]},
        {"tools": [CLIENT_TOOL], "stream": True},
        {"functions": [{"name": "lookup", "parameters": {}}]},
        {"tool_choice": "required"},
        {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    ],
)
def test_client_side_tools_are_refused_not_ignored(api: Any, extra: dict[str, Any]) -> None:
    body = {"messages": [{"role": "user", "content": "weather in Lima"}], **extra}
    answer = api.request("POST", "/agent/v1/chat/completions", json=body)
    assert answer.status == 400
    assert answer.body["error"]["type"] == "unsupported"
    assert "client-side tools" in answer.body["error"]["message"]


def test_no_client_tools_is_still_fine(api: Any) -> None:
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [],
        "tool_choice": "auto",
    }
    assert api.request("POST", "/agent/v1/chat/completions", json=body).status == 200


@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_keepalive_comments_while_tools_run(adapter: str) -> None:
    """A 0.6 s tool with a 0.05 s keep-alive: the idle stream carries comment lines."""
    from selectools.serving import ServingOptions
    from tests.contract import apps
    from tests.contract.conftest import AUTH
    from tests.fakes.agents import make_agent

    options = ServingOptions(keepalive_seconds=0.05)
    if adapter == "fastapi":
        from fastapi.testclient import TestClient

        client: Any = TestClient(apps.fastapi_app(make_agent(), options))
        text = client.post("/agent/stream", json={"input": "slow news"}, headers=AUTH).text
    else:
        flask_client = apps.flask_app(make_agent(), options).test_client()
        text = flask_client.post(
            "/agent/stream", json={"input": "slow news"}, headers=AUTH
        ).get_data(as_text=True)
    assert ": keep-alive" in text
    events = parse_sse(text)
    assert events[-1][1]["output"] == "Done: facts about news"
