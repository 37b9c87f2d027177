"""What ``bluegreen status`` costs, through the CLI in-process, counted per operation in the
simulator's request log, and the boto3 clients it builds (issue 12, "``bluegreen status``").

By ``--deployment-id`` it reads the deployment and its target, nothing else (at most three
calls); ``--scaling`` adds the service's autoscaling, the service taken from the target id
``<cluster>:<service>``. By ``--cluster``/``--service`` the service and its group are read
once, and the autoscaling block uses the tags that read returned.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from deploying import Deployer

import bluegreen.cli._clock
from bluegreen.cli import main

TARGET = Counter({"GetDeployment": 1, "ListDeploymentTargets": 1, "GetDeploymentTarget": 1})
SERVICE = ("--cluster", "prod", "--service", "web")
BY_SERVICE = Counter(
    {
        "DescribeServices": 1,  # the service and its tags (the scaling record)
        "GetDeploymentGroup": 1,  # its group, with the last deployment attempted
        "ListDeployments": 1,  # the one in flight
        "GetDeployment": 1,
        "GetDeploymentTarget": 1,  # the target id is <cluster>:<service>: no listing
        "DescribeScalableTargets": 1,
    }
)


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    return bluegreen_sim


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The boto3 clients built, by service name, in the order they were built."""
    made: list[str] = []
    client = boto3.Session.client

    def counting(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        made.append(name)
        return client(self, name, *args, **kwargs)

    monkeypatch.setattr(boto3.Session, "client", counting)
    return made


@pytest.fixture
def running(sim: Any) -> tuple[Deployer, str]:
    """A deployment made by ``bluegreen deploy`` (scaling suspended), in its Install."""
    d = Deployer.create(sim)
    code = main(["deploy", *SERVICE, "--image", "public.ecr.aws/nginx/nginx:1.28", "--no-wait"])
    assert code == 0
    deployments = d.codedeploy.list_deployments(
        applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
    )["deployments"]
    d.until_event(deployments[0], "Install", "InProgress")
    return d, deployments[0]


def status(
    sim: Any, capsys: pytest.CaptureFixture[str], built: list[str], *argv: str
) -> tuple[str, Counter[str]]:
    """``bluegreen status ARGV``: its output and the operations it sent."""
    capsys.readouterr()
    built.clear()
    start = len(list(sim.api_calls()))
    code = main(["status", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, Counter(op for _, _, op in list(sim.api_calls())[start:])


def test_status_by_deployment_id_makes_three_calls_and_builds_one_client(
    sim, capsys, built, running
):
    _, deployment_id = running

    out, sent = status(sim, capsys, built, "--deployment-id", deployment_id)

    assert sent == TARGET
    assert built == ["codedeploy"]
    assert out.startswith(f"<DeploymentSnapshot {deployment_id} InProgress")
    assert "Autoscaling:" not in out


def test_status_by_deployment_id_after_the_end_still_makes_three_calls(sim, capsys, built, running):
    d, deployment_id = running
    d.done(deployment_id)

    out, sent = status(sim, capsys, built, "--deployment-id", deployment_id, "--output", "json")

    assert sent == TARGET
    assert '"scaling": null' in out


def test_scaling_by_deployment_id_takes_the_service_from_the_target(sim, capsys, built, running):
    _, deployment_id = running

    out, sent = status(sim, capsys, built, "--deployment-id", deployment_id, "--scaling")

    # No GetDeploymentGroup: the target id is <cluster>:<service>. The service's ARN and
    # tags come in one DescribeServices.
    assert sent == TARGET + Counter({"DescribeServices": 1, "DescribeScalableTargets": 1})
    assert sorted(built) == sorted(set(built))  # no client built twice
    assert "Autoscaling:" in out
    assert f"suspended by bluegreen (in, out, scheduled) for deployment {deployment_id}" in out


def test_status_by_service_reads_the_service_once(sim, capsys, built, running):
    _, deployment_id = running

    out, sent = status(sim, capsys, built, *SERVICE)

    assert sent == BY_SERVICE
    assert sorted(built) == sorted(set(built))
    assert out.startswith(f"<DeploymentSnapshot {deployment_id} InProgress")
    assert f"suspended by bluegreen (in, out, scheduled) for deployment {deployment_id}" in out


def test_status_by_service_after_the_end_takes_the_last_deployment_from_the_same_read(
    sim, capsys, built, running
):
    d, deployment_id = running
    d.done(deployment_id)

    out, sent = status(sim, capsys, built, *SERVICE)

    assert sent == BY_SERVICE  # 15 before: the service was looked up twice
    assert out.startswith(f"<DeploymentSnapshot {deployment_id} Succeeded")
    assert "not restored yet" in out


def test_no_scaling_by_service_skips_the_autoscaling_read(sim, capsys, built, running):
    out, sent = status(sim, capsys, built, *SERVICE, "--no-scaling")

    assert sent == BY_SERVICE - Counter({"DescribeScalableTargets": 1})
    assert "Autoscaling:" not in out
