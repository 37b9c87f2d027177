"""The sample blue/green environment, made with plain boto3 calls in one go.

A VPC with two subnets, a load balancer with a production listener (:80) and an optional
test listener (:8080), two target groups, a cluster, a Fargate service with the CODE_DEPLOY
controller, a CodeDeploy application and deployment group named the way the ECS console
names them, a scalable target with a target-tracking policy, and a CloudWatch alarm; with
``native=``, an ECS-native blue/green service beside it (``_environment_native``). It runs
against whatever the clients reach: the in-process simulator or ``bluegreen sim serve``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from bluegreen.testing._environment_native import (
    EXECUTION_ROLE_ARN,
    NativeService,
    NativeSite,
    Strategy,
    build_native_service,
    check_native_options,
    register_scaling,
)

if TYPE_CHECKING:
    from bluegreen._aws import Clients

__all__ = ["EXECUTION_ROLE_ARN", "Environment", "NativeService", "build_environment"]

ROLE_ARN = "arn:aws:iam::123456789012:role/ecsCodeDeployRole"
ALL_ROLLBACK_EVENTS = (
    "DEPLOYMENT_FAILURE",
    "DEPLOYMENT_STOP_ON_ALARM",
    "DEPLOYMENT_STOP_ON_REQUEST",
)


@attrs.frozen(kw_only=True)
class Environment:
    """Names and ARNs of the sample environment."""

    region: str
    cluster: str
    service: str
    service_arn: str
    family: str
    task_definition_arn: str
    container_name: str
    container_port: int
    image: str
    application: str
    deployment_group: str
    target_group_names: tuple[str, str]
    target_group_arns: tuple[str, str]
    load_balancer_arn: str
    load_balancer_dns: str
    production_listener_arn: str
    test_listener_arn: str | None
    subnets: tuple[str, ...]
    security_group: str
    alarm_names: tuple[str, ...]
    scalable_resource_id: str | None
    native: NativeService | None = None
    """The ECS-native service beside the CodeDeploy one, when asked for (``native=``)."""

    def describe(self) -> str:
        lines = [
            f"  cluster            {self.cluster}",
            f"  service            {self.service} (Fargate, CODE_DEPLOY controller)",
            f"  task definition    {self.task_definition_arn}",
            f"  codedeploy         {self.application} / {self.deployment_group}",
            f"  target groups      {self.target_group_names[0]} (blue), "
            f"{self.target_group_names[1]} (green)",
            f"  production         {self.production_listener_arn}",
        ]
        if self.test_listener_arn:
            lines.append(f"  test listener      {self.test_listener_arn}")
        if self.alarm_names:
            lines.append(f"  alarms             {', '.join(self.alarm_names)}")
        if self.scalable_resource_id:
            lines.append(f"  scalable target    {self.scalable_resource_id}")
        if self.native is not None:
            lines.append(self.native.describe())
        return "\n".join(lines)


def build_environment(
    *,
    clients: Clients,
    name: str = "web",
    cluster: str = "prod",
    test_listener: bool = True,
    load_balancer: Literal["application", "network"] = "application",
    deployment_config: str = "CodeDeployDefault.ECSAllAtOnce",
    ready_wait_minutes: int | None = None,
    termination_wait_minutes: int = 5,
    alarms: bool = True,
    auto_rollback_events: Sequence[str] = ALL_ROLLBACK_EVENTS,
    desired_count: int = 2,
    autoscaling: bool = True,
    image: str = "public.ecr.aws/nginx/nginx:1.27",
    container_port: int = 80,
    native: bool | str = False,
    native_strategy: Strategy = "BLUE_GREEN",
    native_percent: float | None = None,
    native_step_minutes: int | None = None,
    native_bake_minutes: int | None = None,
    native_hooks: Sequence[Mapping[str, Any]] = (),
) -> Environment:
    """Create the sample environment through ``clients``.

    Args:
        test_listener: give the deployment group a test listener on :8080.
        load_balancer: ``"network"`` makes an NLB with TCP listeners.
        deployment_config: the group's traffic-shifting configuration.
        ready_wait_minutes: ``None`` reroutes as soon as green is ready
            (CONTINUE_DEPLOYMENT); a number waits that long for a promotion
            (STOP_DEPLOYMENT).
        termination_wait_minutes: how long blue is kept after success.
        alarms: create ``<name>-5xx`` and watch it from the group.
        auto_rollback_events: the group's auto-rollback events (empty: off).
        autoscaling: register a scalable target (1-10 tasks) with a target-tracking policy.
        native: also create an ECS-native blue/green service on the same cluster and load
            balancer: ``True`` names it ``<name>-native``, a string names it.
        native_strategy: its ``deploymentConfiguration.strategy``: ``BLUE_GREEN``,
            ``CANARY`` or ``LINEAR``.
        native_percent: ``canaryPercent`` (CANARY, default 5) or ``stepPercent`` (LINEAR,
            default 10).
        native_step_minutes: ``canaryBakeTimeInMinutes`` (CANARY, default 10) or
            ``stepBakeTimeInMinutes`` (LINEAR, default 6).
        native_bake_minutes: ``bakeTimeInMinutes``, how long blue is kept after production
            traffic moved (default ``termination_wait_minutes``, as for the CodeDeploy one).
        native_hooks: its ``lifecycleHooks``, as ECS takes them.

    Raises:
        ValueError: an option is wrong; nothing was created.
    """
    native_name = (f"{name}-native" if native is True else native) or None
    native_bake = termination_wait_minutes if native_bake_minutes is None else native_bake_minutes
    if native_name is not None:
        problems = check_native_options(
            strategy=native_strategy,
            percent=native_percent,
            step_minutes=native_step_minutes,
            bake_minutes=native_bake,
            load_balancer=load_balancer,
        )
        if native_name == name:
            problems.append(f"native={native_name!r} must differ from name={name!r}")
        if problems:
            raise ValueError("the sample environment: " + "; ".join(problems))
    ec2 = clients.client("ec2")
    region = clients.region or "us-east-1"
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = tuple(
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    )
    sg = ec2.create_security_group(GroupName=f"{name}-sg", Description=name, VpcId=vpc)["GroupId"]

    network = load_balancer == "network"
    elb = clients.elbv2
    lb = elb.create_load_balancer(
        Name=f"{name}-lb",
        Subnets=list(subnets),
        **({"Type": "network"} if network else {"SecurityGroups": [sg]}),
    )["LoadBalancers"][0]
    protocol: Any = "TCP" if network else "HTTP"
    tg_names = (f"{name}-blue", f"{name}-green")
    tg_arns = tuple(
        elb.create_target_group(
            Name=n, Protocol=protocol, Port=container_port, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for n in tg_names
    )

    def listener(port: int) -> str:
        return str(
            elb.create_listener(
                LoadBalancerArn=lb["LoadBalancerArn"],
                Protocol=protocol,
                Port=port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arns[0]}],
            )["Listeners"][0]["ListenerArn"]
        )

    production = listener(80)
    test = listener(8080) if test_listener else None

    ecs = clients.ecs
    ecs.create_cluster(clusterName=cluster)
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
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": container_port, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    service_arn = ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=desired_count,
        launchType="FARGATE",
        platformVersion="1.4.0",
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[
            {"targetGroupArn": tg_arns[0], "containerName": name, "containerPort": container_port}
        ],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(subnets),
                "securityGroups": [sg],
                "assignPublicIp": "DISABLED",
            }
        },
    )["service"]["serviceArn"]

    alarm_names: tuple[str, ...] = ()
    if alarms:
        alarm_names = (f"{name}-5xx",)
        clients.cloudwatch.put_metric_alarm(
            AlarmName=alarm_names[0],
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count",
            Dimensions=[
                {"Name": "LoadBalancer", "Value": lb["LoadBalancerArn"].split(":loadbalancer/")[-1]}
            ],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=10,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )

    resource_id = None
    if autoscaling:
        resource_id = f"service/{cluster}/{name}"
        register_scaling(clients, resource_id, name)

    application, group = f"AppECS-{cluster}-{name}", f"DgpECS-{cluster}-{name}"
    codedeploy = clients.codedeploy
    codedeploy.create_application(applicationName=application, computePlatform="ECS")
    ready: Any = (
        {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}
        if ready_wait_minutes is None
        else {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": ready_wait_minutes}
    )
    route: dict[str, Any] = {
        "targetGroups": [{"name": tg_names[0]}, {"name": tg_names[1]}],
        "prodTrafficRoute": {"listenerArns": [production]},
    }
    if test:
        route["testTrafficRoute"] = {"listenerArns": [test]}
    load_balancer_info: Any = {"targetGroupPairInfoList": [route]}
    rollback: Any = {"enabled": bool(auto_rollback_events)}
    if auto_rollback_events:
        rollback["events"] = list(auto_rollback_events)
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName=group,
        serviceRoleArn=ROLE_ARN,
        deploymentConfigName=deployment_config,
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": ready,
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": termination_wait_minutes,
            },
        },
        ecsServices=[{"serviceName": name, "clusterName": cluster}],
        loadBalancerInfo=load_balancer_info,
        autoRollbackConfiguration=rollback,
        alarmConfiguration={
            "enabled": bool(alarm_names),
            "alarms": [{"name": a} for a in alarm_names],
        },
    )
    native_service = None
    if native_name is not None:
        site = NativeSite(
            region=region,
            cluster=cluster,
            vpc=vpc,
            subnets=subnets,
            security_group=sg,
            load_balancer_arn=lb["LoadBalancerArn"],
            production_listener_arn=production,
            test_listener_arn=test,
            container_port=container_port,
            image=image,
            desired_count=desired_count,
        )
        native_service = build_native_service(
            clients,
            site,
            name=native_name,
            strategy=native_strategy,
            percent=native_percent,
            step_minutes=native_step_minutes,
            bake_minutes=native_bake,
            hooks=native_hooks,
            alarms=alarms,
            autoscaling=autoscaling,
        )
    return Environment(
        region=region,
        cluster=cluster,
        service=name,
        service_arn=service_arn,
        family=name,
        task_definition_arn=task_definition,
        container_name=name,
        container_port=container_port,
        image=image,
        application=application,
        deployment_group=group,
        target_group_names=tg_names,
        target_group_arns=(tg_arns[0], tg_arns[1]),
        load_balancer_arn=lb["LoadBalancerArn"],
        load_balancer_dns=lb.get("DNSName", ""),
        production_listener_arn=production,
        test_listener_arn=test,
        subnets=subnets,
        security_group=sg,
        alarm_names=alarm_names,
        scalable_resource_id=resource_id,
        native=native_service,
    )
