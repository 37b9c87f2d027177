"""The HTTP checks both verify handlers run, configured by ``BLUEGREEN_*`` environment
variables (listed in each handler's docstring and in README.md), for CodeDeploy and
ECS-native hooks alike (``verify_route``).

For an ECS-native hook the route is the service's listener rule (its listener's URL, and the
``Host`` or header its conditions match), the stage must be one where that route reaches the
new revision (else the hook fails, saying where to attach it: a check of blue alone would pass
and prove nothing), and a rollback's re-run of a traffic-shift hook passes without checking.

Settings are read when the handler runs, not at import: a bad value then fails the hook with a
report that says which setting is wrong, instead of crashing the cold start before anything
reports (which would leave the deployment hanging for an hour).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping

import attrs

from bluegreen.hooks import CheckResult, HookEvent, checks

DEFAULT_MARGIN_SECONDS = 10.0
MARGIN_VARIABLE = "BLUEGREEN_MARGIN_SECONDS"
DEFAULT_DEADLINE_SECONDS = 3600.0
DEADLINE_VARIABLE = "BLUEGREEN_DEADLINE_SECONDS"

ROUTE_STAGES = {
    "test": (
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
    ),
    "production": (
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
    ),
}
"""The ECS lifecycle stages at which each route reaches the new revision: the test route once
test traffic has moved, production once production traffic starts to."""
_BEST_STAGE = {"test": "POST_TEST_TRAFFIC_SHIFT", "production": "POST_PRODUCTION_TRAFFIC_SHIFT"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@attrs.frozen(kw_only=True)
class Settings:
    """What to check, from the environment (``Settings.from_environ``)."""

    path: str = "/"
    expect_status: int = 200
    json_field: tuple[str, object] | None = None
    text: str | None = None
    header: tuple[str, str] | None = None
    request_timeout: float = 5.0
    verify_tls: bool = True
    warmup_seconds: float = 0.0
    warmup_interval: float = 2.0
    latency_p95_ms: float | None = None
    latency_requests: int = 20
    burst_requests: int = 0
    burst_concurrency: int = 10
    burst_max_error_rate: float = 0.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ`` (default ``os.environ``).

        Raises:
            ValueError: one or more settings are malformed; the message lists them all.
        """
        reader = _Reader(os.environ if environ is None else environ)
        path = reader.text("BLUEGREEN_CHECK_PATH") or "/"
        settings = cls(
            path=path if path.startswith("/") else f"/{path}",
            expect_status=reader.integer("BLUEGREEN_EXPECT_STATUS", 200, low=100, high=599),
            json_field=reader.json_pair("BLUEGREEN_EXPECT_JSON_FIELD"),
            text=reader.text("BLUEGREEN_EXPECT_TEXT"),
            header=reader.pair("BLUEGREEN_EXPECT_HEADER"),
            request_timeout=reader.number("BLUEGREEN_REQUEST_TIMEOUT", 5.0, positive=True),
            verify_tls=reader.boolean("BLUEGREEN_VERIFY_TLS", True),
            warmup_seconds=reader.number("BLUEGREEN_WARMUP_SECONDS", 0.0),
            warmup_interval=reader.number("BLUEGREEN_WARMUP_INTERVAL", 2.0, positive=True),
            latency_p95_ms=reader.optional_number("BLUEGREEN_LATENCY_P95_MS"),
            latency_requests=reader.integer("BLUEGREEN_LATENCY_REQUESTS", 20, low=1),
            burst_requests=reader.integer("BLUEGREEN_BURST_REQUESTS", 0, low=0),
            burst_concurrency=reader.integer("BLUEGREEN_BURST_CONCURRENCY", 10, low=1),
            burst_max_error_rate=reader.number("BLUEGREEN_BURST_MAX_ERROR_RATE", 0.0, high=1.0),
        )
        reader.number(MARGIN_VARIABLE, DEFAULT_MARGIN_SECONDS)  # checked here, used at import
        reader.number(DEADLINE_VARIABLE, DEFAULT_DEADLINE_SECONDS)
        if reader.problems:
            raise ValueError("bad settings: " + "; ".join(reader.problems))
        return settings


def margin_seconds() -> float:
    """``BLUEGREEN_MARGIN_SECONDS`` for the decorator, read at import. A bad value falls back
    to the default here (an import error would report nothing) and fails the hook when
    ``Settings.from_environ`` reads it again."""
    return _seconds_setting(MARGIN_VARIABLE, DEFAULT_MARGIN_SECONDS)


def deadline_seconds() -> float:
    """``BLUEGREEN_DEADLINE_SECONDS`` for the decorator, read at import like the margin: how
    long the checks of one ECS-native hook may keep asking for more time."""
    return _seconds_setting(DEADLINE_VARIABLE, DEFAULT_DEADLINE_SECONDS)


def _seconds_setting(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value >= 0 and math.isfinite(value) else default


def verify_route(event: HookEvent, route: str) -> list[CheckResult]:
    """Check the ``route`` (``test`` or ``production``) of ``event``'s deployment with the
    configured checks; for an ECS-native hook, first that the stage lets the route reach the
    new revision (a rollback's re-run passes unchecked).

    Raises:
        ValueError: a setting is malformed (the hook then fails).
    """
    if event.is_native:
        stage = event.stage
        tried = f"verify the {route} route at {stage or 'an unnamed stage'}"
        if event.rolling_back:
            return [
                CheckResult(
                    "stage",
                    True,
                    tried,
                    f"a rollback's re-run of {stage}: traffic is moving back to the previous "
                    "revision, so there is nothing new to verify",
                    0.0,
                )
            ]
        if stage is not None and stage not in ROUTE_STAGES[route]:
            return [
                CheckResult(
                    "stage",
                    False,
                    tried,
                    f"at {stage} the {route} route does not reach the new revision yet, so "
                    f"the check would prove nothing: attach this hook at {_BEST_STAGE[route]} "
                    f"(or one of {', '.join(ROUTE_STAGES[route])})",
                    0.0,
                )
            ]
    routing: list[CheckResult] = []
    if (
        event.is_native
        and route == "test"
        and event.stage in _TEST_APART_STAGES
        and not os.environ.get("BLUEGREEN_TEST_URL")
    ):
        routing = [routing_check(event)]
        if not routing[0].ok:
            return routing
    if route == "test":
        url, headers = event.test_url, event.test_headers
    else:
        url, headers = event.production_url, event.production_headers
    return routing + verify(url, headers=headers)


_TEST_APART_STAGES = ("TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT")
"""The stages at which all test traffic is on green and all production traffic on blue."""


def routing_check(event: HookEvent) -> CheckResult:
    """That the native service's test listener rule forwards all its traffic to one target
    group, not the one production's rule forwards all its traffic to: else the test route
    still reaches the old revision and an HTTP check through it would prove nothing."""
    started = time.perf_counter()
    test, production = event.listener_rule("test"), event.listener_rule("production")
    tried = "DescribeRules: where the test and production listener rules forward"
    test_to = sorted(tg for tg, weight in test.forward.items() if weight > 0)
    production_to = sorted(tg for tg, weight in production.forward.items() if weight > 0)
    got = f"test rule to {_shown(test.forward)}, production rule to {_shown(production.forward)}"
    elapsed = (time.perf_counter() - started) * 1000.0
    if not test.forward or not production.forward:
        return CheckResult("test routing", True, tried, got + " (not both rules)", elapsed)
    ok = len(test_to) == 1 and test_to != production_to
    if not ok:
        got = (
            f"{got}: the test route does not lead to the new revision alone, apart from "
            "production; is the test listener rule the one ECS shifts (advancedConfiguration"
            ".testListenerRule)?"
        )
    return CheckResult("test routing", ok, tried, got, elapsed)


def _shown(forward: Mapping[str, int]) -> str:
    """``web-green 100, web-blue 0``: target group names (from their ARNs) and weights."""
    return ", ".join(
        f"{arn.split(':targetgroup/')[-1].split('/')[0]} {weight}"
        for arn, weight in sorted(forward.items(), key=lambda item: -item[1])
    )


def verify(
    url: str, settings: Settings | None = None, *, headers: Mapping[str, str] | None = None
) -> list[CheckResult]:
    """Check ``url``: the response (status, JSON field, text, header), riding out warm-up,
    then the latency budget and the burst when set, each request with ``headers``. Load
    checks are skipped once the response check fails: they would only repeat its failure.

    Raises:
        ValueError: a setting is malformed (the hook then reports Failed).
    """
    s = settings or Settings.from_environ()
    _log_settings(url, s)
    sent = dict(headers or {}) or None

    def response() -> CheckResult:
        return checks.http(
            url,
            path=s.path,
            expect_status=s.expect_status,
            json_field=s.json_field,
            contains=s.text,
            header=s.header,
            headers=sent,
            timeout=s.request_timeout,
            verify=s.verify_tls,
        )

    check: Callable[[], CheckResult] = response
    first = (
        checks.until_healthy(check, within_seconds=s.warmup_seconds, interval=s.warmup_interval)
        if s.warmup_seconds > 0
        else check()
    )
    results = [first]
    if not first.ok:
        return results
    if s.latency_p95_ms is not None:
        results.append(
            checks.latency(
                url,
                path=s.path,
                requests=s.latency_requests,
                p95_ms=s.latency_p95_ms,
                headers=sent,
                timeout=s.request_timeout,
                verify=s.verify_tls,
            )
        )
    if s.burst_requests > 0:
        results.append(
            checks.burst(
                url,
                path=s.path,
                requests=s.burst_requests,
                concurrency=s.burst_concurrency,
                max_error_rate=s.burst_max_error_rate,
                headers=sent,
                timeout=s.request_timeout,
                verify=s.verify_tls,
            )
        )
    return results


def _log_settings(url: str, s: Settings) -> None:
    logging.getLogger("bluegreen.hooks").debug("verifying %s with %r", url, s)


class _Reader:
    """Reads typed settings, collecting every problem instead of stopping at the first."""

    __slots__ = ("environ", "problems")

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def number(
        self, name: str, default: float, *, positive: bool = False, high: float | None = None
    ) -> float:
        value = self.optional_number(name)
        if value is None:
            return default
        if positive and value <= 0:
            self.problems.append(f"{name}={value:g} must be positive")
        elif high is not None and value > high:
            self.problems.append(f"{name}={value:g} must be at most {high:g}")
        return value

    def optional_number(self, name: str) -> float | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a number")
            return None
        if value < 0 or not math.isfinite(value):
            self.problems.append(f"{name}={raw!r} must be a non-negative number")
            return None
        return value

    def integer(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a whole number")
            return default
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.problems.append(f"{name}={value} must be {bounds}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        self.problems.append(f"{name}={raw!r} must be true or false")
        return default

    def json_pair(self, name: str) -> tuple[str, object] | None:
        """``name=value`` where value is read as JSON when it is (``true``, ``3``,
        ``"3"``), else as text (``ok``)."""
        found = self.pair(name)
        if found is None:
            return None
        key, raw = found
        try:
            return key, json.loads(raw)
        except ValueError:
            return key, raw

    def pair(self, name: str) -> tuple[str, str] | None:
        raw = self.text(name)
        if raw is None:
            return None
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            self.problems.append(f"{name}={raw!r} must look like name=value")
            return None
        return key.strip(), value.strip()
