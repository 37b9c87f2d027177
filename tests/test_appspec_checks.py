"""bluegreen.appspec_checks: an AppSpec against its task definition and deployment group."""

import pytest

from bluegreen import (
    AppSpec,
    AppSpecError,
    AwsVpcConfiguration,
    DeploymentGroup,
    mutable_image_tags,
)

TASK_DEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:12"


def spec(**overrides):
    fields = {"task_definition": TASK_DEF, "container_name": "web", "container_port": 80}
    return AppSpec(**{**fields, **overrides})


# -- validation against the task definition and deployment group --------------------------

TASK_DEFINITION = {
    "family": "web",
    "revision": 12,
    "networkMode": "awsvpc",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2",
            "portMappings": [{"containerPort": 80}],
        },
        {
            "name": "sidecar",
            "image": "public.ecr.aws/aws-observability/aws-otel-collector@sha256:" + "a" * 64,
        },
    ],
}


def test_valid_against_its_task_definition():
    spec().validate(task_definition=TASK_DEFINITION)


def test_missing_container_and_unmapped_port_and_latest_image_all_reported():
    td = {
        **TASK_DEFINITION,
        "containerDefinitions": [{"name": "app", "image": "nginx", "portMappings": []}],
    }
    with pytest.raises(AppSpecError) as info:
        spec().validate(task_definition=td)
    problems = "\n".join(info.value.problems)
    assert "container 'web' is not in the task definition (containers: 'app')" in problems
    assert "uses image 'nginx', whose tag can move" in problems


def test_port_not_mapped():
    with pytest.raises(AppSpecError, match=r"does not map port 8080 \(mapped: 80\)"):
        spec(container_port=8080).validate(task_definition=TASK_DEFINITION)


def test_mutable_tags_are_an_error_unless_allowed():
    td = {
        **TASK_DEFINITION,
        "containerDefinitions": [
            {
                "name": "web",
                "image": "registry:5000/team/web:latest",
                "portMappings": [{"containerPort": 80}],
            }
        ],
    }
    with pytest.raises(AppSpecError, match="allow_mutable_image_tags=True"):
        spec().validate(task_definition=td)
    spec().validate(task_definition=td, allow_mutable_image_tags=True)


@pytest.mark.parametrize(
    ("image", "mutable"),
    [
        ("nginx", True),
        ("nginx:latest", True),
        ("registry:5000/web", True),  # the port is not a tag
        ("registry:5000/web:1.2", False),
        ("web@sha256:" + "0" * 64, False),
        ("web:latest@sha256:" + "0" * 64, False),
    ],
)
def test_mutable_image_tag_detection(image, mutable):
    found = mutable_image_tags({"containerDefinitions": [{"name": "c", "image": image}]})
    assert bool(found) is mutable


def test_network_configuration_on_a_bridge_task_definition():
    td = {**TASK_DEFINITION, "networkMode": "bridge"}
    s = spec(
        network_configuration=AwsVpcConfiguration(
            subnets=["s-1"], security_groups=[], assign_public_ip="DISABLED"
        )
    )
    with pytest.raises(AppSpecError, match="applies only to awsvpc tasks"):
        s.validate(task_definition=td)


def test_task_definition_of_another_family_is_flagged():
    with pytest.raises(
        AppSpecError, match="names family 'web' but the task definition checked is 'api'"
    ):
        spec().validate(task_definition={**TASK_DEFINITION, "family": "api"})


def test_test_traffic_hook_without_test_listener_is_flagged():
    group = DeploymentGroup(
        application="app",
        name="dg",
        target_group_names=("a", "b"),
        production_listener_arn="arn:prod",
        test_listener_arn=None,
    )
    s = spec(hooks={"AfterAllowTestTraffic": "CodeDeployHook_verify"})
    [problem] = s.problems(deployment_group=group)
    assert "no test listener, so the AfterAllowTestTraffic hook would never run" in problem
    with_test = DeploymentGroup(
        application="app",
        name="dg",
        target_group_names=("a", "b"),
        production_listener_arn="arn:prod",
        test_listener_arn="arn:test",
    )
    assert s.problems(deployment_group=with_test) == []


def test_non_blue_green_group_is_flagged():
    group = DeploymentGroup(
        application="app", name="dg", compute_platform="Server", is_blue_green=False
    )
    problems = spec().problems(deployment_group=group)
    assert len(problems) == 3  # platform, style, no target-group pair
