"""Simulated time: a virtual clock for tests and a real-time clock with a speed factor.

Both keep a queue of timed callbacks. ``VirtualClock`` moves only when told (``advance``,
``run_until`` or ``sleep``), running every callback that falls due on the way, so a
30-minute deployment runs in milliseconds. ``RealTimeClock`` follows the wall clock times a
speed factor and runs callbacks on a background thread. The library's waits take the same
clock (``time()`` and ``sleep()``), so a ``wait()`` in a test advances simulated time
instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

import attrs

__all__ = ["Clock", "RealTimeClock", "SimTimeoutError", "VirtualClock"]


class SimTimeoutError(TimeoutError):
    """``run_until`` reached its timeout (in simulated seconds) before the condition held."""


@attrs.define(eq=False)
class _Timer:
    when: float
    seq: int
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: _Timer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


@attrs.define(eq=False)
class _Ticker:
    """A callback run every ``period`` simulated seconds, at whole multiples of it."""

    period: float
    next: float
    callback: Callable[[], None]


class Clock:
    """A clock with a queue of timed callbacks; subclasses decide how time moves.

    Besides one-off callbacks (``call_at``) it runs tickers (``every``): periodic
    background work, such as the simulated CloudWatch minute, that runs as time passes but
    never counts as something left to run (``next_due`` ignores it), so ``run_until`` and
    ``run_all`` still end when no deployment step is scheduled.
    """

    def __init__(self) -> None:
        self._queue: list[_Timer] = []
        self._tickers: list[_Ticker] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)

    def time(self) -> float:
        """Seconds since the epoch, in simulated time."""
        raise NotImplementedError

    def monotonic(self) -> float:
        """Same as ``time()``: simulated time never goes back."""
        return self.time()

    def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def call_at(self, when: float, callback: Callable[[], None]) -> _Timer:
        """Run ``callback`` once simulated time reaches ``when``."""
        with self._lock:
            timer = _Timer(when, next(self._seq), callback)
            heapq.heappush(self._queue, timer)
            self._changed.notify_all()
            return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        return self.call_at(self.time() + max(0.0, delay), callback)

    def every(self, period: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` at every whole multiple of ``period`` from now on."""
        with self._lock:
            first = (int(self.time() // period) + 1) * period
            self._tickers.append(_Ticker(period, first, callback))
            self._changed.notify_all()

    def _due_tick(self, now: float) -> _Ticker | None:
        """The earliest ticker due at ``now``, or None."""
        with self._lock:
            return min(
                (t for t in self._tickers if t.next <= now), key=lambda t: t.next, default=None
            )

    def next_due(self) -> float | None:
        """When the earliest pending callback is due, or None when nothing is scheduled."""
        with self._lock:
            while self._queue and self._queue[0].cancelled:
                heapq.heappop(self._queue)
            return self._queue[0].when if self._queue else None

    def _run_tick(self, now: float) -> bool:
        ticker = self._due_tick(now)
        if ticker is None:
            return False
        ticker.next += ticker.period
        ticker.callback()
        return True

    def _pop_due(self, now: float) -> _Timer | None:
        with self._lock:
            while self._queue and self._queue[0].cancelled:
                heapq.heappop(self._queue)
            if self._queue and self._queue[0].when <= now:
                return heapq.heappop(self._queue)
            return None


class VirtualClock(Clock):
    """Time that moves only when the test moves it.

    Args:
        start: the initial time, seconds since the epoch (default: now, whole seconds).
    """

    def __init__(self, start: float | None = None) -> None:
        super().__init__()
        self._now = float(int(time.time()) if start is None else start)

    def time(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        """Advance simulated time, running whatever falls due."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, running due callbacks in order on the way."""
        target = self._now + max(0.0, seconds)
        while True:
            due = self.next_due()
            tick = min((t.next for t in self._tickers), default=None)
            # A tick runs before a step due at the same moment: it covers the minute that
            # has just ended.
            if tick is not None and tick <= target and (due is None or tick <= due):
                self._now = max(self._now, tick)
                self._run_tick(self._now)
                continue
            if due is None or due > target:
                break
            self._now = max(self._now, due)
            timer = self._pop_due(self._now)
            if timer is not None:
                timer.callback()
        self._now = target

    def run_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float | None = None,
        poll: float | None = None,
    ) -> float:
        """Advance until ``condition()`` holds; returns the simulated seconds it took.

        Jumps from one scheduled callback (or tick) to the next, checking the condition
        after each.

        Args:
            timeout: give up after this many simulated seconds.
            poll: also check at least this often (for conditions nothing schedules).

        Raises:
            SimTimeoutError: the timeout passed, or nothing is left to run and the
                condition still does not hold.
        """
        start = self._now
        deadline = None if timeout is None else start + timeout
        while not condition():
            due = self.next_due()
            candidates = [t for t in (due, deadline) if t is not None]
            if poll is not None:
                candidates.append(self._now + poll)
            if not candidates:
                raise SimTimeoutError("nothing left to run and the condition does not hold")
            # Check after every tick too: what a tick does (an alarm stopping a
            # deployment) is seen at the moment it happens.
            candidates.extend(t.next for t in self._tickers)
            step_to = min(candidates)
            if deadline is not None and self._now >= deadline:
                raise SimTimeoutError(f"condition still false after {timeout:g} simulated s")
            self.advance(max(0.0, step_to - self._now))
        return self._now - start

    def run_all(self, *, limit: float = 7 * 24 * 3600) -> None:
        """Run every scheduled callback (at most ``limit`` simulated seconds ahead)."""
        deadline = self._now + limit
        while (due := self.next_due()) is not None and due <= deadline:
            self.advance(due - self._now)


class RealTimeClock(Clock):
    """Wall-clock time multiplied by ``speed``, with callbacks run on a background thread.

    Args:
        speed: simulated seconds per real second (60 makes a minute pass in a second).
    """

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        super().__init__()
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start_sim = float(int(time.time()) if start is None else start)
        self._start_wall = time.monotonic()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bluegreen-sim-clock", daemon=True)
        self._thread.start()

    def time(self) -> float:
        return self._start_sim + (time.monotonic() - self._start_wall) * self.speed

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            self._changed.notify_all()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            now = self.time()
            try:
                timer = self._pop_due(now)
                if timer is not None:
                    timer.callback()
                    continue
                if self._run_tick(now):
                    continue
            except Exception:  # a failing callback must not stop simulated time
                import logging

                logging.getLogger("bluegreen.testing").exception("simulator callback failed")
                continue
            with self._lock:
                due = min(
                    [t for t in [self.next_due(), *(k.next for k in self._tickers)] if t],
                    default=None,
                )
                wait = 0.5 if due is None else max(0.0, (due - self.time()) / self.speed)
                self._changed.wait(timeout=min(wait, 0.5))
