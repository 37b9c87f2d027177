"""A release of many services as a Temporal workflow (``bluegreen[temporal]``).

When one machine is not enough, or a CI job that dies mid-wave must not leave a release
with nobody in charge, the release of a manifest runs as a Temporal workflow: the
``ReleaseWorkflow`` runs the waves in order (a child ``ServiceWorkflow`` per service, at
most the wave's concurrency at once, a durable bake timer between waves), and every AWS
call happens in an activity that wraps the library's own steps (``bluegreen.release_service``),
on a worker of the service's account and region. A worker that dies is replaced by another;
its activities are retried there, and each step re-attaches to what the dead one started,
so a service never gets two deployments.

``bluegreen worker --temporal HOST:PORT`` runs a worker (``run_worker``);
``bluegreen release FILE --temporal HOST:PORT`` starts the workflow (``start_release``).
The workflow answers the ``status`` Query and the ``promote`` and ``abort`` Updates.

Importing this package without temporalio installed raises ``MissingExtraError`` naming
the extra (``pip install 'bluegreen[temporal]'``); nothing here is imported by
``import bluegreen``.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from bluegreen.errors import MissingExtraError

TEMPORAL_EXTRA = "temporal"


def _require_temporalio() -> None:
    try:
        found = importlib.util.find_spec("temporalio")
    except (ImportError, ValueError):  # a broken install, or an import hook refused it
        found = None
    if found is None:
        raise MissingExtraError("bluegreen.temporal", TEMPORAL_EXTRA, "temporalio")


_require_temporalio()

if TYPE_CHECKING:
    from bluegreen.temporal.client import release_status, start_release
    from bluegreen.temporal.data import (
        ReleaseInput,
        ReleaseOptions,
        ServiceJob,
        ServiceOutcome,
        ServiceState,
    )
    from bluegreen.temporal.queues import WORKFLOW_QUEUE, activity_queue
    from bluegreen.temporal.worker import run_worker
    from bluegreen.temporal.workflows import ReleaseWorkflow, ServiceWorkflow

__all__ = [
    "WORKFLOW_QUEUE",
    "ReleaseInput",
    "ReleaseOptions",
    "ReleaseWorkflow",
    "ServiceJob",
    "ServiceOutcome",
    "ServiceState",
    "ServiceWorkflow",
    "activity_queue",
    "release_status",
    "run_worker",
    "start_release",
]

_LAZY = {
    "WORKFLOW_QUEUE": "bluegreen.temporal.queues",
    "activity_queue": "bluegreen.temporal.queues",
    "ReleaseInput": "bluegreen.temporal.data",
    "ReleaseOptions": "bluegreen.temporal.data",
    "ServiceJob": "bluegreen.temporal.data",
    "ServiceOutcome": "bluegreen.temporal.data",
    "ServiceState": "bluegreen.temporal.data",
    "ReleaseWorkflow": "bluegreen.temporal.workflows",
    "ServiceWorkflow": "bluegreen.temporal.workflows",
    "run_worker": "bluegreen.temporal.worker",
    "release_status": "bluegreen.temporal.client",
    "start_release": "bluegreen.temporal.client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bluegreen.temporal' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
