"""``RetryLater``: what a check says when it cannot decide yet (waiting for data, for a warm-up,
for a job it started) and wants to be run again after a while.

An ECS-native hook answers ``{"hookStatus": "IN_PROGRESS", "callBackDelay": seconds}`` and ECS
invokes the function again, with the ``hookDetails`` the kit returned (``HookEvent.state``
among them); a CodeDeploy hook is invoked once, so the kit waits in the same invocation while
the Lambda has time, then reports ``Failed``. Either way an overall deadline ends the waiting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_RETRY_SECONDS", "RetryLater"]

DEFAULT_RETRY_SECONDS = 30.0
"""ECS's own default ``callBackDelay``."""


class RetryLater(Exception):
    """Run the check function again in ``seconds``: raise it, or return it.

    Args:
        reason: why the check cannot decide yet (logged, and kept in the hook's state).
        seconds: how long to wait before the next run (``callBackDelay`` for ECS).
        state: values to merge into ``HookEvent.state`` for the next run (it must be JSON).
    """

    def __init__(
        self,
        reason: str = "the check asked to be run again later",
        *,
        seconds: float = DEFAULT_RETRY_SECONDS,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        problems = []
        if not isinstance(reason, str):
            problems.append(f"reason must be a string, got {type(reason).__name__}")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            problems.append(f"seconds must be a number of seconds, 0 or more, got {seconds!r}")
        if state is not None and not isinstance(state, Mapping):
            problems.append(f"state must be a mapping, got {type(state).__name__}")
        if problems:
            raise ValueError("RetryLater: " + "; ".join(problems))
        self.reason = reason
        self.seconds = float(seconds)
        self.state: dict[str, Any] = dict(state or {})

    def __repr__(self) -> str:
        return f"RetryLater({self.reason!r}, seconds={self.seconds:g})"
