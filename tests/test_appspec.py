import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluegreen import (
    AppSpec,
    AppSpecError,
    AwsVpcConfiguration,
    CapacityProviderStrategyItem,
    DeploymentGroup,
    Hook,
    LifecycleEvent,
    mutable_image_tags,
)

APPSPECS = sorted((Path(__file__).parent.parent / "appspecs").iterdir())
TASK_DEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:12"


def spec(**overrides):
    fields = {"task_definition": TASK_DEF, "container_name": "web", "container_port": 80}
    return AppSpec(**{**fields, **overrides})


@pytest.mark.parametrize("path", APPSPECS, ids=lambda p: p.name)
def test_every_example_parses_validates_and_round_trips(path):
    parsed = AppSpec.parse(path.read_text())
    assert AppSpec.parse(parsed.to_yaml()) == parsed
    assert AppSpec.parse(parsed.to_json()) == parsed


def test_examples_cover_fargate_ec2_capacity_providers_and_minimal():
    names = {p.name for p in APPSPECS}
    assert {
        "fargate-canary-all-hooks.yaml",
        "ec2-bridge.yaml",
        "capacity-providers.json",
        "minimal.yaml",
    } <= names


def test_aws_example_with_unquoted_version_and_all_hooks():
    parsed = AppSpec.parse(
        (Path(__file__).parent.parent / "appspecs/fargate-canary-all-hooks.yaml").read_text()
    )
    assert parsed.container_port == 8080
    assert parsed.platform_version == "1.4.0"
    assert parsed.network_configuration == AwsVpcConfiguration(
        subnets=("subnet-1234abcd", "subnet-5678abcd"),
        security_groups=("sg-12345678",),
        assign_public_ip="DISABLED",
    )
    assert [h.event for h in parsed.hooks] == list(LifecycleEvent.hookable())
    assert parsed.hook_for("AfterAllowTraffic").endswith(":CodeDeployHook_web_verify_prod:live")


def test_rendered_yaml_uses_aws_spelling_and_unquoted_version():
    text = spec(hooks={"AfterAllowTestTraffic": "CodeDeployHook_verify"}).to_yaml()
    assert text.splitlines()[0] == "version: 0.0"
    assert "- TargetService:" in text
    assert "Type: AWS::ECS::Service" in text
    assert "ContainerPort: 80\n" in text  # a number, not a string
    assert "- AfterAllowTestTraffic: CodeDeployHook_verify" in text


def test_json_rendering_is_the_same_document():
    s = spec(platform_version="LATEST")
    assert json.loads(s.to_json()) == s.to_dict()
    assert json.loads(s.to_json())["version"] == 0.0


def test_revision_carries_the_sha256_of_the_exact_content():
    s = spec()
    revision = s.revision()
    content = revision["appSpecContent"]["content"]
    assert revision["revisionType"] == "AppSpecContent"
    assert revision["appSpecContent"]["sha256"] == hashlib.sha256(content.encode()).hexdigest()
    assert s.sha256("json") == hashlib.sha256(s.to_json().encode()).hexdigest()


# -- hypothesis round trips --------------------------------------------------------------

names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-", min_size=1, max_size=30
)
ids = st.text(alphabet="abcdef0123456789", min_size=8, max_size=17)
appspecs = st.builds(
    AppSpec,
    task_definition=st.builds(
        lambda region, family, rev, short: (
            f"{family}:{rev}"
            if short
            else f"arn:aws:ecs:{region}:123456789012:task-definition/{family}:{rev}"
        ),
        st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]),
        names,
        st.integers(1, 100000),
        st.booleans(),
    ),
    container_name=st.text(min_size=1, max_size=40).filter(
        lambda s: s.strip() == s and s.isprintable()
    ),
    container_port=st.integers(1, 65535),
    platform_version=st.none() | st.sampled_from(["LATEST", "1.4.0", "1.3.0"]),
    network_configuration=st.none()
    | st.builds(
        AwsVpcConfiguration,
        subnets=st.lists(ids.map("subnet-{}".format), min_size=1, max_size=4),
        security_groups=st.lists(ids.map("sg-{}".format), max_size=3),
        assign_public_ip=st.sampled_from(["ENABLED", "DISABLED"]),
    ),
    capacity_provider_strategy=st.none()
    | st.lists(
        st.builds(
            CapacityProviderStrategyItem,
            capacity_provider=names,
            base=st.just(0),
            weight=st.integers(1, 1000),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda i: i.capacity_provider,
    ).flatmap(
        lambda items: st.integers(0, 100000).map(
            lambda base: (
                CapacityProviderStrategyItem(
                    capacity_provider=items[0].capacity_provider, base=base, weight=items[0].weight
                ),
                *items[1:],
            )
        )
    ),
    hooks=st.lists(
        st.tuples(
            st.sampled_from(LifecycleEvent.hookable()),
            names.filter(lambda n: len(n) <= 64)
            | ids.map("arn:aws:lambda:us-east-1:123456789012:function:fn{}".format),
        ),
        unique_by=lambda t: t[0],
        max_size=5,
    ).map(lambda pairs: tuple(Hook(e, f) for e, f in pairs)),
)


@given(appspecs)
def test_yaml_round_trip_is_exact(s):
    assert AppSpec.parse(s.to_yaml()) == s


@given(appspecs)
def test_json_round_trip_is_exact(s):
    assert AppSpec.parse(s.to_json()) == s


@given(appspecs)
def test_sha256_is_stable_for_equal_specs(s):
    assert AppSpec.parse(s.to_yaml()).sha256() == s.sha256()


# -- bad input ----------------------------------------------------------------------------

BAD_DOCUMENTS = {
    "family latest": ({"TaskDefinition": "web:latest"}, "has revision 'latest'"),
    "family only": ({"TaskDefinition": "web"}, "names a family without a revision"),
    "arn without revision": (
        {"TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web"},
        "without a revision",
    ),
    "port as string": (
        {"LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": "80"}},
        "remove the quotes",
    ),
    "load balancer list": (
        {"LoadBalancerInfo": [{"ContainerName": "web", "ContainerPort": 80}]},
        "must be a map (ContainerName, ContainerPort), not a list",
    ),
    "partial awsvpc": (
        {"NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-1"]}}},
        "needs all of Subnets, SecurityGroups and AssignPublicIp or none of them",
    ),
    "bad public ip": (
        {
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": ["s"],
                    "SecurityGroups": [],
                    "AssignPublicIp": "YES",
                }
            }
        },
        "must be ENABLED or DISABLED",
    ),
    "two bases": (
        {
            "CapacityProviderStrategy": [
                {"CapacityProvider": "A", "Base": 1, "Weight": 1},
                {"CapacityProvider": "B", "Base": 2, "Weight": 1},
            ]
        },
        "only one capacity provider may set a Base",
    ),
    "no weight": (
        {"CapacityProviderStrategy": [{"CapacityProvider": "A", "Base": 1}]},
        "at least one provider needs Weight > 0",
    ),
    "unknown property": ({"TaskDefinitionArn": TASK_DEF}, "unknown property 'TaskDefinitionArn'"),
}


def document(properties=None, hooks=None, **top):
    props = {
        "TaskDefinition": TASK_DEF,
        "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80},
    }
    props.update(properties or {})
    doc = {
        "version": 0.0,
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": props}}],
    }
    if hooks is not None:
        doc["Hooks"] = hooks
    doc.update(top)
    return doc


@pytest.mark.parametrize(
    ("properties", "fragment"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys()
)
def test_bad_properties_are_named(properties, fragment):
    with pytest.raises(AppSpecError) as info:
        AppSpec.from_dict(document(properties))
    assert any(fragment in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    ("hooks", "fragment"),
    [
        ([{"Install": "fn"}], "Install cannot carry a hook"),
        ([{"AllowTraffic": "fn"}], "AllowTraffic cannot carry a hook"),
        ([{"AfterInstal": "fn"}], "unknown hook event 'AfterInstal'"),
        ([{"AfterInstall": ""}], "has no Lambda function"),
        ([{"AfterInstall": None}], "has no Lambda function"),
        ([{"AfterInstall": "my function"}], "is not a Lambda function name"),
        ([{"AfterInstall": "a"}, {"AfterInstall": "b"}], "given more than once"),
        ({"AfterInstall": "a"}, "Hooks must be a list"),
        ([{"AfterInstall": "a", "BeforeInstall": "b"}], "must be a single-key map"),
    ],
)
def test_bad_hooks_are_named(hooks, fragment):
    with pytest.raises(AppSpecError) as info:
        AppSpec.from_dict(document(hooks=hooks))
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_resources_must_be_exactly_one_ecs_service():
    doc = document()
    doc["Resources"].append({"TargetService": {}})
    doc["Resources"][0]["TargetService"]["Type"] = "AWS::Lambda::Function"
    with pytest.raises(AppSpecError) as info:
        AppSpec.from_dict(doc)
    problems = "\n".join(info.value.problems)
    assert "exactly one resource for ECS, found 2" in problems
    assert "Type must be AWS::ECS::Service, got 'AWS::Lambda::Function'" in problems


def test_all_problems_come_in_one_error():
    doc = document(
        {
            "TaskDefinition": "web:latest",
            "LoadBalancerInfo": {"ContainerName": "", "ContainerPort": "x"},
            "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": []}},
        },
        hooks=[{"Install": "fn"}, {"AfterInstall": ""}],
        version="1.0",
    )
    with pytest.raises(AppSpecError) as info:
        AppSpec.from_dict(doc)
    assert len(info.value.problems) == 7, info.value.problems
    assert str(info.value).startswith("AppSpec is invalid (7 problems):")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 0.0\nResources: [\n", "not well-formed YAML"),
        ('{"version": 0.0,', "not well-formed JSON"),
        ("just a string", "must be a mapping"),
        ("version: 0.0", "Resources is missing"),
        ("Resources: []", "version is missing"),
    ],
)
def test_unparseable_text_is_reported_not_raised_raw(text, fragment):
    with pytest.raises(AppSpecError) as info:
        AppSpec.parse(text)
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_constructor_checks_too():
    with pytest.raises(AppSpecError, match="ContainerPort must be a port number 1-65535"):
        spec(container_port=0)
    with pytest.raises(AppSpecError, match="unknown hook event"):
        Hook("Deploy", "fn")


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
