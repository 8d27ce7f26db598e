"""The state of one run and the loop's decisions; drivers in _drivers.py do the I/O.

All of it lives in the run, never on the agent: one agent serves any number of
concurrent runs without them seeing each other's messages.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._execution import _Prepared, prepare
from .config import AgentConfig
from .context import RunContext
from .errors import InvalidInputError, MaxIterationsError, RunTimeoutError, SessionNotFoundError
from .messages import Message, coerce_messages
from .providers.base import ModelRequest, ModelResponse
from .results import AgentResult, ToolCallRecord
from .sessions.base import StoredSession
from .usage import Usage

if TYPE_CHECKING:
    from .agent import Agent, RunInput


class RunState:
    def __init__(
        self,
        agent: Agent,
        input: RunInput,
        *,
        session_id: str | None,
        identity: str | None,
        metadata: Mapping[str, Any] | None,
        config: AgentConfig,
    ) -> None:
        self.agent = agent
        self.config = config
        self.run_id = os.urandom(16).hex()
        self.session_id = session_id
        self.identity = identity
        self.context = RunContext(
            run_id=self.run_id,
            session_id=session_id,
            identity=identity,
            metadata=dict(metadata or {}),
        )
        self.input_messages = coerce_messages(input)
        if not self.input_messages:
            raise InvalidInputError("A run needs input: a prompt string or at least one message.")
        self.deadline = (
            time.monotonic() + config.run_timeout if config.run_timeout is not None else None
        )
        self.messages: list[Message] = []
        self.new_messages: list[Message] = []
        self.records: list[ToolCallRecord] = []
        self.usage = Usage()
        self.iterations = 0
        self.model = ""

    def begin(self, stored: StoredSession | None) -> None:
        """Assemble what the model sees: system prompt, windowed history, the input."""
        if stored is not None and stored.owner is not None and self.identity != stored.owner:
            # Same answer as a missing session: never reveal that someone else's exists.
            raise SessionNotFoundError(f"No session '{self.session_id}' for this caller.")
        history = list(stored.messages) if stored is not None else []
        prompt = self.agent.system_prompt
        system = [Message.system(prompt)] if prompt else []
        # The window budgets the whole request, system prompt included.
        self.messages = self.agent.memory.window(system + history + self.input_messages)

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.timeout_error()
        return left

    def timeout_error(self) -> RunTimeoutError:
        return RunTimeoutError(
            f"The run took longer than run_timeout={self.config.run_timeout:g} s and was "
            f"stopped. Raise AgentConfig.run_timeout or give tools tighter timeouts."
        )

    def next_request(self) -> ModelRequest:
        if self.iterations >= self.config.max_iterations:
            raise MaxIterationsError(
                f"The model was still calling tools after {self.iterations} model calls "
                f"(max_iterations={self.config.max_iterations}). Raise "
                f"AgentConfig.max_iterations, or check the tool errors it keeps retrying.",
                partial=self.result(),
            )
        self.iterations += 1
        return ModelRequest(
            messages=tuple(self.messages),
            tools=self.agent.tool_schemas,
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            parallel_tool_calls=self.config.parallel_tool_calls,
            timeout=self.remaining(),
        )

    def accept(self, response: ModelResponse) -> list[_Prepared | ToolCallRecord]:
        """Record the model's answer; return the tool calls to run (empty: the run is done)."""
        self.usage = self.usage + response.usage
        self.model = response.model or self.model
        self.messages.append(response.message)
        self.new_messages.append(response.message)
        tools = self.agent.tools
        return [prepare(tools, call, self.context) for call in response.message.tool_calls]

    def add_results(self, records: list[ToolCallRecord]) -> None:
        for record in records:
            message = Message.tool(record.output, tool_call_id=record.id, name=record.name)
            self.messages.append(message)
            self.new_messages.append(message)
        self.records.extend(records)

    def to_store(self) -> list[Message]:
        return [*self.input_messages, *self.new_messages]

    def result(self) -> AgentResult:
        final = self.new_messages[-1] if self.new_messages else None
        text = final.content or "" if final is not None and final.role == "assistant" else ""
        return AgentResult(
            text=text,
            messages=tuple(self.messages),
            new_messages=tuple(self.new_messages),
            tool_calls=tuple(self.records),
            usage=self.usage,
            run_id=self.run_id,
            session_id=self.session_id,
            model=self.model,
            iterations=self.iterations,
        )
