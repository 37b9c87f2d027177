"""One service's part in a release: start, follow, stop, roll back.

The in-process runner (``bluegreen.waves``) and the Temporal activities
(``bluegreen.temporal``) both release a service through these four steps, so both behave
alike. Each step may be repeated after the process that ran it died, without doing twice what
it did once: ``start_service`` first looks for the deployment this release already created
for the service (its description starts with ``release_marker``) and re-attaches to it, and
``roll_back_service`` does the same for the release's rollback. A release therefore never
creates a second deployment for a service, whichever process resumes it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bluegreen._aws import Caller
from bluegreen.clock import MonotonicClock
from bluegreen.controls import DONE_ALREADY, send_control
from bluegreen.deployment import Deployment
from bluegreen.errors import AWSError, BlueGreenError, ConflictError, DeploymentStateError
from bluegreen.manifest import release_marker
from bluegreen.native_status import is_native_deployment_id
from bluegreen.release_state import find_release_deployments
from bluegreen.revision import short_arn

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.clock import Clock
    from bluegreen.manifest import ServiceRelease
    from bluegreen.release_accounts import Account
    from bluegreen.snapshot import DeploymentSnapshot

__all__ = [
    "created_anyway",
    "deployment_description",
    "previous_task_definition",
    "follow_service",
    "roll_back_service",
    "start_service",
    "stop_service",
]

DESCRIPTION_LIMIT = 256
"""CodeDeploy's limit on a deployment's description."""


_PREVIOUS = re.compile(r"; was (arn:\S+)$")


def deployment_description(
    release_id: str, wave: str, service: ServiceRelease, previous: str | None = None
) -> str:
    """``<marker>: deploy of <what>; was <task definition ARN>``, within CodeDeploy's 256
    characters: the task definition the service ran before is kept whole (the release rolls
    back to it when the group has no earlier successful deployment), what is deployed is
    shortened if need be."""
    if service.task_definition is not None:
        what = short_arn(service.task_definition)
    elif isinstance(service.image, Mapping):
        what = ", ".join(f"{name}={image}" for name, image in service.image.items())
    else:
        what = str(service.image)
    head = f"{release_marker(release_id, wave)}: deploy of "
    tail = f"; was {previous}" if previous else ""
    room = DESCRIPTION_LIMIT - len(head) - len(tail)
    if len(what) > room:
        what = what[: max(0, room - 3)] + "..."
    return head + what + tail


def previous_task_definition(description: str | None) -> str | None:
    """The task definition a release's deployment replaced, from its description."""
    found = _PREVIOUS.search(description or "")
    return found[1] if found else None


def _running_task_definition(service: ServiceRelease, account: Account, call: Caller) -> str | None:
    """The task definition the service's primary task set runs (DescribeServices)."""
    answer = call(
        "DescribeServices",
        account.clients.ecs.describe_services,
        cluster=service.cluster,
        services=[service.service],
    )
    for found in answer.get("services", []):
        for task_set in found.get("taskSets") or []:
            if task_set.get("status") == "PRIMARY":
                return str(task_set["taskDefinition"])
        if found.get("taskDefinition"):
            return str(found["taskDefinition"])
    return None


def _attach(deployment_id: str, account: Account, clock: Clock) -> Deployment:
    return Deployment.attach(
        deployment_id, clients=account.clients, clock=clock, budget=account.budget
    )


def start_service(
    release_id: str,
    wave: str,
    service: ServiceRelease,
    account: Account,
    *,
    clock: Clock | None = None,
    since: dt.datetime | None = None,
    resumed: bool = False,
) -> Deployment:
    """The release's deployment of ``service``: the one it created already, or a new one.

    Looks first (ListDeployments and BatchGetDeployments of the service's group), so a
    release resumed after its process died re-attaches instead of deploying twice. Then
    DescribeServices reads the task definition the service runs, kept in the description
    for a rollback (``roll_back_service``), and
    ``bluegreen.deploy`` with the service's arguments, the account's clients and budget, and
    the release's marker in the description. If another deployment won the race for the
    group (``ConflictError``) and it is this release's own, that one is returned.

    A deployment found (re-attached to) adopts the scaling records without a deployment id
    that a dead attempt left (``bluegreen.release_adoption``), and so does a new one when
    ``resumed`` (the release, or this step, is being resumed: an attempt that died before
    CreateDeployment left its record too); the wait's end restores them.

    ``since``: only deployments created from then on can be this release's (the runner read
    the release's state at its start and found none for the service), so the look-up lists
    only those. Naming the service's ``application`` and ``deployment_group`` (the plan
    found them) saves finding the group again.

    Raises:
        ServiceConfigError, ValidationError, ConflictError, AWSError: as ``deploy`` raises
            them (a ``ConflictError`` only for another release's deployment).
    """
    the_clock: Clock = clock if clock is not None else MonotonicClock()
    found = _release_deployment(release_id, service, account, the_clock, since)
    if found is not None:
        return _adopting(_attach(found, account, the_clock), service, account, the_clock)
    from bluegreen.deploying import deploy

    call = Caller(clock=the_clock, budget=account.budget)
    previous = _running_task_definition(service, account, call)
    try:
        created = deploy(
            service.cluster,
            service.service,
            **service.deploy_arguments(),
            description=deployment_description(release_id, wave, service, previous),
            clients=account.clients,
            clock=the_clock,
            budget=account.budget,
        )
    except ConflictError:
        found = _release_deployment(release_id, service, account, the_clock, since)
        if found is None:
            raise
        return _adopting(_attach(found, account, the_clock), service, account, the_clock)
    return _adopting(created, service, account, the_clock) if resumed else created


def created_anyway(
    release_id: str,
    service: ServiceRelease,
    account: Account,
    *,
    clock: Clock | None = None,
    since: dt.datetime | None = None,
) -> Deployment | None:
    """After a ``start_service`` that raised: the deployment it created all the same (a call
    after CreateDeployment failed, such as writing the deployment id into the scaling
    record), re-attached with that record adopted, so it can be stopped and followed to its
    end; None when there is none, or when looking fails too (the first error stands)."""
    the_clock: Clock = clock if clock is not None else MonotonicClock()
    try:
        found = _release_deployment(release_id, service, account, the_clock, since)
        if found is None:
            return None
        return _adopting(_attach(found, account, the_clock), service, account, the_clock)
    except BlueGreenError:
        return None


def _adopting(
    deployment: Deployment, service: ServiceRelease, account: Account, clock: Clock
) -> Deployment:
    """``deployment``, once the scaling records a dead attempt left without a deployment id
    carry its id (``bluegreen.release_adoption``): its wait's end then restores them."""
    if service.suspend_scaling:
        from bluegreen.release_adoption import adopt_orphan_records

        adopt_orphan_records(service, account, deployment.id, clock)
    return deployment


def _release_deployment(
    release_id: str,
    service: ServiceRelease,
    account: Account,
    clock: Clock,
    since: dt.datetime | None = None,
) -> str | None:
    deployment, _ = find_release_deployments(
        service,
        release_id,
        clients=account.clients,
        call=Caller(clock=clock, budget=account.budget),
        since=since,
    )
    return deployment["deploymentId"] if deployment is not None else None


def follow_service(
    deployment: Deployment,
    service: ServiceRelease,
    *,
    on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    on_evaluation: Callable[[AnalysisRun], None] | None = None,
    timeout: float | None = None,
) -> DeploymentSnapshot:
    """Wait for ``deployment`` to end, judging it with the service's analysis.

    A deployment ``start_service`` created carries its analysis run already (with the alarm
    net ``deploy`` attached); one it re-attached to starts a new run of the service's
    analysis. It reads as a wait for the end does (``light``: GetDeployment alone while only
    the status can change), so that fifty of them share one budget. At the end the wait
    restores the scaling ``deploy`` suspended and deletes the net, as every wait does.

    Raises:
        DeploymentError: the deployment failed, was stopped, or was rolled back.
        WaitTimeoutError: ``timeout`` (or the service's own) passed first.
    """
    return deployment.wait(
        timeout=timeout if timeout is not None else service.timeout,
        on_progress=on_progress,
        analysis=None if deployment.analysis is not None else service.analysis,
        on_evaluation=on_evaluation,
        light=True,
    )


_NATIVE_ENDED = frozenset({"ConflictException"})
"""StopServiceDeployment's refusal of a service deployment that has ended (or is stopping)."""


def stop_service(deployment_id: str, account: Account, *, clock: Clock | None = None) -> bool:
    """Stop ``deployment_id`` with rollback: one StopDeployment, without waiting.

    An ECS-native deployment (a service deployment ARN) is stopped by StopServiceDeployment
    with ``stopType=ROLLBACK``: the one stop type AWS documents as valid, and what the
    release's ``on_failure: stop`` promises (each deployment in flight rolls back, as
    CodeDeploy's ``autoRollbackEnabled`` does); ``ABORT``, in the API's enum, is not
    documented.

    A release stops every deployment in flight when one fails, and every second counts: the
    stop is the only call (no read first; a deployment that has ended already is answered
    as such by CodeDeploy), and it does not wait its turn in the account's budget behind the
    reads of the waits (stops are few; throttling is still retried).

    Returns:
        True if it was asked to stop; False if it had ended already (nothing to stop).

    Raises:
        AWSError: StopDeployment failed for another reason (after the retries).
    """
    call = Caller(clock=clock if clock is not None else MonotonicClock(), budget=None)
    native = is_native_deployment_id(deployment_id)
    ended = _NATIVE_ENDED if native else DONE_ALREADY["StopDeployment"]
    try:
        if native:
            send_control(
                call,
                "StopServiceDeployment",
                account.clients.ecs.stop_service_deployment,
                done_if=ended,
                serviceDeploymentArn=deployment_id,
                stopType="ROLLBACK",
            )
        else:
            send_control(
                call,
                "StopDeployment",
                account.clients.codedeploy.stop_deployment,
                done_if=ended,
                deploymentId=deployment_id,
                autoRollbackEnabled=True,
            )
    except AWSError as exc:
        if exc.code in ended:
            return False
        raise
    return True


def roll_back_service(
    release_id: str,
    wave: str,
    service: ServiceRelease,
    deployment_id: str,
    account: Account,
    *,
    clock: Clock | None = None,
) -> Deployment:
    """The release's rollback of a service it released (``on_failure: rollback``): the
    rollback it created already, or a new ``Deployment.rollback()`` of ``deployment_id``
    whose description carries the release's rollback marker. When the group had no
    successful deployment before the release's (``rollback()`` has no known good version),
    the task definition the service ran before, recorded in the release deployment's
    description, is deployed again. So is it for an ECS-native deployment (ECS cannot roll
    back one that ended), once it is found to have succeeded and to be what still runs.

    Raises:
        DeploymentStateError: ``deployment_id`` cannot be rolled back (it did not succeed,
            or is no longer what the service runs); the message says why.
        AWSError: an API call failed.
    """
    the_clock: Clock = clock if clock is not None else MonotonicClock()
    deployment, rollback = find_release_deployments(
        service,
        release_id,
        clients=account.clients,
        call=Caller(clock=the_clock, budget=account.budget),
    )
    if rollback is not None:
        return _attach(rollback["deploymentId"], account, the_clock)
    description = f"{release_marker(release_id, wave, rollback=True)}: rollback of {deployment_id}"
    if is_native_deployment_id(deployment_id):
        target = _native_rollback_target(service, deployment_id, deployment, account, the_clock)
        return _redeploy(service, target, description, account, the_clock)
    try:
        return _attach(deployment_id, account, the_clock).rollback(description=description)
    except DeploymentStateError as exc:
        previous = previous_task_definition((deployment or {}).get("description"))
        if previous is None or not _first_deployment(exc):
            raise
    # The group has no deployment before the release's (a service set up outside CodeDeploy):
    # the task definition the service ran before it, recorded in the description.
    return _redeploy(service, previous, description, account, the_clock)


def _redeploy(
    service: ServiceRelease, previous: str, description: str, account: Account, the_clock: Clock
) -> Deployment:
    """``deploy`` of the task definition the service ran before the release, as its
    rollback (``description`` carries the release's rollback marker)."""
    from bluegreen.deploying import deploy

    return deploy(
        service.cluster,
        service.service,
        task_definition=previous,
        suspend_scaling=service.suspend_scaling,
        application=service.application,
        deployment_group=service.deployment_group,
        check_hooks=False,
        description=description,
        clients=account.clients,
        clock=the_clock,
        budget=account.budget,
    )


def _native_rollback_target(
    service: ServiceRelease,
    deployment_id: str,
    found: Mapping[str, Any] | None,
    account: Account,
    clock: Clock,
) -> str:
    """The task definition a native rollback of ``deployment_id`` deploys again: the one
    the service ran before it (its description's ``; was <ARN>``). ECS has no rollback of
    a deployment that ended: the rollback is a new deployment (UpdateService) of that task
    definition, which needs the release's deployment to have succeeded and to be what the
    service still runs (one DescribeServices).

    Raises:
        DeploymentStateError: it cannot be rolled back; the message says why.
    """
    if found is None or found.get("deploymentId") != deployment_id:
        raise DeploymentStateError(
            f"deployment {deployment_id} is not the release's newest deployment of "
            f"{service.name}: it cannot be rolled back",
            deployment_id=deployment_id,
        )
    status = found.get("serviceDeploymentStatus")
    if status != "SUCCESSFUL":
        raise DeploymentStateError(
            f"deployment {deployment_id} did not succeed ({status}): ECS rolled it back "
            "already, or it still runs; only a successful deployment is rolled back",
            deployment_id=deployment_id,
            status=found.get("status"),
        )
    previous = previous_task_definition(found.get("description"))
    if previous is None:
        raise DeploymentStateError(
            f"deployment {deployment_id}'s description does not record the task definition "
            f"{service.name} ran before it: roll it back by deploying that task definition",
            deployment_id=deployment_id,
        )
    running = _running_task_definition(service, account, Caller(clock=clock, budget=account.budget))
    deployed = found.get("taskDefinition")
    if deployed is not None and running != deployed:
        raise DeploymentStateError(
            f"{service.name} no longer runs what deployment {deployment_id} deployed "
            f"({short_arn(deployed)}; it runs {short_arn(running or '-')}): not rolled back",
            deployment_id=deployment_id,
        )
    return previous


def _first_deployment(exc: DeploymentStateError) -> bool:
    return "has no successful deployment before it" in str(exc)
