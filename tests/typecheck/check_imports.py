"""What type checkers make of imports from packages that load names lazily.

mypy runs this file (pyproject `files`), pytest does not. With
`warn_unused_ignores`, each `type: ignore` below must be needed: a misspelled
name is an error, not `Any`.
"""

from __future__ import annotations

from typing import assert_type

from selectools import Agent, ScriptedProvider
from selectools.memory import RecallMemories
from selectools.policies import Retry
from selectools.sessions import SQLAlchemySessionStore
from selectools.telemetry import OpenTelemetry


def lazy_names_have_their_real_types() -> None:
    assert_type(ScriptedProvider(["hi"]), ScriptedProvider)
    assert_type(Retry(), Retry)
    assert_type(SQLAlchemySessionStore("sqlite://"), SQLAlchemySessionStore)
    assert_type(OpenTelemetry(), OpenTelemetry)
    assert_type(RecallMemories, type[RecallMemories])
    assert_type(Agent, type[Agent])


def misspelled_names_are_errors() -> None:
    from selectools import Agnet  # type: ignore[attr-defined]
    from selectools.policies import Retyr  # type: ignore[attr-defined]
    from selectools.providers import OpenAIProvder  # type: ignore[attr-defined]
    from selectools.sessions import RedisSessionStor  # type: ignore[attr-defined]
    from selectools.telemetry import OpenTelemetri  # type: ignore[attr-defined]

    del Agnet, Retyr, OpenAIProvder, RedisSessionStor, OpenTelemetri
