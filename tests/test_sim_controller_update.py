"""UpdateService with a new ``deploymentController`` on the simulator (``_controller_update``),
through real boto3 clients: the sample CodeDeploy service moves to ECS-native blue/green and
back, ECS's documented refusals, the simulator's [I] refusals, and CodeDeploy refusing to deploy
a migrated service. Answers are checked against botocore's ECS model.

The migration-ready listener rules are made as the migration design makes them: one rule per
listener at the lowest precedence (priority 50000, path ``*``) forwarding to the live target
group at weight 100 and the other at 0, since ECS-native needs a rule ARN and a listener's
default rule cannot be modified.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from botocore.exceptions import ClientError
from deploying import Deployer
from native_sim import ROLE, conforms

from bluegreen.testing import SimSettings, Simulator
from bluegreen.testing._controller_update import MULTIPLE_TASK_SETS, NO_PRIMARY_TASK_SET

BLUE_GREEN = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2}


class Migration:
    """The sample environment's CodeDeploy service and the rules that migrate it."""

    def __init__(self, sim: Any, env: Any, **client_kwargs: Any) -> None:
        self.sim, self.env = sim, env
        self.d = Deployer(sim, env, **client_kwargs)
        self.ecs, self.elbv2 = self.d.ecs, self.d.elbv2
        self.rules: dict[str, str] = {}

    # -- reading ------------------------------------------------------------------------

    def service(self) -> dict[str, Any]:
        answer = self.ecs.describe_services(cluster=self.env.cluster, services=[self.env.service])
        conforms(answer, "DescribeServices")
        return dict(answer["services"][0])

    def live_tg(self) -> str:
        """The target group the PRIMARY task set is registered with."""
        primary = self.d.task_set("PRIMARY")
        return str(primary["loadBalancers"][0]["targetGroupArn"])

    def other(self, tg: str) -> str:
        return next(arn for arn in self.env.target_group_arns if arn != tg)

    def deployments(self) -> list[dict[str, Any]]:
        answer = self.ecs.list_service_deployments(
            cluster=self.env.cluster, service=self.env.service
        )
        conforms(answer, "ListServiceDeployments")
        return list(answer["serviceDeployments"])

    def describe(self, arn: str) -> dict[str, Any]:
        answer = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
        conforms(answer, "DescribeServiceDeployments")
        return dict(answer["serviceDeployments"][0])

    def revision(self, arn: str) -> dict[str, Any]:
        answer = self.ecs.describe_service_revisions(serviceRevisionArns=[arn])
        conforms(answer, "DescribeServiceRevisions")
        return dict(answer["serviceRevisions"][0])

    def weights(self, rule: str) -> dict[str, int]:
        actions = self.elbv2.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"]
        forward = next(a for a in actions if a["Type"] == "forward")
        return {g["TargetGroupArn"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]}

    # -- changing -----------------------------------------------------------------------

    def make_rules(self) -> None:
        """A rule on each listener forwarding like its default action, plus the other target
        group at weight 0."""
        live = self.live_tg()
        for role, listener in (
            ("production", self.env.production_listener_arn),
            ("test", self.env.test_listener_arn),
        ):
            self.rules[role] = self.elbv2.create_rule(
                ListenerArn=listener,
                Priority=50000,
                Conditions=[{"Field": "path-pattern", "Values": ["*"]}],
                Actions=[
                    {
                        "Type": "forward",
                        "ForwardConfig": {
                            "TargetGroups": [
                                {"TargetGroupArn": live, "Weight": 100},
                                {"TargetGroupArn": self.other(live), "Weight": 0},
                            ]
                        },
                    }
                ],
            )["Rules"][0]["RuleArn"]

    def load_balancer(self, live: str, **advanced: Any) -> dict[str, Any]:
        config = {
            "alternateTargetGroupArn": self.other(live),
            "productionListenerRule": self.rules["production"],
            "testListenerRule": self.rules["test"],
            "roleArn": ROLE,
            **advanced,
        }
        return {
            "targetGroupArn": live,
            "containerName": self.env.container_name,
            "containerPort": self.env.container_port,
            "advancedConfiguration": config,
        }

    def to_native(self, config: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        if not self.rules:
            self.make_rules()
        request: dict[str, Any] = {
            "cluster": self.env.cluster,
            "service": self.env.service,
            "deploymentController": {"type": "ECS"},
            "deploymentConfiguration": dict(BLUE_GREEN if config is None else config),
        }
        request.update(overrides)
        if "loadBalancers" not in request:
            request["loadBalancers"] = [self.load_balancer(self.live_tg())]
        answer = self.ecs.update_service(**request)
        conforms(answer, "UpdateService")
        return dict(answer["service"])

    def to_codedeploy(self, live: str, **overrides: Any) -> dict[str, Any]:
        """Back as the migration's revert does it: each listener's default action on the
        live target group, the rules deleted, then UpdateService."""
        for listener in (self.env.production_listener_arn, self.env.test_listener_arn):
            self.elbv2.modify_listener(
                ListenerArn=listener,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": live}],
            )
        for rule in self.rules.values():
            self.elbv2.delete_rule(RuleArn=rule)
        self.rules.clear()
        request: dict[str, Any] = {
            "cluster": self.env.cluster,
            "service": self.env.service,
            "deploymentController": {"type": "CODE_DEPLOY"},
            "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
            "loadBalancers": [
                {
                    "targetGroupArn": live,
                    "containerName": self.env.container_name,
                    "containerPort": self.env.container_port,
                }
            ],
        }
        request.update(overrides)
        answer = self.ecs.update_service(**request)
        conforms(answer, "UpdateService")
        return dict(answer["service"])

    def native_deploy(self) -> str:
        """UpdateService to a new task definition; the new service deployment's ARN."""
        self.ecs.update_service(
            cluster=self.env.cluster,
            service=self.env.service,
            taskDefinition=self.d.register_revision(image="nginx:1.29"),
        )
        return str(self.deployments()[0]["serviceDeploymentArn"])


def _refused(call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return dict(caught.value.response["Error"])


def _unchanged(m: Migration, before: dict[str, Any]) -> None:
    after = m.service()
    for key in ("deploymentController", "taskSets", "loadBalancers", "deploymentConfiguration"):
        assert after.get(key) == before.get(key), key
    assert after["taskDefinition"] == before["taskDefinition"]


@pytest.fixture
def m(sim, env) -> Migration:
    return Migration(sim, env)


# -- CODE_DEPLOY -> ECS -------------------------------------------------------------------


def test_the_primary_task_set_becomes_the_first_service_revision_serving_all_traffic(m):
    live = m.live_tg()
    task_definition = m.service()["taskDefinition"]

    answer = m.to_native()

    assert answer["deploymentController"] == {"type": "ECS"}
    assert answer.get("taskSets", []) == []
    service = m.service()
    assert service["deploymentController"] == {"type": "ECS"}
    assert service.get("taskSets", []) == []
    assert service["taskDefinition"] == task_definition
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert service["deploymentConfiguration"]["bakeTimeInMinutes"] == 2
    assert service["loadBalancers"] == [m.load_balancer(live)]
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY"]
    assert service["runningCount"] == 2

    (listed,) = m.deployments()
    assert listed["status"] == "SUCCESSFUL"
    deployment = m.describe(listed["serviceDeploymentArn"])
    assert deployment["sourceServiceRevisions"] == []
    target = deployment["targetServiceRevision"]
    assert target["runningTaskCount"] == 2
    assert target["requestedProductionTrafficWeight"] == 100.0
    revision = m.revision(target["arn"])
    assert revision["taskDefinition"] == task_definition
    assert revision["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"] == live


def test_a_native_deployment_then_shifts_the_rule_weights_to_the_other_target_group(m, sim):
    live = m.live_tg()
    m.to_native()
    rule = m.rules["production"]

    arn = m.native_deploy()
    assert sim.run_until_done(arn) == "SUCCESSFUL"

    assert m.weights(rule) == {m.other(live): 100, live: 0}
    assert m.weights(m.rules["test"])[m.other(live)] == 100
    deployment = m.describe(arn)
    revision = m.revision(deployment["targetServiceRevision"]["arn"])
    assert revision["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"] == m.other(live)


def test_back_to_code_deploy_the_current_revision_becomes_one_primary_task_set_and_codedeploy_deploys_again(  # noqa: E501
    m, sim
):
    first = m.live_tg()
    m.to_native()
    native = m.native_deploy()
    sim.run_until_done(native)
    live = m.other(first)  # the native deployment moved production to the other group
    task_definition = m.service()["taskDefinition"]

    answer = m.to_codedeploy(live)

    assert answer["deploymentController"] == {"type": "CODE_DEPLOY"}
    service = m.service()
    assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert "strategy" not in service["deploymentConfiguration"]
    assert "bakeTimeInMinutes" not in service["deploymentConfiguration"]
    assert service["deploymentConfiguration"]["maximumPercent"] == 200
    (task_set,) = service["taskSets"]
    assert task_set["status"] == "PRIMARY"
    assert task_set["taskDefinition"] == task_definition
    assert task_set["loadBalancers"][0]["targetGroupArn"] == live
    assert task_set["runningCount"] == 2
    assert task_set["stabilityStatus"] == "STEADY_STATE"
    assert service["loadBalancers"][0]["targetGroupArn"] == live
    assert "advancedConfiguration" not in service["loadBalancers"][0]
    assert len(m.deployments()) == 2  # the native history is kept

    deployment_id = m.d.deploy()
    assert m.d.done(deployment_id) == "Succeeded"
    assert m.d.traffic() == {m.d.tg_name(first): 100, m.d.tg_name(live): 0}
    (task_set,) = m.d.task_sets()
    assert task_set["loadBalancers"][0]["targetGroupArn"] == first


def test_a_forced_no_op_deployment_after_migrating_succeeds_and_moves_production(m, sim):
    live = m.live_tg()
    m.to_native()

    m.ecs.update_service(cluster=m.env.cluster, service=m.env.service, forceNewDeployment=True)
    arn = m.deployments()[0]["serviceDeploymentArn"]

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    assert m.weights(m.rules["production"]) == {live: 0, m.other(live): 100}
    assert [d["status"] for d in m.service()["deployments"]] == ["PRIMARY"]


def test_a_migrated_services_traffic_is_served_by_its_rule_alone(m, sim):
    m.to_native()
    arn = m.native_deploy()
    sim.run_until_done(arn)

    lb = m.env.load_balancer_arn.split(":loadbalancer/")[-1]
    answer = m.d.cloudwatch.get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_ELB_5XX_Count",
        Dimensions=[{"Name": "LoadBalancer", "Value": lb}],
        StartTime=sim.clock.time() - 3600,
        EndTime=sim.clock.time(),
        Period=3600,
        Statistics=["Sum"],
    )
    assert answer["Datapoints"] == []


def test_migrating_there_and_back_twice_keeps_every_service_deployment_as_history(m, sim):
    live = m.live_tg()
    m.to_native()
    m.to_codedeploy(live)
    m.to_native()

    listed = m.deployments()
    assert [d["status"] for d in listed] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert m.service()["deploymentController"] == {"type": "ECS"}
    arn = m.native_deploy()
    assert sim.run_until_done(arn) == "SUCCESSFUL"


def test_a_new_task_definition_in_the_migrating_request_deploys_natively_at_once(m, sim):
    newer = m.d.register_revision(image="nginx:1.29")

    m.to_native(taskDefinition=newer)

    listed = m.deployments()
    assert [d["status"] for d in listed][1] == "SUCCESSFUL"
    assert listed[0]["status"] in ("PENDING", "IN_PROGRESS")
    assert sim.run_until_done(listed[0]["serviceDeploymentArn"]) == "SUCCESSFUL"
    assert m.service()["taskDefinition"] == newer


# -- ECS's refusals -----------------------------------------------------------------------


def test_two_task_sets_mid_codedeploy_deployment_are_refused_with_ecs_words(m):
    m.make_rules()
    deployment_id = m.d.deploy()
    m.d.until_event(deployment_id, "Install", "Succeeded")
    before = m.service()
    assert len(before["taskSets"]) == 2

    error = _refused(m.to_native)

    assert error == {"Code": "InvalidParameterException", "Message": MULTIPLE_TASK_SETS}
    _unchanged(m, before)
    assert m.deployments() == []
    assert m.d.done(deployment_id) == "Succeeded"


def test_no_primary_task_set_is_refused_with_ecs_words(m):
    m.make_rules()
    primary = m.d.task_set("PRIMARY")
    m.ecs.delete_task_set(
        cluster=m.env.cluster, service=m.env.service, taskSet=primary["taskSetArn"], force=True
    )
    before = m.service()

    live = primary["loadBalancers"][0]["targetGroupArn"]

    error = _refused(m.to_native, loadBalancers=[m.load_balancer(live)])

    assert error == {"Code": "InvalidParameterException", "Message": NO_PRIMARY_TASK_SET}
    _unchanged(m, before)


def test_a_codedeploy_deployment_that_has_not_installed_yet_is_refused(m):
    m.make_rules()
    deployment_id = m.d.deploy()
    before = m.service()
    assert len(before["taskSets"]) == 1

    error = _refused(m.to_native)

    assert error["Code"] == "InvalidParameterException"
    assert deployment_id in error["Message"]
    _unchanged(m, before)


@pytest.mark.parametrize(
    ("config", "advanced", "words"),
    [
        ({"strategy": "BLUE_GREEN"}, {}, "bakeTimeInMinutes is required"),
        (dict(BLUE_GREEN, strategy="SIDEWAYS"), {}, "Invalid deployment strategy"),
        (BLUE_GREEN, {"roleArn": ""}, "advancedConfiguration.roleArn is required"),
        (
            {
                "strategy": "LINEAR",
                "bakeTimeInMinutes": 1,
                "linearConfiguration": {"stepPercent": 1.0},
            },
            {},
            "stepPercent must be",
        ),
        ({"maximumPercent": 200}, {}, "only with deploymentConfiguration.strategy"),
    ],
)
def test_a_bad_native_configuration_is_refused_before_anything_changes(m, config, advanced, words):
    m.make_rules()
    before = m.service()

    error = _refused(m.to_native, config, loadBalancers=[m.load_balancer(m.live_tg(), **advanced)])

    assert error["Code"] == "InvalidParameterException"
    assert words in error["Message"]
    _unchanged(m, before)
    assert m.deployments() == []


def test_a_primary_task_set_outside_the_target_group_pair_is_refused(m, env):
    m.make_rules()
    before = m.service()
    stranger = m.elbv2.create_target_group(
        Name="stranger", Protocol="HTTP", Port=80, VpcId=_vpc(m), TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    lb = m.load_balancer(stranger)
    lb["advancedConfiguration"]["alternateTargetGroupArn"] = m.other(m.live_tg())
    lb["targetGroupArn"] = stranger

    error = _refused(m.to_native, loadBalancers=[lb])

    assert error["Code"] == "InvalidParameterException"
    assert m.live_tg() in error["Message"]
    _unchanged(m, before)


def _vpc(m: Migration) -> str:
    group = m.elbv2.describe_target_groups(TargetGroupArns=[m.env.target_group_arns[0]])
    return str(group["TargetGroups"][0]["VpcId"])


# -- ECS -> CODE_DEPLOY refusals ------------------------------------------------------------


def test_back_to_code_deploy_is_refused_while_a_native_deployment_is_in_flight(m, sim):
    live = m.live_tg()
    m.to_native()
    arn = m.native_deploy()
    sim.run_until(lambda: sim.service_deployment(arn).stage == "BAKE_TIME")
    before = m.service()

    error = _refused(m.to_codedeploy, m.other(live))

    assert error["Code"] == "InvalidParameterException"
    assert arn in error["Message"]
    _unchanged(m, before)
    assert sim.run_until_done(arn) == "SUCCESSFUL"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"deploymentConfiguration": BLUE_GREEN}, "only supported with the ECS deployment"),
        ({"taskDefinition": "REGISTER"}, "Unable to update task definition"),
        ({"loadBalancers": "OTHER"}, "must be it"),
    ],
)
def test_back_to_code_deploy_refuses_what_codedeploy_cannot_take(m, overrides, words):
    live = m.live_tg()
    m.to_native()
    overrides = dict(overrides)
    if overrides.get("taskDefinition") == "REGISTER":
        overrides["taskDefinition"] = m.d.register_revision(image="nginx:1.29")
    if overrides.get("loadBalancers") == "OTHER":
        overrides["loadBalancers"] = [
            {
                "targetGroupArn": m.other(live),
                "containerName": m.env.container_name,
                "containerPort": m.env.container_port,
            }
        ]
    rules = dict(m.rules)
    before = m.service()

    with pytest.raises(ClientError) as caught:
        m.to_codedeploy(live, **overrides)

    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert words in caught.value.response["Error"]["Message"]
    m.rules = rules
    _unchanged(m, before)


def test_updates_the_simulator_does_not_model_are_refused_with_a_clear_message(m):
    before = m.service()
    error = _refused(
        m.ecs.update_service,
        cluster=m.env.cluster,
        service=m.env.service,
        deploymentController={"type": "EXTERNAL"},
    )
    assert error["Code"] == "InvalidParameterException"
    assert "does not simulate" in error["Message"]
    _unchanged(m, before)


def test_a_rolling_ecs_service_with_a_load_balancer_moves_to_code_deploy_with_one_task_set(m, env):
    tg = env.target_group_arns[0]
    m.ecs.create_service(
        cluster=env.cluster,
        serviceName="rolling",
        taskDefinition=env.task_definition_arn,
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(env.subnets),
                "securityGroups": [env.security_group],
            }
        },
        loadBalancers=[
            {"targetGroupArn": tg, "containerName": env.container_name, "containerPort": 80}
        ],
    )

    answer = m.ecs.update_service(
        cluster=env.cluster, service="rolling", deploymentController={"type": "CODE_DEPLOY"}
    )

    conforms(answer, "UpdateService")
    service = m.ecs.describe_services(cluster=env.cluster, services=["rolling"])["services"][0]
    assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
    (task_set,) = service["taskSets"]
    assert task_set["status"] == "PRIMARY"
    assert task_set["loadBalancers"][0]["targetGroupArn"] == tg


# -- CodeDeploy on a migrated service -------------------------------------------------------


def test_a_codedeploy_deployment_of_a_migrated_service_fails_at_once(m, sim):
    spec = m.d.appspec()  # made while the service is CodeDeploy's
    m.to_native()

    deployment_id = m.d.deploy(appspec=spec)
    assert m.d.done(deployment_id) == "Failed"

    info = m.d.info(deployment_id)
    assert info["errorInformation"]["code"] == "ECS_UPDATE_ERROR"
    assert "not CODE_DEPLOY" in info["errorInformation"]["message"]
    assert set(m.d.events(deployment_id).values()) == {"Skipped"}
    assert m.service().get("taskSets", []) == []
    assert [d["status"] for d in m.deployments()] == ["SUCCESSFUL"]


# -- settings and serving ---------------------------------------------------------------------


def test_with_the_merge_setting_the_given_configuration_is_laid_over_the_services(m, sim):
    sim.settings = attrs.evolve(sim.settings, controller_update_configuration="merge")
    live = m.live_tg()
    m.to_native(dict(BLUE_GREEN, maximumPercent=150))

    m.to_codedeploy(live, deploymentConfiguration={"minimumHealthyPercent": 50})

    config = m.service()["deploymentConfiguration"]
    assert (config["maximumPercent"], config["minimumHealthyPercent"]) == (150, 50)
    assert not {"strategy", "bakeTimeInMinutes"} & set(config)


def test_by_default_the_given_configuration_replaces_the_services(m):
    live = m.live_tg()
    m.to_native(dict(BLUE_GREEN, maximumPercent=150))

    m.to_codedeploy(live, deploymentConfiguration={"minimumHealthyPercent": 50})

    config = m.service()["deploymentConfiguration"]
    assert (config["maximumPercent"], config["minimumHealthyPercent"]) == (200, 50)


def test_a_served_simulator_without_a_native_service_updates_the_controller_both_ways():
    with Simulator(speed=60.0, settings=SimSettings()).serve() as server:
        env = server.create_environment()
        served = Migration(server.simulator, env, endpoint_url=server.endpoint_url)
        live = served.live_tg()

        served.to_native()
        assert served.service()["deploymentController"] == {"type": "ECS"}
        assert [d["status"] for d in served.deployments()] == ["SUCCESSFUL"]

        served.to_codedeploy(live)
        service = served.service()
        assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
        assert [ts["status"] for ts in service["taskSets"]] == ["PRIMARY"]
