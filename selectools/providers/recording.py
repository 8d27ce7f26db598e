"""Record real model exchanges to a cassette, replay them offline: snapshot tests of agents.

`RecordingProvider(provider, "cassette.json")` passes every call through and
writes what was asked and answered; `ReplayProvider("cassette.json")` answers
from the file with no model at all, and fails with a readable diff the moment
the agent asks something else (a changed prompt, tool or setting). Each has a
`tool_policy` too: recording keeps every tool result, replaying hands those
results back instead of calling the tool, so a test needs no external system:

    recorder = RecordingProvider(OpenAIProvider(), "cassette.json")
    agent = Agent(tools, recorder, policies=[recorder.tool_policy])
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ProviderError
from ..messages import Message
from ..policies.base import ToolPolicy
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from ..tools.results import format_tool_result
from ..usage import Usage
from .base import ModelRequest, ModelResponse, Provider, TextChunk

__all__ = ["CassetteMismatchError", "RecordingProvider", "ReplayProvider", "request_snapshot"]

VERSION = 1


class CassetteMismatchError(ProviderError):
    """The agent asked something the cassette did not record; the message shows the diff."""


def request_snapshot(request: ModelRequest) -> dict[str, Any]:
    """What a request is compared by: messages, tools and settings (not ids, timeouts, callers)."""
    return {
        "messages": [message.to_dict() for message in request.messages],
        "tools": [dict(schema) for schema in request.tools],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "parallel_tool_calls": request.parallel_tool_calls,
        "extra": dict(request.extra),
    }


def _response_data(response: ModelResponse) -> dict[str, Any]:
    usage = response.usage
    return {
        "message": response.message.to_dict(),
        "model": response.model,
        "finish_reason": response.finish_reason,
        "provider": response.provider,
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "requests": usage.requests,
            "cost_usd": usage.cost_usd,
        },
    }


def _response(data: Mapping[str, Any]) -> ModelResponse:
    return ModelResponse(
        message=Message.from_dict(data["message"]),
        usage=Usage(**data.get("usage", {})),
        model=data.get("model", ""),
        finish_reason=data.get("finish_reason"),
        provider=data.get("provider", ""),
    )


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


class _Cassette:
    """The file: model interactions in order and tool results by call id (thread-safe)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock = threading.Lock()
        self.interactions: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []

    def load(self) -> _Cassette:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"No cassette at {self.path}: record it first (RecordingProvider, or "
                f"pytest --record with the selectools plugin)."
            ) from None
        if data.get("version") != VERSION:
            raise ValueError(f"{self.path} is not a selectools cassette (version {VERSION}).")
        self.interactions = list(data["interactions"])
        self.tools = list(data.get("tools", []))
        return self

    def save(self) -> None:
        """Write atomically, so an interrupted test never leaves half a cassette."""
        data = {"version": VERSION, "interactions": self.interactions, "tools": self.tools}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, self.path)


class RecordingProvider:
    """Calls `provider` and writes each request and answer to `path` (overwritten on start)."""

    def __init__(self, provider: Provider, path: str | os.PathLike[str]) -> None:
        self.inner = provider
        self.cassette = _Cassette(path)
        self.cassette.save()
        self.tool_policy: ToolPolicy = _RecordTools(self.cassette)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str:
        return self.inner.model

    def __repr__(self) -> str:
        return f"RecordingProvider({self.inner!r}, {str(self.cassette.path)!r})"

    def _keep(self, request: ModelRequest, response: ModelResponse) -> None:
        entry = {"request": request_snapshot(request), "response": _response_data(response)}
        with self.cassette.lock:
            self.cassette.interactions.append(_json_safe(entry))
            self.cassette.save()

    def complete(self, request: ModelRequest) -> ModelResponse:
        response = self.inner.complete(request)
        self._keep(request, response)
        return response

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        response = await self.inner.acomplete(request)
        self._keep(request, response)
        return response

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        for item in self.inner.stream(request):
            if isinstance(item, ModelResponse):
                self._keep(request, item)
            yield item

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        async for item in self.inner.astream(request):
            if isinstance(item, ModelResponse):
                self._keep(request, item)
            yield item


class _RecordTools(ToolPolicy):
    def __init__(self, cassette: _Cassette) -> None:
        self.cassette = cassette

    def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> None:
        entry = {
            "id": record.id,
            "name": record.name,
            "arguments": dict(invocation.arguments),
            "result": record.result,
            "output": record.output,
            "error": record.error,
            "error_type": record.error_type,
        }
        with self.cassette.lock:
            self.cassette.tools.append(_json_safe(entry))
            self.cassette.save()


class ReplayProvider:
    """Answers from a cassette in order; a request that differs raises with a diff.

    `strict=False` only checks that the cassette has an answer left (for
    tests that change prompts on purpose).
    """

    def __init__(self, path: str | os.PathLike[str], *, strict: bool = True) -> None:
        self.cassette = _Cassette(path).load()
        self.strict = strict
        self._position = 0
        self._lock = threading.Lock()
        first = self.cassette.interactions[0]["response"] if self.cassette.interactions else {}
        self.name = first.get("provider") or "replay"
        self.model = first.get("model") or "replay"
        self.tool_policy: ToolPolicy = _ReplayTools(self.cassette)

    def __repr__(self) -> str:
        return f"ReplayProvider({str(self.cassette.path)!r})"

    @property
    def remaining(self) -> int:
        """Recorded answers not played yet."""
        return len(self.cassette.interactions) - self._position

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self._answer(request)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        return self._answer(request)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        response = self._answer(request)
        for piece in re.findall(r"\S+\s*|\s+", response.message.content or ""):
            yield TextChunk(piece)
        yield response

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        for item in self.stream(request):
            yield item

    def _answer(self, request: ModelRequest) -> ModelResponse:
        with self._lock:
            index = self._position
            if index >= len(self.cassette.interactions):
                raise CassetteMismatchError(
                    f"The agent made model call {index + 1}, but {self.cassette.path} recorded "
                    f"only {index}. Re-record the cassette if the new behaviour is right.",
                    provider="replay",
                )
            self._position += 1
        recorded = self.cassette.interactions[index]
        if self.strict:
            expected = recorded["request"]
            actual = _json_safe(request_snapshot(request))
            if actual != expected:
                raise CassetteMismatchError(
                    f"Model call {index + 1} differs from {self.cassette.path} "
                    f"(- recorded, + now):\n{_diff(expected, actual)}\n"
                    f"Re-record the cassette if the new request is right.",
                    provider="replay",
                )
        return _response(recorded["response"])


def _diff(expected: Any, actual: Any) -> str:
    before = json.dumps(expected, indent=2, ensure_ascii=False, sort_keys=True).splitlines()
    after = json.dumps(actual, indent=2, ensure_ascii=False, sort_keys=True).splitlines()
    lines = difflib.unified_diff(before, after, "recorded", "now", lineterm="", n=2)
    return "\n".join(lines)


class _ReplayTools(ToolPolicy):
    """Stands in for every tool call with the recorded result (same call id and arguments)."""

    def __init__(self, cassette: _Cassette) -> None:
        self.cassette = cassette
        self._used: set[int] = set()
        self._lock = threading.Lock()

    def before_tool(self, invocation: ToolInvocation) -> ToolCallRecord:
        with self._lock:
            for index, entry in enumerate(self.cassette.tools):
                if index not in self._used and entry["id"] == invocation.call.id:
                    self._used.add(index)
                    break
            else:
                raise CassetteMismatchError(
                    f"Tool call {invocation.name} ({invocation.call.id}) was not recorded in "
                    f"{self.cassette.path}. Re-record the cassette.",
                    provider="replay",
                )
        arguments = _json_safe(dict(invocation.arguments))
        if entry["name"] != invocation.name or entry["arguments"] != arguments:
            recorded = {"name": entry["name"], "arguments": entry["arguments"]}
            now = {"name": invocation.name, "arguments": arguments}
            raise CassetteMismatchError(
                f"Tool call {invocation.call.id} differs from {self.cassette.path} "
                f"(- recorded, + now):\n{_diff(recorded, now)}",
                provider="replay",
            )
        if entry["error"] is not None:
            return invocation.refuse(entry["error"], error_type=entry["error_type"] or "error")
        value = entry["result"]
        if format_tool_result(value) != entry["output"]:  # not plain data: what the model read
            value = entry["output"]
        return invocation.succeed(value)
