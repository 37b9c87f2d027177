"""The ECS operations of ECS-native service deployments, answered in the shapes of botocore's
ECS model: ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions,
ContinueServiceDeployment and StopServiceDeployment; and what CreateService and UpdateService
do to a native service beside moto (``check_request`` before moto answers,
``after_request`` after): keep its ``deploymentConfiguration`` (moto drops it; moto's
``Service`` gets a property that keeps it for DescribeServices) and start a service deployment
when the task definition changes or ``forceNewDeployment`` is set.

An UpdateService while a deployment is in flight stops that one (STOPPED, its traffic back on
its source revision, its target revision scaled in) and starts the new one [I]: ECS keeps one
deployment in flight per service, and AWS documents no queue for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from bluegreen.testing._context import SimContext
from bluegreen.testing._native_config import check_configuration, is_native, merged, with_defaults
from bluegreen.testing._native_lifecycle import NativeLifecycle
from bluegreen.testing._native_records import (
    NativeStore,
    ServiceDeploymentRecord,
    ServiceRevisionRecord,
    new_deployment_arn,
    new_revision_arn,
)
from bluegreen.testing._settings import ACCOUNT_ID
from bluegreen.testing._wire import ApiError

__all__ = ["OPERATIONS", "NativeEcs"]

OPERATIONS = (
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "DescribeServiceRevisions",
    "ContinueServiceDeployment",
    "StopServiceDeployment",
)
_MAX_ARNS = 20


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message)


def _timestamp(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return dt.datetime.fromisoformat(str(value)).timestamp()


_KEPT = "_bluegreen_deployment_configuration"


def _keep_configuration_on_moto() -> None:
    """Give moto's ECS ``Service`` a ``deployment_configuration`` that UpdateService merges
    into (moto sets the attribute to the fields given, and its serialiser shows it), so
    UpdateService's own answer shows the whole configuration, as DescribeServices does."""
    from moto.ecs.models import Service

    if isinstance(getattr(Service, "deployment_configuration", None), property):
        return

    def get(self: Any) -> Any:
        return vars(self).get(_KEPT)

    def set_(self: Any, value: Mapping[str, Any] | None) -> None:
        vars(self)[_KEPT] = with_defaults(merged(vars(self).get(_KEPT) or {}, value))

    setattr(Service, "deployment_configuration", property(get, set_))  # noqa: B010


class NativeEcs:
    """The native service deployments of one simulated account and region."""

    def __init__(self, sim: SimContext) -> None:
        _keep_configuration_on_moto()
        self.sim = sim
        self.store = NativeStore()
        self.lifecycle = NativeLifecycle(sim, self.store)
        self._before: dict[tuple[str, str], str | None] = {}

    @property
    def _region(self) -> str:
        return self.sim.moto.region

    # -- the operations -------------------------------------------------------------------

    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "ListServiceDeployments": self.list_service_deployments,
            "DescribeServiceDeployments": self.describe_service_deployments,
            "DescribeServiceRevisions": self.describe_service_revisions,
            "ContinueServiceDeployment": self.continue_service_deployment,
            "StopServiceDeployment": self.stop_service_deployment,
        }
        return handlers[operation](body)

    def list_service_deployments(self, body: dict[str, Any]) -> dict[str, Any]:
        service = body.get("service")
        if not service:
            raise _invalid("service is required")
        cluster = str(body.get("cluster") or "default")
        cluster_name = cluster.rsplit("/", 1)[-1]
        if cluster_name not in self.sim.moto.ecs.clusters:
            raise ApiError("ClusterNotFoundException", "Cluster not found.")
        svc = self.sim.moto.service(cluster_name, str(service))
        if svc is None:
            raise ApiError("ServiceNotFoundException", "Service not found.")
        size = body.get("maxResults")
        if size is not None and not 1 <= int(size) <= 100:
            raise _invalid("maxResults must be between 1 and 100.")
        records = self.store.for_service(svc.arn)
        statuses = body.get("status") or ()
        if statuses:
            records = [r for r in records if r.status in statuses]
        created = body.get("createdAt") or {}
        before, after = _timestamp(created.get("before")), _timestamp(created.get("after"))
        if before is not None:
            records = [r for r in records if r.created_at <= before]
        if after is not None:
            records = [r for r in records if r.created_at >= after]
        start = 0
        token = body.get("nextToken")
        if token:
            try:
                start = int(token)
            except ValueError:
                raise _invalid("The nextToken is not valid.") from None
        count = int(size or 20)
        out: dict[str, Any] = {
            "serviceDeployments": [r.brief() for r in records[start : start + count]]
        }
        if start + count < len(records):
            out["nextToken"] = str(start + count)
        return out

    def describe_service_deployments(self, body: dict[str, Any]) -> dict[str, Any]:
        arns = self._arns(body, "serviceDeploymentArns")
        found, failures = [], []
        for arn in arns:
            record = self.store.deployments.get(arn)
            if record is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(record.to_api(self.store.revisions))
        return {"serviceDeployments": found, "failures": failures}

    def describe_service_revisions(self, body: dict[str, Any]) -> dict[str, Any]:
        arns = self._arns(body, "serviceRevisionArns")
        found, failures = [], []
        for arn in arns:
            revision = self.store.revisions.get(arn)
            if revision is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(revision.to_api())
        return {"serviceRevisions": found, "failures": failures}

    def _arns(self, body: Mapping[str, Any], key: str) -> list[str]:
        arns = list(body.get(key) or ())
        if not arns:
            raise _invalid(f"{key} must contain at least one ARN.")
        if len(arns) > _MAX_ARNS:
            raise _invalid(f"{key} can contain at most {_MAX_ARNS} ARNs, not {len(arns)}.")
        return arns

    def continue_service_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.store.deployment(str(body.get("serviceDeploymentArn") or ""))
        hook_id = body.get("hookId")
        action = body.get("action") or "CONTINUE"
        if action not in ("CONTINUE", "ROLLBACK"):
            raise _invalid(f"Invalid action: {action}. Valid values are CONTINUE, ROLLBACK.")
        run = next((r for r in record.hook_runs if r.hook_id == hook_id), None)
        if run is None:
            raise _invalid(
                f"The hookId {hook_id} does not match a lifecycle hook of the service "
                f"deployment {record.arn}."
            )
        if (
            record.is_terminal
            or run.status != "AWAITING_ACTION"
            or run not in record.current_hooks()
        ):
            raise ApiError(
                "ClientException",
                f"The lifecycle hook {hook_id} is not awaiting action (status {run.status}); "
                f"the service deployment is {record.status}.",
            )
        self.lifecycle.continue_hook(record, run, action)
        return {"serviceDeploymentArn": record.arn}

    def stop_service_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.store.deployment(str(body.get("serviceDeploymentArn") or ""))
        stop_type = body.get("stopType") or "ROLLBACK"
        if stop_type not in ("ABORT", "ROLLBACK"):
            raise _invalid(f"Invalid stopType: {stop_type}. Valid values are ABORT, ROLLBACK.")
        if record.is_terminal:
            raise ApiError(
                "ConflictException",
                f"The service deployment {record.arn} is {record.status} and cannot be stopped.",
            )
        if record.status in ("PENDING", "IN_PROGRESS"):
            if stop_type == "ROLLBACK":
                self.lifecycle._rollback(
                    record,
                    "A StopServiceDeployment request rolled back the service deployment.",
                    requested=True,
                )
            else:
                self.lifecycle.stop(
                    record,
                    "A StopServiceDeployment request stopped the service deployment.",
                    requested=True,
                )
        # STOP_REQUESTED and ROLLBACK_*: the stop or the rollback continues
        return {"serviceDeploymentArn": record.arn}

    # -- CreateService and UpdateService ------------------------------------------------

    def check_request(self, operation: str, body: dict[str, Any]) -> None:
        """Before moto answers CreateService or UpdateService: refuse a bad native
        configuration, and remember the task definition an update replaces.

        Raises:
            ApiError: InvalidParameterException, as ECS answers.
        """
        if operation == "CreateService":
            check_configuration(
                body.get("deploymentController"),
                body.get("deploymentConfiguration") or {},
                body.get("loadBalancers") or (),
            )
            return
        cluster = str(body.get("cluster") or "default")
        svc = self.sim.moto.service(cluster, str(body.get("service") or ""))
        if svc is None:
            return  # moto answers ServiceNotFoundException
        config = merged(self.store.configs.get(svc.arn, {}), body.get("deploymentConfiguration"))
        controller = body.get("deploymentController") or svc.deployment_controller
        lbs = body.get("loadBalancers") or svc.load_balancers
        check_configuration(controller, config, lbs)
        self._before[(svc.cluster_name, svc.name)] = svc.task_definition

    def after_request(self, operation: str, body: dict[str, Any]) -> None:
        """After moto answered: keep the configuration; start a deployment if one is due."""
        if operation == "CreateService":
            svc = self.sim.moto.service(
                str(body.get("cluster") or "default"), str(body.get("serviceName") or "")
            )
            if svc is None or svc.arn in self.store.configs:
                return
            self._keep(svc, body.get("deploymentConfiguration") or {})
            if is_native(svc.deployment_controller, self.store.configs[svc.arn]):
                self._first_revision(svc, svc.task_definition)
            return
        svc = self.sim.moto.service(str(body.get("cluster") or "default"), str(body.get("service")))
        if svc is None:
            return
        before = self._before.pop((svc.cluster_name, svc.name), svc.task_definition)
        config = merged(self.store.configs.get(svc.arn, {}), body.get("deploymentConfiguration"))
        self._keep(svc, config)
        if not is_native(svc.deployment_controller, config):
            return
        if svc.arn not in self.store.current:
            self._first_revision(svc, before)
        changed = body.get("taskDefinition") and svc.task_definition != before
        if changed or body.get("forceNewDeployment"):
            self._start(svc)

    def _keep(self, svc: Any, config: Mapping[str, Any]) -> None:
        shown = with_defaults(config)
        self.store.configs[svc.arn] = shown
        vars(svc)[_KEPT] = shown  # what DescribeServices shows

    def _revision(
        self, svc: Any, task_definition: str, target_group: str | None
    ) -> ServiceRevisionRecord:
        arn = new_revision_arn(self._region, ACCOUNT_ID, svc.cluster_name, svc.name)
        definition = self.sim.moto.task_definition(task_definition) or {}
        images = [
            {"containerName": c.get("name", ""), "image": c.get("image", "")}
            for c in definition.get("containerDefinitions") or ()
        ]
        revision = ServiceRevisionRecord(
            arn=arn,
            service_arn=svc.arn,
            cluster_arn=svc.cluster_arn,
            task_definition=definition.get("taskDefinitionArn", task_definition),
            created_at=self.sim.clock.time(),
            target_group=target_group,
            load_balancers=[dict(lb) for lb in svc.load_balancers],
            network_configuration=svc.network_configuration or None,
            launch_type=svc.launch_type,
            platform_version=svc.platform_version,
            container_images=images,
        )
        self.store.revisions[arn] = revision
        return revision

    def _first_revision(self, svc: Any, task_definition: str | None) -> None:
        """The revision a native service starts with, running, with all production traffic,
        and the (already successful) service deployment that created it."""
        lb = svc.load_balancers[0] if svc.load_balancers else {}
        revision = self._revision(svc, task_definition or "", lb.get("targetGroupArn"))
        revision.requested = revision.running = int(svc.desired_count)
        revision.production_weight = revision.test_weight = 100.0
        self.settle(svc, revision)

    def settle(self, svc: Any, revision: ServiceRevisionRecord) -> None:
        """``revision`` as the service's current one, serving all traffic, and the (already
        successful) service deployment that put it there, with no source revision."""
        self.store.current[svc.arn] = revision.arn
        now = self.sim.clock.time()
        record = ServiceDeploymentRecord(
            arn=new_deployment_arn(self._region, ACCOUNT_ID, svc.cluster_name, svc.name),
            cluster=svc.cluster_name,
            service=svc.name,
            service_arn=svc.arn,
            cluster_arn=svc.cluster_arn,
            created_at=now,
            config=dict(self.store.configs[svc.arn]),
            source=[],
            target=revision.arn,
            status="SUCCESSFUL",
            started_at=now,
            finished_at=now,
            updated_at=now,
            alarms_done=True,
        )
        self.store.deployments[record.arn] = record
        self.lifecycle._sync_service(record)

    def _start(self, svc: Any) -> ServiceDeploymentRecord:
        """A new service deployment from the revision serving production to the service's
        (new) task definition."""
        arn = new_deployment_arn(self._region, ACCOUNT_ID, svc.cluster_name, svc.name)
        wanted = svc.task_definition  # stopping the one in flight puts its source's back
        running = self.store.in_flight(svc.arn)
        if running is not None:
            self.lifecycle.stop(
                running, f"A newer service deployment {arn} was started.", requested=False
            )
        source = self.store.revisions[self.store.current[svc.arn]]
        lb = svc.load_balancers[0] if svc.load_balancers else {}
        advanced = lb.get("advancedConfiguration") or {}
        pair = [lb.get("targetGroupArn"), advanced.get("alternateTargetGroupArn")]
        green_tg = next((tg for tg in pair if tg and tg != source.target_group), None)
        target = self._revision(svc, wanted, green_tg)
        svc.task_definition = wanted
        now = self.sim.clock.time()
        record = ServiceDeploymentRecord(
            arn=arn,
            cluster=svc.cluster_name,
            service=svc.name,
            service_arn=svc.arn,
            cluster_arn=svc.cluster_arn,
            created_at=now,
            config=dict(self.store.configs[svc.arn]),
            source=[source.arn],
            target=target.arn,
            updated_at=now,
        )
        self.store.deployments[arn] = record
        self.lifecycle.begin(record)
        return record

    # -- for the simulator ----------------------------------------------------------------

    def in_flight(self, since: float) -> bool:
        """A deployment runs, or ended after ``since`` (the minute's traffic still counts)."""
        return any(
            not r.is_terminal or (r.finished_at or 0.0) >= since
            for r in self.store.deployments.values()
        )

    def watch_alarms(self) -> None:
        self.lifecycle.watch_alarms()
