"""bluegreen.appspec: the AppSpec model, its rendering and exact round trips."""

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
    Hook,
    LifecycleEvent,
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


def test_constructor_checks_too():
    with pytest.raises(AppSpecError, match="ContainerPort must be a port number 1-65535"):
        spec(container_port=0)
    with pytest.raises(AppSpecError, match="unknown hook event"):
        Hook("Deploy", "fn")


def test_for_service_refuses_what_is_not_a_service_state_and_a_task_definition_at_once():
    with pytest.raises(AppSpecError) as caught:
        AppSpec.for_service("prod/web", 5)  # type: ignore[arg-type]

    assert caught.value.problems == (
        "service must be a ServiceState (what bluegreen.discover(cluster, service) returns), "
        "got str 'prod/web'",
        "task_definition must be a task-definition ARN or family:revision, got int 5",
    )
    assert isinstance(caught.value, ValueError)
