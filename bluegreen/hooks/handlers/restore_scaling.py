"""The server-side safety net for suspended Application Auto Scaling: whatever happened to the
release process (a killed CI job, a lost laptop), put back the scaling state bluegreen recorded
before the deployment once the deployment is over.

Two entry points in one file (see README.md and docs/autoscaling.md):

- ``restore_scaling.handler``: the target of an EventBridge rule on CodeDeploy's
  ``CodeDeploy Deployment State-change Notification`` events with ``detail.state`` SUCCESS,
  FAILURE or STOP. It finds the deployment group's ECS service (GetDeploymentGroup
  ``ecsServices``) and calls ``bluegreen.scaling.recover`` for it, which reconciles the
  service's scaling records (``bluegreen.scaling_reconcile``): records no longer in force are
  removed and, once none is, the original state is back. An event for an original
  deployment whose rollback still runs is skipped: the rollback's own event comes later. No
  record, records already restored, or a record still in force (a deployment that still
  runs, a release about to create one) is logged, never raised; an AWS error that outlasts
  the retries is raised, so Lambda retries the event. It also deletes the service's analysis
  alarm nets whose deployment has ended (``bluegreen.analysis_alarm_cleanup.remove_ended_nets``;
  ``alarm_nets_removed`` in its answer).
- ``restore_scaling.hook_handler``: the ``AfterAllowTraffic`` lifecycle hook. It gives back
  the deployment's own records (``bluegreen.scaling.restore_scaling`` with its deployment id)
  and reports ``Succeeded`` exactly once; a restore that cannot happen is logged as an error
  and still reports ``Succeeded`` (failing the hook would roll back a healthy release),
  leaving the records for the EventBridge handler or ``bluegreen recover``.
  As an ECS-native hook (attach it at ``POST_PRODUCTION_TRAFFIC_SHIFT``) it gives back the
  records of the service deployment named by the event (``resourceArn``, the id bluegreen
  records a native deployment under) for the service the event names, with no CodeDeploy
  call, and answers ``SUCCEEDED``; at any other stage it does nothing and passes. ECS itself
  keeps Application Auto Scaling from scaling in while a service deployment runs and lets it
  again once the deployment ends (AWS's "Troubleshooting service auto scaling"), so on a
  native service this hook only matters when bluegreen itself suspended scaling for the
  release. ECS's own "ECS Deployment State Change" events are not handled by ``handler``
  (it ignores them): ``bluegreen recover`` remains the net for a native release process that
  died.

Each run logs JSON lines on the ``bluegreen.hooks`` logger. Settings (environment variables,
all optional):

- ``BLUEGREEN_ENDPOINT_URL``: send AWS calls there instead of AWS (the simulator).
- ``BLUEGREEN_MARGIN_SECONDS`` (``10``): ``hook_handler`` reports this long before the Lambda
  times out.
- ``BLUEGREEN_LOG_LEVEL`` (``INFO``).

IAM permissions of the function's role:
``application-autoscaling:DescribeScalableTargets``,
``application-autoscaling:RegisterScalableTarget``, ``ecs:DescribeServices``,
``ecs:ListTagsForResource``, ``ecs:TagResource``, ``ecs:UntagResource``,
``codedeploy:GetDeployment``, ``codedeploy:GetDeploymentGroup``,
``codedeploy:ListDeployments``, ``cloudwatch:DescribeAlarms``,
``cloudwatch:ListTagsForResource`` and ``cloudwatch:DeleteAlarms`` (on
``arn:aws:cloudwatch:REGION:ACCOUNT:alarm:bluegreen-net-*``, the alarm nets), and for
``hook_handler`` ``codedeploy:PutLifecycleEventHookExecutionStatus``. A record left without a
deployment id and older than the pending limit makes ``recover`` look for the service's
deployment group: by the console's names (GetDeploymentGroup), else by a scan
(``codedeploy:ListApplications``, ``BatchGetApplications``, ``ListDeploymentGroups``,
``BatchGetDeploymentGroups``). As an ECS-native hook it needs no CodeDeploy permission.
RegisterScalableTarget also needs the Application Auto Scaling service-linked role for ECS
(``AWSServiceRoleForApplicationAutoScaling_ECSService``) to exist, which it does once the
service has a scalable target; creating it would need ``iam:CreateServiceLinkedRole``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bluegreen.hooks import CheckResult, HookEvent, lifecycle_hook
from bluegreen.hooks._clients import aws_call, default_clients
from bluegreen.hooks._results import ensure_log_level, log

if TYPE_CHECKING:
    from bluegreen import Clients
    from bluegreen.clock import Clock
    from bluegreen.scaling import RestoreResult

__all__ = ["DETAIL_TYPE", "TERMINAL_STATES", "handler", "hook_handler", "restore_after"]

DETAIL_TYPE = "CodeDeploy Deployment State-change Notification"
TERMINAL_STATES = frozenset({"SUCCESS", "FAILURE", "STOP"})
_TERMINAL_STATUSES = frozenset({"Succeeded", "Failed", "Stopped"})
_MARGIN_VARIABLE = "BLUEGREEN_MARGIN_SECONDS"

# -- EventBridge ------------------------------------------------------------------------------


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The EventBridge entry point: restore what a finished deployment's release left
    suspended. Returns what it did as a dict (also logged as one JSON line)."""
    ensure_log_level()
    return restore_after(event, clients=default_clients())


def restore_after(
    event: Any,
    *,
    clients: Clients,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Restore the scaling record of the service whose deployment ``event`` reports ended.

    Args:
        event: a ``CodeDeploy Deployment State-change Notification`` EventBridge event.
        clients: the AWS clients to use.
        clock: ``time()`` and ``sleep()`` for the retries of throttled and 5xx calls
            (default: the real clock).

    Returns:
        ``{"action": ..., ...}``: ``ignored`` (not a terminal state-change event),
        ``rollback_running``, ``deployment_running`` (the record belongs to a deployment
        that has not ended), ``nothing_to_restore`` or ``restored``.

    Raises:
        AWSError: an AWS call failed for good (Lambda then retries the event).
    """
    from bluegreen.errors import DeploymentStateError

    sleep = clock.sleep if clock is not None else time.sleep
    detail = event.get("detail") if isinstance(event, Mapping) else None
    if not isinstance(detail, Mapping) or (
        isinstance(event, Mapping) and event.get("detail-type") not in (None, DETAIL_TYPE)
    ):
        return _done(logging.WARNING, "ignored", reason="not a CodeDeploy state-change event")
    deployment_id = detail.get("deploymentId")
    state = str(detail.get("state") or "")
    where: dict[str, Any] = {"deployment_id": deployment_id, "state": state}
    if state not in TERMINAL_STATES or not isinstance(deployment_id, str):
        return _done(logging.INFO, "ignored", **where, reason="not a terminal state")
    codedeploy = clients.codedeploy

    info = aws_call(
        "GetDeployment",
        lambda: codedeploy.get_deployment(deploymentId=deployment_id),
        sleep=sleep,
    )["deploymentInfo"]
    rollback_id = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
    if rollback_id:
        rollback = aws_call(
            "GetDeployment",
            lambda: codedeploy.get_deployment(deploymentId=rollback_id),
            sleep=sleep,
        )["deploymentInfo"]
        if rollback.get("status") not in _TERMINAL_STATUSES:
            return _done(
                logging.INFO,
                "rollback_running",
                **where,
                rollback_deployment_id=rollback_id,
                reason="the rollback's own event restores when it ends",
            )
    application = str(detail.get("application") or info["applicationName"])
    group = str(detail.get("deploymentGroup") or info["deploymentGroupName"])
    services = (
        aws_call(
            "GetDeploymentGroup",
            lambda: codedeploy.get_deployment_group(
                applicationName=application, deploymentGroupName=group
            ),
            sleep=sleep,
        )["deploymentGroupInfo"].get("ecsServices")
        or []
    )
    if not services:
        return _done(logging.INFO, "nothing_to_restore", **where, reason="no ECS service")

    from bluegreen.scaling import recover

    outcome: dict[str, Any] = {}
    for service in services:
        cluster, name = service["clusterName"], service["serviceName"]
        at = {**where, "cluster": cluster, "service": name}
        try:
            result = recover(cluster, name, clients=clients, clock=clock)
        except DeploymentStateError as exc:
            outcome = _done(
                logging.WARNING,
                "deployment_running",
                **at,
                record_deployment_id=exc.deployment_id,
                reason=str(exc),
            )
        else:
            outcome = _reported(result, at)
        removed = _remove_nets(cluster, name, clients, clock, at)
        if removed:
            outcome["alarm_nets_removed"] = removed
    return outcome


def _remove_nets(
    cluster: str, service: str, clients: Clients, clock: Clock | None, where: Mapping[str, Any]
) -> list[str]:
    """Delete the service's alarm nets whose deployment has ended; their names (logged)."""
    from bluegreen._aws import Caller
    from bluegreen.analysis_alarm_cleanup import remove_ended_nets

    caller = Caller(clock=clock) if clock is not None else Caller()
    cleanup = remove_ended_nets(caller, clients, cluster, service)
    removed = list(cleanup.removed_names)
    if removed:
        _done(logging.INFO, "alarm_nets_removed", **where, removed=removed)
    return removed


def _reported(result: RestoreResult, where: Mapping[str, Any]) -> dict[str, Any]:
    if result.already_restored or result.record is None:
        return _done(logging.INFO, "nothing_to_restore", **where, reason="no record")
    return _done(
        logging.WARNING if result.missing else logging.INFO,
        "restored",
        **where,
        record_deployment_id=result.record.deployment_id,
        restored=list(result.restored),
        missing=list(result.missing),
        owner=result.record.owner,
    )


def _done(level: int, action: str, **fields: Any) -> dict[str, Any]:
    payload = {"event": "restore_scaling", "action": action, **fields}
    log(level, payload)
    return payload


# -- AfterAllowTraffic ------------------------------------------------------------------------


def _margin_seconds() -> float:
    import os

    try:
        value = float(os.environ.get(_MARGIN_VARIABLE) or 10.0)
    except ValueError:
        return 10.0
    return value if value >= 0 else 10.0


def restore_for_hook(event: HookEvent) -> CheckResult:
    """Restore the record of ``event``'s deployment; passes even when it cannot (logged)."""
    if event.is_native:
        return _restore_native(event)
    from bluegreen.errors import BlueGreenError
    from bluegreen.scaling import restore_scaling

    started = time.monotonic()
    tried = f"restore the scaling record of {event.deployment_id}"
    try:
        codedeploy = event.clients.codedeploy
        info = aws_call(
            "GetDeployment",
            lambda: codedeploy.get_deployment(deploymentId=event.deployment_id),
        )["deploymentInfo"]
        group = aws_call(
            "GetDeploymentGroup",
            lambda: codedeploy.get_deployment_group(
                applicationName=info["applicationName"],
                deploymentGroupName=info["deploymentGroupName"],
            ),
        )["deploymentGroupInfo"]
        got: list[str] = []
        for service in group.get("ecsServices") or []:
            cluster, name = service["clusterName"], service["serviceName"]
            result = restore_scaling(
                cluster, name, deployment_id=event.deployment_id, clients=event.clients
            )
            got.append(f"{cluster}/{name}: {result}")
    except BlueGreenError as exc:
        log(
            logging.ERROR,
            {
                "event": "restore_failed",
                "deployment_id": event.deployment_id,
                "error": f"{type(exc).__name__}: {exc}",
                "detail": "the record is kept; the EventBridge handler or "
                "`bluegreen recover` restores it later",
            },
        )
        got = [f"could not restore ({type(exc).__name__}: {exc}); the record is kept"]
    return CheckResult(
        name="restore_scaling",
        ok=True,
        tried=tried,
        got="; ".join(got) or "the deployment group has no ECS service",
        elapsed_ms=(time.monotonic() - started) * 1000.0,
    )


_NATIVE_STAGE = "POST_PRODUCTION_TRAFFIC_SHIFT"


def _restore_native(event: HookEvent) -> CheckResult:
    """The ECS-native restore: the service deployment's own records, at the end of the
    production traffic shift only; passes whatever happens (logged)."""
    from bluegreen.errors import BlueGreenError
    from bluegreen.scaling import restore_scaling

    started = time.monotonic()
    native = event.native
    assert native is not None
    tried = f"restore the scaling record of {event.deployment_id or 'an unnamed deployment'}"
    if event.stage not in (None, _NATIVE_STAGE):
        got = f"nothing done at {event.stage}: the restore runs at {_NATIVE_STAGE} only"
    elif not event.deployment_id:
        got = "nothing done: the event names no service deployment (resourceArn)"
    else:
        try:
            result = restore_scaling(
                native.cluster,
                native.service,
                deployment_id=event.deployment_id,
                clients=event.clients,
            )
            got = f"{native.cluster}/{native.service}: {result}"
        except BlueGreenError as exc:
            log(
                logging.ERROR,
                {
                    "event": "restore_failed",
                    "deployment_id": event.deployment_id,
                    "error": f"{type(exc).__name__}: {exc}",
                    "detail": "the record is kept; `bluegreen recover` restores it later",
                },
            )
            got = f"could not restore ({type(exc).__name__}: {exc}); the record is kept"
    return CheckResult(
        name="restore_scaling",
        ok=True,
        tried=tried,
        got=got,
        elapsed_ms=(time.monotonic() - started) * 1000.0,
    )


hook_handler = lifecycle_hook(margin_seconds=_margin_seconds())(restore_for_hook)
"""The AfterAllowTraffic (or ECS-native POST_PRODUCTION_TRAFFIC_SHIFT) entry point:
``restore_scaling.hook_handler``."""
