"""The clock every command's waits read, and the time of day the progress view shows.

Tests inject the simulator's virtual clock here::

    monkeypatch.setattr("bluegreen.cli._clock._clock_factory", lambda: sim.clock)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluegreen.clock import Clock

_clock_factory: Callable[[], Clock] | None = None
"""Tests set this to return the simulator's virtual clock, so waits advance simulated time
instead of sleeping. Its ``time()`` is the local clock waits sleep on; the time shown is the
server's (each response's ``Date`` header, ``bluegreen.server_time``), and the clock's
``wall_time()`` (or ``time()``) only stands in for it until a header has been read. None: the
real clock."""


def clock() -> Clock | None:
    """The clock every wait reads: None (the real one) unless a test injected one."""
    return _clock_factory() if _clock_factory is not None else None


def wall_clock() -> Callable[[], dt.datetime]:
    """The time of day for the live view and the JSON events: simulated time under a test's
    clock (so durations agree with the simulator's timestamps), else the system's."""
    injected = clock()
    if injected is None:
        return lambda: dt.datetime.now(dt.UTC)
    seconds = getattr(injected, "wall_time", injected.time)
    return lambda: dt.datetime.fromtimestamp(seconds(), dt.UTC)
