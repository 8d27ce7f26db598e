"""Testing agents: assertion helpers, a fake OpenAI-compatible server, a load-test helper.

The pytest plugin (`selectools.testing.plugin`, registered through the
`pytest11` entry point when selectools is installed) adds the fixtures
`scripted_provider`, `fake_openai_server` and `replay_cassette` (with the
`--record` option to refresh cassettes).
"""

from __future__ import annotations

from .assertions import assert_tool_called, assert_tool_not_called
from .load import LoadReport, load_test, run_load_test
from .openai_server import FakeOpenAIServer, FakeReply

__all__ = [
    "FakeOpenAIServer",
    "FakeReply",
    "LoadReport",
    "assert_tool_called",
    "assert_tool_not_called",
    "load_test",
    "run_load_test",
]
