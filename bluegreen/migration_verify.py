"""Checking a migrated service before its migration counts as applied.

``verify_by_describe`` reads it back: the ECS controller, the planned strategy, the
``advancedConfiguration`` sent, one service revision serving (no service deployment in
flight), and the created rules' weights still as the listeners forwarded before.
``verify_by_deployment`` does that, then starts a no-op native deployment (UpdateService
``forceNewDeployment``, the same task definition) and follows it to its end with the same
reading code as every native deployment (``Deployment.attach(...).wait()``), continuing a
ready-wait PAUSE hook the plan added: its hooks, rules and role are then proven to work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bluegreen.errors import AWSError
from bluegreen.migration_record import read_service
from bluegreen.migration_revert import change_once, controller, forward_weights
from bluegreen.native_status import IN_FLIGHT

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.clock import Clock
    from bluegreen.migration_model import MigrationPlan

__all__ = ["NOT_VERIFIED", "verify_by_deployment", "verify_by_describe"]

NOT_VERIFIED = "MigrationNotVerified"
"""The ``code`` of the ``AWSError`` raised when the migrated service is not as planned."""

VERIFY_TIMEOUT = 3 * 3600.0
"""Seconds the verify deployment may take beyond its bake time before the apply gives up."""


def verify_by_describe(
    call: Caller,
    aws: Clients,
    plan: MigrationPlan,
    load_balancer: Mapping[str, Any],
    steps: Callable[[str], None],
) -> None:
    """Read the service and the rules back.

    Raises:
        AWSError: code ``NOT_VERIFIED``: the service is not as planned (what differs said).
    """
    view = read_service(call, aws, plan.cluster, plan.service)
    service = view.service
    problems = []
    if (kind := controller(service)) != "ECS":
        problems.append(f"its deployment controller is {kind}")
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy")
    if strategy != plan.deployment_configuration.get("strategy"):
        problems.append(f"its strategy is {strategy}")
    advanced = ((service.get("loadBalancers") or [{}])[0]).get("advancedConfiguration") or {}
    for key, value in (load_balancer.get("advancedConfiguration") or {}).items():
        if advanced.get(key) != value:
            problems.append(f"advancedConfiguration.{key} is {advanced.get(key)!r}")
    revisions = service.get("currentServiceRevisions")
    if revisions is not None and len(revisions) != 1:
        problems.append(f"{len(revisions)} service revisions serve")
    in_flight = call(
        "ListServiceDeployments",
        aws.ecs.list_service_deployments,
        cluster=plan.cluster,
        service=plan.service,
        status=[str(s) for s in IN_FLIGHT],
    ).get("serviceDeployments")
    if in_flight:
        problems.append(f"service deployment {in_flight[0].get('serviceDeploymentArn')} runs")
    for role, rule in (
        ("production", advanced.get("productionListenerRule")),
        ("test", advanced.get("testListenerRule")),
    ):
        planned = next((r for r in plan.rules if r.role == role), None)
        if planned is None or not rule or ":listener-rule/" not in str(rule):
            continue
        answer = call("DescribeRules", aws.elbv2.describe_rules, RuleArns=[rule])
        weights = forward_weights((answer.get("Rules") or [{}])[0].get("Actions"))
        if weights != dict(planned.forward):
            problems.append(f"the {role} rule forwards {weights}, not {dict(planned.forward)}")
    if problems:
        raise AWSError(
            f"service {plan.cluster}/{plan.service} is not as the migration planned: "
            + "; ".join(problems),
            operation="DescribeServices",
            code=NOT_VERIFIED,
        )
    steps(f"verified: ECS controller, strategy {strategy}, rules and traffic unchanged")


def verify_by_deployment(
    call: Caller,
    aws: Clients,
    plan: MigrationPlan,
    clock: Clock,
    steps: Callable[[str], None],
) -> str:
    """A no-op native deployment followed to its end (after ``verify_by_describe``); its ARN.

    Raises:
        AWSError: UpdateService failed.
        DeploymentError: the verify deployment failed or was rolled back.
        WaitTimeoutError: it did not end in time.
    """
    from bluegreen.deployment import Deployment

    known = set(_recent(call, aws, plan))

    def look() -> Any:
        new = [arn for arn in _recent(call, aws, plan) if arn not in known]
        return {"service": {"currentServiceDeployment": new[0]}} if new else None

    answer = change_once(
        call,
        "UpdateService",
        aws.ecs.update_service,
        look,
        cluster=plan.cluster,
        service=plan.service,
        forceNewDeployment=True,
    )
    arn = (answer.get("service") or {}).get("currentServiceDeployment")
    if not arn or arn in known:
        found = look()
        if found is None:
            raise AWSError(
                f"UpdateService of {plan.cluster}/{plan.service} started no service deployment",
                operation="UpdateService",
                code=NOT_VERIFIED,
            )
        arn = found["service"]["currentServiceDeployment"]
    steps(f"verify deployment {arn} started (same task definition)")
    deployment = Deployment.attach(str(arn), clients=aws, clock=clock)
    bake = float(plan.deployment_configuration.get("bakeTimeInMinutes") or 0) * 60
    timeout = VERIFY_TIMEOUT + bake
    if _pauses(plan.deployment_configuration):
        deployment.wait("ready", timeout=timeout)
        deployment.promote()
        steps("verify deployment continued past its ready-wait pause")
    deployment.wait(timeout=timeout)
    steps(f"verify deployment {arn} succeeded")
    return str(arn)


def _recent(call: Caller, aws: Clients, plan: MigrationPlan) -> list[str]:
    answer = call(
        "ListServiceDeployments",
        aws.ecs.list_service_deployments,
        cluster=plan.cluster,
        service=plan.service,
        maxResults=20,
    )
    return [str(d["serviceDeploymentArn"]) for d in answer.get("serviceDeployments") or ()]


def _pauses(configuration: Mapping[str, Any]) -> bool:
    """Whether a PAUSE lifecycle hook holds the deployment for a promotion."""
    return any(
        hook.get("targetType") == "PAUSE" for hook in configuration.get("lifecycleHooks") or ()
    )
