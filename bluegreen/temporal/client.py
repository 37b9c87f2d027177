"""Start, follow and steer a release on Temporal: what ``bluegreen release FILE --temporal``
calls.

The workflow id is the release id (``Manifest.id``), so a release runs once: starting it
again while it runs attaches to the running workflow, and starting it after it ended is
refused (``ConflictError``) rather than releasing twice. Each function connects, does its
one thing and returns; the ``*_async`` forms take a ready ``temporalio`` client.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from bluegreen.errors import ConflictError
from bluegreen.temporal.data import (
    ReleaseInput,
    ReleaseOptions,
    ReleaseResult,
    ServiceRef,
    ServiceState,
    WaveInput,
)
from bluegreen.temporal.queues import WORKFLOW_QUEUE
from bluegreen.temporal.worker import connect
from bluegreen.temporal.workflows import FAILED_TYPE, ReleaseWorkflow

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle

    from bluegreen.manifest import Manifest

__all__ = [
    "StartedRelease",
    "abort_release",
    "promote_service",
    "release_input",
    "release_status",
    "start_release",
    "start_release_async",
    "wait_release_async",
]


@attrs.frozen
class StartedRelease:
    """A release started (or found running) on Temporal.

    Attributes:
        release_id: the release id, which is the workflow id.
        run_id: the workflow run.
        attached: True when the release was running already and nothing new was started.
        result: how it ended, when asked to wait.
    """

    release_id: str
    run_id: str | None
    attached: bool
    result: ReleaseResult | None = None


def release_input(
    manifest: str | os.PathLike[str], options: ReleaseOptions | None = None
) -> ReleaseInput:
    """The workflow's input for the manifest file: checked and loaded here (every problem
    at once, ``ValidationError``), carried as the file's text for the workers."""
    from bluegreen.manifest_load import load_manifest

    path = Path(manifest)
    loaded = load_manifest(path)
    return input_for(loaded, path.read_text(encoding="utf-8"), str(path.resolve()), options)


def input_for(
    manifest: Manifest, text: str, path: str | None, options: ReleaseOptions | None = None
) -> ReleaseInput:
    """The workflow's input for a loaded manifest and the text it was loaded from."""
    return ReleaseInput(
        release_id=manifest.id,
        name=manifest.name,
        on_failure=str(manifest.on_failure),
        waves=[
            WaveInput(
                name=wave.name,
                services=[ServiceRef(s.name, s.region, s.role, s.timeout) for s in wave.services],
                concurrency=wave.concurrency,
                bake=wave.bake,
            )
            for wave in manifest.waves
        ],
        manifest_text=text,
        manifest_path=path,
        options=options if options is not None else ReleaseOptions(),
    )


async def start_release_async(
    client: Client, release: ReleaseInput, *, task_queue: str = WORKFLOW_QUEUE
) -> tuple[WorkflowHandle[Any, ReleaseResult], bool]:
    """Start the release's workflow, or find it running: ``(handle, attached)``.

    Raises:
        ConflictError: the release ran already (the workflow id is taken by an ended run).
    """
    attached = await _running(client, release.release_id)
    try:
        handle = await client.start_workflow(
            ReleaseWorkflow.run,
            release,
            id=release.release_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        raise ConflictError(
            f"release {release.release_id} has run on Temporal already (workflow "
            f"{release.release_id}); a release runs once: see how it ended with `bluegreen "
            "release status FILE`, or give the manifest a new id: for another release"
        ) from None
    return handle, attached


async def _running(client: Client, workflow_id: str) -> bool:
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:  # not found
        return False
    return described.status == WorkflowExecutionStatus.RUNNING


async def wait_release_async(handle: WorkflowHandle[Any, Any]) -> ReleaseResult:
    """How the release ended; one that failed or was aborted is a result too (its
    ``outcome`` says so), not an exception."""
    try:
        return result_from(await handle.result())
    except WorkflowFailureError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == FAILED_TYPE and cause.details:
            return result_from(cause.details[0])
        raise


def result_from(data: Any) -> ReleaseResult:
    """A ``ReleaseResult`` from what the client decoded (a dict when no type was given)."""
    if isinstance(data, ReleaseResult):
        return data
    services = [s if isinstance(s, ServiceState) else ServiceState(**s) for s in data["services"]]
    return ReleaseResult(data["release_id"], data["outcome"], services, data.get("reason"))


def start_release(
    manifest: str | os.PathLike[str],
    host_port: str,
    *,
    namespace: str = "default",
    task_queue: str = WORKFLOW_QUEUE,
    options: ReleaseOptions | None = None,
    wait: bool = False,
) -> StartedRelease:
    """Start the release of ``manifest`` on the Temporal server at ``host_port`` (or attach
    to it when it runs already); with ``wait``, return once it has ended.

    Raises:
        ValidationError: the manifest is invalid (every problem at once).
        ConflictError: the release has run already.
        ConfigurationError: the Temporal server cannot be reached.
    """
    release = release_input(manifest, options)

    async def run() -> StartedRelease:
        client = await connect(host_port, namespace)
        handle, attached = await start_release_async(client, release, task_queue=task_queue)
        result = await wait_release_async(handle) if wait else None
        return StartedRelease(release.release_id, handle.result_run_id, attached, result)

    return asyncio.run(run())


def release_status(release_id: str, host_port: str, *, namespace: str = "default") -> Any:
    """The ``status`` Query: the release's phase and every service's state."""

    async def run() -> Any:
        client = await connect(host_port, namespace)
        return await client.get_workflow_handle(release_id).query(ReleaseWorkflow.status)

    return asyncio.run(run())


def abort_release(
    release_id: str, host_port: str, reason: str, *, namespace: str = "default"
) -> list[str]:
    """The ``abort`` Update: the services whose deployments are being stopped."""

    async def run() -> list[str]:
        client = await connect(host_port, namespace)
        handle = client.get_workflow_handle(release_id)
        return await handle.execute_update(ReleaseWorkflow.abort, reason)

    return asyncio.run(run())


def promote_service(
    release_id: str, service: str, host_port: str, *, namespace: str = "default"
) -> str:
    """The ``promote`` Update: promote ``service``'s deployment waiting in Ready."""

    async def run() -> str:
        client = await connect(host_port, namespace)
        handle = client.get_workflow_handle(release_id)
        return await handle.execute_update(ReleaseWorkflow.promote, service)

    return asyncio.run(run())
