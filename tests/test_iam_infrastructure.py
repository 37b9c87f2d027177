"""The ECS infrastructure role's policy: the managed policy's actions, each on one service's
target groups, listeners, rules and hook functions only; its patterns match the ARNs the
simulator (moto's ELB) really makes; IAM accepts the document."""

from __future__ import annotations

import fnmatch
import json
import re
import urllib.parse
from typing import Any

import botocore.session
import pytest
from native_sim import lambda_arn, lambda_hook

from bluegreen.errors import ValidationError
from bluegreen.iam_infrastructure import (
    TRUST_POLICY,
    infrastructure_policy,
    listener_of_rule,
    service_infrastructure_policy,
    trusts_ecs,
)
from bluegreen.testing import Simulator

ACCOUNT = "123456789012"
ELB = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}"
BLUE = f"{ELB}:targetgroup/web-blue/766a5428fab6822d"
GREEN = f"{ELB}:targetgroup/web-green/75998363d5e13cad"
PRODUCTION = f"{ELB}:listener/app/web-lb/0b5777bf6dab4984/6501a5f20a2c1009"
TEST = f"{ELB}:listener/app/web-lb/0b5777bf6dab4984/74badfcb516fb31f"
PRODUCTION_RULE = f"{ELB}:listener-rule/app/web-lb/0b5777bf6dab4984/6501a5f20a2c1009/e1073924"
NLB_LISTENER = f"{ELB}:listener/net/web-nlb/0b5777bf6dab4984/6501a5f20a2c1009"

MANAGED_ACTIONS = {
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyRule",
}
"""AmazonECSInfrastructureRolePolicyForLoadBalancers' actions."""


def policy(**kwargs: Any) -> Any:
    arguments: dict[str, Any] = {
        "region": "us-east-1",
        "account": ACCOUNT,
        "target_groups": [BLUE, GREEN],
        "listeners": [PRODUCTION, TEST],
    }
    return infrastructure_policy(**{**arguments, **kwargs})


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in document["Statement"] if s["Sid"] == sid)


def granted(document: dict[str, Any], action: str, arn: str) -> bool:
    """Whether ``document`` allows ``action`` on ``arn`` (IAM's ``*``: any characters)."""
    for s in document["Statement"]:
        resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
        if action in s["Action"] and any(fnmatch.fnmatchcase(arn, r) for r in resources):
            return True
    return False


# -- the document -----------------------------------------------------------------------------


def test_the_policy_has_the_managed_policys_actions_each_scoped_to_the_service():
    document = policy().document

    assert {a for s in document["Statement"] for a in s["Action"]} == MANAGED_ACTIONS
    assert statement(document, "DescribeLoadBalancing")["Resource"] == "*"
    assert statement(document, "ShiftTargets")["Resource"] == [BLUE, GREEN]
    assert statement(document, "ModifyListeners")["Resource"] == [PRODUCTION, TEST]


def test_a_listener_without_a_rule_yet_gets_every_rule_of_that_listener_only():
    rules = statement(policy().document, "ModifyListenerRules")["Resource"]

    assert rules == [
        f"{ELB}:listener-rule/app/web-lb/0b5777bf6dab4984/6501a5f20a2c1009/*",
        f"{ELB}:listener-rule/app/web-lb/0b5777bf6dab4984/74badfcb516fb31f/*",
    ]
    assert any("does not exist yet" in note for note in policy().notes)


def test_a_listener_whose_rule_is_given_gets_that_rule_and_no_pattern():
    document = policy(rules=[PRODUCTION_RULE]).document

    assert statement(document, "ModifyListenerRules")["Resource"] == [
        PRODUCTION_RULE,
        f"{ELB}:listener-rule/app/web-lb/0b5777bf6dab4984/74badfcb516fb31f/*",
    ]


def test_an_nlb_listener_is_modified_itself_and_has_no_rule_statement():
    document = policy(listeners=[NLB_LISTENER]).document

    assert statement(document, "ModifyListeners")["Resource"] == [NLB_LISTENER]
    assert "ModifyListenerRules" not in [s["Sid"] for s in document["Statement"]]


def test_hook_functions_by_name_become_arns_in_the_services_region_and_account():
    document = policy(
        partition="aws-cn",
        region="cn-north-1",
        hook_functions=["verify", "arn:aws-cn:lambda:cn-north-1:210987654321:function:gate:live"],
    ).document

    assert statement(document, "InvokeHookFunctions") == {
        "Sid": "InvokeHookFunctions",
        "Effect": "Allow",
        "Action": ["lambda:InvokeFunction"],
        "Resource": [
            f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:verify",
            "arn:aws-cn:lambda:cn-north-1:210987654321:function:gate:live",
        ],
    }


def test_without_hook_functions_nothing_is_invocable():
    assert "lambda:InvokeFunction" not in policy().actions()


def test_the_same_arn_twice_is_named_once():
    document = policy(target_groups=[BLUE, GREEN, BLUE], hook_functions=["a", "a"]).document

    assert statement(document, "ShiftTargets")["Resource"] == [BLUE, GREEN]
    assert len(statement(document, "InvokeHookFunctions")["Resource"]) == 1


def test_bad_arns_are_refused_listing_every_problem_and_the_form_expected():
    with pytest.raises(ValidationError) as caught:
        infrastructure_policy(
            region="us-east-1",
            account=ACCOUNT,
            target_groups=[PRODUCTION],
            listeners=[],
            rules=[PRODUCTION],
            hook_functions=["not a function"],
        )

    problems = caught.value.problems
    assert len(problems) == 4
    assert "is not a target group ARN" in problems[0]
    assert "targetgroup/NAME/ID" in problems[0]
    assert "is not a ALB listener rule ARN" in problems[1]
    assert "listeners" in problems[2]
    assert "not a Lambda function name or ARN" in problems[3]


def test_one_string_for_a_list_is_refused_not_read_letter_by_letter():
    with pytest.raises(ValidationError, match="not one string"):
        policy(target_groups=BLUE)


_BOTOCORE = botocore.session.get_session()
_OPERATIONS = {
    "elasticloadbalancing": "elbv2",
    "lambda": "lambda",
}
PERMISSION_NAMES = {"lambda:InvokeFunction": "Invoke"}
"""IAM actions whose API operation has another name (Service Authorization Reference)."""


def test_the_document_is_valid_iam_grammar_with_real_actions():
    document = policy(rules=[PRODUCTION_RULE], hook_functions=["verify"]).document

    assert list(document) == ["Version", "Statement"]
    assert document["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids))
    for s in document["Statement"]:
        assert set(s) == {"Sid", "Effect", "Action", "Resource"}
        assert re.fullmatch(r"[A-Za-z0-9]+", s["Sid"])
        assert s["Effect"] == "Allow"
        assert s["Action"] == sorted(set(s["Action"]))
        assert s["Resource"] == "*" or all(r.startswith("arn:aws:") for r in s["Resource"])
        assert (s["Resource"] == "*") == (s["Sid"] == "DescribeLoadBalancing")
        for action in s["Action"]:
            prefix, _, operation = action.partition(":")
            operation = PERMISSION_NAMES.get(action, operation)
            model = _BOTOCORE.get_service_model(_OPERATIONS[prefix])
            assert operation in model.operation_names, action


def test_the_trust_policy_lets_ecs_assume_the_role():
    assert TRUST_POLICY["Statement"] == [
        {
            "Sid": "AllowAccessToECSForInfrastructureManagement",
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert trusts_ecs(TRUST_POLICY)
    assert trusts_ecs(urllib.parse.quote(json.dumps(TRUST_POLICY)))  # GetRole's raw form


@pytest.mark.parametrize(
    "trust",
    [
        None,
        "not json",
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]},
        {
            "Statement": {
                "Effect": "Deny",
                "Principal": {"Service": "ecs.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        },
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["ecs.amazonaws.com"]},
                    "Action": ["sts:TagSession"],
                }
            ]
        },
    ],
)
def test_a_role_ecs_cannot_assume_is_not_trusted(trust: Any):
    assert not trusts_ecs(trust)


def test_listener_of_rule_cuts_the_rule_id_off():
    assert listener_of_rule(PRODUCTION_RULE) == PRODUCTION
    assert listener_of_rule(PRODUCTION) is None


# -- against the simulator's real ARNs --------------------------------------------------------


def test_the_rule_patterns_match_the_rules_elb_creates_on_those_listeners_only(sim: Simulator):
    env = sim.create_environment(native=True)
    elbv2 = sim.clients().elbv2
    document = infrastructure_policy(
        region=env.region,
        account=ACCOUNT,
        target_groups=env.target_group_arns,
        listeners=[env.production_listener_arn],
    ).document
    created = elbv2.create_rule(
        ListenerArn=env.production_listener_arn,
        Priority=50000,
        Conditions=[{"Field": "path-pattern", "Values": ["*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": env.target_group_arns[0]}],
    )["Rules"][0]["RuleArn"]
    assert env.native is not None

    assert granted(document, "elasticloadbalancing:ModifyRule", created)
    assert granted(document, "elasticloadbalancing:ModifyRule", env.native.production_rule_arn)
    assert not granted(document, "elasticloadbalancing:ModifyRule", env.native.test_rule_arn)
    for arn in env.target_group_arns:
        assert granted(document, "elasticloadbalancing:RegisterTargets", arn)
    for arn in env.native.target_group_arns:
        assert not granted(document, "elasticloadbalancing:RegisterTargets", arn)
    assert listener_of_rule(created) == env.production_listener_arn


def test_a_codedeploy_services_policy_names_its_pair_and_listeners(sim: Simulator):
    env = sim.create_environment()
    found = service_infrastructure_policy(env.cluster, env.service, clients=sim.clients())

    assert found.feature == "ecs-infrastructure"
    assert (
        found.document
        == policy(
            target_groups=env.target_group_arns,
            listeners=[env.production_listener_arn, env.test_listener_arn],
        ).document
    )


def test_a_native_services_policy_names_its_rules_and_hook_functions(sim: Simulator):
    env = sim.create_environment(
        native=True,
        native_hooks=[lambda_hook("CheckGreen", "POST_TEST_TRAFFIC_SHIFT")],
    )
    native = env.native
    assert native is not None
    found = service_infrastructure_policy(
        env.cluster, native.service, hook_functions=["Extra"], clients=sim.clients()
    )

    document = found.document
    assert statement(document, "ShiftTargets")["Resource"] == list(native.target_group_arns)
    assert statement(document, "ModifyListenerRules")["Resource"] == [
        native.production_rule_arn,
        native.test_rule_arn,
    ]
    assert statement(document, "ModifyListeners")["Resource"] == [
        env.production_listener_arn,
        env.test_listener_arn,
    ]
    assert statement(document, "InvokeHookFunctions")["Resource"] == [
        lambda_arn("CheckGreen"),
        lambda_arn("Extra"),
    ]


def test_iam_accepts_the_policy_and_a_role_with_the_trust_policy(sim: Simulator):
    env = sim.create_environment(native=True)
    iam = sim.clients().client("iam")
    document = service_infrastructure_policy(
        env.cluster, env.service, hook_functions=["verify"], clients=sim.clients()
    ).to_json()

    iam.create_role(RoleName="ecsInfra", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    iam.put_role_policy(RoleName="ecsInfra", PolicyName="lb", PolicyDocument=document)
    created = iam.create_policy(PolicyName="ecsInfra", PolicyDocument=document)

    assert created["Policy"]["Arn"].endswith(":policy/ecsInfra")
    assert trusts_ecs(iam.get_role(RoleName="ecsInfra")["Role"]["AssumeRolePolicyDocument"])


# -- bluegreen iam policy --for ecs-infrastructure --------------------------------------------


def test_the_command_prints_the_services_infrastructure_policy(sim: Simulator, capsys):
    from bluegreen.cli import main

    env = sim.create_environment()
    code = main(
        ["iam", "policy", "--for", "ecs-infrastructure", "--cluster", "prod", "--service", "web"]
    )
    out, err = capsys.readouterr()

    assert code == 0, err
    assert (
        json.loads(out)
        == service_infrastructure_policy(env.cluster, env.service, clients=sim.clients()).document
    )
    assert "note: ModifyListenerRules:" in err


def test_the_command_without_a_service_or_with_a_release_role_exits_2(capsys):
    from bluegreen.cli import main

    code = main(["iam", "policy", "--for", "ecs-infrastructure", "--role", "arn:x"])
    _, err = capsys.readouterr()

    assert code == 2
    assert "give --cluster and --service" in err
    assert "takes none" in err
