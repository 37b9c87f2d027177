"""The sample environment's ECS-native blue/green service, beside the CodeDeploy one.

On the same cluster and load balancer: a Fargate service with the ``ECS`` deployment
controller and ``deploymentConfiguration.strategy`` ``BLUE_GREEN``, ``CANARY`` or ``LINEAR``,
its own pair of target groups, a production listener rule (on the production listener,
host ``<service>.example.com``, a weighted forward to blue 100 / green 0: ECS shifts traffic
by rewriting those weights, and AWS requires the rule to name both target groups, contract
§9.3) and a test listener rule on the test listener, ``loadBalancers[].advancedConfiguration``
naming them with the alternate target group and an ECS infrastructure role, a scalable
target with a target-tracking policy, and an alarm on the 5xx of its two target groups that
the deployment configuration rolls back on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from bluegreen._aws import Clients

__all__ = ["NativeService", "NativeSite", "build_native_service", "check_native_options"]

INFRASTRUCTURE_ROLE_ARN = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
"""The role ECS assumes to rewrite the listener rules (``advancedConfiguration.roleArn``)."""
EXECUTION_ROLE_ARN = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
STRATEGIES = ("BLUE_GREEN", "CANARY", "LINEAR")
# AWS's defaults (botocore's model): canary 5 % for 10 minutes, linear steps of 10 % every 6.
_DEFAULT_PERCENT = {"CANARY": 5.0, "LINEAR": 10.0}
_DEFAULT_STEP_MINUTES = {"CANARY": 10, "LINEAR": 6}
_RULE_PRIORITY = 10

Strategy = Literal["BLUE_GREEN", "CANARY", "LINEAR"]


@attrs.frozen(kw_only=True)
class NativeService:
    """Names and ARNs of the sample ECS-native service (``Environment.native``)."""

    service: str
    service_arn: str
    family: str
    task_definition_arn: str
    container_name: str
    strategy: str
    deployment_configuration: Mapping[str, Any]
    """The ``deploymentConfiguration`` the service was created with."""
    target_group_names: tuple[str, str]
    target_group_arns: tuple[str, str]
    """Blue (``targetGroupArn``, serving) and green (``alternateTargetGroupArn``)."""
    host: str
    """The ``Host`` header the listener rules match."""
    production_rule_arn: str
    test_rule_arn: str | None
    role_arn: str
    alarm_names: tuple[str, ...]
    scalable_resource_id: str | None

    def describe(self) -> str:
        config = self.deployment_configuration
        strategy = self.strategy
        if strategy == "CANARY":
            canary = config.get("canaryConfiguration") or {}
            strategy += (
                f" {canary.get('canaryPercent', 0):g}% for "
                f"{canary.get('canaryBakeTimeInMinutes', 0)} min"
            )
        elif strategy == "LINEAR":
            linear = config.get("linearConfiguration") or {}
            strategy += (
                f" {linear.get('stepPercent', 0):g}% every "
                f"{linear.get('stepBakeTimeInMinutes', 0)} min"
            )
        lines = [
            f"  native service     {self.service} (Fargate, ECS controller, {strategy}, "
            f"bake {config.get('bakeTimeInMinutes', 0)} min)",
            f"  native task def    {self.task_definition_arn}",
            f"  native groups      {self.target_group_names[0]} (blue), "
            f"{self.target_group_names[1]} (green)",
            f"  native production  {self.production_rule_arn} (Host {self.host})",
        ]
        if self.test_rule_arn:
            lines.append(f"  native test rule   {self.test_rule_arn}")
        hooks = config.get("lifecycleHooks") or ()
        for hook in hooks:
            stages = ", ".join(hook.get("lifecycleStages") or ())
            target = hook.get("hookTargetArn") or hook.get("targetType", "AWS_LAMBDA")
            lines.append(f"  native hook        {target} at {stages}")
        if self.alarm_names:
            lines.append(f"  native alarms      {', '.join(self.alarm_names)}")
        if self.scalable_resource_id:
            lines.append(f"  native scaling     {self.scalable_resource_id}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The names and ARNs as JSON-ready values."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in attrs.asdict(self, recurse=False).items()
        } | {"deployment_configuration": dict(self.deployment_configuration)}


@attrs.frozen(kw_only=True)
class NativeSite:
    """What the native service shares with the CodeDeploy one."""

    region: str
    cluster: str
    vpc: str
    subnets: tuple[str, ...]
    security_group: str
    load_balancer_arn: str
    production_listener_arn: str
    test_listener_arn: str | None
    container_port: int
    image: str
    desired_count: int


def check_native_options(
    *,
    strategy: str,
    percent: float | None,
    step_minutes: int | None,
    bake_minutes: int,
    load_balancer: str,
) -> list[str]:
    """What is wrong with the native service's options (empty when nothing), so the sample
    environment refuses them before it creates anything."""
    problems = []
    if load_balancer != "application":
        problems.append(
            "native= needs load_balancer='application': the native service shifts traffic "
            "with listener rules, which a network load balancer has none of"
        )
    if strategy not in STRATEGIES:
        problems.append(f"native_strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    elif strategy == "BLUE_GREEN" and (percent is not None or step_minutes is not None):
        problems.append(
            "native_percent and native_step_minutes are for native_strategy CANARY or LINEAR"
        )
    if percent is not None:
        low = 3.0 if strategy == "LINEAR" else 0.1
        if not low <= percent <= 100.0:
            problems.append(f"native_percent must be between {low:g} and 100, not {percent:g}")
    if step_minutes is not None and not 0 <= step_minutes <= 1440:
        problems.append(f"native_step_minutes must be between 0 and 1440, not {step_minutes}")
    if not 0 <= bake_minutes <= 1440:
        problems.append(
            f"the native bake time must be between 0 and 1440 minutes, not {bake_minutes}"
        )
    return problems


def deployment_configuration(
    *,
    strategy: str,
    percent: float | None,
    step_minutes: int | None,
    bake_minutes: int,
    hooks: Sequence[Mapping[str, Any]],
    alarm_names: Sequence[str],
) -> dict[str, Any]:
    """The service's ``deploymentConfiguration``, AWS's defaults written out."""
    config: dict[str, Any] = {
        "strategy": strategy,
        "bakeTimeInMinutes": bake_minutes,
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    if strategy == "CANARY":
        config["canaryConfiguration"] = {
            "canaryPercent": float(percent if percent is not None else _DEFAULT_PERCENT[strategy]),
            "canaryBakeTimeInMinutes": (
                step_minutes if step_minutes is not None else _DEFAULT_STEP_MINUTES[strategy]
            ),
        }
    elif strategy == "LINEAR":
        config["linearConfiguration"] = {
            "stepPercent": float(percent if percent is not None else _DEFAULT_PERCENT[strategy]),
            "stepBakeTimeInMinutes": (
                step_minutes if step_minutes is not None else _DEFAULT_STEP_MINUTES[strategy]
            ),
        }
    if hooks:
        config["lifecycleHooks"] = [dict(hook) for hook in hooks]
    if alarm_names:
        config["alarms"] = {"alarmNames": list(alarm_names), "enable": True, "rollback": True}
    return config


def build_native_service(
    clients: Clients,
    site: NativeSite,
    *,
    name: str,
    strategy: str = "BLUE_GREEN",
    percent: float | None = None,
    step_minutes: int | None = None,
    bake_minutes: int = 5,
    hooks: Sequence[Mapping[str, Any]] = (),
    alarms: bool = True,
    autoscaling: bool = True,
) -> NativeService:
    """Create the native service ``name`` on ``site`` (see the module's docstring)."""
    elb = clients.elbv2
    tg_names = (f"{name}-blue", f"{name}-green")
    tg_arns = tuple(
        elb.create_target_group(
            Name=n, Protocol="HTTP", Port=site.container_port, VpcId=site.vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for n in tg_names
    )
    blue, green = tg_arns[0], tg_arns[1]
    host = f"{name}.example.com"

    def rule(listener: str) -> str:
        return str(
            elb.create_rule(
                ListenerArn=listener,
                Priority=_RULE_PRIORITY,
                Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": [host]}}],
                Actions=[
                    {
                        "Type": "forward",
                        "ForwardConfig": {
                            "TargetGroups": [
                                {"TargetGroupArn": blue, "Weight": 100},
                                {"TargetGroupArn": green, "Weight": 0},
                            ]
                        },
                    }
                ],
            )["Rules"][0]["RuleArn"]
        )

    production = rule(site.production_listener_arn)
    test = rule(site.test_listener_arn) if site.test_listener_arn else None

    alarm_names: tuple[str, ...] = (f"{name}-5xx",) if alarms else ()
    if alarms:
        _put_alarm(clients, alarm_names[0], site.load_balancer_arn, tg_arns)

    ecs = clients.ecs
    task_definition = ecs.register_task_definition(
        family=name,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=EXECUTION_ROLE_ARN,
        containerDefinitions=[
            {
                "name": name,
                "image": site.image,
                "essential": True,
                "portMappings": [{"containerPort": site.container_port, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    advanced: Any = {
        "alternateTargetGroupArn": green,
        "productionListenerRule": production,
        "roleArn": INFRASTRUCTURE_ROLE_ARN,
    }
    if test:
        advanced["testListenerRule"] = test
    config: Any = deployment_configuration(
        strategy=strategy,
        percent=percent,
        step_minutes=step_minutes,
        bake_minutes=bake_minutes,
        hooks=hooks,
        alarm_names=alarm_names,
    )
    service_arn = ecs.create_service(
        cluster=site.cluster,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=site.desired_count,
        launchType="FARGATE",
        platformVersion="1.4.0",
        deploymentController={"type": "ECS"},
        deploymentConfiguration=config,
        loadBalancers=[
            {
                "targetGroupArn": blue,
                "containerName": name,
                "containerPort": site.container_port,
                "advancedConfiguration": advanced,
            }
        ],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(site.subnets),
                "securityGroups": [site.security_group],
                "assignPublicIp": "DISABLED",
            }
        },
    )["service"]["serviceArn"]

    resource_id = None
    if autoscaling:
        resource_id = f"service/{site.cluster}/{name}"
        register_scaling(clients, resource_id, name)
    return NativeService(
        service=name,
        service_arn=service_arn,
        family=name,
        task_definition_arn=task_definition,
        container_name=name,
        strategy=strategy,
        deployment_configuration=config,
        target_group_names=tg_names,
        target_group_arns=(blue, green),
        host=host,
        production_rule_arn=production,
        test_rule_arn=test,
        role_arn=INFRASTRUCTURE_ROLE_ARN,
        alarm_names=alarm_names,
        scalable_resource_id=resource_id,
    )


def _put_alarm(
    clients: Clients, name: str, load_balancer_arn: str, target_groups: Sequence[str]
) -> None:
    """5xx answered by either of the service's target groups, more than 10 in a minute (the
    load balancer's own count would mix in the CodeDeploy service's)."""
    lb = load_balancer_arn.rsplit(":loadbalancer/", maxsplit=1)[-1]
    queries: list[Any] = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApplicationELB",
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Dimensions": [
                        {"Name": "TargetGroup", "Value": tg.split(":")[-1]},
                        {"Name": "LoadBalancer", "Value": lb},
                    ],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }
        for i, tg in enumerate(target_groups, start=1)
    ]
    queries.append(
        {
            "Id": "errors",
            "Expression": " + ".join(f"FILL(m{i}, 0)" for i in range(1, len(target_groups) + 1)),
            "Label": "5xx of both target groups",
            "ReturnData": True,
        }
    )
    clients.cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=queries,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def register_scaling(clients: Clients, resource_id: str, name: str) -> None:
    """A scalable target (1-10 tasks) with a target-tracking policy on average CPU."""
    aas = clients.autoscaling
    aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=10,
    )
    aas.put_scaling_policy(
        PolicyName=f"{name}-cpu",
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    )
