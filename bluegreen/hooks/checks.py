"""HTTP checks for lifecycle hooks, over the test or production listener.

Each check returns a ``CheckResult`` that says what was tried (method and URL), what came back
(status, a short excerpt of the body, the header asked about) and how long it took. TLS is
verified unless ``verify=False``. Every check takes ``client=`` (an ``httpx.Client``, for
example one with ``transport=httpx.MockTransport(...)``); without one it makes its own.
httpx is imported on the first check, not with this module.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.hooks._results import CheckResult, mask_headers, mask_url

if TYPE_CHECKING:
    import httpx

__all__ = ["burst", "http", "latency", "until_healthy"]

_EXCERPT = 200
_MISSING = object()


def _join(url: str, path: str) -> str:
    if not path:
        return url
    return url.rstrip("/") + "/" + path.lstrip("/")


@contextlib.contextmanager
def _client(
    client: httpx.Client | None, target: str, *, timeout: float, verify: bool, pool: int = 10
) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    import httpx

    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    transport = None
    if target.lower().startswith("http://"):
        # httpx.Client() builds a TLS context (loading every CA certificate) even when every
        # request is plain HTTP; a check never follows redirects, so a plain target needs no
        # TLS at all, and its transport gets a context that loads nothing (and is never used).
        # ``verify`` still applies to an HTTPS proxy taken from the environment.
        transport = httpx.HTTPTransport(verify=False, limits=limits)
    with httpx.Client(timeout=timeout, verify=verify, limits=limits, transport=transport) as made:
        yield made


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _describe(response: httpx.Response) -> str:
    try:
        body = response.text
    except Exception:
        body = f"<{len(response.content)} bytes>"
    return f"{response.status_code} {response.reason_phrase}; body {_excerpt(body)!r}"


def _field(document: Any, dotted: str) -> Any:
    value = document
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _failure(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def http(
    url: str,
    *,
    path: str = "/",
    expect_status: int = 200,
    json_field: tuple[str, object] | None = None,
    contains: str | None = None,
    header: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    verify: bool = True,
    client: httpx.Client | None = None,
    name: str = "http",
) -> CheckResult:
    """GET ``url`` + ``path`` once and check what came back.

    Args:
        url: the base URL, e.g. ``event.test_url``.
        path: the path to request.
        expect_status: the status code wanted.
        json_field: ``(dotted.name, value)``: the JSON body must hold ``value`` there
            (``"items.0.id"`` indexes lists).
        contains: text the body must contain.
        header: ``(name, value)``: a response header that must have this value.
        headers: request headers (secret-looking ones are masked in the result).
        timeout: seconds for the request.
        verify: verify TLS certificates.
        client: the ``httpx.Client`` to use instead of a new one.
        name: the check's name in the result and the logs.

    Returns:
        The result; ``ok`` when every expectation held.
    """
    target = _join(url, path)
    tried = f"GET {mask_url(target)}"
    expect: dict[str, Any] = {"status": expect_status}
    if json_field is not None:
        expect["json"] = {json_field[0]: json_field[1]}
    if contains is not None:
        expect["contains"] = contains
    if header is not None:
        expect["header"] = {header[0]: header[1]}
    details: dict[str, Any] = {"expect": expect}
    if headers:
        details["request_headers"] = mask_headers(headers)
    start = time.perf_counter()
    with _client(client, target, timeout=timeout, verify=verify) as http_client:
        try:
            response = http_client.get(target, headers=dict(headers or {}), timeout=timeout)
        except Exception as exc:
            return CheckResult(name, False, tried, _failure(exc), _ms(start), details)
        elapsed = _ms(start)
    problems: list[str] = []
    if response.status_code != expect_status:
        problems.append(f"status {response.status_code}, wanted {expect_status}")
    if json_field is not None:
        dotted, wanted = json_field
        try:
            found = _field(response.json(), dotted)
        except ValueError:
            problems.append(f"body is not JSON, wanted {dotted} == {wanted!r}")
        else:
            if found is _MISSING:
                problems.append(f"JSON has no {dotted}, wanted {wanted!r}")
            elif found != wanted:
                problems.append(f"JSON {dotted} is {found!r}, wanted {wanted!r}")
    if contains is not None and contains not in response.text:
        problems.append(f"body does not contain {contains!r}")
    got = _describe(response)
    if header is not None:
        header_name, wanted_value = header
        value = response.headers.get(header_name)
        shown = mask_headers({header_name: value or ""})[header_name]
        got += f"; {header_name}: {shown!r}" if value is not None else f"; no {header_name}"
        if value != wanted_value:
            problems.append(
                f"header {header_name} is {shown!r}, wanted "
                f"{mask_headers({header_name: wanted_value})[header_name]!r}"
                if value is not None
                else f"header {header_name} is missing"
            )
    if problems:
        details["problems"] = problems
        got = f"{'; '.join(problems)} ({got})"
    return CheckResult(name, not problems, tried, got, elapsed, details)


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def latency(
    url: str,
    *,
    path: str = "/",
    requests: int = 20,
    p95_ms: float = 500.0,
    expect_status: int = 200,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    verify: bool = True,
    client: httpx.Client | None = None,
    name: str = "latency",
) -> CheckResult:
    """GET ``url`` + ``path`` ``requests`` times in a row and check the 95th percentile.

    Every request must answer ``expect_status``; the p95 (nearest rank) of the response
    times must be at most ``p95_ms``.

    Returns:
        The result, with ``p50_ms``, ``p95_ms``, ``max_ms`` and the error count in
        ``details``.
    """
    if requests < 1:
        raise ValueError("requests must be at least 1")
    target = _join(url, path)
    tried = f"GET {mask_url(target)} x{requests}, p95 <= {p95_ms:g} ms"
    times: list[float] = []
    errors: Counter[str] = Counter()
    start = time.perf_counter()
    with _client(client, target, timeout=timeout, verify=verify) as http_client:
        for _ in range(requests):
            one = time.perf_counter()
            try:
                response = http_client.get(target, headers=dict(headers or {}), timeout=timeout)
            except Exception as exc:
                errors[type(exc).__name__] += 1
                continue
            times.append(_ms(one))
            if response.status_code != expect_status:
                errors[str(response.status_code)] += 1
    elapsed = _ms(start)
    details: dict[str, Any] = {"requests": requests, "errors": dict(errors)}
    if not times:
        got = f"no responses; errors {dict(errors)}"
        return CheckResult(name, False, tried, got, elapsed, details)
    p95 = _percentile(times, 0.95)
    details.update(
        p50_ms=round(_percentile(times, 0.5), 3), p95_ms=round(p95, 3), max_ms=round(max(times), 3)
    )
    problems = []
    if p95 > p95_ms:
        problems.append(f"p95 {p95:.1f} ms over the {p95_ms:g} ms budget")
    if errors:
        problems.append(f"{sum(errors.values())} of {requests} requests failed {dict(errors)}")
    got = (
        f"p95 {p95:.1f} ms, p50 {details['p50_ms']:.1f} ms, max {details['max_ms']:.1f} ms "
        f"over {len(times)} responses"
    )
    if problems:
        details["problems"] = problems
        got = f"{'; '.join(problems)} ({got})"
    return CheckResult(name, not problems, tried, got, elapsed, details)


def burst(
    url: str,
    *,
    path: str = "/",
    requests: int = 50,
    concurrency: int = 10,
    max_error_rate: float = 0.0,
    expect_status: int = 200,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    verify: bool = True,
    client: httpx.Client | None = None,
    name: str = "burst",
) -> CheckResult:
    """Send ``requests`` GETs, ``concurrency`` at a time, and check the error rate.

    A request errs when it fails to connect or time out, or answers other than
    ``expect_status``; the share of errors must be at most ``max_error_rate``.

    Returns:
        The result, with the status counts, the error rate and the p95 in ``details``.
    """
    if requests < 1 or concurrency < 1:
        raise ValueError("requests and concurrency must be at least 1")
    target = _join(url, path)
    tried = (
        f"GET {mask_url(target)} x{requests} at concurrency {concurrency}, "
        f"error rate <= {max_error_rate:.0%}"
    )
    plain_headers = dict(headers or {})

    start = time.perf_counter()
    with _client(client, target, timeout=timeout, verify=verify, pool=concurrency) as http_client:

        def one(_: int) -> tuple[str, float]:
            began = time.perf_counter()
            try:
                response = http_client.get(target, headers=plain_headers, timeout=timeout)
            except Exception as exc:
                return type(exc).__name__, _ms(began)
            return str(response.status_code), _ms(began)

        from concurrent.futures import ThreadPoolExecutor  # only the burst needs threads

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="burst") as pool:
            answers = list(pool.map(one, range(requests)))
    elapsed = _ms(start)
    outcomes = Counter(outcome for outcome, _ in answers)
    failed = sum(n for outcome, n in outcomes.items() if outcome != str(expect_status))
    rate = failed / requests
    p95 = _percentile([t for _, t in answers], 0.95)
    details = {
        "outcomes": dict(outcomes),
        "error_rate": rate,
        "p95_ms": round(p95, 3),
        "requests": requests,
        "concurrency": concurrency,
    }
    got = (
        f"{requests - failed}/{requests} answered {expect_status}, error rate {rate:.1%} "
        f"{dict(outcomes)}, p95 {p95:.1f} ms"
    )
    ok = rate <= max_error_rate
    if not ok:
        got = f"error rate {rate:.1%} over the {max_error_rate:.1%} allowed ({got})"
    return CheckResult(name, ok, tried, got, elapsed, details)


def until_healthy(
    check: Callable[[], CheckResult],
    *,
    within_seconds: float = 60.0,
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CheckResult:
    """Run ``check`` until it passes, for at most ``within_seconds``, to ride out warm-up.

    A check that raises counts as a failed attempt. The deadline reads ``clock``, so pass the
    clock that goes with ``sleep`` (a fake sleep with the real clock never times out).

    Returns:
        The first passing result, or the last failing one; either way with the number of
        attempts and the seconds spent in ``details`` and ``got``.
    """
    start = clock()
    deadline = start + within_seconds
    attempts = 0
    while True:
        attempts += 1
        try:
            result = check()
        except Exception as exc:
            result = CheckResult(
                getattr(check, "__name__", "check"), False, "the check", _failure(exc), 0.0
            )
        now = clock()
        if result.ok or now + interval > deadline:
            break
        sleep(interval)
    spent = clock() - start
    if result.ok:
        plural = "s" if attempts != 1 else ""
        got = f"{result.got} (healthy after {attempts} attempt{plural}, {spent:.1f} s)"
    else:
        got = f"{result.got} (still failing after {attempts} attempts in {spent:.1f} s)"
    return attrs.evolve(
        result,
        got=got,
        elapsed_ms=spent * 1000.0,
        details={**result.details, "attempts": attempts, "within_seconds": within_seconds},
    )
