"""The Install event: create the green task set on the pair's other target group, start
its tasks, and wait for steady state up to ``install_timeout`` (contract 2.1, 6.1)."""

from __future__ import annotations

from typing import Any

from bluegreen.testing._lifecycle_base import E, Engine
from bluegreen.testing._records import DeploymentRecord, target_group_pair
from bluegreen.testing._tasks import start_tasks

__all__ = ["InstallSteps"]


class InstallSteps(Engine):
    """Install: the green task set, its tasks, its health."""

    def _install(self, record: DeploymentRecord) -> None:
        if self._alarm_fired(record, E.INSTALL):
            return
        moto = self.sim.moto
        svc = moto.service(record.cluster, record.service)
        spec = record.appspec
        assert spec is not None
        if svc is None:
            self._fail(
                record,
                E.INSTALL,
                code="INVALID_ECS_SERVICE",
                message=f"The ECS service {record.cluster}/{record.service} does not exist.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        problem = self._task_definition_problem(spec)
        if problem:
            self._fail(
                record,
                E.INSTALL,
                code="ECS_UPDATE_ERROR",
                message="The ECS service cannot be updated due to an unexpected error: "
                f"{problem}. Check your ECS service status.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        blue = next((ts for ts in svc.task_sets if ts.status == "PRIMARY"), None)
        if blue is None:
            self._fail(
                record,
                E.INSTALL,
                code="ECS_UPDATE_ERROR",
                message="The ECS service has no PRIMARY task set to deploy against.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        names = [tg["name"] for tg in target_group_pair(record.group_info)["targetGroups"]]
        groups = moto.target_groups_by_name(names)
        blue_tg = (blue.load_balancers or [{}])[0].get("targetGroupArn")
        arns = [groups[n].arn for n in names if n in groups]
        green_tg = next((a for a in arns if a != blue_tg), None)
        if blue_tg not in arns or green_tg is None:
            self._fail(
                record,
                E.INSTALL,
                code="ELASTIC_LOAD_BALANCING_INVALID",
                message="A deployment group associated with an application that uses the ECS "
                "compute platform must contain a valid pair of target groups that identify a "
                "load balancer, and the service's target group must be one of them.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        network = (
            {
                "awsvpcConfiguration": {
                    "subnets": list(spec.network_configuration.subnets),
                    "securityGroups": list(spec.network_configuration.security_groups),
                    "assignPublicIp": spec.network_configuration.assign_public_ip,
                }
            }
            if spec.network_configuration
            else blue.network_configuration
        )
        strategy = (
            [
                {"capacityProvider": i.capacity_provider, "base": i.base, "weight": i.weight}
                for i in spec.capacity_provider_strategy
            ]
            if spec.capacity_provider_strategy
            else None
        )
        green = moto.create_task_set(
            svc,
            task_definition=self.sim.moto.task_definition(spec.task_definition)[
                "taskDefinitionArn"
            ],  # type: ignore[index]
            load_balancer={
                "targetGroupArn": green_tg,
                "containerName": spec.container_name,
                "containerPort": spec.container_port,
            },
            external_id=record.id,
            started_by="CODE_DEPLOY",
            network_configuration=network,
            platform_version=spec.platform_version or blue.platform_version,
            launch_type=blue.launch_type,
            capacity_provider_strategy=strategy,
        )
        record.blue_arn, record.green_arn = blue.task_set_arn, green.task_set_arn
        record.blue_tg, record.green_tg = blue_tg, green_tg
        start_tasks(self.sim, green)
        record.extras["install_deadline"] = self.now + self.settings.install_timeout
        self._later(record, self.settings.event_seconds, lambda: self._check_installed(record))

    def _task_definition_problem(self, spec: Any) -> str | None:
        td = self.sim.moto.task_definition(spec.task_definition)
        if td is None:
            return f"Unable to describe task definition {spec.task_definition}"
        container = next(
            (c for c in td["containerDefinitions"] if c.get("name") == spec.container_name), None
        )
        if container is None:
            return "The container does not exist in the task definition."
        ports = [m.get("containerPort") for m in container.get("portMappings") or ()]
        if spec.container_port not in ports:
            return (
                f"The container {spec.container_name} did not have a container port "
                f"{spec.container_port} defined"
            )
        return None

    def _check_installed(self, record: DeploymentRecord) -> None:
        if self._alarm_fired(record, E.INSTALL):
            return
        green = self._green(record)
        if green is not None and self.sim.moto.is_steady(green):
            self._succeed(record, E.INSTALL)
            return
        if self.now >= record.extras["install_deadline"]:
            self._fail(
                record,
                E.INSTALL,
                code=self.settings.install_timeout_error_code,
                message="The deployment timed out while waiting for the replacement task set "
                f"to reach steady state ({self.settings.install_timeout:g} s).",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        wait = min(self.settings.poll_seconds, record.extras["install_deadline"] - self.now)
        self._later(record, wait, lambda: self._check_installed(record))
