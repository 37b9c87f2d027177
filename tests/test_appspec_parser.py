"""bluegreen.appspec_parser: AppSpec text and documents with problems, every one named in one
``AppSpecError``."""

import pytest

from bluegreen import AppSpec, AppSpecError

TASK_DEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:12"


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
