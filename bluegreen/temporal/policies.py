"""How long the workflows let an activity run, and how they retry it.

Every activity heartbeats (``bluegreen.temporal.activities``), so a dead worker shows after
``heartbeat_timeout`` and its activity is retried on another worker. The short steps
(start, stop, promote, roll back) are bounded per attempt and retried a few times; following
a deployment is retried for as long as it takes (reading again is always safe), bounded only
by the service's own timeout.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from temporalio.common import RetryPolicy

from bluegreen.temporal.data import ReleaseOptions

__all__ = ["FOLLOW_WITHOUT_TIMEOUT", "STEP_ATTEMPTS", "follow_options", "step_options"]

STEP_ATTEMPTS = 10
"""Attempts of a short step: a killed worker costs one, AWS being unavailable a few."""

FOLLOW_WITHOUT_TIMEOUT = dt.timedelta(days=7)
"""How long one attempt of following a deployment may take when the service sets no
timeout: longer than CodeDeploy lets any deployment run (its waits end within days)."""

FOLLOW_MARGIN = dt.timedelta(minutes=10)
"""Beyond the service's own timeout, for the wait to raise it before Temporal does."""


def _retry(options: ReleaseOptions, attempts: int) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=dt.timedelta(seconds=options.retry_initial),
        backoff_coefficient=2.0,
        maximum_interval=dt.timedelta(seconds=options.retry_maximum),
        maximum_attempts=attempts,
    )


def step_options(options: ReleaseOptions, task_queue: str) -> dict[str, Any]:
    """``execute_activity`` keyword arguments of a short step."""
    return {
        "task_queue": task_queue,
        "start_to_close_timeout": dt.timedelta(seconds=options.step_timeout),
        "heartbeat_timeout": dt.timedelta(seconds=options.heartbeat_timeout),
        "retry_policy": _retry(options, STEP_ATTEMPTS),
    }


def follow_options(
    options: ReleaseOptions, task_queue: str, timeout: float | None
) -> dict[str, Any]:
    """``start_activity`` keyword arguments of following a deployment to its end."""
    limit = (
        FOLLOW_WITHOUT_TIMEOUT if timeout is None else dt.timedelta(seconds=timeout) + FOLLOW_MARGIN
    )
    return {
        "task_queue": task_queue,
        "start_to_close_timeout": limit,
        "heartbeat_timeout": dt.timedelta(seconds=options.heartbeat_timeout),
        "retry_policy": _retry(options, 0),
    }
