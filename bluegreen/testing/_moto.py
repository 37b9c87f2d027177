"""The one place the simulator reaches into moto's in-memory ECS, ELBv2, CloudWatch and
Application Auto Scaling state.

CodeDeploy changes those services as AWS's own service role would (CreateTaskSet,
UpdateServicePrimaryTaskSet, DeleteTaskSet, ModifyListener). It does so here, on moto's
backends, rather than through moto's API, because of two moto 5.x gaps:

* ``CreateTaskSet`` crashes for Fargate ``awsvpc`` services (moto runs tasks for the new
  task set and fails with ``TypeError: unsupported operand type(s) for +=: 'int' and
  'NoneType'``, leaving a half-made task set behind).
* A service created with the ``CODE_DEPLOY`` controller gets no initial task set, where
  ECS creates a PRIMARY one at scale 100 %.

moto's task sets also report no running/pending/desired counts and are always
``STEADY_STATE``; the simulator sets those fields as tasks start and drain. Everything moto
serialises from these objects then reaches boto3 unchanged, through DescribeServices and
DescribeTaskSets.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from bluegreen.testing._weights import WeightLog

__all__ = ["MotoState", "forward_weights", "rule_state"]

# Path patterns that match every request.
_EVERY_PATH = frozenset({"*", "/*"})


def forward_weights(actions: Sequence[Any]) -> list[tuple[str, int]]:
    """``[(target group ARN, weight), ...]`` of the first forward action among moto's
    ``FakeAction``s (a listener's default actions, a rule's actions)."""
    for action in actions:
        data = action.data
        if data.get("Type") != "forward":
            continue
        groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            return [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups]
        if data.get("TargetGroupArn"):
            return [(data["TargetGroupArn"], 1)]
    return []


def rule_state(rule: Any) -> tuple[int, bool]:
    """A moto listener rule's (priority, whether its conditions match every request: none
    but path patterns that include ``*`` or ``/*``). A host header, a narrower path or any
    other condition matches only some requests."""

    def every_path(condition: Mapping[str, Any]) -> bool:
        if condition.get("Field") != "path-pattern":
            return False
        config = condition.get("PathPatternConfig") or {}
        values = config.get("Values") or condition.get("Values") or ()
        return bool(_EVERY_PATH.intersection(values))

    conditions = getattr(rule, "conditions", None) or ()
    return int(rule.priority), all(every_path(c) for c in conditions)


class MotoState:
    """moto's backends for one account and region, with the operations CodeDeploy needs."""

    def __init__(
        self, account_id: str, region: str, clock: Callable[[], float] | None = None
    ) -> None:
        self.account_id = account_id
        self.region = region
        self._clock = clock
        self.weight_log = WeightLog()
        self.roles_created: dict[str, float] = {}
        """When IAM CreateRole made each role, by name, in simulated time (moto stamps the
        wall clock)."""

    def now(self) -> dt.datetime:
        """The simulated time, for the timestamps CodeDeploy's changes leave on task sets
        (moto would stamp them with the wall clock)."""
        if self._clock is None:
            return dt.datetime.now(dt.UTC)
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    # -- backends ---------------------------------------------------------------------

    @property
    def ecs(self) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[self.account_id][self.region]

    @property
    def elbv2(self) -> Any:
        from moto.elbv2.models import elbv2_backends

        return elbv2_backends[self.account_id][self.region]

    @property
    def cloudwatch(self) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[self.account_id][self.region]

    @property
    def autoscaling(self) -> Any:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        return applicationautoscaling_backends[self.account_id][self.region]

    def has_lambda_function(self, name: str) -> bool:
        """Whether moto's Lambda holds a function ``name`` (created with CreateFunction)."""
        from moto.awslambda.models import lambda_backends

        backend = lambda_backends[self.account_id][self.region]
        return name in getattr(backend._lambdas, "_functions", {})

    # -- ECS ------------------------------------------------------------------------

    def service(self, cluster: str, service: str) -> Any | None:
        key = f"{cluster.rsplit('/', 1)[-1]}:{service.rsplit('/', 1)[-1]}"
        found = self.ecs.services.get(key)
        if found is None or found.status != "ACTIVE":
            return None
        return found

    def task_definition(self, arn_or_name: str) -> dict[str, Any] | None:
        """The task definition as DescribeTaskDefinition would show it, or None."""
        try:
            td = self.ecs.describe_task_definition(arn_or_name)
        except Exception:  # moto raises its own not-found error types
            return None
        return {
            "taskDefinitionArn": td.arn,
            "family": td.family,
            "revision": td.revision,
            "networkMode": td.network_mode,
            "containerDefinitions": list(td.container_definitions),
        }

    def ensure_initial_task_set(self, cluster: str, service: str) -> None:
        """Give a CODE_DEPLOY service the PRIMARY task set ECS would have made (moto gap)."""
        svc = self.service(cluster, service)
        if svc is None or svc.deployment_controller.get("type") != "CODE_DEPLOY":
            return
        if svc.task_sets or not svc.task_definition:
            return
        lb = svc.load_balancers[0] if svc.load_balancers else {}
        task_set = self.create_task_set(
            svc,
            task_definition=svc.task_definition,
            load_balancer=lb,
            external_id=None,
            started_by=None,
            network_configuration=svc.network_configuration or None,
            platform_version=svc.platform_version,
            launch_type=svc.launch_type,
            capacity_provider_strategy=None,
        )
        count = svc.desired_count
        self.update_task_set(task_set, running=count, pending=0, steady=True)
        self.set_primary(svc, task_set)

    def create_task_set(
        self,
        svc: Any,
        *,
        task_definition: str,
        load_balancer: Mapping[str, Any],
        external_id: str | None,
        started_by: str | None,
        network_configuration: Mapping[str, Any] | None,
        platform_version: str | None,
        launch_type: str | None,
        capacity_provider_strategy: Sequence[Mapping[str, Any]] | None,
        scale: float = 100.0,
    ) -> Any:
        """A new ACTIVE task set with no task running yet (STABILIZING)."""
        from moto.ecs.models import TaskSet

        task_set = TaskSet(
            svc.name,
            svc.cluster_name,
            task_definition,
            self.account_id,
            self.region,
            external_id=external_id,
            network_configuration=dict(network_configuration) if network_configuration else None,
            load_balancers=[dict(load_balancer)] if load_balancer else [],
            launch_type=launch_type if not capacity_provider_strategy else None,
            capacity_provider_strategy=[dict(i) for i in capacity_provider_strategy or ()],
            platform_version=platform_version,
            scale={"value": float(scale), "unit": "PERCENT"},
        )
        task_set.createdAt = task_set.updatedAt = task_set.stabilityStatusAt = self.now()
        task_set.service_arn = svc.arn
        task_set.cluster_arn = svc.cluster_arn
        vars(task_set)["started_by"] = started_by  # moto's TaskSet lacks the field
        vars(task_set)["external_id"] = external_id  # moto makes None "": ECS omits it
        svc.task_sets.append(task_set)
        self.update_task_set(
            task_set, running=0, pending=self.computed_desired(svc, task_set), steady=False
        )
        return task_set

    def computed_desired(self, svc: Any, task_set: Any) -> int:
        """``ceil(desiredCount x scale / 100)``, as ECS computes it."""
        return math.ceil(int(svc.desired_count) * float(task_set.scale["value"]) / 100.0)

    def update_task_set(
        self,
        task_set: Any,
        *,
        running: int | None = None,
        pending: int | None = None,
        steady: bool | None = None,
        scale: float | None = None,
        status: str | None = None,
    ) -> None:
        now = self.now()
        svc = self._service_of(task_set)
        if scale is not None:
            task_set.scale = {"value": float(scale), "unit": "PERCENT"}
        if status is not None:
            task_set.status = status
        if svc is not None:
            task_set.computed_desired_count = self.computed_desired(svc, task_set)
        if running is not None:
            task_set.running_count = running
        if pending is not None:
            task_set.pending_count = pending
        if steady is not None:
            stability = "STEADY_STATE" if steady else "STABILIZING"
            if getattr(task_set, "stabilityStatus", None) != stability:
                task_set.stabilityStatus = stability
                task_set.stabilityStatusAt = now
        task_set.updatedAt = now
        if svc is not None:
            self._sync_service_counts(svc)

    def is_steady(self, task_set: Any) -> bool:
        return bool(getattr(task_set, "stabilityStatus", "") == "STEADY_STATE")

    def set_primary(self, svc: Any, task_set: Any) -> None:
        """UpdateServicePrimaryTaskSet: the service takes the task set's definition."""
        for other in svc.task_sets:
            if other is task_set:
                other.status = "PRIMARY"
            elif other.status == "PRIMARY":
                other.status = "ACTIVE"
        svc.task_definition = task_set.task_definition
        if task_set.load_balancers:
            svc.load_balancers = [dict(lb) for lb in task_set.load_balancers]

    def delete_task_set(self, task_set: Any) -> None:
        svc = self._service_of(task_set)
        if svc is not None and task_set in svc.task_sets:
            svc.task_sets.remove(task_set)
            self._sync_service_counts(svc)

    def find_task_set(self, svc: Any, task_set_arn: str) -> Any | None:
        return next((ts for ts in svc.task_sets if ts.task_set_arn == task_set_arn), None)

    def _service_of(self, task_set: Any) -> Any | None:
        return self.service(task_set.cluster, task_set.service)

    def _sync_service_counts(self, svc: Any) -> None:
        svc.running_count = sum(getattr(ts, "running_count", 0) or 0 for ts in svc.task_sets)
        svc.pending_count = sum(getattr(ts, "pending_count", 0) or 0 for ts in svc.task_sets)

    def set_desired_count(self, svc: Any, desired: int) -> None:
        """What UpdateService(desiredCount) or a scaling activity does to the service."""
        svc.desired_count = desired
        for task_set in svc.task_sets:
            task_set.computed_desired_count = self.computed_desired(svc, task_set)

    # -- ELBv2 ------------------------------------------------------------------------

    def target_groups_by_name(self, names: Iterable[str]) -> dict[str, Any]:
        wanted = set(names)
        return {tg.name: tg for tg in self.elbv2.target_groups.values() if tg.name in wanted}

    def listener(self, arn: str) -> Any | None:
        for lb in self.elbv2.load_balancers.values():
            if arn in lb.listeners:
                return lb.listeners[arn]
        return None

    def load_balancer_of_listener(self, arn: str) -> Any | None:
        for lb in self.elbv2.load_balancers.values():
            if arn in lb.listeners:
                return lb
        return None

    def listener_weights(self, arn: str) -> list[tuple[str, int]]:
        """``[(target group ARN, weight), ...]`` of the listener's default forward action."""
        listener = self.listener(arn)
        return [] if listener is None else forward_weights(listener.default_actions)

    def set_listener_weights(self, arn: str, weights: Sequence[tuple[str, int]]) -> None:
        """ModifyListener with one weighted forward action, as CodeDeploy writes it."""
        from moto.elbv2.models import FakeAction

        listener = self.listener(arn)
        if listener is None:
            return
        self.weight_log.before_change(arn, self.listener_weights(arn))
        action = {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": tg, "Weight": int(w)} for tg, w in weights]
            },
        }
        listener.default_actions = [FakeAction(action)]
        rules = getattr(listener, "_default_rule", None)
        if rules:  # moto keeps the default rule's actions beside the listener's
            for rule in rules.values() if isinstance(rules, dict) else rules:
                if hasattr(rule, "actions"):
                    rule.actions = [FakeAction(dict(action))]
        self.weight_log.changed(arn, self.now().timestamp(), weights)

    def listener_rules(self, arn: str) -> dict[str, tuple[tuple[int, bool], list[tuple[str, int]]]]:
        """``{rule ARN: ((priority, matches every request), forward weights)}`` of the
        listener's own (non-default) rules."""
        listener = self.listener(arn)
        rules = getattr(listener, "_non_default_rules", None) or {}
        return {
            rule_arn: (rule_state(rule), forward_weights(rule.actions))
            for rule_arn, rule in rules.items()
        }

    def averaged_weights(self, arn: str, start: float, end: float) -> list[tuple[str, float]]:
        """How the listener's requests were split over ``[start, end)`` (``WeightLog.routed``):
        by its highest-precedence rule matching every request at each moment, else by its
        default action's weights."""
        current = self.listener_weights(arn)
        return self.weight_log.routed(arn, start, end, current, self.listener_rules(arn))

    # -- CloudWatch -------------------------------------------------------------------

    def alarms_in_alarm(self, names: Iterable[str]) -> list[str]:
        alarms = self.cloudwatch.alarms
        return [n for n in names if n in alarms and alarms[n].state_value == "ALARM"]

    def missing_alarms(self, names: Iterable[str]) -> list[str]:
        alarms = self.cloudwatch.alarms
        return [n for n in names if n not in alarms]

    # -- Application Auto Scaling -----------------------------------------------------

    def scalable_target(self, cluster: str, service: str) -> Any | None:
        resource_id = f"service/{cluster}/{service}"
        return (
            self.autoscaling.targets.get("ecs:service:DesiredCount", {}).get(resource_id)
            if hasattr(self.autoscaling, "targets")
            else None
        )
