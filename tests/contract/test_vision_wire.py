"""Images sent to either adapter reach the model upstream intact (regression: they were dropped)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import openai
import pytest

from selectools import Agent, OpenAIProvider
from tests.contract import apps
from tests.fakes.anthropic_server import AnthropicReply, FakeAnthropicServer
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply
from tests.fakes.servers import UvicornThread

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
AUTH = {"Authorization": "Bearer token-ada"}


@contextmanager
def fastapi_server(agent: Agent) -> Iterator[str]:
    with UvicornThread(apps.fastapi_app(agent)) as server:
        yield server.url


@contextmanager
def flask_server(agent: Agent) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, apps.flask_app(agent), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


Serve = Callable[[Agent], Any]


@pytest.fixture(params=["fastapi", "flask"])
def serve(request: pytest.FixtureRequest) -> Serve:
    return fastapi_server if request.param == "fastapi" else flask_server


def _agent(upstream: FakeOpenAIServer) -> Agent:
    return Agent(provider=OpenAIProvider("gpt-4o", base_url=upstream.base_url, max_retries=0))


def test_openai_client_image_reaches_the_upstream(
    serve: Serve, openai_server: FakeOpenAIServer
) -> None:
    openai_server.add(FakeReply(text="a red square"), FakeReply(text="still red"))
    with serve(_agent(openai_server)) as url:
        client = openai.OpenAI(base_url=f"{url}/agent/v1", api_key="token-ada", max_retries=0)
        content = [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": DATA_URL, "detail": "high"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ]
        answer = client.chat.completions.create(
            model="selectools-agent", messages=[{"role": "user", "content": content}]
        )
        assert answer.choices[0].message.content == "a red square"
        chunks = client.chat.completions.create(
            model="selectools-agent",
            messages=[{"role": "user", "content": content}],
            stream=True,
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    for upstream in openai_server.requests:
        assert upstream["messages"][-1]["content"] == content  # byte for byte, both times


def test_invoke_takes_anthropic_shaped_images(
    serve: Serve, openai_server: FakeOpenAIServer
) -> None:
    openai_server.add(FakeReply(text="ok"))
    image = {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(PNG).decode(),
        },
    }
    with serve(_agent(openai_server)) as url:
        body = {"input": [{"role": "user", "content": [{"type": "text", "text": "hi"}, image]}]}
        response = httpx.post(f"{url}/agent/invoke", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    sent = openai_server.requests[0]["messages"][-1]["content"][1]
    assert sent == {"type": "image_url", "image_url": {"url": DATA_URL}}


BAD_PARTS = [
    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}},
    {"type": "file", "file": {"file_id": "file-123"}},
]


def test_parts_nobody_can_carry_are_a_422_not_a_silent_drop(
    serve: Serve, openai_server: FakeOpenAIServer
) -> None:
    with serve(_agent(openai_server)) as url:
        for part in BAD_PARTS:
            content = [{"type": "text", "text": "x"}, part]
            chat = {"messages": [{"role": "user", "content": content}]}
            response = httpx.post(f"{url}/agent/v1/chat/completions", json=chat, headers=AUTH)
            assert response.status_code == 422, (part, response.text)
            assert "error" in response.json()
            invoke = {"input": [{"role": "user", "content": content}]}
            response = httpx.post(f"{url}/agent/invoke", json=invoke, headers=AUTH)
            assert response.status_code == 422, (part, response.text)
    assert openai_server.count == 0


def test_openai_client_image_reaches_an_anthropic_upstream_as_an_image_block(
    serve: Serve, anthropic_server: FakeAnthropicServer
) -> None:
    from selectools import AnthropicProvider

    anthropic_server.add(AnthropicReply(text="a red square"))
    claude = AnthropicProvider(api_key="sk-ant-test", base_url=anthropic_server.base_url)
    with serve(Agent(provider=claude)) as url:
        client = openai.OpenAI(base_url=f"{url}/agent/v1", api_key="token-ada", max_retries=0)
        content = [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": DATA_URL}},
        ]
        answer = client.chat.completions.create(
            model="selectools-agent", messages=[{"role": "user", "content": content}]
        )
    assert answer.choices[0].message.content == "a red square"
    blocks = anthropic_server.requests[0]["messages"][0]["content"]
    assert blocks == [
        {"type": "text", "text": "What is this?"},
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": base64.b64encode(PNG).decode(),
            },
        },
    ]
