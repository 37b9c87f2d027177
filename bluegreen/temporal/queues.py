"""Which Temporal task queue runs what.

The workflows (pure decisions, no AWS call) run on ``WORKFLOW_QUEUE``. A service's
activities run on the queue of its account and region (``activity_queue``), so a worker
started with that account's credentials, in or near that region, does its AWS calls, and one
worker process keeps one rate budget per account and region for every release it serves.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_PREFIX", "WORKFLOW_QUEUE", "activity_queue", "default_queues"]

DEFAULT_PREFIX = "bluegreen"
WORKFLOW_QUEUE = DEFAULT_PREFIX
"""Where the release and service workflows run."""

_ACCOUNT = re.compile(r"^arn:[^:]+:iam::(\d{12}):")


def activity_queue(
    region: str | None, role: str | None = None, *, prefix: str = DEFAULT_PREFIX
) -> str:
    """The task queue of a service's activities: ``<prefix>-<region>`` (``default`` for a
    service that names no region: the worker's own), with the role's account id in between
    when the service names a role (``bluegreen-123456789012-eu-west-1``)."""
    where = region or "default"
    if role:
        found = _ACCOUNT.match(role)
        account = found[1] if found else re.sub(r"[^A-Za-z0-9_.-]+", "_", role)
        return f"{prefix}-{account}-{where}"
    return f"{prefix}-{where}"


def default_queues(prefix: str = DEFAULT_PREFIX) -> tuple[str, ...]:
    """What ``bluegreen worker`` polls without ``--task-queue``: the workflows' queue and
    the activities of services that name neither a region nor a role."""
    return (prefix, activity_queue(None, prefix=prefix))
