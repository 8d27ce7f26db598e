"""Lone UTF-16 surrogates from a model: text made well formed where it enters a run,
tool arguments refused, answers always encodable (before, each was a bare 500 or a lost
session write)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from selectools import Agent, ConversationMemory, ScriptedProvider, TextDelta, call, tool
from selectools.sessions import SQLAlchemySessionStore
from selectools.unicode import decodes_to_lone_surrogate, dumps_json, well_formed

written: list[str] = []


@tool
def note(text: str) -> str:
    """Write a note."""
    written.append(text)
    return f"noted {text}"


@pytest.fixture(autouse=True)
def _clean() -> None:
    written.clear()


def test_well_formed_replaces_only_lone_surrogates() -> None:
    clean = "plain ascii"
    assert well_formed(clean) is clean
    assert well_formed("émoji 😀") == "émoji 😀"
    assert well_formed("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert dumps_json({"t": "a\ud800"}) == b'{"t": "a\\ud800"}'


@pytest.mark.parametrize(
    ("raw", "lone"),
    [
        ('{"text": "a\\ud800b"}', True),
        ('{"text": "a\\uDFFF"}', True),
        ('{"text": "\\ud83d\\ude00"}', False),  # an escaped pair is one character
        ('{"text": "\\u00e9"}', False),
        ('{"text": "plain"}', False),
        ('{"text": "a\ud800"}', True),  # the character itself, not escaped
    ],
)
def test_decodes_to_lone_surrogate(raw: str, lone: bool) -> None:
    assert decodes_to_lone_surrogate(raw) is lone


def test_arguments_with_a_lone_surrogate_go_back_to_the_model_and_the_tool_never_runs() -> None:
    script = ScriptedProvider(
        [call("note", '{"text": "x\\ud800"}'), call("note", '{"text": "\\ud83d\\ude00"}'), "ok"]
    )
    result = Agent([note], script).run("write")
    refused, done = result.tool_calls
    assert refused.error_type == "invalid_arguments"
    assert "lone UTF-16 surrogate" in refused.output
    assert done.ok
    assert written == ["😀"]


def test_a_models_lone_surrogate_is_stored_and_answered_as_text(tmp_path: Path) -> None:
    store = SQLAlchemySessionStore(f"sqlite:///{tmp_path / 's.db'}")
    agent = Agent([], ScriptedProvider(["half \ud83d emoji"]), memory=ConversationMemory(store))
    result = agent.run("hi", session_id="s1")
    assert result.text == "half \ufffd emoji"
    stored = store.load("s1")
    assert stored is not None
    assert stored.messages[-1].content == "half \ufffd emoji"
    json.dumps([m.to_dict() for m in stored.messages], ensure_ascii=False).encode()


def test_streamed_text_and_tool_outputs_are_well_formed() -> None:
    @tool
    def broken() -> str:
        """Returns text with a lone surrogate (say, a file read with surrogateescape)."""
        return "bad \udc80 byte"

    agent = Agent([broken], ScriptedProvider([call("broken"), "tail \udfff"]))
    events = list(agent.stream("go"))
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert deltas == "tail \ufffd"
    finished: Any = events[-1]
    assert finished.result.tool_calls[0].output == "bad \ufffd byte"
    for message in finished.result.messages:
        (message.content or "").encode("utf-8")
