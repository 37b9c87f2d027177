"""A Temporal worker for releases: the workflows and the activities, on the given queues.

One process may poll several task queues (one ``temporalio`` worker each): the workflows'
queue and the activity queues of the accounts and regions it has credentials for
(``bluegreen.temporal.queues``). Every queue gets the workflows and the activities, so one
``bluegreen worker`` with the defaults runs a whole release of services that name no region
or role. Several workers may poll the same queues; Temporal spreads the work and moves it
to a survivor when one dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bluegreen.errors import ConfigurationError
from bluegreen.temporal.activities import ReleaseActivities
from bluegreen.temporal.queues import default_queues
from bluegreen.temporal.workflows import ReleaseWorkflow, ServiceWorkflow

if TYPE_CHECKING:
    from bluegreen.clock import Clock
    from bluegreen.release_accounts import Accounts

__all__ = ["STICKY_SECONDS", "connect", "run_worker"]

STICKY_SECONDS = 10.0
"""How long a workflow task waits for this worker's cache (sticky queue) before any worker
may take it: after a worker dies, its releases pause this long at most."""


async def connect(host_port: str, namespace: str = "default") -> Client:
    """A Temporal client for ``host_port``.

    Raises:
        ConfigurationError: the server cannot be reached there.
    """
    try:
        return await Client.connect(host_port, namespace=namespace)
    except Exception as error:  # temporalio raises RuntimeError with the transport's reason
        raise ConfigurationError(
            f"cannot connect to Temporal at {host_port} (namespace {namespace}): {error}",
            "start the server, or give its address with --temporal HOST:PORT",
        ) from error


async def run_worker(
    host_port: str,
    task_queue: str | Sequence[str] | None = None,
    namespace: str = "default",
    endpoint_url: str | None = None,
    *,
    accounts: Accounts | None = None,
    clock: Clock | None = None,
    threads: int = 100,
    sticky_seconds: float = STICKY_SECONDS,
    stop: asyncio.Event | None = None,
    ready: Callable[[Sequence[str]], object] | None = None,
) -> None:
    """Run a release worker until ``stop`` is set (or the task is cancelled), then shut it
    down (activities in flight are cancelled: another worker retries them).

    Args:
        host_port: the Temporal frontend, e.g. ``localhost:7233``.
        task_queue: the queue(s) to poll; default: ``bluegreen`` (the workflows) and
            ``bluegreen-default`` (services that name no region or role).
        namespace: the Temporal namespace.
        endpoint_url: send every AWS call there (``bluegreen sim serve``).
        accounts: where services' AWS calls go (default: ``Accounts(endpoint_url=...)``,
            the default credentials, assuming the services' roles).
        clock: the clock the library's waits read (None: the real one).
        threads: how many activities run at once.
        sticky_seconds: see ``STICKY_SECONDS``.
        stop: set it to stop the worker.
        ready: called with the queues once every worker polls.

    Raises:
        ConfigurationError: the Temporal server cannot be reached.
    """
    from bluegreen.release_accounts import Accounts

    queues = (
        default_queues()
        if task_queue is None
        else (task_queue,)
        if isinstance(task_queue, str)
        else tuple(task_queue)
    )
    client = await connect(host_port, namespace)
    activities = ReleaseActivities(
        accounts if accounts is not None else Accounts(endpoint_url=endpoint_url),
        clock=clock,
        threads=threads,
    )
    # bluegreen's modules are deterministic to import: the sandbox takes them as they are
    # instead of importing them again for every workflow run.
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("bluegreen")
    )
    try:
        await asyncio.to_thread(activities.warm_up)
        async with contextlib.AsyncExitStack() as stack:
            for queue in dict.fromkeys(queues):
                worker = Worker(
                    client,
                    task_queue=queue,
                    workflows=[ReleaseWorkflow, ServiceWorkflow],
                    activities=activities.all,
                    workflow_runner=runner,
                    max_concurrent_activities=threads,
                    sticky_queue_schedule_to_start_timeout=dt.timedelta(seconds=sticky_seconds),
                )
                await stack.enter_async_context(worker)
            if ready is not None:
                ready(queues)
            await (stop if stop is not None else asyncio.Event()).wait()
    finally:
        activities.close()
