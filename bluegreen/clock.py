"""One clock for everything that waits, and the rate budget it paces.

Waits, retries and the rate budget read the time and sleep through a ``Clock``, so tests and
the simulator can run them on a virtual clock (``bluegreen.testing.VirtualClock``) while
production uses ``MonotonicClock``. Whoever waits imports this module; nothing imports the
deployment driver to get the time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol

import attrs

__all__ = [
    "DEFAULT_BUDGET",
    "Clock",
    "MonotonicClock",
    "RateBudget",
    "format_duration",
    "wall_now",
]


class Clock(Protocol):
    """What waits need: the time now and a way to let time pass (both in seconds).

    ``time()`` counts seconds since the epoch (the simulator's clocks do), because the
    expected schedule is computed from AWS's timestamps. The default clock is the
    exception: it reads ``time.monotonic`` for deadlines and offers ``wall_time()`` for
    comparing with AWS.
    """

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``time.sleep``."""

    def time(self) -> float:
        return time.monotonic()

    def wall_time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def wall_now(clock: Clock) -> dt.datetime:
    """The clock's "now" as an aware UTC datetime, comparable with AWS timestamps."""
    wall = getattr(clock, "wall_time", None)
    seconds = wall() if callable(wall) else clock.time()
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


@attrs.define(eq=False)
class RateBudget:
    """A token bucket every API call draws from before it is made.

    All deployments of a process share ``DEFAULT_BUDGET`` unless given their own, so
    watching many deployments at once cannot exceed ``rate`` calls per second (after an
    initial ``burst``). Waiting for a token sleeps on the caller's clock, so the budget
    holds in simulated time too. Safe to share between threads.

    Args:
        rate: calls per second, sustained.
        burst: calls that may be made at once after a quiet spell.
    """

    rate: float = 5.0
    burst: float = 10.0
    waited: float = attrs.field(default=0.0, init=False)
    """Seconds callers have slept waiting for the budget, in total."""
    _tokens: float = attrs.field(init=False)
    _updated: float | None = attrs.field(default=None, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a rate budget needs rate > 0 and burst >= 1")
        self._tokens = self.burst

    def acquire(self, clock: Clock) -> float:
        """Take one call from the budget, sleeping on ``clock`` until it is available.

        Returns:
            The seconds slept (0.0 when the budget had room).
        """
        with self._lock:
            now = clock.time()
            if self._updated is None or now < self._updated:
                # First use, or another clock that is behind (a new simulator): start full.
                self._tokens = self.burst
            else:
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            pause = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.waited += pause
        if pause > 0:
            clock.sleep(pause)
        return pause


DEFAULT_BUDGET = RateBudget()
"""The budget every AWS call of a process draws from unless given another."""


def format_duration(seconds: float) -> str:
    """A duration as people read it: ``42s``, ``3m 05s``, ``1h 02m``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {whole:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def plural(count: int, noun: str) -> str:
    """``1 service``, ``3 services``: a count as people write it."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
