"""The ``release`` policy of an ECS-native service lets a deploy pass its hooks' role to ECS
(``iam:PassRole`` for ``ecs.amazonaws.com``): ``deploy --hook ... --hook-role`` sends the
service's ``deploymentConfiguration``, and its lifecycle hooks name that role."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deploying import run_cli
from native_sim import HOOK_ROLE, lambda_hook

from bluegreen.errors import ValidationError
from bluegreen.iam import iam_policy

ACCOUNT = "123456789012"
TO_ECS = {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}


def passed_to_ecs(document: dict[str, Any]) -> list[str]:
    """The roles a statement lets the caller pass to ECS itself."""
    return [
        arn
        for s in document["Statement"]
        if "iam:PassRole" in s["Action"] and s.get("Condition") == TO_ECS
        for arn in s["Resource"]
    ]


def test_a_native_services_hook_roles_may_be_passed_to_ecs_and_only_to_ecs(sim) -> None:
    env = sim.create_environment(native=True, native_hooks=[lambda_hook("check", "PRE_SCALE_UP")])

    policy = iam_policy("release", env.cluster, env.native.service, clients=sim.clients())

    assert passed_to_ecs(policy.document) == [HOOK_ROLE]


def test_without_hooks_a_placeholder_says_how_to_name_the_role_and_a_named_one_is_used(sim):
    env = sim.create_environment(native=True)

    unnamed = iam_policy("release", env.cluster, env.native.service, clients=sim.clients())
    named = iam_policy(
        "release",
        env.cluster,
        env.native.service,
        hook_roles=[f"arn:aws:iam::{ACCOUNT}:role/mine"],
        clients=sim.clients(),
    )

    assert passed_to_ecs(unnamed.document) == [f"arn:aws:iam::{ACCOUNT}:role/HOOK_ROLE"]
    assert any("hook_roles=" in note and "HOOK_ROLE" in note for note in unnamed.notes)
    assert passed_to_ecs(named.document) == [f"arn:aws:iam::{ACCOUNT}:role/mine"]


def test_a_codedeploy_service_passes_no_role_to_ecs(sim, env) -> None:
    policy = iam_policy("release", env.cluster, env.service, clients=sim.clients())

    assert passed_to_ecs(policy.document) == []


def test_a_hook_role_that_is_no_role_arn_is_refused_naming_the_argument() -> None:
    with pytest.raises(ValidationError) as refused:
        iam_policy("release", hook_roles=["ecsLambdaInvokeRole"])

    assert "hook_roles=" in str(refused.value)


def test_cli_hook_role_names_the_role(sim, capsys) -> None:
    env = sim.create_environment(native=True)
    mine = f"arn:aws:iam::{ACCOUNT}:role/mine"

    where = ("--cluster", env.cluster, "--service", env.native.service)
    code, out, err = run_cli(
        capsys, "iam", "policy", "--for", "release", *where, "--hook-role", mine
    )

    assert code == 0, err
    assert passed_to_ecs(json.loads(out)) == [mine]
