"""ScriptedProvider as a long-running test double: bounded log, incremental estimates."""

from __future__ import annotations

from collections.abc import Sequence

from selectools import Agent, Message, ModelRequest, ScriptedProvider, call, tool
from selectools.memory import ConversationMemory
from selectools.sequences import joined


def full_estimate(messages: Sequence[Message]) -> int:
    """The estimate computed from scratch: what the incremental one must equal."""
    return sum(
        (len(m.content or "") + sum(len(c.arguments) for c in m.tool_calls)) // 4 + 1
        for m in messages
    )


def test_the_request_log_keeps_only_the_latest_requests() -> None:
    provider = ScriptedProvider(["ok"], cycle=True, keep_requests=3)
    for i in range(10):
        provider.complete(ModelRequest(messages=(Message.user(f"q{i}"),)))
    assert len(provider.requests) == 3
    assert [r.messages[0].content for r in provider.requests] == ["q7", "q8", "q9"]


def test_the_log_can_keep_everything_when_asked() -> None:
    provider = ScriptedProvider(["ok"], cycle=True, keep_requests=None)
    for i in range(1500):
        provider.complete(ModelRequest(messages=(Message.user(f"q{i}"),)))
    assert len(provider.requests) == 1500


def test_incremental_estimate_equals_a_full_count_for_every_shape_of_request() -> None:
    provider = ScriptedProvider(["ok"], cycle=True)
    base = [Message.user("x" * (i * 7)) for i in range(50)]
    shapes = [
        tuple(base[:10]),
        tuple(base[:30]),  # extends the previous request
        tuple(base[:20]),  # shorter: a prefix of the previous
        tuple(base[5:25]),  # the window dropped the front
        (*base[5:15], Message.user("changed"), *base[16:40]),  # differs in the middle
        (),
        tuple(base),
        tuple(base),  # the same request again
        joined(tuple(base), (Message.user("next"),)),  # a view extending it (a run's next call)
        joined(tuple(base[:45]), (Message.user("other"),)),  # a view that does not
        (Message.assistant(None, ()), *base),
    ]
    for messages in shapes:
        response = provider.complete(ModelRequest(messages=messages))
        assert response.usage.input_tokens == full_estimate(messages), messages


def test_estimate_counts_tool_call_arguments() -> None:
    @tool
    def lookup(order_id: int) -> str:
        """Find an order."""
        return "found " * 40

    provider = ScriptedProvider([call("lookup", order_id=12345), "done"])
    result = Agent([lookup], provider).run("where is my order?")
    second = provider.requests[-1]
    assert result.usage.input_tokens == full_estimate(
        provider.requests[0].messages
    ) + full_estimate(second.messages)


def test_a_session_history_is_counted_once_not_per_run() -> None:
    """Consecutive runs of a session share their history: the estimate still matches."""
    provider = ScriptedProvider(["ok"], cycle=True)
    agent = Agent([], provider, memory=ConversationMemory())
    for i in range(20):
        result = agent.run(f"question number {i}", session_id="s")
        assert result.usage.input_tokens == full_estimate(provider.requests[-1].messages)
    assert len(provider.requests[-1].messages) == 39
