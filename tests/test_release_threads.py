"""bluegreen.release_threads.for_each: every item once, at most ``width`` at once, on a
virtual clock the threads share."""

from __future__ import annotations

import threading

from bluegreen.release_threads import for_each
from bluegreen.testing import VirtualClock


def test_every_item_runs_once_and_no_more_than_width_at_once() -> None:
    clock = VirtualClock(start=1_000_000.0)
    lock = threading.Lock()
    running, most, done = 0, 0, []

    def action(item: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        clock.sleep(60)  # simulated: every thread sleeps together
        with lock:
            running -= 1
            done.append(item)

    for_each(list(range(7)), action, 3, clock=clock)

    assert sorted(done) == list(range(7))
    assert most == 3
    # Three rounds of 60 s, in simulated time: 7 items 3 at a time.
    assert clock.time() == 1_000_000.0 + 180


def test_watch_runs_while_the_threads_work_and_nothing_runs_for_no_items() -> None:
    clock = VirtualClock(start=0.0)
    released = threading.Event()
    watched: list[bool] = []

    def watch() -> None:
        watched.append(True)
        released.set()  # the watcher lets the worker finish

    for_each([1], lambda _: released.wait(timeout=10), 1, clock=clock, watch=watch)
    assert watched

    for_each([], lambda _: None, 4, clock=clock)  # returns at once
