"""The time as the AWS endpoint sees it: elapsed times, ETAs and every timestamp bluegreen
prints are the server's, read from each response's HTTP ``Date`` header and the deployment's
own timestamps. That corrects a CI runner whose clock is off, and follows a simulator that runs
faster than real time (``bluegreen sim serve --speed 20``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

import attrs

__all__ = ["ServerClock", "http_date", "server_clock_for"]


class _LocalClock(Protocol):
    def time(self) -> float: ...


def http_date(response: object) -> dt.datetime | None:
    """The HTTP ``Date`` header of a boto3 response, or None when absent or unreadable.

    Two headers joined by a comma (a proxy added its own) count as the last one.
    """
    if not isinstance(response, Mapping):
        return None
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    value = headers.get("date") if isinstance(headers, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        return None
    found = _HTTP_DATE.findall(value)
    try:
        when = email.utils.parsedate_to_datetime(found[-1] if found else value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


_HTTP_DATE = re.compile(r"(?:[A-Za-z]{3}, )?\d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} \w+")

_RATE_BASELINE = 10.0
"""Server seconds two ``Date`` headers must be apart before their rate is believed (the
header has a 1 s resolution, so the estimate is then within 10 %)."""


@attrs.define(eq=False)
class ServerClock:
    """The time as the AWS endpoint sees it, for elapsed times, ETAs and timestamps.

    Every response's HTTP ``Date`` header is a reading of the server's clock (1 s
    resolution), and the deployment's own timestamps (creation, lifecycle events) are
    moments the server has already passed. Between two reads the server's time is
    extrapolated from the local monotonic clock, scaled by the rate observed between the
    ``Date`` headers (server seconds per local second: 1.0 against AWS, 20 against
    ``bluegreen sim serve --speed 20``). A local clock that is wrong (a CI runner minutes
    off) therefore changes nothing once one header has been read. Without any header
    (an endpoint that sends none) the local wall clock stands in for the server's.

    Args:
        local: the local monotonic clock, in seconds (the ``Clock``'s ``time()``).
        wall: the local wall clock, in seconds since the epoch (the fallback).
    """

    local: Callable[[], float]
    wall: Callable[[], float]
    rate: float = attrs.field(default=1.0, init=False)
    """Server seconds per local second, as observed (1.0 until two headers are apart)."""
    _first: tuple[float, float] | None = attrs.field(default=None, init=False)
    _last: tuple[float, float] | None = attrs.field(default=None, init=False)
    _headers: bool = attrs.field(default=False, init=False)
    _floor: float = attrs.field(default=float("-inf"), init=False)
    _shown: float = attrs.field(default=float("-inf"), init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def observe(
        self, date: dt.datetime | None = None, *, at_least: dt.datetime | None = None
    ) -> None:
        """Take in one read: its ``Date`` header and the latest moment it reported."""
        local = self.local()
        with self._lock:
            if at_least is not None:
                self._floor = max(self._floor, at_least.timestamp())
            if date is not None:
                server = max(date.timestamp(), self._floor)
                self._headers = True
                if self._first is None:
                    self._first = (local, server)
                else:
                    self._estimate_rate(local, server)
                self._last = (local, server)
            elif self._last is not None and at_least is not None:
                # A newer deployment timestamp than the extrapolation: the server is there.
                now = self._extrapolate(local)
                if self._floor > now:
                    self._last = (local, self._floor)

    def _estimate_rate(self, local: float, server: float) -> None:
        assert self._first is not None
        first_local, first_server = self._first
        if local - first_local >= 1.0 and server - first_server >= _RATE_BASELINE:
            self.rate = min(1000.0, max(0.001, (server - first_server) / (local - first_local)))

    def _extrapolate(self, local: float) -> float:
        if self._last is None:
            return self.wall()
        last_local, last_server = self._last
        return last_server + max(0.0, local - last_local) * self.rate

    def time(self) -> float:
        """The server's time now, in seconds since the epoch; never goes back."""
        local = self.local()
        with self._lock:
            now = max(self._extrapolate(local) if self._headers else self.wall(), self._floor)
            # Never back by the header's rounding; but a guess far ahead gives way to the
            # server's word.
            if now < self._shown <= now + max(2.0, 2.0 * self.rate):
                now = self._shown
            self._shown = now
            return now

    def now(self) -> dt.datetime:
        """The server's time now, as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.time(), dt.UTC)

    @property
    def from_server(self) -> bool:
        """True once a ``Date`` header was read: the local wall clock no longer counts."""
        return self._headers


def server_clock_for(clock: _LocalClock) -> ServerClock:
    """A server clock extrapolating on ``clock`` (its wall time, if any, as the fallback)."""
    wall = getattr(clock, "wall_time", None)
    return ServerClock(local=clock.time, wall=wall if callable(wall) else clock.time)
