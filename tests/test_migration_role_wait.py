"""A role made moments ago: ECS refuses it until IAM has spread it (the simulator's
``role_propagation_seconds``), and ``apply_migration`` waits for it, on the caller's clock,
rather than undoing a migration that only needed a few seconds more."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from test_migration_apply import ROLE_NAME, TRUST, apply, hand_plan, service, state

from bluegreen._aws import Caller
from bluegreen.errors import AWSError
from bluegreen.migration_revert import change_once
from bluegreen.role_propagation import ROLE_PATIENCE, not_assumable_yet, role_waits
from bluegreen.testing._controller_update import ROLE_NOT_ASSUMABLE


def _propagating(sim: Any, seconds: float) -> None:
    sim.settings = attrs.evolve(sim.settings, role_propagation_seconds=seconds)


def _update_services(sim: Any, since: int) -> int:
    return sum(1 for _, _, op in list(sim.calls)[since:] if op == "UpdateService")


def test_the_simulated_ecs_refuses_a_new_role_until_iam_has_spread_it(sim, env) -> None:
    import json

    _propagating(sim, 20)
    plan = hand_plan(sim, env, create_role=None, role_arn=None)
    iam = sim.clients().client("iam")
    role = iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    balancer = dict(plan.load_balancer)
    balancer["advancedConfiguration"] = {
        **dict(balancer.get("advancedConfiguration") or {}),
        "roleArn": role["Arn"],
    }
    rules = sim.clients().elbv2.describe_rules(ListenerArn=env.production_listener_arn)["Rules"]
    balancer["advancedConfiguration"]["productionListenerRule"] = rules[0]["RuleArn"]
    balancer["advancedConfiguration"].pop("testListenerRule", None)
    update = {
        "cluster": env.cluster,
        "service": env.service,
        "deploymentController": {"type": "ECS"},
        "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5},
        "loadBalancers": [balancer],
    }
    ecs = sim.clients().ecs

    with pytest.raises(ecs.exceptions.InvalidParameterException) as refused:
        ecs.update_service(**update)
    assert refused.value.response["Error"]["Message"] == ROLE_NOT_ASSUMABLE
    assert service(sim, env)["deploymentController"] == {"type": "CODE_DEPLOY"}

    sim.advance(20)
    ecs.update_service(**update)
    assert service(sim, env)["deploymentController"] == {"type": "ECS"}


def test_apply_waits_for_the_role_it_created_and_says_so(sim, env) -> None:
    _propagating(sim, 20)
    since, started = len(sim.calls), sim.clock.time()

    result = apply(sim, hand_plan(sim, env))

    assert service(sim, env)["deploymentController"] == {"type": "ECS"}
    waits = [s for s in result.steps if s.startswith("ECS cannot assume arn:aws:iam::")]
    assert waits
    assert all(ROLE_NAME in s for s in waits)
    assert _update_services(sim, since) == len(waits) + 1
    assert sim.clock.time() - started >= 20


def test_apply_gives_up_after_its_patience_and_undoes_everything(sim, env) -> None:
    _propagating(sim, ROLE_PATIENCE * 3)
    plan = hand_plan(sim, env)
    before = state(sim, env)
    started = sim.clock.time()

    with pytest.raises(AWSError) as failed:
        apply(sim, plan)

    assert failed.value.code == "InvalidParameterException"
    assert not_assumable_yet(failed.value)
    assert state(sim, env) == before  # the role it made deleted, the service as it was
    assert ROLE_PATIENCE * 0.5 <= sim.clock.time() - started <= ROLE_PATIENCE * 1.5


def test_only_the_refusal_of_a_role_is_sent_again(sim) -> None:
    sent: list[int] = []

    def other(**kwargs: Any) -> None:
        sent.append(1)
        raise AWSError("strategy is invalid", code="InvalidParameterException")

    call = attrs.evolve(Caller(clock=sim.clock), **role_waits())
    with pytest.raises(AWSError):
        change_once(call, "UpdateService", other, lambda: None, retry_also=not_assumable_yet)
    assert sent == [1]
