"""The preflight looks up every hook's Lambda function (lambda:GetFunction) before anything
changes, for ``plan`` and ``deploy``, in Python and on the command line.

Against the simulator through real boto3 clients: it answers GetFunction for the functions
registered with ``sim.register_hook`` (by name, full ARN or partial ARN) and
``ResourceNotFoundException`` for any other. A refused GetFunction is answered by a
``before-send`` handler on the session, ahead of the simulator, so the real client parses a
real AccessDeniedException.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from deploying import Deployer
from deploying import run_cli as run

import bluegreen.cli._clock
from bluegreen import Clients, ServiceConfigError
from bluegreen.deploying import deploy, plan

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
HOOK = "CodeDeployHook_verify"
TYPO = "CodeDeployHook_verfy"
ACCOUNT = "123456789012"
SERVICE = ("--cluster", "prod", "--service", "web")
WRITES = {
    "RegisterTaskDefinition",
    "CreateDeployment",
    "CreateDeploymentConfig",
    "RegisterScalableTarget",
    "TagResource",
}


@pytest.fixture
def cli(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's clock: the simulator's virtual one."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: sim.clock)


def writes(sim: Any) -> list[str]:
    return [op for _, _, op in sim.api_calls() if op in WRITES]


def deployments(d: Deployer) -> list[str]:
    return list(
        d.codedeploy.list_deployments(
            applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
        )["deployments"]
    )


class _Raw:
    """The raw body of a botocore response made by hand."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


def denying_get_function(calls: list[str]) -> Clients:
    """Clients whose lambda:GetFunction is refused (403 AccessDeniedException), as for an
    identity without the permission; everything else reaches the simulator."""
    from botocore.awsrequest import AWSResponse

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )

    def deny(request: Any, **kwargs: Any) -> AWSResponse:
        calls.append(request.url)
        body = json.dumps(
            {
                "Message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/ci/job is not "
                "authorized to perform: lambda:GetFunction"
            }
        ).encode()
        headers = {
            "x-amzn-ErrorType": "AccessDeniedException",
            "Content-Type": "application/json",
            "x-amzn-RequestId": "denied-1",
        }
        return AWSResponse(request.url, 403, headers, _Raw(body))

    session.events.register_first("before-send.lambda.GetFunction", deny)
    return Clients(session=session)


# -- a function that does not exist -------------------------------------------------------


def test_plan_reports_a_missing_hook_function_with_its_event_region_and_fix(sim):
    Deployer.create(sim)
    sim.register_hook(HOOK, lambda event, context: None)

    the_plan = plan(
        "prod",
        "web",
        image=NEW_IMAGE,
        hooks={"BeforeInstall": HOOK, "AfterAllowTestTraffic": TYPO},
        clients=sim.clients(),
    )

    assert not the_plan.ok
    missing = [p for p in the_plan.problems if TYPO in p]
    assert len(missing) == 1, the_plan.problems
    assert "hook AfterAllowTestTraffic" in missing[0]
    assert "does not exist" in missing[0]
    assert "us-east-1" in missing[0]
    assert "hooks=" in missing[0]  # the fix, in Python words
    assert not [p for p in the_plan.problems if f"'{HOOK}'" in p]  # the registered one is fine
    assert "No problems found" not in str(the_plan)


def test_deploy_refuses_a_missing_hook_function_before_anything_changes(sim):
    d = Deployer.create(sim)
    before = deployments(d)
    sim.calls.clear()

    with pytest.raises(ServiceConfigError) as caught:
        deploy(
            "prod",
            "web",
            image=NEW_IMAGE,
            hooks={"AfterAllowTestTraffic": TYPO},
            clients=sim.clients(),
            clock=sim.clock,
        )

    assert f"Lambda function '{TYPO}' in us-east-1 does not exist" in str(caught.value)
    assert writes(sim) == []
    assert deployments(d) == before


def test_missing_hook_function_in_a_full_arn_names_the_arn_region(sim):
    Deployer.create(sim)
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{TYPO}"

    the_plan = plan(
        "prod", "web", image=NEW_IMAGE, hooks={"AfterInstall": arn}, clients=sim.clients()
    )

    assert any(arn in p and "hook AfterInstall" in p for p in the_plan.problems), the_plan.problems


def test_cli_plan_and_deploy_exit_2_on_a_missing_hook_function_with_cli_advice(sim, cli, capsys):
    d = Deployer.create(sim)
    before = deployments(d)
    hook = ("--hook", f"AfterAllowTestTraffic={TYPO}")

    code, out, err = run(capsys, "plan", *SERVICE, "--image", NEW_IMAGE, *hook)

    assert code == 2
    assert f"hook AfterAllowTestTraffic: Lambda function '{TYPO}' in us-east-1" in out
    assert "No problems found" not in out
    assert "--hook" in out
    assert "hooks=" not in out

    code, _, err = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, *hook)

    assert code == 2
    assert f"'{TYPO}' in us-east-1 does not exist" in err
    assert "--hook" in err
    assert "hooks=" not in err
    assert deployments(d) == before


# -- functions that exist (needs the simulator's GetFunction) ------------------------------


def test_hook_functions_registered_by_name_and_by_full_arn_pass(sim):
    Deployer.create(sim)
    sim.register_hook(HOOK, lambda event, context: None)

    the_plan = plan(
        "prod",
        "web",
        image=NEW_IMAGE,
        hooks={
            "BeforeInstall": HOOK,
            "AfterAllowTestTraffic": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{HOOK}",
        },
        clients=sim.clients(),
    )

    assert the_plan.ok, the_plan.problems
    assert "No problems found" in str(the_plan)


# -- GetFunction refused, and skipping the check ------------------------------------------


def test_access_denied_on_get_function_is_a_problem_naming_the_permission_and_the_skip(sim):
    d = Deployer.create(sim)
    before = deployments(d)
    calls: list[str] = []

    with pytest.raises(ServiceConfigError) as caught:
        deploy(
            "prod",
            "web",
            image=NEW_IMAGE,
            hooks={"AfterAllowTestTraffic": HOOK},
            clients=denying_get_function(calls),
            clock=sim.clock,
        )

    message = str(caught.value)
    assert calls  # GetFunction was asked, and refused
    assert f"hook AfterAllowTestTraffic: Lambda function '{HOOK}' in us-east-1" in message
    assert "grant lambda:GetFunction" in message
    assert "check_hooks=False" in message
    assert deployments(d) == before


def test_check_hooks_false_skips_the_lookup_and_says_so(sim):
    d = Deployer.create(sim)
    calls: list[str] = []

    the_plan = plan(
        "prod",
        "web",
        image=NEW_IMAGE,
        hooks={"AfterAllowTestTraffic": HOOK},
        check_hooks=False,
        clients=denying_get_function(calls),
    )

    assert the_plan.ok, the_plan.problems
    assert calls == []
    assert any("check_hooks=False" in n for n in the_plan.notes)

    deployment = deploy(
        "prod",
        "web",
        image=NEW_IMAGE,
        hooks={"AfterAllowTestTraffic": TYPO},
        check_hooks=False,
        clients=sim.clients(),
        clock=sim.clock,
    )
    assert deployments(d) == [deployment.id]


def test_cli_no_check_hooks_skips_the_lookup(sim, cli, capsys):
    Deployer.create(sim)

    code, out, err = run(
        capsys,
        "plan",
        *SERVICE,
        "--image",
        NEW_IMAGE,
        "--hook",
        f"AfterAllowTestTraffic={TYPO}",
        "--no-check-hooks",
    )

    assert code == 0, out + err
    assert "not looked up (--no-check-hooks)" in out
    assert "No problems found" in out
