"""A local web server with hostile routes for the HTTP and web page tools."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE = b"""<!doctype html><html><head><title>Shop policies</title>
<style>body { color: red }</style><script>alert("x"); document.write("secret")</script></head>
<body><nav><a href="/returns">Returns</a> <a href="javascript:alert(1)">bad</a></nav>
<h1>Policies</h1><p>Returns within <b>30 days</b>.</p><p>Shipping&nbsp;is free.</p>
<ul><li>One</li><li>Two</li></ul><noscript>enable js</noscript>
<a href="https://other.example/x">Elsewhere</a></body></html>"""

GZIP_BOMB = gzip.compress(b"\0" * 50_000_000, compresslevel=9)


class WebServer:
    """Serves the routes below on 127.0.0.1; `paths` lists every path requested."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.stop_streams = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_streams.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def stream_forever(self, chunk: bytes, pause: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while not server.stop_streams.is_set():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    if pause:
                        time.sleep(pause)
            except OSError:
                pass  # the client stopped reading: what a capped reader does
            self.close_connection = True

        def do_GET(self) -> None:
            server.paths.append(self.path)
            path = self.path
            if path == "/text":
                self.send(200, b"hello from the server", "text/plain; charset=utf-8")
            elif path == "/json":
                self.send(200, b'{"ok": true}', "application/json")
            elif path == "/page":
                self.send(200, PAGE, "text/html; charset=utf-8")
            elif path == "/binary":
                self.send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
            elif path == "/missing":
                self.send(404, b"no such thing", "text/plain")
            elif path == "/endless":
                self.stream_forever(b"x" * 65536, 0)
            elif path == "/drip":
                self.stream_forever(b"x", 0.2)
            elif path == "/hang":
                server.stop_streams.wait(30)
            elif path == "/gzip-bomb":
                self.send(200, GZIP_BOMB, "text/plain", Content_Encoding="gzip")
            elif path == "/brotli":
                self.send(200, b"....", "text/plain", Content_Encoding="br")
            elif path == "/to-text":
                self.redirect("/text")
            elif path == "/to-other-host":
                self.redirect(f"http://localhost:{server.port}/text")
            elif path == "/to-metadata":
                self.redirect("http://169.254.169.254/latest/meta-data/")
            elif path == "/loop":
                self.redirect("/loop")
            else:
                self.send(404, b"unknown route", "text/plain")

    return Handler
