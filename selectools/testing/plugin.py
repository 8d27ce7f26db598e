"""The selectools pytest plugin: fixtures for testing agents without a model or network.

Registered through the `pytest11` entry point, so installing selectools is
enough. Fixtures:

- `scripted_provider`: a factory, `scripted_provider("Hi", call("t", x=1))`.
- `fake_openai_server`: a local OpenAI-compatible server on 127.0.0.1
  (`.add(FakeReply(...))`, `.base_url`, `.requests`), stopped after the test.
- `replay_cassette`: `replay_cassette(make_provider)` returns a provider that
  replays `cassettes/<module>/<test>.json` beside the test file, or, with
  `pytest --record`, records it from `make_provider()` (never without
  `--record`: a missing cassette fails, it does not reach the model). Its `.tool_policy` records or
  replays tool results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..providers.base import Provider
    from ..providers.scripted import ScriptedProvider
    from .openai_server import FakeOpenAIServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("selectools")
    group.addoption(
        "--record",
        action="store_true",
        default=False,
        help="selectools: record replay_cassette cassettes again from the real provider.",
    )


@pytest.fixture
def scripted_provider() -> Callable[..., ScriptedProvider]:
    """A factory of ScriptedProviders: `scripted_provider(*steps, **options)`."""
    from ..providers.scripted import ScriptedProvider

    def make(*steps: Any, **options: Any) -> ScriptedProvider:
        return ScriptedProvider(steps, **options)

    return make


@pytest.fixture
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """A local OpenAI-compatible chat-completions server for the real SDK to talk to."""
    from .openai_server import FakeOpenAIServer

    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def replay_cassette(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Replay this test's cassette, or record it with `--record`."""
    from ..providers.recording import RecordingProvider, ReplayProvider

    record = bool(request.config.getoption("--record", default=False))
    module = Path(str(request.node.path))
    folder = module.parent / "cassettes" / module.stem

    def cassette(
        make_provider: Callable[[], Provider] | None = None, *, name: str | None = None
    ) -> Any:
        path = folder / f"{_safe(name or request.node.name)}.json"
        if record:
            if make_provider is None:
                raise pytest.UsageError(
                    f"--record needs a provider to record {path.name} from: "
                    f"replay_cassette(lambda: OpenAIProvider(...))."
                )
            return RecordingProvider(make_provider(), path)
        return ReplayProvider(path)

    return cassette


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "cassette"
