"""The demo's HTTP servers on 127.0.0.1: one tiny app per version (``/`` names the version;
``/health`` fails for one broken version, a share of ``/`` for another), and the serving
thread every demo server runs on."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

HOST = "127.0.0.1"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, version: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("X-Bluegreen-Version", version)
    handler.end_headers()
    handler.wfile.write(body)


@attrs.define
class Served:
    """An HTTP server on 127.0.0.1 with its serving thread."""

    server: Server
    thread: threading.Thread

    @classmethod
    def start(cls, handler: type[BaseHTTPRequestHandler], name: str) -> Served:
        server = Server((HOST, 0), handler)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        thread.start()
        return cls(server, thread)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_app(version: str, *, broken_health: bool = False, errors_per_ten: int = 0) -> Served:
    """A task set's containers: ``/`` names the version; ``/health`` fails when
    ``broken_health``; and ``errors_per_ten`` of every ten other requests answer 500, spread
    evenly (so any four in a row hold one when it is 3), the same on every run."""
    answered = itertools.count()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the proxy reuses its connection
        disable_nagle_algorithm = True  # headers and body go at once, not 40 ms apart

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/health":
                failing = broken_health
            else:
                with lock:
                    number = next(answered)
                failing = number * errors_per_ten % 10 < errors_per_ten
            status = 500 if failing else 200
            body = {"version": version, "status": "failing" if failing else "ok"}
            reply(self, status, json.dumps(body).encode(), version)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Served.start(Handler, f"bluegreen-demo-app-{version}")
