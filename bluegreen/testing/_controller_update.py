"""UpdateService with a new ``deploymentController``: a service moves from CodeDeploy to ECS-native
blue/green (BLUE_GREEN, LINEAR, CANARY) or back, as ECS does it since the controller became
mutable (15 July 2025). moto only sets the attribute; here the service's task set becomes its
first service revision, or its current service revision becomes a task set again.

Sources: the ECS troubleshooting page "troubleshooting-deployment-controller-migration" (the
two task-set errors, word for word; their error code is not given: InvalidParameterException
[I]), the migration guides "migrate-codedeploy-to-ecs-bluegreen" and
"migrate-code-deploy-to-ecs-blue-green" ("Confirm that the service has no service deployment in
progress"), and botocore's ECS model (``UpdateServiceRequest.deploymentController``). Anything
else is inferred [I] and listed in ``docs/simulator.md`` "Deployment controller updates":

* CODE_DEPLOY -> ECS also needs no CodeDeploy deployment in flight; the PRIMARY task set
  becomes a running service revision with all production and test traffic and an (already)
  SUCCESSFUL service deployment with no source revision; the task set is gone.
* ECS -> CODE_DEPLOY (native or rolling) is refused while a service deployment is in flight; the
  current service revision (a rolling service: its task definition) becomes one PRIMARY task
  set registered with the target group it serves from; the native records stay as history.
* The given ``deploymentConfiguration`` replaces the service's on a controller change
  (``SimSettings.controller_update_configuration``); ECS-native fields never reach CODE_DEPLOY.
* Other changes (to or from EXTERNAL; CODE_DEPLOY -> the rolling ECS strategy) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from bluegreen.testing._context import SimContext
from bluegreen.testing._native_api import NativeEcs
from bluegreen.testing._native_config import check_configuration, is_native, merged
from bluegreen.testing._wire import ApiError

__all__ = ["MULTIPLE_TASK_SETS", "NO_PRIMARY_TASK_SET", "ROLE_NOT_ASSUMABLE", "ControllerUpdates"]

MULTIPLE_TASK_SETS = (
    "Updating the deployment controller is not supported when there are multiple tasksets in "
    "the service. Please ensure your service has only one taskset and try again."
)
NO_PRIMARY_TASK_SET = (
    "Updating the deployment controller requires a primary taskset in the service. Please "
    "ensure your service has a primary taskset and try again."
)
ROLE_NOT_ASSUMABLE = (
    "Unable to assume role and validate the listeners configured on your load balancer.  "
    "Please verify the role being passed has the proper permissions."
)
"""ECS's answer while a new role has not reached it (IAM is eventually consistent): its words
for a service's load-balancer role (hashicorp/terraform#4375); for an infrastructure role [I]."""
_CONTROLLERS = ("ECS", "CODE_DEPLOY", "EXTERNAL")
# deploymentConfiguration fields only an ECS-native (BLUE_GREEN/LINEAR/CANARY) service has.
_NATIVE_ONLY = (
    "strategy",
    "bakeTimeInMinutes",
    "lifecycleHooks",
    "linearConfiguration",
    "canaryConfiguration",
)


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message)


def _without_native(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in _NATIVE_ONLY}


@attrs.frozen
class _Change:
    """A controller change carried out before moto answered, finished after it."""

    to: str
    config: dict[str, Any]
    task_definition: str
    """The task definition the service runs after the change (the adopted one)."""


class ControllerUpdates:
    """Carries out UpdateService requests that change a service's deployment controller."""

    def __init__(self, sim: SimContext, native: NativeEcs) -> None:
        self.sim = sim
        self.native = native
        self._pending: dict[tuple[str, str], _Change] = {}

    # -- the two halves of one UpdateService --------------------------------------------

    def before(self, body: Mapping[str, Any]) -> bool:
        """Before moto answers an UpdateService: when it changes the deployment controller,
        check it (nothing changes when refused) and carry it out.

        Returns:
            True when the request changes the controller (``after`` finishes it).

        Raises:
            ApiError: what ECS (or the simulator, for what it does not simulate) refuses.
        """
        svc = self.sim.moto.service(str(body.get("cluster") or "default"), str(body.get("service")))
        if svc is None:
            return False  # moto answers ServiceNotFoundException
        key = (svc.cluster_name, svc.name)
        self._pending.pop(key, None)
        wanted = (body.get("deploymentController") or {}).get("type")
        current = (svc.deployment_controller or {}).get("type") or "ECS"
        if not wanted or wanted == current:
            return False
        if wanted not in _CONTROLLERS:
            raise _invalid(
                f"Invalid deployment controller type: {wanted}. Valid values are "
                f"{', '.join(_CONTROLLERS)}."
            )
        if current == "CODE_DEPLOY" and wanted == "ECS":
            change = self._to_native(svc, body)
        elif current == "ECS" and wanted == "CODE_DEPLOY":
            change = self._to_codedeploy(svc, body)
        else:
            raise _invalid(
                f"The bluegreen simulator does not simulate updating the deployment controller "
                f"from {current} to {wanted}: it simulates CODE_DEPLOY to ECS (with the "
                "BLUE_GREEN, LINEAR or CANARY strategy) and ECS to CODE_DEPLOY."
            )
        self._pending[key] = change
        return True

    def after(self, body: Mapping[str, Any]) -> bool:
        """After moto answered: keep the configuration moto merged into, and start a service
        deployment when the request also changed the task definition (or forced one).

        Returns:
            True when ``before`` carried out a controller change for this request.
        """
        svc = self.sim.moto.service(str(body.get("cluster") or "default"), str(body.get("service")))
        if svc is None:
            return False
        change = self._pending.pop((svc.cluster_name, svc.name), None)
        if change is None:
            return False
        self.native._keep(svc, change.config)
        if change.to == "CODE_DEPLOY":
            svc.deployments = []
            return True
        wanted = self.sim.moto.task_definition(str(svc.task_definition or "")) or {}
        changed = wanted.get("taskDefinitionArn", change.task_definition) != change.task_definition
        if changed or body.get("forceNewDeployment"):
            self.native._start(svc)  # [I] the new task definition deploys natively at once
        return True

    # -- CODE_DEPLOY -> ECS --------------------------------------------------------------

    def _to_native(self, svc: Any, body: Mapping[str, Any]) -> _Change:
        task_sets = list(svc.task_sets or ())
        if len(task_sets) > 1:
            raise _invalid(MULTIPLE_TASK_SETS)
        primary = next((ts for ts in task_sets if ts.status == "PRIMARY"), None)
        if primary is None:
            raise _invalid(NO_PRIMARY_TASK_SET)
        self._no_codedeploy_deployment(svc)
        config = self._configuration(svc, body)
        lbs: Sequence[Mapping[str, Any]] = body.get("loadBalancers") or svc.load_balancers or ()
        controller = {"type": "ECS"}
        check_configuration(controller, config, lbs)
        if not is_native(controller, config):
            raise _invalid(
                "The bluegreen simulator simulates updating the deployment controller from "
                "CODE_DEPLOY to ECS only with deploymentConfiguration.strategy BLUE_GREEN, "
                "LINEAR or CANARY (and loadBalancers with advancedConfiguration)."
            )
        live_tg = (primary.load_balancers or [{}])[0].get("targetGroupArn")
        lb = lbs[0]
        pair = (
            lb.get("targetGroupArn"),
            (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"),
        )
        if live_tg not in pair:
            raise _invalid(
                f"The primary task set is registered with target group {live_tg}, which is "
                "neither loadBalancers[0].targetGroupArn nor its advancedConfiguration."
                "alternateTargetGroupArn: name it as one of the two."
            )
        self._task_definition_exists(body)
        self._role_assumable((lb.get("advancedConfiguration") or {}).get("roleArn"))
        # Carry it out: the task set becomes the first service revision.
        svc.deployment_controller = controller
        svc.load_balancers = [dict(lb) for lb in lbs]
        self.native._keep(svc, config)
        svc.task_definition = primary.task_definition
        svc.task_sets = []
        self._adopt(svc, primary, live_tg)
        return _Change(to="ECS", config=config, task_definition=self._arn(primary.task_definition))

    def _role_assumable(self, role_arn: str | None) -> None:
        """Refuse a role IAM made less than ``settings.role_propagation_seconds`` ago [I]."""
        wait = self.sim.settings.role_propagation_seconds
        made = self.sim.moto.roles_created.get(str(role_arn or "").rpartition("/")[2])
        if wait > 0 and made is not None and self.sim.clock.time() - made < wait:
            raise _invalid(ROLE_NOT_ASSUMABLE)

    def _adopt(self, svc: Any, task_set: Any, target_group: str | None) -> None:
        """The task set's tasks as the service's first revision, serving all traffic, and the
        (already successful) service deployment that stands for the migration [I]."""
        revision = self.native._revision(svc, task_set.task_definition, target_group)
        revision.requested = int(getattr(task_set, "computed_desired_count", 0) or 0)
        revision.running = int(getattr(task_set, "running_count", 0) or 0)
        revision.pending = int(getattr(task_set, "pending_count", 0) or 0)
        revision.production_weight = revision.test_weight = 100.0
        self.native.settle(svc, revision)

    def _no_codedeploy_deployment(self, svc: Any) -> None:
        for record in self.sim.store.deployments.values():
            if (record.cluster, record.service) != (svc.cluster_name, svc.name):
                continue
            if not record.status.is_terminal:
                raise _invalid(
                    "Updating the deployment controller is not supported while the CodeDeploy "
                    f"deployment {record.id} ({record.status}) is in progress for the service. "
                    "Wait for it to end or stop it, then try again."
                )

    # -- ECS -> CODE_DEPLOY --------------------------------------------------------------

    def _to_codedeploy(self, svc: Any, body: Mapping[str, Any]) -> _Change:
        store = self.native.store
        given = body.get("deploymentConfiguration") or {}
        check_configuration({"type": "CODE_DEPLOY"}, given, ())
        if is_native(svc.deployment_controller, store.configs.get(svc.arn)):
            running = store.in_flight(svc.arn)
            if running is not None:
                raise _invalid(
                    "Updating the deployment controller is not supported while the service "
                    f"deployment {running.arn} is {running.status}. Wait for it to end or stop "
                    "it with StopServiceDeployment, then try again."
                )
            current = store.revisions.get(store.current.get(svc.arn, ""))
        else:
            current = None
        if svc.task_sets:
            raise _invalid(MULTIPLE_TASK_SETS)
        task_definition = current.task_definition if current else str(svc.task_definition)
        service_lb = dict((svc.load_balancers or [{}])[0])
        live_tg = current.target_group if current else service_lb.get("targetGroupArn")
        if not live_tg:
            raise _invalid(
                "The CODE_DEPLOY deployment controller needs a load balancer target group: "
                "the service has none to register its task set with."
            )
        lb = self._codedeploy_load_balancer(body, service_lb, live_tg)
        wanted = body.get("taskDefinition")
        if wanted and self._arn(str(wanted)) != self._arn(task_definition):
            raise _invalid(
                "Unable to update task definition on services with a CODE_DEPLOY deployment "
                "controller. Use AWS CodeDeploy to trigger a new deployment."
            )
        config = _without_native(self._configuration(svc, body))
        # Carry it out: the serving revision becomes the PRIMARY task set.
        moto = self.sim.moto
        svc.deployment_controller = {"type": "CODE_DEPLOY"}
        task_set = moto.create_task_set(
            svc,
            task_definition=self._arn(task_definition),
            load_balancer=lb,
            external_id=None,
            started_by=None,
            network_configuration=svc.network_configuration or None,
            platform_version=svc.platform_version,
            launch_type=svc.launch_type,
            capacity_provider_strategy=None,
        )
        moto.update_task_set(
            task_set, running=moto.computed_desired(svc, task_set), pending=0, steady=True
        )
        moto.set_primary(svc, task_set)
        svc.deployments = []
        self.native._keep(svc, config)
        store.current.pop(svc.arn, None)  # the revisions and deployments stay as history
        return _Change(to="CODE_DEPLOY", config=config, task_definition=self._arn(task_definition))

    def _codedeploy_load_balancer(
        self, body: Mapping[str, Any], service_lb: Mapping[str, Any], live_tg: str
    ) -> dict[str, Any]:
        """The task set's load balancer: the request's (on the live target group) or the
        service's without ``advancedConfiguration`` [I]."""
        given = body.get("loadBalancers")
        if not given:
            lb = {k: v for k, v in service_lb.items() if k != "advancedConfiguration"}
            lb["targetGroupArn"] = live_tg
            return lb
        if any(item.get("advancedConfiguration") for item in given):
            raise _invalid(
                "advancedConfiguration is only supported with the ECS deployment controller and "
                "the BLUE_GREEN, LINEAR or CANARY deployment strategy."
            )
        if given[0].get("targetGroupArn") != live_tg:
            raise _invalid(
                f"The service's tasks are registered with target group {live_tg} (the one "
                "serving production now): loadBalancers[0].targetGroupArn must be it for the "
                "CODE_DEPLOY deployment controller."
            )
        return dict(given[0])

    # -- shared -------------------------------------------------------------------------

    def _configuration(self, svc: Any, body: Mapping[str, Any]) -> dict[str, Any]:
        """The service's ``deploymentConfiguration`` after the change [I]: the given one
        (``"replace"``) or the given fields over the service's (``"merge"``)."""
        given = body.get("deploymentConfiguration") or {}
        if self.sim.settings.controller_update_configuration == "replace":
            return dict(given)
        before = _without_native(self.native.store.configs.get(svc.arn) or {})
        return merged(before, given)

    def _task_definition_exists(self, body: Mapping[str, Any]) -> None:
        wanted = body.get("taskDefinition")
        if wanted and self.sim.moto.task_definition(str(wanted)) is None:
            raise ApiError("ClientException", "TaskDefinition not found.")

    def _arn(self, task_definition: str) -> str:
        found = self.sim.moto.task_definition(task_definition) or {}
        return str(found.get("taskDefinitionArn", task_definition))
