"""A local Anthropic Messages API for tests: the real `anthropic` SDK talks to it.

Streams use the real event sequence: message_start, content_block_start,
ping, content_block_delta (text_delta / input_json_delta, the JSON cut into
pieces), content_block_stop, message_delta (stop_reason, output usage),
message_stop.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class AnthropicReply:
    """The next answer: text and/or tool uses, or an HTTP error (`status`, `error_type`).

    `cut_after` ends a stream after that many events without message_stop;
    `stream_error` sends an SSE `error` event mid-stream (what overload looks like there).
    """

    text: str | None = None
    tool_uses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    error_type: str = "api_error"
    error_message: str = "error"
    headers: dict[str, str] = field(default_factory=dict)
    input_tokens: int = 21
    output_tokens: int = 9
    cut_after: int | None = None
    stream_error: str | None = None
    stop_reason: str | None = None


class FakeAnthropicServer:
    """Serves queued replies (then a default "ok"); every request body is kept in `requests`."""

    def __init__(self) -> None:
        self.replies: list[AnthropicReply] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAnthropicServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, *replies: AnthropicReply) -> None:
        with self._lock:
            self.replies.extend(replies)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def next_reply(self, body: dict[str, Any], headers: dict[str, str]) -> AnthropicReply:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return self.replies.pop(0) if self.replies else AnthropicReply(text="ok")


def message(reply: AnthropicReply, model: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text is not None:
        content.append({"type": "text", "text": reply.text})
    for i, (name, args) in enumerate(reply.tool_uses):
        content.append({"type": "tool_use", "id": f"toolu_{i:02d}", "name": name, "input": args})
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(reply),
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _stop_reason(reply: AnthropicReply) -> str:
    return reply.stop_reason or ("tool_use" if reply.tool_uses else "end_turn")


def stream_events(reply: AnthropicReply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    start = message(reply, model)
    start.update(content=[], stop_reason=None)
    start["usage"] = {"input_tokens": reply.input_tokens, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    index = 0
    if reply.text is not None:
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            },
        )
        yield "ping", {"type": "ping"}
        for word in _pieces(reply.text):
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": word},
                },
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    for i, (name, args) in enumerate(reply.tool_uses):
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {
                    "type": "tool_use",
                    "id": f"toolu_{i:02d}",
                    "name": name,
                    "input": {},
                },
            },
        )
        text = json.dumps(args)
        for piece in [""] + [text[j : j + 7] for j in range(0, len(text), 7)]:
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    if reply.stream_error is not None:
        yield (
            "error",
            {
                "type": "error",
                "error": {"type": reply.stream_error, "message": "Overloaded"},
            },
        )
        return
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def _handler_for(server: FakeAnthropicServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.next_reply(body, headers)
            if self.path != "/v1/messages":
                self._send_json(404, _error("not_found_error", "no such route"), {})
                return
            if reply.status != 200:
                payload = _error(reply.error_type, reply.error_message)
                self._send_json(reply.status, payload, reply.headers)
                return
            model = body.get("model", "claude-fake")
            if body.get("stream"):
                self._send_stream(stream_events(reply, model), reply.cut_after)
            else:
                self._send_json(200, message(reply, model), {})

        def _send_json(self, status: int, payload: Any, headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(
            self, events: Iterator[tuple[str, dict[str, Any]]], cut_after: int | None
        ) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            try:
                for sent, (name, data) in enumerate(events):
                    if cut_after is not None and sent >= cut_after:
                        break
                    self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


def _error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}
