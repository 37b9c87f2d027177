"""An analysis run by ``deploy(analysis=...)`` and ``Deployment.wait(analysis=...)`` on the
simulator, whose seeded production traffic publishes real ALB metrics: a bad canary is
stopped and rolled back with green's and blue's numbers, a good one passes, low traffic is
never judged, a dry run only reports, and provider errors are inconclusive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from deploying import Deployer, run_deploy

from bluegreen import DeploymentError, ValidationError
from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis, Metric
from bluegreen.analysis_run import AnalysisRun
from bluegreen.analysis_verdict import Outcome, Verdict
from bluegreen.deployment import Deployment
from bluegreen.testing import Simulator, Traffic

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
START = 1_796_000_017.0  # a few seconds past a minute, as in test_simulator_alarms
BAD = "public.ecr.aws/nginx/nginx:1.29-bad"
GOOD = "public.ecr.aws/nginx/nginx:1.28"


def release(
    rpm: float, *, image: str = BAD, error_rate: float = 0.3, **deploy: Any
) -> tuple[Simulator, Deployer]:
    sim = Simulator(traffic=Traffic(requests_per_minute=rpm, seed=7), start_time=START)
    sim.start()
    d = Deployer.create(sim, deployment_config=CANARY, alarms=False)
    sim.traffic.behave(BAD, error_rate=error_rate)
    return sim, d


@pytest.fixture
def canary() -> Any:
    sims: list[Simulator] = []

    def make(rpm: float = 2000) -> tuple[Simulator, Deployer]:
        sim, d = release(rpm)
        sims.append(sim)
        return sim, d

    yield make
    for sim in sims:
        sim.stop()


def test_a_bad_canary_is_stopped_and_rolled_back_with_green_and_blue_numbers(canary: Any) -> None:
    sim, d = canary()
    deployment = run_deploy(sim, image=BAD, analysis=DEFAULT_ANALYSIS)
    seen: list[AnalysisRun] = []

    with pytest.raises(DeploymentError) as raised:
        deployment.wait(on_evaluation=seen.append)

    error = raised.value
    run = deployment.analysis
    assert run is not None
    assert run is error.analysis
    assert run.verdict is Verdict.FAILED
    assert run.stopped == deployment.id
    assert error.status == "Stopped"
    assert error.rollback_deployment_id is not None
    assert d.status(error.rollback_deployment_id) == "Succeeded"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    assert "the analysis failed at evaluation" in str(error)
    assert "5xx rate: green " in str(error)
    assert " vs blue " in str(error)
    assert len(seen) == len(run.evaluations) >= 1  # one evaluation beyond doubt is enough
    assert run.evaluations[-1].outcome is Outcome.FAIL
    failing = next(m for m in run.evaluations[-1].metrics if m.name == "5xx rate")
    assert failing.green is not None
    assert failing.green.value is not None
    assert failing.green.value > 0.2  # a 30% error rate, measured
    assert "stopped and rolled back by the analysis" in run.report()


def test_the_analysis_stops_before_the_canary_would_have_shifted_everything(canary: Any) -> None:
    sim, d = canary()
    deployment = run_deploy(sim, image=BAD, analysis=DEFAULT_ANALYSIS)

    with pytest.raises(DeploymentError):
        deployment.wait()

    run = deployment.analysis
    assert run is not None
    assert run.shift_started is not None
    stopped_at = d.info(deployment.id)["completeTime"]
    assert stopped_at - run.shift_started < dt.timedelta(minutes=5)  # the canary's bake
    # every evaluation read whole minutes, after they ended
    for evaluation in run.evaluations:
        assert evaluation.end.second == 0
        assert evaluation.end - evaluation.start == dt.timedelta(seconds=180)


def test_a_healthy_green_passes_through_the_shift_and_the_termination_wait(canary: Any) -> None:
    sim, _d = canary()
    deployment = run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)

    snapshot = deployment.wait()

    run = deployment.analysis
    assert snapshot.succeeded
    assert run is not None
    assert run.verdict is Verdict.PASSED
    outcomes = [e.outcome for e in run.evaluations]
    assert Outcome.FAIL not in outcomes
    assert Outcome.PASS in outcomes
    # in the termination wait blue serves nothing: green is compared with blue's last reading
    assert any("its last reading" in m.sentence for e in run.evaluations for m in e.metrics)


def test_low_traffic_is_inconclusive_and_never_stops_a_failing_green(canary: Any) -> None:
    sim, _d = canary(rpm=15)  # under 50 requests in 3 minutes, even with all of them
    deployment = run_deploy(sim, image=BAD, analysis=DEFAULT_ANALYSIS)

    snapshot = deployment.wait()

    run = deployment.analysis
    assert snapshot.succeeded  # nothing could judge green: CodeDeploy carried on
    assert run is not None
    assert run.stopped is None
    assert run.evaluations
    assert {e.outcome for e in run.evaluations} == {Outcome.INCONCLUSIVE}
    assert run.verdict is Verdict.INCONCLUSIVE
    assert "fewer than the 50 needed" in run.evaluations[0].summary()


def test_a_bad_green_a_quiet_canary_let_through_is_stopped_in_the_termination_wait(
    canary: Any,
) -> None:
    sim, d = canary(rpm=100)  # about 10 requests a minute reach green during the canary
    deployment = run_deploy(sim, image=BAD, analysis=DEFAULT_ANALYSIS)

    with pytest.raises(DeploymentError) as raised:
        deployment.wait()

    run = deployment.analysis
    assert run is not None
    assert run.stopped == deployment.id
    events = d.events(deployment.id)
    assert events["AllowTraffic"] == events["AfterAllowTraffic"] == "Succeeded"
    assert d.status(raised.value.rollback_deployment_id) == "Succeeded"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}


def test_a_dry_run_reports_what_it_would_have_done_and_stops_nothing(canary: Any) -> None:
    sim, _d = canary()
    dry = Analysis(dry_run=True)
    deployment = run_deploy(sim, image=BAD)

    snapshot = deployment.wait(analysis=dry)

    run = deployment.analysis
    assert snapshot.succeeded
    assert run is not None
    assert run.stopped is None
    assert run.judge.would_have is Verdict.FAILED
    assert (run.reason or "").startswith("dry run: would have failed at evaluation")


def test_provider_errors_are_inconclusive_up_to_the_limit_and_stop_nothing(canary: Any) -> None:
    sim, _d = canary()
    sim.faults.throttle("GetMetricData", service="monitoring")
    deployment = run_deploy(sim, image=BAD)

    snapshot = deployment.wait(analysis=Analysis(inconclusive_limit=2))

    run = deployment.analysis
    assert snapshot.succeeded
    assert run is not None
    assert run.verdict is Verdict.INCONCLUSIVE
    assert [e.outcome for e in run.evaluations] == [Outcome.INCONCLUSIVE] * 2
    assert "Throttl" in (run.reason or "")


def test_a_critical_metric_stops_at_its_first_failed_evaluation(canary: Any) -> None:
    sim, _d = canary()
    critical = Analysis(
        metrics=[
            Metric(
                name="5xx rate",
                metric="HTTPCode_Target_5XX_Count",
                per="RequestCount",
                tolerance=0.01,
                critical=True,
            )
        ],
        window=60,
        minimum_sample=50,
    )
    deployment = run_deploy(sim, image=BAD)

    with pytest.raises(DeploymentError, match="critical metric 5xx rate"):
        deployment.wait(analysis=critical)

    run = deployment.analysis
    assert run is not None
    assert [e.outcome for e in run.evaluations][-1] is Outcome.FAIL
    assert sum(e.outcome is Outcome.FAIL for e in run.evaluations) == 1


def test_attach_then_wait_with_an_analysis_finds_the_target_groups_itself(canary: Any) -> None:
    sim, _d = canary()
    created = run_deploy(sim, image=BAD)
    deployment = Deployment.attach(created.id, clients=sim.clients(), clock=sim.clock)

    with pytest.raises(DeploymentError):
        deployment.wait(analysis=DEFAULT_ANALYSIS)

    run = deployment.analysis
    assert run is not None
    assert run.targets is not None
    assert "/web-green/" in run.targets.green_target_group_arn
    assert run.stopped == created.id


def test_wrong_analysis_arguments_are_refused_before_anything_changes(sim: Any) -> None:
    d = Deployer.create(sim)
    with pytest.raises(ValidationError, match=r"analysis= must be a bluegreen\.Analysis"):
        run_deploy(sim, image=GOOD, analysis="default")
    assert d.codedeploy.list_deployments()["deployments"] == []
    deployment = Deployment.attach("d-ABCDEFGHI", clients=sim.clients(), clock=sim.clock)
    with pytest.raises(ValidationError, match="on_evaluation= must be a function"):
        deployment.wait(analysis=DEFAULT_ANALYSIS, on_evaluation="print")


def test_an_nlb_service_cannot_be_analysed_and_nothing_changes(sim: Any) -> None:
    d = Deployer.create(sim, load_balancer="network")
    with pytest.raises(ValidationError, match="not an Application Load Balancer"):
        run_deploy(sim, image=GOOD, analysis=DEFAULT_ANALYSIS)
    assert d.codedeploy.list_deployments()["deployments"] == []


def test_the_example_file_judges_a_healthy_green_on_every_metric(canary: Any) -> None:
    example = Path(__file__).parent.parent / "docs" / "analysis.example.yaml"
    analysis = Analysis.from_file(example)
    sim, _d = canary()
    deployment = run_deploy(sim, image=GOOD, analysis=analysis)

    assert deployment.wait().succeeded

    run = deployment.analysis
    assert run is not None
    assert run.verdict is Verdict.PASSED
    judged = {m.name for e in run.evaluations for m in e.metrics if m.outcome is Outcome.PASS}
    assert judged == {"5xx rate", "p99 response time", "5xx rate over 10%"}


def test_a_failure_found_while_blue_is_being_deleted_fails_the_wait_and_says_to_roll_back() -> None:
    from bluegreen.testing import SimSettings

    with Simulator(
        traffic=Traffic(requests_per_minute=2000, seed=7),
        start_time=START,
        settings=SimSettings(blue_cleanup_seconds=300),
    ) as sim:
        # All at once and no termination wait: blue's deletion starts as the shift ends, and
        # the first evaluation, a minute later, finds green bad when it can no longer stop.
        d = Deployer.create(
            sim, deployment_config="CodeDeployDefault.ECSAllAtOnce", termination_wait_minutes=0
        )
        sim.traffic.behave(BAD, error_rate=0.3)
        deployment = run_deploy(sim, image=BAD, analysis=Analysis(server_alarm=False))

        with pytest.raises(DeploymentError) as raised:
            deployment.wait()

        error = raised.value
        run = deployment.analysis
        assert run is not None
        assert run.verdict is Verdict.FAILED
        assert run.stopped is None
        assert run.unstoppable is not None
        assert "can no longer be stopped" in run.unstoppable
        assert error.status == "Succeeded"
        assert "the deployment could no longer be stopped" in str(error)
        assert "bluegreen rollback" in str(error)
        assert d.done(deployment.id) == "Succeeded"
