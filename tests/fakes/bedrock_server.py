"""A local Bedrock Runtime (Converse and ConverseStream) for tests: real boto3 talks to it.

moto has no Converse, so this serves the REST-JSON API itself; ConverseStream
answers in AWS event-stream binary framing (prelude, CRC32s, typed headers),
written by `frame()` below and read by botocore's own decoder.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class BedrockReply:
    """The next answer: text and/or tool uses, an HTTP error (`status`, `error`), or a
    mid-stream exception (`stream_error`)."""

    text: str | None = None
    tool_uses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    error: str = "InternalServerException"
    error_message: str = "error"
    stream_error: str | None = None
    input_tokens: int = 17
    output_tokens: int = 8


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: string headers, payload, both CRC32s."""
    head = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        head += struct.pack("!B", len(raw_name)) + raw_name
        head += struct.pack("!BH", 7, len(raw_value)) + raw_value
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack("!II", total, len(head))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + head + payload
    return message + struct.pack("!I", binascii.crc32(message) & 0xFFFFFFFF)


def event(kind: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(body).encode())


class FakeBedrockServer:
    """Serves queued replies (then "ok"); request bodies in `requests`, model ids in `paths`."""

    def __init__(self) -> None:
        self.replies: list[BedrockReply] = []
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def endpoint_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeBedrockServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, *replies: BedrockReply) -> None:
        with self._lock:
            self.replies.extend(replies)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def next_reply(self, path: str, body: dict[str, Any]) -> BedrockReply:
        with self._lock:
            self.requests.append(body)
            self.paths.append(path)
            return self.replies.pop(0) if self.replies else BedrockReply(text="ok")


def _content(reply: BedrockReply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text is not None:
        blocks.append({"text": reply.text})
    for i, (name, args) in enumerate(reply.tool_uses):
        blocks.append({"toolUse": {"toolUseId": f"tooluse_{i}", "name": name, "input": args}})
    return blocks


def _stop(reply: BedrockReply) -> str:
    return "tool_use" if reply.tool_uses else "end_turn"


def _usage(reply: BedrockReply) -> dict[str, int]:
    return {
        "inputTokens": reply.input_tokens,
        "outputTokens": reply.output_tokens,
        "totalTokens": reply.input_tokens + reply.output_tokens,
    }


def stream_frames(reply: BedrockReply) -> Iterator[bytes]:
    yield event("messageStart", {"role": "assistant"})
    index = 0
    if reply.text is not None:
        words = reply.text.split(" ")
        for i, word in enumerate(words):
            piece = word + (" " if i < len(words) - 1 else "")
            yield event("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0})
        yield event("contentBlockStop", {"contentBlockIndex": 0})
        index = 1
    if reply.stream_error is not None:
        headers = {
            ":message-type": "exception",
            ":exception-type": reply.stream_error,
            ":content-type": "application/json",
        }
        yield frame(headers, json.dumps({"message": reply.error_message}).encode())
        return
    for i, (name, args) in enumerate(reply.tool_uses):
        start = {"toolUse": {"toolUseId": f"tooluse_{i}", "name": name}}
        yield event("contentBlockStart", {"start": start, "contentBlockIndex": index})
        text = json.dumps(args)
        for j in range(0, len(text), 6):
            delta = {"toolUse": {"input": text[j : j + 6]}}
            yield event("contentBlockDelta", {"delta": delta, "contentBlockIndex": index})
        yield event("contentBlockStop", {"contentBlockIndex": index})
        index += 1
    yield event("messageStop", {"stopReason": _stop(reply)})
    yield event("metadata", {"usage": _usage(reply), "metrics": {"latencyMs": 5}})


def _handler_for(server: FakeBedrockServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            path = urllib.parse.unquote(self.path)
            reply = server.next_reply(path, body)
            if reply.status != 200:
                payload = json.dumps({"message": reply.error_message}).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("x-amzn-ErrorType", f"{reply.error}:http://internal.amazon.com/")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if path.endswith("/converse-stream"):
                self.send_response(200)
                self.send_header("content-type", "application/vnd.amazon.eventstream")
                self.send_header("connection", "close")
                self.end_headers()
                for chunk in stream_frames(reply):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                self.close_connection = True
                return
            answer = {
                "output": {"message": {"role": "assistant", "content": _content(reply)}},
                "stopReason": _stop(reply),
                "usage": _usage(reply),
                "metrics": {"latencyMs": 5},
            }
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def decoded(block: dict[str, Any]) -> bytes:
    """The bytes of an image/document block as boto3 sent them (base64 in JSON)."""
    return base64.b64decode(block["source"]["bytes"])
