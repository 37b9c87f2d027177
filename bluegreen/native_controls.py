"""The console's buttons for an ECS-native service deployment: what each may do and the
requests that do it.

``promote`` continues the PAUSE hooks awaiting action (ContinueServiceDeployment CONTINUE);
``abort`` rolls back (ContinueServiceDeployment ROLLBACK on a paused deployment,
StopServiceDeployment ROLLBACK otherwise), and the rollback is the same service deployment,
which ends ROLLBACK_SUCCESSFUL; ``finish`` is refused, since ECS has no request that ends the
bake time early; ``rollback`` after a success is an UpdateService back to the source
revision's task definition: a new service deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bluegreen._advice import advice
from bluegreen._aws import RETRYABLE, UNREACHABLE
from bluegreen.controls import RollbackOrigin, check_can_roll_back, send_control
from bluegreen.errors import AWSError, DeploymentStateError, ServiceUnavailableError
from bluegreen.native_reading import find_service_deployment, service_revision
from bluegreen.native_status import IN_FLIGHT, NativeHook, service_of
from bluegreen.status import TargetLabel

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.snapshot import DeploymentSnapshot

__all__ = [
    "DONE_ALREADY",
    "check_can_promote_native",
    "continue_hooks",
    "refuse_finish",
    "roll_back_native",
    "stop_native",
]

DONE_ALREADY = frozenset({"InvalidParameterException", "ConflictException", "ClientException"})
"""The refusals a native control's retry gets when its earlier attempt went through
unanswered: the hook no longer awaits action, the deployment is already stopping."""


def check_can_promote_native(snapshot: DeploymentSnapshot) -> tuple[NativeHook, ...]:
    """The PAUSE hooks ``promote()`` continues; refuses when none awaits action."""
    native = snapshot.native
    paused = native.paused_hooks if native is not None else ()
    if paused:
        return paused
    if snapshot.status.is_terminal:
        hint = "it has ended; there is nothing to promote"
    elif native is not None and native.rolling_back:
        hint = "it is rolling back"
    else:
        hint = (
            f"it is waiting for {snapshot.waiting_for}; promote continues a deployment paused "
            "by a PAUSE lifecycle hook (deploymentConfiguration.lifecycleHooks, targetType "
            "PAUSE); "
            + advice("call wait('ready') first", "run `bluegreen wait --until ready` first")
        )
    raise DeploymentStateError(
        f"cannot promote ECS deployment {snapshot.deployment_id}: no pause hook awaits action "
        f"({snapshot.native}); {hint}",
        deployment_id=snapshot.deployment_id,
        status=snapshot.status,
    )


def refuse_finish(snapshot: DeploymentSnapshot) -> DeploymentStateError:
    """``finish()`` on an ECS-native deployment: its bake time cannot be cut short."""
    return DeploymentStateError(
        f"cannot finish ECS deployment {snapshot.deployment_id} early: ECS has no request "
        "that ends the bake time (BAKE_TIME) before bakeTimeInMinutes has passed "
        "(ContinueServiceDeployment acts only on a paused hook); wait for it with "
        + advice("wait()", "`bluegreen wait`")
        + ", or give the service a shorter deploymentConfiguration.bakeTimeInMinutes for "
        f"the next deployments ({snapshot.native})",
        deployment_id=snapshot.deployment_id,
        status=snapshot.status,
    )


def continue_hooks(
    call: Caller, aws: Clients, arn: str, hooks: tuple[NativeHook, ...], action: str
) -> None:
    """ContinueServiceDeployment ``action`` (CONTINUE or ROLLBACK) for each hook, once."""
    for hook in hooks:
        send_control(
            call,
            "ContinueServiceDeployment",
            aws.ecs.continue_service_deployment,
            done_if=DONE_ALREADY,
            serviceDeploymentArn=arn,
            hookId=hook.hook_id,
            action=action,
        )


def stop_native(call: Caller, aws: Clients, arn: str) -> None:
    """StopServiceDeployment ROLLBACK, once."""
    send_control(
        call,
        "StopServiceDeployment",
        aws.ecs.stop_service_deployment,
        done_if=DONE_ALREADY,
        serviceDeploymentArn=arn,
        stopType="ROLLBACK",
    )


def roll_back_native(
    call: Caller, aws: Clients, snapshot: DeploymentSnapshot
) -> tuple[str, RollbackOrigin]:
    """Deploy the source revision's task definition again after ``snapshot``'s deployment
    succeeded: UpdateService, a new service deployment; returns its ARN and where it goes.

    Refused (before any change) unless the deployment succeeded, had a source revision,
    and the service still runs its target revision's task definition with nothing in
    flight. Costs DescribeServiceRevisions, DescribeServices, ListServiceDeployments,
    UpdateService and ListServiceDeployments. UpdateService is not repeated after a lost
    answer: the deployment it may have started is looked for instead.

    Raises:
        DeploymentStateError: it cannot be rolled back (the message says why).
        AWSError: an API call failed.
    """
    check_can_roll_back(snapshot)
    arn = snapshot.deployment_id
    blue, green = snapshot.task_set(TargetLabel.BLUE), snapshot.task_set(TargetLabel.GREEN)
    if blue is None or not blue.id or green is None or not green.id:
        raise _refusal(snapshot, "it names no source revision to go back to")
    answer = call(
        "DescribeServiceRevisions",
        aws.ecs.describe_service_revisions,
        serviceRevisionArns=[blue.id, green.id],
    )
    revisions: dict[str, Mapping[str, Any]] = {
        r["serviceRevisionArn"]: r for r in answer.get("serviceRevisions") or ()
    }
    if blue.id not in revisions:
        revisions[blue.id] = service_revision(call, aws, blue.id)  # raises the not-found
    source = revisions[blue.id]["taskDefinition"]
    target = (revisions.get(green.id) or {}).get("taskDefinition")
    cluster, service = service_of(arn)
    found = call("DescribeServices", aws.ecs.describe_services, cluster=cluster, services=[service])
    services: list[Any] = list(found.get("services") or ())
    running = services[0].get("taskDefinition") if services else None
    if target is not None and running != target:
        raise _refusal(
            snapshot,
            f"the service now runs {running}, not {target}, which this deployment put live",
        )
    busy = _in_flight(call, aws, cluster, service)
    if busy is not None:
        raise _refusal(snapshot, f"service deployment {busy} is in flight; wait for it first")
    lost: list[AWSError] = []

    def retry_if(error: AWSError) -> bool:
        if isinstance(error, ServiceUnavailableError) and error.code != UNREACHABLE:
            lost.append(error)
            return False  # it may have been carried out: look for it rather than repeat it
        return isinstance(error, RETRYABLE)

    try:
        call(
            "UpdateService",
            aws.ecs.update_service,
            retry_if=retry_if,
            cluster=cluster,
            service=service,
            taskDefinition=source,
        )
    except AWSError:
        if not lost or _in_flight(call, aws, cluster, service) is None:
            raise
    created = find_service_deployment(call, aws, cluster, service, or_last=True)
    if created == arn:
        raise _refusal(snapshot, f"UpdateService to {source} started no service deployment")
    origin = RollbackOrigin(
        rolled_back=arn, task_definition=source, replaced_task_definition=target, last_good=blue.id
    )
    return created, origin


def _in_flight(call: Caller, aws: Clients, cluster: str, service: str) -> str | None:
    answer = call(
        "ListServiceDeployments",
        aws.ecs.list_service_deployments,
        cluster=cluster,
        service=service,
        status=[str(s) for s in IN_FLIGHT],
    )
    briefs = answer.get("serviceDeployments") or ()
    return str(briefs[0]["serviceDeploymentArn"]) if briefs else None


def _refusal(snapshot: DeploymentSnapshot, why: str) -> DeploymentStateError:
    return DeploymentStateError(
        f"cannot roll back ECS deployment {snapshot.deployment_id}: {why}",
        deployment_id=snapshot.deployment_id,
        status=snapshot.status,
    )
