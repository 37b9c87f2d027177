"""discover() and find_deployment_group() through real boto3 against the simulator."""

from collections import Counter

import attrs
import boto3
import pytest

from bluegreen import (
    AppSpec,
    AwsVpcConfiguration,
    Clients,
    ResourceNotFoundError,
    ServiceConfigError,
    TargetLabel,
    ValidationError,
    discover,
    find_deployment_group,
)
from bluegreen.testing import build_environment

# discovery.py's docstring: the cost of discover() when the group is named or found by name.
DISCOVER_CALLS = Counter(
    {
        "DescribeServices": 1,
        "GetDeploymentGroup": 1,
        "DescribeListeners": 1,
        "DescribeTargetGroups": 1,
    }
)


def calls_during(sim, action):
    """Run ``action`` and count the AWS operations it sent, by name."""
    before = len(list(sim.api_calls()))
    result = action()
    return result, Counter(operation for _, _, operation in list(sim.api_calls())[before:])


@pytest.fixture
def clients(sim):
    """Ready boto3 clients handed to bluegreen, as a release script holding its own would."""
    return Clients(
        ecs=boto3.client("ecs"), elbv2=boto3.client("elbv2"), codedeploy=boto3.client("codedeploy")
    )


@pytest.fixture
def api(sim):
    """A second service, ``api`` in ``prod``, with container port 8080 and a group named the
    console's way (``AppECS-prod-api`` / ``DgpECS-prod-api``)."""
    return build_environment(
        clients=sim.clients(), name="api", cluster="prod", container_port=8080, autoscaling=False
    )


@pytest.fixture
def checkout(sim, env, api):
    """The ``api`` service deployed by application ``checkout``, group ``checkout-api``:
    names no convention predicts. Beside it are the sample ``web`` group and an EC2/on-prem
    (``Server``) application, which discovery must skip."""
    codedeploy = boto3.client("codedeploy")
    info = codedeploy.get_deployment_group(
        applicationName=api.application, deploymentGroupName=api.deployment_group
    )["deploymentGroupInfo"]
    codedeploy.delete_application(applicationName=api.application)
    codedeploy.create_application(applicationName="aaa-legacy-servers", computePlatform="Server")
    codedeploy.create_application(applicationName="checkout", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="checkout",
        deploymentGroupName="checkout-api",
        serviceRoleArn=info["serviceRoleArn"],
        deploymentStyle=info["deploymentStyle"],
        blueGreenDeploymentConfiguration=info["blueGreenDeploymentConfiguration"],
        ecsServices=info["ecsServices"],
        loadBalancerInfo=info["loadBalancerInfo"],
    )
    return attrs.evolve(api, application="checkout", deployment_group="checkout-api")


def register_revision(env, image="public.ecr.aws/nginx/nginx:1.28"):
    """A new revision of the environment's task definition; returns its ARN."""
    return boto3.client("ecs").register_task_definition(
        family=env.family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": env.container_name,
                "image": image,
                "portMappings": [{"containerPort": env.container_port}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]


# -- finding the deployment group --------------------------------------------------------


def test_discover_with_a_named_group_reads_service_pair_listeners_and_group(env, clients):
    state = discover(
        env.cluster,
        env.service,
        application=env.application,
        deployment_group=env.deployment_group,
        clients=clients,
    )

    assert (state.cluster, state.service) == ("prod", "web")
    assert state.is_code_deploy
    assert (state.desired_count, state.running_count) == (2, 2)
    assert state.task_definition == env.task_definition_arn
    assert state.deployment_group.name == "DgpECS-prod-web"
    assert [tg.name for tg in state.target_groups] == ["web-blue", "web-green"]
    assert (state.production.port, state.test.port) == (80, 8080)
    assert state.production.percent(env.target_group_arns[0]) == 100.0
    assert state.blue is state.primary
    assert state.label(state.blue) is TargetLabel.BLUE
    assert state.green is None
    assert state.deployment_id is None


def test_discover_with_a_named_group_makes_the_documented_four_calls(sim, env, clients):
    _, calls = calls_during(
        sim,
        lambda: discover(
            "prod",
            "web",
            application=env.application,
            deployment_group=env.deployment_group,
            clients=clients,
        ),
    )

    assert calls == DISCOVER_CALLS


def test_include_rules_adds_one_describe_rules_per_listener(sim, env, clients):
    _, calls = calls_during(
        sim, lambda: discover("prod", "web", include_rules=True, clients=clients)
    )

    assert calls == DISCOVER_CALLS + Counter({"DescribeRules": 2})


def test_discover_finds_a_console_named_group_at_no_extra_cost(sim, env, clients):
    state, calls = calls_during(sim, lambda: discover("prod", "web", clients=clients))

    assert (state.deployment_group.application, state.deployment_group.name) == (
        "AppECS-prod-web",
        "DgpECS-prod-web",
    )
    assert calls == DISCOVER_CALLS


def test_discover_scans_ecs_applications_for_an_unconventionally_named_group(
    sim, checkout, clients
):
    state, calls = calls_during(sim, lambda: discover("prod", "api", clients=clients))

    assert (state.deployment_group.application, state.deployment_group.name) == (
        "checkout",
        "checkout-api",
    )
    assert [tg.name for tg in state.target_groups] == ["api-blue", "api-green"]
    # One failed guess at the console's names, one page of applications, then one
    # ListDeploymentGroups + BatchGetDeploymentGroups per ECS application until the match
    # (AppECS-prod-web, then checkout); the Server application is never opened.
    assert calls == Counter(
        {
            "DescribeServices": 1,
            "GetDeploymentGroup": 1,
            "ListApplications": 1,
            "BatchGetApplications": 1,
            "ListDeploymentGroups": 2,
            "BatchGetDeploymentGroups": 2,
            "DescribeListeners": 1,
            "DescribeTargetGroups": 1,
        }
    )


def test_service_tags_name_the_group_so_no_scan_is_needed(sim, checkout, clients):
    boto3.client("ecs").tag_resource(
        resourceArn=checkout.service_arn,
        tags=[
            {"key": "bluegreen:application", "value": "checkout"},
            {"key": "bluegreen:deployment-group", "value": "checkout-api"},
        ],
    )
    state, calls = calls_during(sim, lambda: discover("prod", "api", clients=clients))

    assert state.deployment_group.name == "checkout-api"
    assert state.tags["bluegreen:application"] == "checkout"
    assert calls == DISCOVER_CALLS


def test_a_named_group_that_deploys_another_service_is_a_service_config_error(checkout, clients):
    with pytest.raises(ServiceConfigError) as caught:
        discover(
            "prod",
            "web",
            application="checkout",
            deployment_group="checkout-api",
            clients=clients,
        )

    assert "checkout/checkout-api deploys prod/api, not prod/web" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_find_deployment_group_names_the_service_when_no_group_deploys_it(env, clients):
    boto3.client("codedeploy").delete_deployment_group(
        applicationName=env.application, deploymentGroupName=env.deployment_group
    )

    with pytest.raises(ResourceNotFoundError, match="deploys prod/web"):
        find_deployment_group("prod", "web", clients=clients)
    with pytest.raises(ResourceNotFoundError, match="deploys prod/web"):
        discover("prod", "web", clients=clients)


def test_application_and_deployment_group_come_together_or_not_at_all():
    with pytest.raises(ValidationError, match="together"):
        discover("prod", "web", application="AppECS-prod-web")


def test_bad_arguments_are_refused_all_at_once_before_any_call():
    with pytest.raises(ValidationError) as caught:
        discover(123, "", clock="now")  # type: ignore[arg-type]

    message = str(caught.value)
    assert "cluster= must be a cluster name or ARN (a string), got int 123" in message
    assert "service= is empty" in message
    assert "clock= must have time() and sleep(seconds) methods" in message
    assert isinstance(caught.value, ValueError)


# -- services that are not there ---------------------------------------------------------


def test_a_missing_service_is_resource_not_found_naming_service_cluster_and_region(env, clients):
    with pytest.raises(ResourceNotFoundError) as caught:
        discover("prod", "webb", clients=clients)

    message = str(caught.value)
    assert "'webb'" in message
    assert "'prod'" in message
    assert "us-east-1" in message
    assert isinstance(caught.value, LookupError)


def test_discover_looks_in_the_sessions_region(env):
    """The sample service lives in us-east-1; a session for eu-west-1 does not find it."""
    with pytest.raises(ResourceNotFoundError, match=r"'web' in cluster 'prod' \(eu-west-1\)"):
        discover("prod", "web", session=boto3.Session(region_name="eu-west-1"))


# -- a deployment in flight ------------------------------------------------------------


def test_service_state_during_a_canary_shows_blue_green_weights_and_the_deployment(
    sim, env, clients
):
    new = register_revision(env)
    before = discover("prod", "web", clients=clients)
    deployment_id = boto3.client("codedeploy").create_deployment(
        applicationName=env.application,
        deploymentGroupName=env.deployment_group,
        deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
        revision=AppSpec.for_service(before, new).revision(),
    )["deploymentId"]
    blue_tg, green_tg = env.target_group_arns
    sim.run_until(
        lambda: dict(sim.listener_weights(env.production_listener_arn)).get(green_tg, 0) > 0
    )
    sim.advance(60)  # inside the 5-minute canary

    state = discover("prod", "web", clients=clients)

    assert state.deployment_id == deployment_id
    assert state.label(state.blue) is TargetLabel.BLUE
    assert state.label(state.green) is TargetLabel.GREEN
    assert state.blue.task_definition == env.task_definition_arn
    assert state.green.task_definition == new
    assert state.green.external_id == deployment_id
    assert (state.blue.target_group_arn, state.green.target_group_arn) == (blue_tg, green_tg)
    assert state.traffic(state.blue) == (90.0, 0.0)
    assert state.traffic(state.green) == (10.0, 100.0)
    text = repr(state)
    assert f"deployment {deployment_id} in flight" in text
    lines = text.splitlines()
    assert len(lines) <= 25
    assert max(len(line) for line in lines) <= 120

    sim.run_until_done(deployment_id)
    after = discover("prod", "web", clients=clients)

    assert after.deployment_id is None
    assert after.green is None
    assert after.blue.task_definition == new


def test_appspec_for_service_carries_the_live_network_platform_and_container(api, clients):
    new = register_revision(api)
    state = discover("prod", "api", clients=clients)

    spec = AppSpec.for_service(state, new, hooks={"AfterAllowTestTraffic": "CodeDeployHook_api"})

    assert spec.task_definition == new
    assert (spec.container_name, spec.container_port) == ("api", 8080)
    assert spec.platform_version == "1.4.0"
    assert spec.network_configuration == AwsVpcConfiguration(
        subnets=api.subnets, security_groups=(api.security_group,), assign_public_ip="DISABLED"
    )
    assert spec.capacity_provider_strategy is None
    assert spec.problems(deployment_group=state.deployment_group) == []
    assert AppSpec.parse(spec.render()) == spec


def test_discover_retries_throttled_reads_on_the_given_clock(sim, env):
    sim.faults.throttle("DescribeListeners", service="elasticloadbalancing", count=3)
    sim.faults.throttle("DescribeServices", service="ecs", count=1)
    start = sim.clock.time()

    state, calls = calls_during(
        sim,
        lambda: discover(
            "prod",
            "web",
            application=env.application,
            deployment_group=env.deployment_group,
            clients=sim.clients(),
            clock=sim.clock,
        ),
    )

    assert state.production is not None
    assert calls == DISCOVER_CALLS + Counter({"DescribeListeners": 3, "DescribeServices": 1})
    assert sim.clock.time() > start  # the pauses slept on the simulator's clock, not ours
