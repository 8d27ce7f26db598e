"""The OpenTelemetry GenAI semantic conventions this package speaks: names and message shapes.

Kept apart from the tracing code so the attribute names are written once and
the (opt-in) message content is shaped the way the conventions describe:
`[{"role": ..., "parts": [{"type": "text", "content": ...}, ...]}]`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..messages import Message

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
RESPONSE_MODEL = "gen_ai.response.model"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
TOKEN_TYPE = "gen_ai.token.type"
AGENT_NAME = "gen_ai.agent.name"
AGENT_ID = "gen_ai.agent.id"
CONVERSATION_ID = "gen_ai.conversation.id"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_DESCRIPTION = "gen_ai.tool.description"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
ERROR_TYPE = "error.type"

CHAT = "chat"
INVOKE_AGENT = "invoke_agent"
EXECUTE_TOOL = "execute_tool"

TOKEN_USAGE_METRIC = "gen_ai.client.token.usage"
DURATION_METRIC = "gen_ai.client.operation.duration"
# The bucket boundaries the conventions advise for each histogram.
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304]
DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24]
DURATION_BUCKETS += [20.48, 40.96, 81.92]


def input_messages(messages: Sequence[Message]) -> tuple[str, str | None]:
    """(`gen_ai.input.messages`, `gen_ai.system_instructions` or None) as JSON text."""
    system = [{"type": "text", "content": m.content} for m in messages if m.role == "system"]
    chat = [_message(m) for m in messages if m.role != "system"]
    return _json(chat), _json(system) if system else None


def output_messages(message: Message, finish_reason: str | None) -> str:
    entry = _message(message)
    entry["finish_reason"] = finish_reason or "stop"
    return _json([entry])


def _message(message: Message) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if message.role == "tool":
        parts.append(
            {"type": "tool_call_response", "id": message.tool_call_id, "response": message.content}
        )
    elif message.content:
        parts.append({"type": "text", "content": message.content})
    for call in message.tool_calls:
        parts.append(
            {
                "type": "tool_call",
                "id": call.id,
                "name": call.name,
                "arguments": _args(call.arguments),
            }
        )
    return {"role": message.role, "parts": parts}


def _args(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def arguments_json(arguments: Mapping[str, Any] | None, raw: str) -> str:
    if arguments is None:
        return raw
    return _json(dict(arguments))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
