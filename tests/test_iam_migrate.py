"""The ``migrate`` IAM policy (issue 17): what ``bluegreen migrate plan|apply|revert`` needs,
and nothing more, on the sample CodeDeploy service's resources: listener rules only on its
group's listeners, its infrastructure role only, passed only to ECS, and no CodeDeploy
write action. Which actions it holds is checked with the other features (tests/test_iam.py:
recorded by tests/iam_migrate_session.py); here, where each is granted.
"""

from __future__ import annotations

import json
from typing import Any

from deploying import run_cli
from iam_generated import load

from bluegreen.iam import iam_policy
from bluegreen.iam_infrastructure import TRUST_POLICY

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRole"
HOOK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsLambdaInvokeRole"
CODEDEPLOY_READS = ("Get", "List", "BatchGet")
TRUST_ECS = TRUST_POLICY  # a role ECS may assume


def granted_on(document: dict[str, Any], action: str) -> list[Any]:
    """Every statement that allows ``action``: (its resources, its condition)."""
    return [
        (s["Resource"], s.get("Condition")) for s in document["Statement"] if action in s["Action"]
    ]


def rules_of(listener_arn: str) -> str:
    return listener_arn.replace(":listener/", ":listener-rule/") + "/*"


def test_rules_are_created_and_listeners_changed_only_on_the_groups_listeners(sim, env):
    listeners = [env.production_listener_arn, env.test_listener_arn]

    document = iam_policy(
        "migrate", "prod", "web", roles=[ROLE], clients=sim.clients(), clock=sim.clock
    ).document

    for action in ("elasticloadbalancing:CreateRule", "elasticloadbalancing:ModifyListener"):
        assert granted_on(document, action) == [(listeners, None)], action
    for action in ("elasticloadbalancing:DeleteRule", "elasticloadbalancing:AddTags"):
        assert granted_on(document, action) == [([rules_of(a) for a in listeners], None)]
    assert not granted_on(document, "elasticloadbalancing:ModifyRule")  # ECS's, not ours
    assert not [a for s in document["Statement"] for a in s["Action"] if a.endswith(":*")]


def test_pass_role_is_only_of_the_named_roles_and_only_to_ecs(sim, env):
    document = iam_policy(
        "migrate",
        "prod",
        "web",
        roles=[ROLE, HOOK_ROLE],
        clients=sim.clients(),
        clock=sim.clock,
    ).document

    assert granted_on(document, "iam:PassRole") == [
        ([ROLE, HOOK_ROLE], {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}})
    ]
    for action in ("iam:CreateRole", "iam:DeleteRole", "iam:PutRolePolicy", "iam:TagRole"):
        assert granted_on(document, action) == [([ROLE, HOOK_ROLE], None)], action
    assert "ecs-tasks.amazonaws.com" not in json.dumps(document)  # no task role passed
    assert not granted_on(document, "ecs:RegisterTaskDefinition")


def test_the_migration_writes_nothing_to_codedeploy_and_the_policy_allows_no_write(sim, env):
    recorded = load()
    called = {
        action
        for key, actions in recorded.items()
        if key.startswith("migrate ")
        for action in actions
    }

    policy = iam_policy("migrate", "prod", "web", clients=sim.clients(), clock=sim.clock)

    writes = [
        a
        for a in policy.actions()
        if a.startswith("codedeploy:") and not a.partition(":")[2].startswith(CODEDEPLOY_READS)
    ]
    assert writes == []
    assert not [
        a
        for a in called
        if a.startswith("codedeploy:")
        and a.split(":")[1]
        in (
            "CreateDeployment",
            "UpdateDeploymentGroup",
            "DeleteDeploymentGroup",
            "StopDeployment",
        )
    ]
    assert "sts:AssumeRole" not in policy.actions()


def test_without_a_role_named_the_role_is_a_placeholder_said_so(sim, env):
    policy = iam_policy("migrate", "prod", "web", clients=sim.clients(), clock=sim.clock)

    placeholder = f"arn:aws:iam::{ACCOUNT}:role/INFRASTRUCTURE_ROLE"
    assert granted_on(policy.document, "iam:CreateRole") == [([placeholder], None)]
    assert any(note.startswith(f"InfrastructureRole names {placeholder}") for note in policy.notes)


def test_without_a_service_every_resource_is_a_placeholder():
    policy = iam_policy("migrate")

    text = json.dumps(policy.document)
    assert "listener/app/LOAD_BALANCER/LB_ID/PRODUCTION_LISTENER_ID" in text
    assert "listener-rule/app/LOAD_BALANCER/LB_ID/TEST_LISTENER_ID/*" in text
    assert "arn:aws:iam::ACCOUNT:role/INFRASTRUCTURE_ROLE" in text
    assert "TASK_ROLE" not in text
    assert "FAMILY" not in text  # the migration tags the service, no task definition
    [note] = [n for n in policy.notes if "replace the placeholders" in n]
    assert "INFRASTRUCTURE_ROLE" in note
    assert "LISTENER_ID" in note


def test_once_migrated_the_policy_names_the_services_own_role_and_listeners(sim, env, capsys):
    """For `migrate revert`: read from the ECS-native service's advancedConfiguration."""
    iam = sim.clients().client("iam")
    iam.create_role(
        RoleName="ecsInfrastructureRole", AssumeRolePolicyDocument=json.dumps(TRUST_ECS)
    )
    code, _, err = run_cli(
        capsys,
        "migrate",
        "apply",
        "--cluster",
        "prod",
        "--service",
        "web",
        "--role",
        ROLE,
        "--accept-differences",
    )
    assert code == 0, err

    document = iam_policy("migrate", "prod", "web", clients=sim.clients(), clock=sim.clock).document

    [(roles, _)] = granted_on(document, "iam:PassRole")
    assert roles == [ROLE]
    [(listeners, _)] = granted_on(document, "elasticloadbalancing:ModifyListener")
    assert set(listeners) == {env.production_listener_arn, env.test_listener_arn}
    [(deployments, _)] = granted_on(document, "ecs:DescribeServiceDeployments")
    assert deployments == [f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-deployment/prod/web/*"]


def test_the_release_policy_passes_task_roles_and_hook_roles_and_nothing_of_a_migration():
    policy = iam_policy("release")

    assert [c for _, c in granted_on(policy.document, "iam:PassRole")] == [
        {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},  # a native deploy's hooks
    ]
    assert not [n for n in policy.notes if "not granted" in n and "iam:PassRole" in n]
    assert "elasticloadbalancing:CreateRule" not in policy.actions()


def test_cli_for_migrate_prints_the_policy_with_the_named_role(sim, env, capsys):
    code, out, err = run_cli(
        capsys,
        "iam",
        "policy",
        "--for",
        "migrate",
        "--cluster",
        "prod",
        "--service",
        "web",
        "--role",
        ROLE,
    )

    assert code == 0, err
    document = json.loads(out)
    assert (
        document
        == iam_policy("migrate", "prod", "web", roles=[ROLE], clients=sim.clients()).document
    )
    assert "INFRASTRUCTURE_ROLE" not in out + err
