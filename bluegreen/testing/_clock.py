"""Simulated time: a virtual clock for tests and a real-time clock with a speed factor.

Both keep a queue of timed callbacks. ``VirtualClock`` moves only when told (``advance``,
``run_until`` or ``sleep``), running every callback that falls due on the way, so a
30-minute deployment runs in milliseconds. ``RealTimeClock`` follows the wall clock times a
speed factor and runs callbacks on a background thread. The library's waits take the same
clock (``time()`` and ``sleep()``), so a ``wait()`` in a test advances simulated time
instead of sleeping. Threads that wait at the same time (a release of many services) share
a ``VirtualClock`` through ``worker()``: time then moves only when all of them sleep.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator

import attrs

__all__ = ["Clock", "RealTimeClock", "SimTimeoutError", "VirtualClock"]


class SimTimeoutError(TimeoutError):
    """``run_until`` reached its timeout (in simulated seconds) before the condition held,
    or a ``sleep`` shared through ``VirtualClock.worker()`` could never end (a worker
    blocked outside the clock)."""


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

    A clock may offer ``worker()``: a context manager a thread enters for as long as it
    works on the clock ("I am one of the threads sharing this clock"). bluegreen's release
    runner enters it in each thread it starts (found with ``getattr(clock, "worker",
    None)``), so on a ``VirtualClock`` concurrent waits overlap in simulated time instead of
    adding up; on a ``RealTimeClock`` (this class's ``worker``) it does nothing.
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

    @contextlib.contextmanager
    def worker(self) -> Iterator[None]:
        """Mark the calling thread as one of the threads sharing this clock while inside.

        Does nothing here (``RealTimeClock``: real time moves by itself);
        ``VirtualClock`` holds time until every worker sleeps.
        """
        yield

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

    One thread moves it by sleeping (``sleep`` advances at once) or with ``advance`` and
    ``run_until``. Several threads share it through ``worker()``: while any thread is
    registered as a worker, a ``sleep`` (by a worker or by any other thread) blocks until
    simulated time reaches its wake time, and time moves only when every worker is blocked
    in ``sleep`` (or has left) and no sleeper's wake time has come yet; then the clock
    advances to the earliest wake time, running due callbacks on the way, and those
    sleepers return. What a worker does between two sleeps takes no simulated time, so when
    each thread acts does not depend on thread scheduling (the order in which threads act
    at the same simulated moment still does: who gets a shared rate budget's next call).
    The callbacks run in whichever sleeping thread moves time, and what they raise is
    raised from its ``sleep``.

    Args:
        start: the initial time, seconds since the epoch (default: now, whole seconds).
        stall_timeout: real seconds a shared ``sleep`` waits without anything happening on
            the clock (no sleep begun or ended, no worker come or gone, no time moved)
            before it raises ``SimTimeoutError``: a worker is then blocked outside
            ``sleep`` (on a lock, a queue, a join), and time could never move again.
    """

    def __init__(self, start: float | None = None, *, stall_timeout: float = 60.0) -> None:
        super().__init__()
        self._now = float(int(time.time()) if start is None else start)
        self.stall_timeout = stall_timeout
        self._workers: dict[int, int] = {}
        """Registered worker threads (by ident): how many ``worker()`` each has entered."""
        self._names: dict[int, str] = {}
        self._sleepers: dict[int, float] = {}
        """Threads blocked in a shared ``sleep`` (by ident): the time each wakes at."""
        self._advancer: int | None = None
        """The thread moving time right now, if any."""
        self._advance_lock = threading.RLock()
        self._progress_at = time.monotonic()

    def time(self) -> float:
        return self._now

    @property
    def sleeping(self) -> int:
        """How many threads are blocked in a shared ``sleep`` right now (see ``worker``)."""
        with self._lock:
            return len(self._sleepers)

    @contextlib.contextmanager
    def worker(self) -> Iterator[None]:
        """Register the calling thread as one of the threads sharing this clock.

        Inside it, time moves only when this thread (and every other worker) is blocked in
        ``sleep``; leaving lets the others move on. Entering again in the same thread
        (nested) is allowed and counts once: the thread is a worker until the outermost
        ``with`` ends. Entering waits for a move of time under way to finish, so a worker's
        calls never overlap the simulator's callbacks.

        A thread counts from the moment it enters, so threads started together should
        meet inside ``worker()`` (a ``threading.Barrier``) before their first sleep:
        otherwise the first to sleep moves time alone before the others have entered, as a
        sleep with no worker registered (and nobody else sleeping) advances at once.
        """
        me = threading.get_ident()
        with self._lock:
            while self._advancer not in (None, me):
                self._changed.wait()
            self._workers[me] = self._workers.get(me, 0) + 1
            self._names[me] = threading.current_thread().name
            self._moved()
        try:
            yield
        finally:
            with self._lock:
                depth = self._workers.pop(me) - 1
                if depth:
                    self._workers[me] = depth
                else:
                    self._names.pop(me, None)
                self._moved()

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass.

        Alone (no worker registered, nobody else sleeping) it advances at once, running
        whatever falls due. Shared (see ``worker``) it waits until time reaches its wake.

        Raises:
            SimTimeoutError: shared, and nothing happened on the clock for
                ``stall_timeout`` real seconds (a worker blocks outside ``sleep``).
        """
        me = threading.get_ident()
        with self._lock:
            shared = bool(self._workers or self._sleepers) and self._advancer != me
            if shared:
                wake = self._now + max(0.0, seconds)
                self._sleepers[me] = wake
                self._moved()
        if not shared:
            self.advance(seconds)
            return
        try:
            self._sleep_shared(me, wake)
        finally:
            with self._lock:
                del self._sleepers[me]
                self._moved()

    def _sleep_shared(self, me: int, wake: float) -> None:
        while True:
            with self._lock:
                while True:
                    if self._now >= wake:
                        return
                    if self._advancer is None and self._all_asleep():
                        target = min(w for w in self._sleepers.values() if w > self._now)
                        self._advancer = me
                        break
                    if self._advancer is not None:  # its end notifies
                        self._changed.wait()
                        continue
                    left = self._progress_at + self.stall_timeout - time.monotonic()
                    if left <= 0:
                        raise SimTimeoutError(self._stall_message())
                    self._changed.wait(timeout=left)
            try:
                self._advance_to(target)
            finally:
                with self._lock:
                    self._advancer = None
                    self._moved()

    def _all_asleep(self) -> bool:
        """Every worker blocked in ``sleep``, and no sleeper due to wake (it must act first)."""
        return all(w in self._sleepers for w in self._workers) and all(
            wake > self._now for wake in self._sleepers.values()
        )

    def _stall_message(self) -> str:
        busy = sorted(
            self._names.get(w, str(w))
            for w in self._workers
            if w not in self._sleepers or self._sleepers[w] <= self._now
        )
        return (
            f"simulated time is stuck at {self._now:.0f}: no thread slept, woke or left "
            f"clock.worker() for {self.stall_timeout:g} real seconds while "
            f"{len(self._sleepers)} thread(s) wait in clock.sleep; worker thread(s) "
            f"{', '.join(busy) or '(none)'} are blocked outside clock.sleep (a lock, queue, "
            "join or real sleep?). A worker must wait only through clock.sleep, or leave "
            "clock.worker() before it blocks on something else"
        )

    def _moved(self) -> None:
        """Something happened that may let a sleeper go on (call with ``_lock`` held)."""
        self._progress_at = time.monotonic()
        self._changed.notify_all()

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, running due callbacks in order on the way."""
        with self._advance_lock:
            self._advance_to(self._now + max(0.0, seconds))

    def _advance_to(self, target: float) -> None:
        me = threading.get_ident()
        with self._advance_lock:
            with self._lock:
                outer, self._advancer = self._advancer, me
            try:
                self._run_due(target)
            finally:
                with self._lock:
                    self._advancer = outer
                    self._moved()

    def _run_due(self, target: float) -> None:
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
        self._now = max(self._now, target)

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
