"""What ``deploy(analysis=...)`` adds to a release (``bluegreen.analysis_release``): checks
before anything changes, the alarm net named in CreateDeployment's overrides (the group is
never modified), a rollback that the net's alarm triggers, and the net deleted on every route
out: the end of the wait, a CreateDeployment refused, a killed release (``bluegreen recover``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from deploying import Deployer, run_deploy, run_plan

import bluegreen.cli._clock
from bluegreen import DeploymentError, ValidationError
from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis
from bluegreen.analysis_alarm import NET_PREFIX
from bluegreen.cli import main
from bluegreen.errors import AWSError
from bluegreen.testing import Simulator, Traffic

GOOD = "public.ecr.aws/nginx/nginx:1.28"
BAD = "public.ecr.aws/nginx/nginx:1.29-bad"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"


def nets(d: Deployer) -> list[str]:
    found = d.cloudwatch.describe_alarms(AlarmNamePrefix=NET_PREFIX)["MetricAlarms"]
    return [a["AlarmName"] for a in found]


def test_the_net_is_named_in_the_deployments_alarms_and_deleted_when_it_ends(sim: Any) -> None:
    d = Deployer.create(sim)  # the group watches web-5xx and rolls back on every event
    group_before = d.group()

    deployment = run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)

    created = nets(d)
    assert len(created) == 1
    assert created[0].startswith(f"{NET_PREFIX}prod-web-")
    info = d.info(deployment.id)
    assert info["overrideAlarmConfiguration"]["alarms"] == [
        {"name": "web-5xx"},
        {"name": created[0]},
    ]
    assert info["overrideAlarmConfiguration"]["enabled"] is True
    assert info["autoRollbackConfiguration"] == group_before["autoRollbackConfiguration"]
    assert deployment.status().override_alarms == ("web-5xx", created[0])

    assert deployment.wait().succeeded

    assert nets(d) == []
    after = d.group()
    for key in ("alarmConfiguration", "autoRollbackConfiguration"):
        assert after[key] == group_before[key]  # never modified


def test_a_group_that_does_not_roll_back_on_alarms_gets_it_for_this_deployment(sim: Any) -> None:
    d = Deployer.create(sim, auto_rollback_events=("DEPLOYMENT_FAILURE",))

    deployment = run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)

    assert d.info(deployment.id)["autoRollbackConfiguration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert d.group()["autoRollbackConfiguration"]["events"] == ["DEPLOYMENT_FAILURE"]
    deployment.wait()
    assert nets(d) == []


def test_rollback_settings_that_would_ignore_the_net_are_refused_before_anything_changes(
    sim: Any,
) -> None:
    d = Deployer.create(sim)

    with pytest.raises(ValidationError) as raised:
        run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS, auto_rollback=["DEPLOYMENT_FAILURE"])

    assert "DEPLOYMENT_STOP_ON_ALARM" in str(raised.value)
    assert "server_alarm=False" in str(raised.value)
    assert nets(d) == []
    assert d.codedeploy.list_deployments()["deployments"] == []
    # without the net, the same rollback settings are fine
    run_deploy(
        sim,
        image=GOOD,
        analysis=Analysis(server_alarm=False),
        auto_rollback=["DEPLOYMENT_FAILURE"],
    ).wait()
    assert nets(d) == []


def test_a_group_with_ten_alarms_is_refused_with_the_other_problems_at_once(sim: Any) -> None:
    d = Deployer.create(sim, load_balancer="network")
    names = [f"alarm-{i}" for i in range(10)]
    for name in names:
        d.cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="CPUUtilization",
            Namespace="AWS/ECS",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=90,
            ComparisonOperator="GreaterThanThreshold",
        )
    d.codedeploy.update_deployment_group(
        applicationName=d.env.application,
        currentDeploymentGroupName=d.env.deployment_group,
        alarmConfiguration={"enabled": True, "alarms": [{"name": n} for n in names]},
    )

    with pytest.raises(ValidationError) as raised:
        run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)

    problems = raised.value.problems
    assert any("not an Application Load Balancer" in p for p in problems)
    assert any("10 alarms" in p for p in problems)
    assert nets(d) == []
    assert d.codedeploy.list_deployments()["deployments"] == []


def test_a_create_deployment_refused_for_good_deletes_the_net(sim: Any) -> None:
    d = Deployer.create(sim)
    sim.faults.server_error("CreateDeployment", service="codedeploy", count=50)

    with pytest.raises(AWSError) as raised:
        run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)

    assert raised.value.operation == "CreateDeployment"
    assert d.codedeploy.list_deployments()["deployments"] == []
    assert nets(d) == []


def test_a_killed_release_leaves_its_net_to_recover_which_deletes_it_once_ended(
    sim: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: sim.clock)
    d = Deployer.create(sim)
    deployment = run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)
    # ... and the release process dies: nobody waits
    net = nets(d)
    assert len(net) == 1

    assert main(["recover", "--cluster", "prod", "--service", "web"]) == 2  # still running
    assert nets(d) == net
    assert d.done(deployment.id) == "Succeeded"
    capsys.readouterr()
    assert main(["recover", "--cluster", "prod", "--service", "web"]) == 0

    out = capsys.readouterr().out
    assert f"removed alarm net {net[0]} (deployment {deployment.id} ended)" in out
    assert nets(d) == []


@contextlib.contextmanager
def bad_canary_released() -> Iterator[tuple[Deployer, Any]]:
    """A canary of a version failing 30% of 1000 requests a minute, deployed with the default
    analysis (and its net): the deployer and the deployment, not waited for."""
    with Simulator(
        traffic=Traffic(requests_per_minute=1000, seed=5), start_time=1_796_000_017.0
    ) as sim:
        d = Deployer.create(sim, deployment_config=CANARY, alarms=False)
        sim.traffic.behave(BAD, error_rate=0.3)
        yield d, run_deploy(sim, image=BAD, analysis=DEFAULT_ANALYSIS)


def test_a_bad_canary_whose_release_died_is_stopped_by_the_net_alone() -> None:
    with bad_canary_released() as (d, deployment):
        # the release process dies here: no wait, no analysis on the client

        assert d.done(deployment.id) == "Stopped"

        info = d.info(deployment.id)
        assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
        assert nets(d)[0] in info["errorInformation"]["message"]
        assert d.done(d.rollback_of(deployment.id)) == "Succeeded"
        assert d.traffic() == {"web-blue": 100, "web-green": 0}


def test_while_the_release_runs_the_analysis_stops_a_bad_canary_before_the_net() -> None:
    with bad_canary_released() as (d, deployment):
        with pytest.raises(DeploymentError, match="the analysis failed") as raised:
            deployment.wait()

        assert raised.value.error_code == "MANUAL_STOP"  # StopDeployment, not the alarm
        assert nets(d) == []


def test_plan_notes_what_the_analysis_will_do_and_lists_what_would_stop_it(sim: Any) -> None:
    Deployer.create(sim, auto_rollback_events=("DEPLOYMENT_FAILURE",))

    fine = run_plan(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)
    refused = run_plan(
        sim, image=GOOD, analysis=DEFAULT_ANALYSIS, auto_rollback=["DEPLOYMENT_FAILURE"]
    )

    assert fine.ok
    text = fine.text()
    assert (
        "analysis: every 60 s over the last 180 s, green against blue (5xx rate <= blue + 0.01"
        in text
    )
    assert "stops the deployment with rollback at its first failed evaluation" in text
    assert "this deployment also rolls back on DEPLOYMENT_STOP_ON_ALARM" in text
    assert not refused.ok
    assert any(
        p.startswith("analysis: ") and "DEPLOYMENT_STOP_ON_ALARM" in p for p in refused.problems
    )


def test_bluegreen_plan_analysis_exits_2_naming_the_problem(
    sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Deployer.create(sim, load_balancer="network")

    code = main(
        ["plan", "--cluster", "prod", "--service", "web", "--image", GOOD, "--analysis", "default"]
    )

    out, err = capsys.readouterr()
    assert code == 2
    assert "analysis: service prod/web: its production listener speaks TCP" in out
    assert "Traceback" not in err


def test_abort_deletes_the_net_once_the_rollback_has_ended(sim: Any) -> None:
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)
    deployment.wait("traffic_step")
    assert len(nets(d)) == 1

    ended = deployment.abort()

    assert ended.is_rollback
    assert str(ended.status) == "Succeeded"
    assert nets(d) == []
