"""bluegreen.iam and ``bluegreen iam policy``: least-privilege policies generated from the calls
bluegreen makes (issue 13).

Every session of tests/iam_record.py runs again on the simulator (each part of bluegreen as a
user runs it, failure routes included) and must record exactly what tests/iam_recorded.json
says; the generated table, README.md's and hooks/README.md's tables must be what that
recording generates; every policy must allow exactly what its feature's calls need. Together:
a policy allows each action its feature calls, and nothing else. When any of these fails, run
``python tests/iam_record.py --write`` and review the diff.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from deploying import Deployer, run_cli
from iam_generated import feature_actions, load, stale
from iam_parts import COMMAND, FEATURES, PARTS
from iam_record import SESSIONS, record

import bluegreen
from bluegreen import ValidationError
from bluegreen.iam import iam_policy, policy_actions
from bluegreen.iam_recording import recording_actions
from bluegreen.iam_resources import DEPENDENT_ACTIONS, RELEASE_ROLE_PLACEHOLDER

BOTOCORE_SERVICE = {
    "application-autoscaling": "application-autoscaling",
    "cloudwatch": "cloudwatch",
    "codedeploy": "codedeploy",
    "ecs": "ecs",
    "elasticloadbalancing": "elbv2",
    "iam": "iam",
    "lambda": "lambda",
    "sts": "sts",
}
"""The botocore service model of each IAM prefix."""


@functools.cache
def operation_names(service: str) -> frozenset[str]:
    """The operations of a botocore service model (each model is parsed once)."""
    return frozenset(_BOTOCORE.get_service_model(service).operation_names)


_BOTOCORE = botocore.session.get_session()
PERMISSION_ONLY = {"iam:PassRole"}
"""Actions that are permissions, not API operations (Service Authorization Reference)."""
TASK_ROLE = "arn:aws:iam::123456789012:role/webTask"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


# -- the recording is current -----------------------------------------------------------------


@pytest.mark.parametrize("session", sorted(SESSIONS))
def test_each_part_records_on_the_simulator_what_the_generated_files_say(session):
    """(c) per part, and (a): every action a part calls is in its features' policies."""
    fresh = record(session)
    recorded = load()

    for key, actions in fresh.items():
        assert actions == recorded[key], (
            f"{key!r} now calls {sorted(set(actions) - set(recorded[key]))} more and "
            f"{sorted(set(recorded[key]) - set(actions))} less than tests/iam_recorded.json: "
            f"run {COMMAND}"
        )
    for part in (p for p in PARTS if p.key in fresh):
        for feature in part.features:
            missing = set(fresh[part.key]) - set(policy_actions(feature))
            assert not missing, f"the {feature} policy lacks {sorted(missing)}: run {COMMAND}"


def test_the_table_and_the_readme_tables_are_what_the_recording_generates():
    """(c) and (e): bluegreen/iam_actions.py, README.md and hooks/README.md."""
    out_of_date = [str(path.name) for path in stale(load())]

    assert out_of_date == [], f"{', '.join(out_of_date)} out of date: run {COMMAND}"


def test_the_recording_covers_every_part():
    assert list(load()) == [p.key for p in PARTS]


def test_every_aws_call_in_the_source_is_made_by_some_recorded_part():
    """A call labelled ``"Operation"`` (``caller("Operation", ...)``, ``aws_call``, ``_paged``)
    anywhere in the package but on no route a part runs would be missing from every policy."""
    operations = {
        op
        for service in set(BOTOCORE_SERVICE.values()) - {"iam"}
        for op in operation_names(service)
    }
    recorded = {a.partition(":")[2] for actions in load().values() for a in actions}
    package = Path(bluegreen.__file__).parent
    unrecorded = {}
    for path in package.rglob("*.py"):
        if {"testing", "demo"} & set(path.relative_to(package).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            for arg in node.args[:2]:
                if isinstance(arg, ast.Constant) and arg.value in operations - recorded:
                    unrecorded[arg.value] = str(path.relative_to(package.parent))

    assert unrecorded == {}, (
        f"no part records {unrecorded}: add a part that runs it to tests/iam_parts.py and a "
        f"session of tests/iam_record.py, then run {COMMAND}"
    )


# -- what a policy allows ---------------------------------------------------------------------


@pytest.mark.parametrize("feature", FEATURES)
def test_a_policy_allows_exactly_what_its_feature_calls_and_what_those_calls_need(feature):
    """(b): no action that nothing in the feature calls, save those a call needs."""
    called = set(feature_actions(load())[feature])
    needed = {d for action in called for d in DEPENDENT_ACTIONS.get(action, {})}

    assert set(iam_policy(feature).actions()) == called | needed


def test_failure_routes_add_their_actions_to_the_release_policy():
    actions = iam_policy("release").actions()

    assert "ecs:DeregisterTaskDefinition" in actions  # a CreateDeployment refused for good
    assert "codedeploy:StopDeployment" in actions  # abort
    assert "codedeploy:CreateDeploymentConfig" in actions  # a new --canary config
    assert "codedeploy:ListApplications" in actions  # a group found by a scan
    assert {"application-autoscaling:RegisterScalableTarget", "ecs:UntagResource"} <= set(
        actions
    )  # wait and abort restore scaling at the end


@pytest.mark.parametrize("feature", FEATURES)
def test_a_policy_is_valid_iam_grammar_with_real_actions(feature):
    document = iam_policy(feature).document

    assert list(document) == ["Version", "Statement"]
    assert document["Version"] == "2012-10-17"
    statements = document["Statement"]
    assert isinstance(statements, list)
    assert statements
    sids = [s["Sid"] for s in statements]
    assert len(sids) == len(set(sids))
    for statement in statements:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == sorted(set(statement["Action"]))
        resource = statement["Resource"]
        if isinstance(resource, str):
            assert resource == "*"
        else:
            assert resource
            assert all(r.startswith("arn:aws:") for r in resource)
        for operator, keys in statement.get("Condition", {}).items():
            assert operator == "StringEquals"
            assert all(isinstance(v, str) for v in keys.values())
        for action in statement["Action"]:
            prefix, _, operation = action.partition(":")
            if action in PERMISSION_ONLY:
                continue
            assert operation in operation_names(BOTOCORE_SERVICE[prefix]), action


def test_only_actions_without_resource_level_permissions_get_a_star():
    for feature in FEATURES:
        for statement in iam_policy(feature).document["Statement"]:
            star = statement["Resource"] == "*"
            assert star == (statement["Sid"] == "NoResourceLevelPermissions")


def test_without_a_service_the_policy_has_placeholders_that_match_nothing():
    policy = iam_policy("release")

    resources = " ".join(policy.resources())
    assert "service/CLUSTER/SERVICE" in resources
    assert "deploymentgroup:APPLICATION/DEPLOYMENT_GROUP" in resources
    assert ":REGION:ACCOUNT:" in resources
    assert any("replace the placeholders" in note for note in policy.notes)
    pass_role = next(s for s in policy.document["Statement"] if s["Action"] == ["iam:PassRole"])
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }


RELEASE_ROLES = [
    "arn:aws:iam::123456789012:role/bluegreen-release",
    "arn:aws:iam::210987654321:role/teams/bluegreen-release",
]


def _assume_role_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if "sts:AssumeRole" in s["Action"]]


def test_the_release_policy_assumes_exactly_the_roles_named():
    policy = iam_policy("release", roles=RELEASE_ROLES)

    assert _assume_role_statements(policy.document) == [
        {
            "Sid": "AssumeReleaseRoles",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": RELEASE_ROLES,
        }
    ]
    assert RELEASE_ROLE_PLACEHOLDER not in json.dumps(policy.document)
    assert not any("--role" in note or "roles=" in note for note in policy.notes)


def test_without_roles_the_release_policy_assumes_only_a_placeholder_and_says_to_name_them():
    policy = iam_policy("release")

    statement = _assume_role_statements(policy.document)
    assert [s["Resource"] for s in statement] == [[RELEASE_ROLE_PLACEHOLDER]]
    assert "ROLE_ACCOUNT" in RELEASE_ROLE_PLACEHOLDER  # matches no real account
    assert any(
        note.startswith(f"sts:AssumeRole on {RELEASE_ROLE_PLACEHOLDER}") and "roles=" in note
        for note in policy.notes
    )


def test_release_status_and_plan_assume_roles_too_so_readonly_grants_them():
    readonly = iam_policy("readonly", roles=RELEASE_ROLES[:1]).document

    assert _assume_role_statements(readonly)[0]["Resource"] == RELEASE_ROLES[:1]
    for feature in ("hook", "safety-net"):
        assert _assume_role_statements(iam_policy(feature).document) == []


def test_a_role_that_is_not_an_iam_role_arn_is_refused():
    with pytest.raises(ValidationError) as caught:
        iam_policy("release", roles=["bluegreen-release", RELEASE_ROLES[0]])

    assert list(caught.value.problems) == [
        "'bluegreen-release' is not an IAM role ARN: give roles= such as "
        "arn:aws:iam::123456789012:role/bluegreen-release (a role your release manifests name)"
    ]


def test_bad_requests_are_refused_listing_every_problem():
    with pytest.raises(ValidationError) as caught:
        iam_policy("deploy", cluster="prod", application="app")

    assert len(caught.value.problems) == 3
    assert "choose one of release, readonly, hook, safety-net" in caught.value.problems[0]


def test_iam_policy_is_public_and_the_command_offers_every_feature():
    import bluegreen.cli.iam
    import bluegreen.iam

    assert bluegreen.iam_policy is iam_policy
    assert "iam_policy" in bluegreen.__all__
    assert bluegreen.cli.iam.FEATURES == bluegreen.iam.FEATURES == FEATURES


# -- scoped to the sample service -------------------------------------------------------------


def _with_task_role(sim: Any) -> Deployer:
    """The sample service, now running a revision with a task role and tags."""
    d = Deployer.create(sim)
    arn = d.ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        taskRoleArn=TASK_ROLE,
        executionRoleArn=EXECUTION_ROLE,
        containerDefinitions=[
            {
                "name": "web",
                "image": "public.ecr.aws/nginx/nginx:1.28",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    deployment = bluegreen.deploy(
        "prod", "web", task_definition=arn, clients=sim.clients(), clock=sim.clock
    )
    deployment.wait()
    return d


def test_the_policy_for_the_sample_service_names_exactly_its_resources(sim):
    """(d): the service, its group and application, family, alarm, scalable target, hook
    functions, task roles and release roles; the target groups and listeners take only "*"
    (Describe*)."""
    d = _with_task_role(sim)
    env = d.env
    target = d.autoscaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[env.scalable_resource_id]
    )["ScalableTargets"][0]["ScalableTargetARN"]
    codedeploy = "arn:aws:codedeploy:us-east-1:123456789012"

    policy = iam_policy(
        "release",
        "prod",
        "web",
        hook_functions=["CodeDeployHook_verify"],
        roles=RELEASE_ROLES[:1],
        clients=sim.clients(),
        clock=sim.clock,
    )

    assert set(policy.resources()) == {
        env.service_arn,
        f"{codedeploy}:deploymentgroup:{env.application}/{env.deployment_group}",
        f"{codedeploy}:application:{env.application}",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/web:*",
        f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{env.alarm_names[0]}",
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:bluegreen-net-prod-web-*",  # issue 14
        target,
        "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_verify",
        TASK_ROLE,
        EXECUTION_ROLE,
        RELEASE_ROLES[0],
        # Account-wide, and said why in the notes: the scan for a group, deployment configs.
        f"{codedeploy}:application:*",
        f"{codedeploy}:deploymentgroup:*",
        f"{codedeploy}:deploymentconfig:*",
    }
    text = json.dumps(policy.document)
    unscoped = [*env.target_group_arns, env.production_listener_arn, env.test_listener_arn]
    assert not [arn for arn in unscoped if arn and arn in text]
    assert any("target groups and listeners appear in no statement" in n for n in policy.notes)


def test_a_hook_policy_is_scoped_to_the_service_and_its_group(sim, env):
    policy = iam_policy("hook", "prod", "web", clients=sim.clients(), clock=sim.clock)

    by_sid = {s["Sid"]: s for s in policy.document["Statement"]}
    assert by_sid["EcsService"]["Resource"] == [env.service_arn]
    assert by_sid["DeploymentGroup"]["Resource"] == [
        f"arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:{env.application}/"
        f"{env.deployment_group}"
    ]
    assert (
        "codedeploy:PutLifecycleEventHookExecutionStatus"
        in by_sid["NoResourceLevelPermissions"]["Action"]
    )


# -- the command --------------------------------------------------------------------------------


def test_cli_prints_only_the_policy_on_stdout_and_the_notes_on_stderr(sim, env, capsys):
    code, out, err = run_cli(
        capsys, "iam", "policy", "--for", "release", "--cluster", "prod", "--service", "web"
    )

    assert code == 0, err
    document = json.loads(out)
    assert document == iam_policy("release", "prod", "web", clients=sim.clients()).document
    assert err.startswith("note: ")
    assert 'take only "*"' in err


def test_cli_text_output_is_a_table_of_statements_actions_and_resources(capsys):
    code, out, _ = run_cli(capsys, "iam", "policy", "--for", "safety-net", "--output", "text")

    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["statement", "action", "resource"]
    assert any(
        line.split()[:3]
        == [
            "EcsService",
            "ecs:DescribeServices",
            "arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE",
        ]
        for line in lines
    )


def test_cli_role_names_the_roles_to_assume_and_without_it_stderr_says_to_give_it(capsys):
    code, out, err = run_cli(
        capsys,
        "iam",
        "policy",
        "--for",
        "release",
        "--role",
        RELEASE_ROLES[0],
        "--role",
        RELEASE_ROLES[1],
    )

    assert code == 0, err
    assert _assume_role_statements(json.loads(out))[0]["Resource"] == RELEASE_ROLES
    assert "--role" not in err

    code, out, err = run_cli(capsys, "iam", "policy", "--for", "release")

    assert code == 0, err
    assert RELEASE_ROLE_PLACEHOLDER in out
    assert "give --role ARN (repeatable) to name yours" in err


def test_cli_refuses_a_cluster_without_a_service_in_one_line_with_exit_2(capsys):
    code, out, err = run_cli(capsys, "iam", "policy", "--for", "hook", "--cluster", "prod")

    assert code == 2
    assert out == ""
    assert "give --cluster and --service together" in err
    assert "Traceback" not in err


def test_cli_names_a_missing_service_with_exit_4(sim, env, capsys):
    code, out, err = run_cli(
        capsys, "iam", "policy", "--for", "release", "--cluster", "prod", "--service", "webb"
    )

    assert code == 4
    assert out == ""
    assert "webb" in err


# -- naming a call's action -------------------------------------------------------------------


def test_a_bound_method_is_named_by_its_clients_signing_name_as_iam_spells_it(sim):
    from bluegreen.iam_recording import action_of

    aws = sim.clients()

    assert action_of("DescribeAlarms", aws.cloudwatch.describe_alarms) == (
        "cloudwatch:DescribeAlarms"
    )
    assert action_of("DescribeListeners", aws.elbv2.describe_listeners) == (
        "elasticloadbalancing:DescribeListeners"
    )


def test_a_call_through_a_closure_is_named_from_the_client_it_holds(sim):
    from bluegreen._aws import Caller

    aws = sim.clients()

    with recording_actions() as recording:
        Caller()("DescribeClusters", lambda: aws.ecs.describe_clusters(clusters=["prod"]))

    assert recording.actions == {"ecs:DescribeClusters"}
    assert recording.problems == []


def test_a_call_labelled_with_another_operation_is_reported_not_named(sim):
    from bluegreen._aws import Caller

    ecs = sim.clients().ecs

    with recording_actions() as recording:
        Caller()("DescribeService", ecs.list_clusters)

    assert recording.actions == set()
    assert recording.problems == [
        "the call labelled 'DescribeService' sends 'ListClusters' (list_clusters): "
        "label it 'ListClusters'"
    ]
