"""A local OpenAI-compatible chat-completions server for tests: the real SDK talks to it.

Shipped with the package for the pytest plugin's `fake_openai_server` fixture;
it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal


@dataclass
class FakeReply:
    """What the server answers next: text, tool calls, an HTTP error, or a fault.

    Faults (`fault=`): "hang" accepts the request and never answers (until the
    server stops); "not_json" answers 200 with an HTML page; "empty_stream"
    answers a stream with no events; "cut_stream" sends a few text chunks and
    closes the connection mid-answer.
    """

    text: str | None = None
    fault: Literal["hang", "not_json", "empty_stream", "cut_stream"] | None = None
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunk_delay: float = 0.0
    delay: float = 0.0  # seconds before answering at all (a hanging server); stop() ends it
    cut_after: int | None = None  # stream: drop the connection after this many chunks
    hold: threading.Event | None = None  # answer only once this is set (or the server stops)


class FakeOpenAIServer:
    """Serves queued replies, then `default` (if set); every request body is kept in `requests`."""

    def __init__(self, default: FakeReply | None = None) -> None:
        self.replies: list[FakeReply] = []
        self.requests: list[dict[str, Any]] = []
        self.default = default
        self.disconnects = 0
        self.released = threading.Event()  # set on stop: hanging requests give up
        self.hanging = threading.Semaphore(0)  # released once per request that hangs
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    @property
    def count(self) -> int:
        """How many requests this server has seen."""
        with self._lock:
            return len(self.requests)

    def stop(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, *replies: FakeReply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def next_reply(self, body: dict[str, Any]) -> FakeReply:
        with self._lock:
            self.requests.append(body)
            if self.replies:
                return self.replies.pop(0)
            if self.default is not None:
                return self.default
            return FakeReply(status=500, error={"message": "fake server: no reply queued"})


def refused_url() -> str:
    """A base_url nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def completion(reply: FakeReply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": _args_text(args)},
            }
            for i, (name, args) in enumerate(reply.tool_calls)
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def stream_chunks(reply: FakeReply, model: str, include_usage: bool) -> Iterator[dict[str, Any]]:
    """Deltas as real servers send them: text in pieces, tool calls interleaved by index."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    for word in (reply.text or "").split(" ") if reply.text else []:
        yield chunk({"content": word + " "})
    pieces: list[tuple[int, str, str, str]] = []
    for index, (name, args) in enumerate(reply.tool_calls):
        text = _args_text(args)
        half = len(text) // 2
        pieces.append((index, name, text[:half], text[half:]))
    for index, name, first, _ in pieces:  # every call's head first ...
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": f"call_{index}",
                        "type": "function",
                        "function": {"name": name, "arguments": first},
                    }
                ]
            }
        )
    for index, _, _, second in reversed(pieces):  # ... then the tails, in reverse order
        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": second}}]})
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if include_usage:
        yield {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }


def _args_text(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            body["_authorization"] = self.headers.get("authorization")
            reply = server.next_reply(body)
            model = body.get("model", "fake-model")
            if reply.fault is not None:
                self._fault(reply, model)
                return
            if reply.delay and server.released.wait(reply.delay):
                return  # the server is stopping: never answer
            while reply.hold is not None and not reply.hold.wait(0.05):
                if server.released.is_set():
                    return
            if reply.status != 200:
                payload = {"error": reply.error or {"message": "error", "type": "error"}}
                self._send_json(reply.status, payload, reply.headers)
                return
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                chunks = stream_chunks(reply, model, include_usage)
                self._send_stream(chunks, reply.chunk_delay, reply.cut_after)
            else:
                self._send_json(200, completion(reply, model), {})

        def _fault(self, reply: FakeReply, model: str) -> None:
            if reply.fault == "hang":
                server.hanging.release()
                server.released.wait(120)
                self.close_connection = True
                return
            if reply.fault == "not_json":
                page = b"<html><body>502 Bad Gateway (proxy)</body></html>"
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            if reply.fault == "cut_stream":
                pieces = list(stream_chunks(FakeReply(text=reply.text or "cut off"), model, False))
                for item in pieces[:2]:  # the role chunk and one word, then nothing
                    self.wfile.write(f"data: {json.dumps(item)}\n\n".encode())
            else:
                self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

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
            self, chunks: Iterator[dict[str, Any]], delay: float, cut_after: int | None
        ) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("connection", "close")
            self.end_headers()
            try:
                for sent, item in enumerate(chunks):
                    if cut_after is not None and sent >= cut_after:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: a cut stream
                        self.close_connection = True
                        return
                    self._write_chunk(f"data: {json.dumps(item)}\n\n".encode())
                    self.wfile.flush()
                    if delay:
                        time.sleep(delay)
                self._write_chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                server.disconnects += 1
            self.close_connection = True

        def _write_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    return Handler
