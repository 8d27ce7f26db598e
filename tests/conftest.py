"""Fixtures shared by every test folder: fake servers, scripted models, real services."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.bedrock_server import FakeBedrockServer
from tests.fakes.openai_server import FakeOpenAIServer

POSTGRES_URL = os.environ.get(
    "SELECTOOLS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SELECTOOLS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    server = FakeAnthropicServer().start()
    yield server
    server.stop()


@pytest.fixture
def bedrock_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrockServer]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    server = FakeBedrockServer().start()
    yield server
    server.stop()


def _service_missing(reason: str) -> None:
    """Skip where a developer has no server; in CI (which provides them) that is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, but CI must provide it")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> str:
    if not _port_open("127.0.0.1", 5432):
        _service_missing("PostgreSQL is not running on 127.0.0.1:5432")
    pytest.importorskip("psycopg", reason='needs psycopg: pip install -e ".[postgres]"')
    return POSTGRES_URL


@pytest.fixture
def unique_name() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def redis_url() -> str:
    if not _port_open("127.0.0.1", 6379):
        _service_missing("Redis is not running on 127.0.0.1:6379")
    pytest.importorskip("redis", reason='needs redis: pip install -e ".[redis]"')
    return REDIS_URL
