"""bluegreen.hooks.checks: HTTP checks against a real server on 127.0.0.1 (MockTransport only
where a test is about formatting), and ``until_healthy`` on an injected clock."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bluegreen.hooks import CheckResult, checks


class LocalServer:
    """An HTTP server on 127.0.0.1 in a thread; each path answers what ``routes`` says.

    A route is ``(status, headers, body)`` or a callable ``(count) -> (status, headers, body)``,
    where ``count`` is how many requests that path has had so far (1 for the first).
    """

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.delays: dict[str, float] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append((self.path, dict(self.headers.items())))
                    count = sum(1 for p, _ in server.requests if p == self.path)
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    time.sleep(server.delays.get(self.path, 0.0))
                    route = server.routes.get(self.path, (404, {}, "not found"))
                    status, headers, body = route(count) if callable(route) else route
                    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        running.routes["/health"] = (
            200,
            {"Content-Type": "application/json", "X-Version": "v2"},
            {"status": "ok", "build": {"id": 42}, "items": [{"id": "a"}]},
        )
        running.routes["/"] = (200, {}, "hello from green")
        running.routes["/broken"] = (503, {}, "upstream unavailable: " + "x" * 500)
        yield running


def closed_port_url() -> str:
    with http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler) as s:
        port = s.server_address[1]
    return f"http://127.0.0.1:{port}"


# -- http --------------------------------------------------------------------------------


def test_http_passes_and_says_what_was_tried_what_came_back_and_how_long(server):
    result = checks.http(
        server.url,
        path="/health",
        json_field=("build.id", 42),
        contains='"ok"',
        header=("X-Version", "v2"),
    )

    assert result.ok, result
    assert result.name == "http"
    assert result.tried == f"GET {server.url}/health"
    assert result.got.startswith('200 OK; body \'{"status": "ok"')
    assert "X-Version: 'v2'" in result.got
    assert result.elapsed_ms > 0
    assert result.details["expect"]["status"] == 200


def test_http_json_field_indexes_lists_with_dotted_numbers(server):
    assert checks.http(server.url, path="/health", json_field=("items.0.id", "a")).ok


def test_http_wrong_status_fails_with_status_and_a_short_body_excerpt(server):
    result = checks.http(server.url, path="/broken")

    assert not result.ok
    assert result.got.startswith("status 503, wanted 200 (503 Service Unavailable; body ")
    assert "upstream unavailable" in result.got
    assert len(result.got) < 300
    assert result.details["problems"] == ["status 503, wanted 200"]


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        (("status", "degraded"), "JSON status is 'ok', wanted 'degraded'"),
        (("build.sha", "abc"), "JSON has no build.sha, wanted 'abc'"),
    ],
)
def test_http_json_field_mismatch_or_absence_fails_naming_the_field(server, field, problem):
    result = checks.http(server.url, path="/health", json_field=field)

    assert not result.ok
    assert result.details["problems"] == [problem]


def test_http_json_field_on_a_non_json_body_fails(server):
    result = checks.http(server.url, path="/", json_field=("status", "ok"))

    assert not result.ok
    assert result.details["problems"] == ["body is not JSON, wanted status == 'ok'"]


def test_http_missing_text_and_wrong_or_missing_header_each_fail(server):
    assert checks.http(server.url, contains="blue").details["problems"] == [
        "body does not contain 'blue'"
    ]
    wrong = checks.http(server.url, path="/health", header=("X-Version", "v3"))
    assert wrong.details["problems"] == ["header X-Version is 'v2', wanted 'v3'"]
    missing = checks.http(server.url, path="/health", header=("X-Missing", "1"))
    assert missing.details["problems"] == ["header X-Missing is missing"]
    assert "no X-Missing" in missing.got


def test_http_connection_refused_fails_with_the_error_instead_of_raising():
    url = closed_port_url()

    result = checks.http(url, timeout=1.0)

    assert not result.ok
    assert result.tried == f"GET {url}/"
    assert result.got.startswith("ConnectError")


def test_http_read_timeout_fails_within_the_timeout(server):
    server.delays["/slow"] = 0.5
    server.routes["/slow"] = (200, {}, "late")

    started = time.perf_counter()
    result = checks.http(server.url, path="/slow", timeout=0.1)

    assert not result.ok
    assert result.got.startswith("ReadTimeout")
    assert time.perf_counter() - started < 0.45


def test_http_sends_secret_headers_but_masks_them_and_url_secrets_in_the_result(server):
    url = server.url + "/?token=s3cret&page=2"
    result = checks.http(
        url,
        path="",
        headers={
            "Authorization": "Bearer abc",
            "Cookie": "session=xyz",
            "X-Api-Key": "k",
            "X-Trace": "t-1",
        },
    )

    _, sent = server.requests[-1]
    assert sent["Authorization"] == "Bearer abc"
    assert sent["X-Api-Key"] == "k"
    assert result.details["request_headers"] == {
        "Authorization": "***",
        "Cookie": "***",
        "X-Api-Key": "***",
        "X-Trace": "t-1",
    }
    assert result.tried == f"GET {server.url}/?token=%2A%2A%2A&page=2"
    assert "abc" not in json.dumps(result.to_dict())


def test_http_masks_a_secret_response_header_it_was_asked_about():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Set-Cookie": "sid=secret"}, text="ok")

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        result = checks.http("http://green.internal", header=("Set-Cookie", "x"), client=client)

    assert not result.ok
    assert "secret" not in result.got
    assert "Set-Cookie: '***'" in result.got


def test_http_uses_the_injected_client_and_leaves_it_open():
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text=" lots   of\n\nwhitespace " + "y" * 400)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        result = checks.http("http://green.internal/", path="/ready", client=client)
        assert not client.is_closed

    assert seen == ["http://green.internal/ready"]
    assert result.got.startswith("200 OK; body 'lots of whitespace yyy")
    assert result.got.endswith("...'")


def test_http_verifies_tls_by_default(monkeypatch):
    made: list[dict[str, Any]] = []
    real_client = httpx.Client

    def recording_client(**kwargs: Any) -> httpx.Client:
        made.append(kwargs)
        return real_client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))

    monkeypatch.setattr(httpx, "Client", recording_client)
    checks.http("https://green.example.com")
    checks.http("https://green.example.com", verify=False)

    assert [m["verify"] for m in made] == [True, False]


def test_check_result_to_dict_is_json_ready():
    result = CheckResult("http", True, "GET http://x/", "200 OK", 1.23456, {"a": 1})

    assert json.loads(json.dumps(result.to_dict())) == {
        "name": "http",
        "ok": True,
        "tried": "GET http://x/",
        "got": "200 OK",
        "elapsed_ms": 1.235,
        "details": {"a": 1},
    }
    assert CheckResult("n", False, "t", "g", 0.0).details == {}


# -- latency -------------------------------------------------------------------------------


def test_latency_passes_under_budget_with_percentiles_in_details(server):
    result = checks.latency(server.url, path="/health", requests=5, p95_ms=2000)

    assert result.ok, result
    assert len(server.requests) == 5
    assert result.details["requests"] == 5
    assert result.details["errors"] == {}
    assert 0 < result.details["p50_ms"] <= result.details["p95_ms"] <= result.details["max_ms"]
    assert result.got.startswith("p95 ")
    assert result.tried == f"GET {server.url}/health x5, p95 <= 2000 ms"


def test_latency_over_budget_fails(server):
    server.delays["/slow"] = 0.03
    server.routes["/slow"] = (200, {}, "late")

    result = checks.latency(server.url, path="/slow", requests=3, p95_ms=5)

    assert not result.ok
    assert result.got.startswith("p95 ")
    assert "over the 5 ms budget" in result.got
    assert result.details["p95_ms"] >= 30


def test_latency_fails_when_any_request_errs_even_if_fast(server):
    server.routes["/flaky"] = lambda n: (500, {}, "boom") if n == 2 else (200, {}, "ok")

    result = checks.latency(server.url, path="/flaky", requests=4, p95_ms=5000)

    assert not result.ok
    assert result.details["errors"] == {"500": 1}
    assert "1 of 4 requests failed" in result.got


# -- burst ---------------------------------------------------------------------------------


def test_burst_runs_requests_concurrently_and_passes_without_errors(server):
    server.delays["/"] = 0.02

    result = checks.burst(server.url, requests=12, concurrency=4)

    assert result.ok, result
    assert len(server.requests) == 12
    assert 2 <= server.most_in_flight <= 4
    assert result.details["outcomes"] == {"200": 12}
    assert result.details["error_rate"] == 0.0
    assert result.got.startswith("12/12 answered 200, error rate 0.0%")


@pytest.mark.parametrize(("allowed", "ok"), [(0.0, False), (0.2, False), (0.25, True)])
def test_burst_compares_the_error_rate_with_the_allowed_rate(server, allowed, ok):
    server.routes["/every-fourth"] = lambda n: (503, {}, "no") if n % 4 == 0 else (200, {}, "ok")

    result = checks.burst(
        server.url, path="/every-fourth", requests=20, concurrency=5, max_error_rate=allowed
    )

    assert result.ok is ok
    assert result.details["outcomes"] == {"200": 15, "503": 5}
    assert result.details["error_rate"] == 0.25


def test_burst_counts_connection_errors():
    result = checks.burst(closed_port_url(), requests=3, concurrency=3, timeout=1.0)

    assert not result.ok
    assert result.details["outcomes"] == {"ConnectError": 3}
    assert result.got.startswith("error rate 100.0% over the 0.0% allowed")


# -- until_healthy -------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def sequence(*oks: bool) -> Callable[[], CheckResult]:
    answers = iter(oks)

    def check() -> CheckResult:
        ok = next(answers)
        return CheckResult("http", ok, "GET http://x/", "200 OK" if ok else "503", 1.0)

    return check


def test_until_healthy_retries_until_the_check_passes():
    fake = FakeTime()

    result = checks.until_healthy(
        sequence(False, False, True),
        within_seconds=30,
        interval=5,
        sleep=fake.sleep,
        clock=fake.clock,
    )

    assert result.ok
    assert fake.slept == [5, 5]
    assert result.details["attempts"] == 3
    assert result.got == "200 OK (healthy after 3 attempts, 10.0 s)"
    assert result.elapsed_ms == 10_000


def test_until_healthy_gives_up_before_the_deadline_with_the_last_failure():
    fake = FakeTime()

    result = checks.until_healthy(
        sequence(*[False] * 10), within_seconds=5, interval=2, sleep=fake.sleep, clock=fake.clock
    )

    assert not result.ok
    assert fake.slept == [2, 2]
    assert result.details["attempts"] == 3
    assert result.got == "503 (still failing after 3 attempts in 4.0 s)"


def test_until_healthy_counts_a_raising_check_as_a_failed_attempt():
    fake = FakeTime()
    calls = iter([ConnectionResetError("reset by peer"), None])

    def check() -> CheckResult:
        error = next(calls)
        if error is not None:
            raise error
        return CheckResult("http", True, "GET http://x/", "200 OK", 1.0)

    result = checks.until_healthy(check, interval=1, sleep=fake.sleep, clock=fake.clock)

    assert result.ok
    assert result.details["attempts"] == 2


def test_until_healthy_rides_out_warm_up_on_a_real_server(server):
    server.routes["/warming"] = lambda n: (200, {}, "ready") if n >= 3 else (503, {}, "warming")

    result = checks.until_healthy(
        lambda: checks.http(server.url, path="/warming"), within_seconds=5, interval=0.01
    )

    assert result.ok
    assert result.details["attempts"] == 3
    assert result.tried == f"GET {server.url}/warming"


# -- no TLS for plain HTTP ------------------------------------------------------------------


@pytest.fixture
def verifying_contexts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every TLS context made with the CA certificates loaded (what verify=True costs)."""
    import ssl

    made: list[object] = []
    create = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = create(*args, **kwargs)
        made.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", counting)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    return made


def test_checks_of_a_plain_http_url_load_no_tls_certificates(server, verifying_contexts):
    assert checks.http(server.url, path="/health").ok
    assert checks.latency(server.url, path="/health", requests=2, p95_ms=5000).ok
    assert checks.burst(server.url, path="/health", requests=2, concurrency=2).ok

    assert verifying_contexts == []


def test_a_check_of_an_https_url_still_verifies_its_certificate(verifying_contexts):
    result = checks.http("https://127.0.0.1:9", timeout=0.5)

    assert not result.ok
    assert len(verifying_contexts) == 1
