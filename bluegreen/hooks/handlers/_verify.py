"""The HTTP checks both verify handlers run, configured by ``BLUEGREEN_*`` environment
variables (listed in each handler's docstring and in README.md).

Settings are read when the handler runs, not at import: a bad value then fails the hook with a
report that says which setting is wrong, instead of crashing the cold start before anything
reports (which would leave the deployment hanging for an hour).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Mapping

import attrs

from bluegreen.hooks import CheckResult, checks

DEFAULT_MARGIN_SECONDS = 10.0
MARGIN_VARIABLE = "BLUEGREEN_MARGIN_SECONDS"
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
        if reader.problems:
            raise ValueError("bad settings: " + "; ".join(reader.problems))
        return settings


def margin_seconds() -> float:
    """``BLUEGREEN_MARGIN_SECONDS`` for the decorator, read at import. A bad value falls back
    to the default here (an import error would report nothing) and fails the hook when
    ``Settings.from_environ`` reads it again."""
    try:
        value = float(os.environ.get(MARGIN_VARIABLE) or DEFAULT_MARGIN_SECONDS)
    except ValueError:
        return DEFAULT_MARGIN_SECONDS
    return value if value >= 0 else DEFAULT_MARGIN_SECONDS


def verify(url: str, settings: Settings | None = None) -> list[CheckResult]:
    """Check ``url``: the response (status, JSON field, text, header), riding out warm-up,
    then the latency budget and the burst when set. Load checks are skipped once the
    response check fails: they would only repeat its failure.

    Raises:
        ValueError: a setting is malformed (the hook then reports Failed).
    """
    s = settings or Settings.from_environ()
    _log_settings(url, s)

    def response() -> CheckResult:
        return checks.http(
            url,
            path=s.path,
            expect_status=s.expect_status,
            json_field=s.json_field,
            contains=s.text,
            header=s.header,
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
