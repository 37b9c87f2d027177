"""A release's threads: ``for_each`` runs one action per item, at most ``width`` at once.

Each thread runs inside the clock's ``worker()`` when the clock has one (the simulator's
``VirtualClock``: simulated time then moves only when every thread waits), and all join the
clock before any starts, so they start at one moment. The threads are daemons: a second
Ctrl-C leaves the process at once, and ``bluegreen recover``/``release resume`` put right
what they left.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bluegreen.clock import Clock

__all__ = ["for_each"]

_T = TypeVar("_T")

JOIN_SECONDS = 0.25
"""How often (real seconds) the calling thread wakes while it waits: ``watch()`` runs, and
Ctrl-C is delivered."""


def for_each(
    items: Sequence[_T],
    action: Callable[[_T], None],
    width: int,
    *,
    clock: Clock,
    name: str = "bluegreen-release",
    watch: Callable[[], None] | None = None,
    on_interrupt: Callable[[], None] | None = None,
) -> None:
    """``action(item)`` for each item in order, in at most ``width`` threads; returns when
    every one has returned.

    Args:
        watch: called in the calling thread while it waits, every ``JOIN_SECONDS``.
        on_interrupt: the first Ctrl-C (KeyboardInterrupt) in the calling thread calls it
            and the wait goes on; a second one is raised.
    """
    queue = list(items)
    if not queue:
        return
    take = threading.Lock()
    width = max(1, min(width, len(queue)))
    worker = getattr(clock, "worker", None)
    ready = threading.Barrier(width)

    def body() -> None:
        with worker() if callable(worker) else contextlib.nullcontext():
            ready.wait()
            while True:
                with take:
                    if not queue:
                        return
                    item = queue.pop(0)
                action(item)

    threads = [threading.Thread(target=body, name=f"{name}-{i}", daemon=True) for i in range(width)]
    for thread in threads:
        thread.start()
    interrupted = False
    while True:
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=JOIN_SECONDS)
                    if watch is not None:
                        watch()
            return
        except KeyboardInterrupt:
            if interrupted or on_interrupt is None:
                raise
            interrupted = True
            on_interrupt()
