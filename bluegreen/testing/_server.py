"""Server mode: the simulator in front of moto's server application, on 127.0.0.1.

Every request goes through ``Simulator.route`` first, as in-process requests do: CodeDeploy
and injected faults are answered there (an injected reset drops the connection unanswered),
everything else goes to moto's server app, and ``Simulator.after_moto`` fixes moto's state
afterwards. boto3 (``endpoint_url=``) and the AWS
CLI (``--endpoint-url`` or ``AWS_ENDPOINT_URL``) talk to it like to AWS::

    from bluegreen.testing import Simulator

    with Simulator(speed=60).serve(port=5055) as server:
        env = server.create_environment()
        ecs = boto3.client("ecs", endpoint_url=server.endpoint_url)

moto keeps its state in process-wide backends, so a process serves one simulator at a time,
and not while an in-process ``Simulator`` (or moto's ``mock_aws``) is running.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import signal
import socket
import struct
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response as WerkzeugResponse
from werkzeug.wsgi import get_input_stream

from bluegreen.testing._faults import ConnectionReset
from bluegreen.testing._routing import connection_closed
from bluegreen.testing._running import Running, Served, new_served_simulator
from bluegreen.testing._wire import ApiError, Response, error

if TYPE_CHECKING:
    from types import FrameType

    from bluegreen.testing._environment import Environment

__all__ = ["SimServer", "SimulatorApp"]

_log = logging.getLogger("bluegreen.testing")

StartResponse = Callable[..., Callable[[bytes], object]]


def _request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers under their HTTP names (``HTTP_X_AMZ_TARGET`` -> ``X-Amz-Target``)."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers[name.replace("_", "-").title()] = str(value)
    return headers


def _request_target(environ: Mapping[str, Any]) -> str:
    """The request target as the client sent it (``/path?query``, still percent-encoded)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    query = environ.get("QUERY_STRING")
    path = urllib.parse.quote(str(environ.get("PATH_INFO", "/")), safe="/")
    return path + (f"?{query}" if query else "")


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole request body and put it back, so moto's app can read it again."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    return body


@attrs.define(eq=False)
class SimulatorApp:
    """The WSGI application: ``simulator`` answers first, moto's server app the rest."""

    simulator: Served
    _moto: Callable[[dict[str, Any], StartResponse], Iterable[bytes]] = attrs.field(
        init=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self._moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ)
        headers = _request_headers(environ)
        sim = self.simulator
        try:
            # moto's backends change under the simulator's lock in server mode, so a request
            # never sees a deployment step half done by the clock thread.
            with sim.lock:
                answer = sim.route(
                    headers,
                    body,
                    method=str(environ.get("REQUEST_METHOD", "")),
                    target=_request_target(environ),
                )
                if answer is None:
                    status, response_headers, chunks = self._call_moto(environ)
                    sim.after_moto(headers, body)
                    dated = [(k, v) for k, v in response_headers if k.lower() != "date"]
                    start_response(status, [*dated, ("Date", sim.http_date())])
                    return chunks
        except ConnectionReset:
            _drop_connection(environ)
            raise
        except json.JSONDecodeError as exc:
            answer = error(ApiError("SerializationException", f"the body is not JSON: {exc}"))
        except Exception as exc:  # answer like AWS would rather than drop the connection
            _log.exception("the bluegreen simulator failed to answer a request")
            answer = error(
                ApiError("InternalFailure", f"the bluegreen simulator failed: {exc!r}", 500)
            )
        answer[1].setdefault("Date", sim.http_date())
        return _respond(answer, environ, start_response)

    def _call_moto(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """Run moto's app to the end, keeping its answer until ``after_moto`` has run."""
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self._moto(environ, capture)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return captured["status"], captured["headers"], chunks


def _drop_connection(environ: Mapping[str, Any]) -> None:
    """Close the request's connection without an answer (an injected reset); the
    ``ConnectionReset`` raised next is one of the errors werkzeug takes for a dropped
    connection. Without a socket (``_InProcessTransport``) the transport raises it."""
    connection = environ.get("werkzeug.socket")
    if connection is None:
        return
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)


def _respond(
    answer: Response, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    status, headers, body = answer
    response = WerkzeugResponse(body, status=status, headers=headers)
    return response(environ, start_response)


@attrs.define(eq=False)
class _InProcessTransport:
    """A botocore ``before-send`` handler that hands the request to the WSGI application in
    this process instead of sending it over the socket."""

    app: SimulatorApp

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        from botocore.awsrequest import AWSResponse, HTTPHeaders
        from moto.core.botocore_stubber import MockRawResponse
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        url = urllib.parse.urlsplit(request.url)
        headers = [
            (str(k), v.decode() if isinstance(v, bytes) else str(v))
            for k, v in request.headers.items()
            if str(k).lower() != "content-length"
        ]
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        builder = EnvironBuilder(
            path=urllib.parse.unquote(url.path) or "/",
            query_string=url.query,
            method=request.method,
            headers=headers,
            data=body or b"",
            base_url=f"{url.scheme}://{url.netloc}",
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        environ["RAW_URI"] = url.path + (f"?{url.query}" if url.query else "")
        try:
            chunks, status, response_headers = run_wsgi_app(self.app, environ)
        except ConnectionReset as exc:
            raise connection_closed(request.url) from exc
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        http_headers = HTTPHeaders()
        for key, value in response_headers.items():
            http_headers[key] = value
        return AWSResponse(
            request.url, int(status.split()[0]), http_headers, MockRawResponse(content)
        )


class _SimRequestHandler(MotoRequestHandler):
    """moto's request handler, leaving the ``Date`` header to the application (the
    simulator's clock) where ``http.server`` would add the wall clock's."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


class _QuietRequestHandler(_SimRequestHandler):
    """The request handler without an access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class _Serving:
    """The server running in this process (moto's backends are process-wide)."""

    server: SimServer | None = None


@attrs.define(eq=False)
class SimServer:
    """The simulator served over HTTP on ``host:port`` (``port=0`` picks a free port).

    Hooks registered on ``simulator`` run in threads of this process. A hook that reports
    through boto3 must reach this server: give its client ``endpoint_url=server.endpoint_url``
    or set ``AWS_ENDPOINT_URL`` in this process (``bluegreen sim serve`` sets it).

    Args:
        simulator: what to serve; a real-time clock makes sense here (``Simulator(speed=60)``).
        host: the address to bind; keep 127.0.0.1 (the simulator checks no credentials).
        port: the port to bind, 0 for any free one (``port`` holds the real one once started).
        log_requests: print an access log line per request to stderr.
    """

    simulator: Served = attrs.Factory(new_served_simulator)
    host: str = "127.0.0.1"
    port: int = 0
    log_requests: bool = False
    _server: BaseWSGIServer | None = attrs.field(init=False, default=None, repr=False)
    _thread: threading.Thread | None = attrs.field(init=False, default=None, repr=False)
    _app: SimulatorApp | None = attrs.field(init=False, default=None, repr=False)
    _listening: bool = attrs.field(init=False, default=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``endpoint_url=`` and ``AWS_ENDPOINT_URL``."""
        if self._server is None:
            raise RuntimeError("the server is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def listening(self) -> bool:
        """True once the port accepts connections (after ``prepare`` in ``start``)."""
        return self._listening

    def start(self, prepare: Callable[[SimServer], object] | None = None) -> SimServer:
        """Bind the port, run ``prepare``, then listen and serve on a background thread.

        Until ``prepare`` returns the port is bound (``port`` and ``endpoint_url`` are known)
        but refuses connections, so a client that waits for the port never sees a
        half-made state. ``prepare`` reaches the simulator in-process: ``create_environment``
        then sends its requests straight to the application, without the socket.
        moto's backends start empty.

        Raises:
            RuntimeError: another simulator (served or in-process) is running in this process.
            OSError: the port is taken.
        """
        if self._server is not None:
            return self
        if _Serving.server is not None or Running.simulator is not None:
            raise RuntimeError("another bluegreen Simulator is already running in this process")
        handler = _SimRequestHandler if self.log_requests else _QuietRequestHandler
        app = SimulatorApp(self.simulator)
        # Bind here rather than in make_server, which prints and calls sys.exit(1) when
        # the port is taken (this way the caller gets the OSError), and do not listen yet.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
            bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            bound.bind((self.host, self.port))
            server = make_server(
                self.host,
                self.port,
                app,
                threaded=True,
                request_handler=handler,
                fd=bound.fileno(),
            )
        moto_api_backend.reset()
        self._server = server
        self._app = app
        self.port = int(server.server_address[1])
        _Serving.server = self
        if prepare is not None:
            try:
                prepare(self)
            except BaseException:
                self.stop()
                raise
        server.server_activate()  # listen(): connections are accepted from here on
        self._listening = True
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how long stop() may wait for the loop
            name="bluegreen-sim-server",
            daemon=True,
        )
        thread.start()
        self._thread = thread
        return self

    def stop(self) -> None:
        """Stop serving, close the port and stop the simulator's clock."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        self._listening = False
        if server is not None:
            if thread is not None:  # shutdown() waits for serve_forever to have run
                server.shutdown()
                thread.join(timeout=10)
            server.server_close()
        self.simulator.stop()
        if _Serving.server is self:
            _Serving.server = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def create_environment(self, **options: Any) -> Environment:
        """The sample environment, made through this server (see ``build_environment``)."""
        from bluegreen.testing._environment import build_environment

        return build_environment(clients=self.clients(), **options)

    def clients(self) -> Any:
        """``bluegreen.Clients`` for this server: over HTTP once it listens; before that
        (in ``start``'s ``prepare``), straight to the application in this process."""
        if self._listening or self._app is None:
            return self.simulator.clients(endpoint_url=self.endpoint_url)
        import boto3

        from bluegreen._aws import Clients

        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=self.simulator.region,
        )
        session.events.register("before-send", _InProcessTransport(self._app))
        return Clients(session=session, endpoint_url=self.endpoint_url)

    def serve_until_stopped(
        self,
        stop: threading.Event | None = None,
        *,
        prepare: Callable[[SimServer], object] | None = None,
        ready: Callable[[], object] | None = None,
    ) -> None:
        """Serve until SIGINT or SIGTERM (or ``stop`` is set), then stop cleanly.

        Signal handlers are installed first (only from the main thread; the previous ones
        are restored before returning), so a signal at any point after the call stops the
        server cleanly.

        Args:
            stop: set it from another thread to stop serving.
            prepare: called with the server bound but not yet accepting connections, e.g.
                to seed it (see ``start``).
            ready: called once the server is listening, e.g. to print its URL.
        """
        stop = stop or threading.Event()

        def stop_on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for wanted in (signal.SIGINT, signal.SIGTERM):
                previous[wanted] = signal.signal(wanted, stop_on_signal)
        try:
            self.start(prepare)
            if ready is not None:
                ready()
            # A bounded wait, so a signal is acted on promptly on every platform.
            while not stop.wait(0.5):
                pass
        finally:
            for restored, handler in previous.items():
                signal.signal(restored, handler)
            self.stop()
