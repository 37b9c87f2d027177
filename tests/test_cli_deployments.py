"""``bluegreen deploy | plan | status | wait | promote | finish | abort | rollback``.

In-process against the simulator: the CLI builds its own boto3 clients (the simulator answers
them) and its waits read the simulator's virtual clock (``bluegreen.cli._clock._clock_factory``),
so sleeping advances simulated time instead of real time. One test runs the commands as processes
against ``bluegreen sim serve`` and kills a ``wait`` half-way. Nothing asserts on timing.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from deploying import Deployer, attach

import bluegreen.cli
import bluegreen.cli._clock
from bluegreen import DeploymentStatus, LifecycleEvent, Milestone
from bluegreen.cli import main
from bluegreen.testing import VirtualClock

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.29"


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The simulator; every wait of the CLI reads (and advances) its virtual clock."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    return bluegreen_sim


@pytest.fixture
def env(sim: Any) -> Any:
    """The sample environment (service web in cluster prod) in ``sim``."""
    return sim.create_environment()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``bluegreen ARGV``."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


SERVICE = ("--cluster", "prod", "--service", "web")


# -- deploy ----------------------------------------------------------------------------------


def test_deploy_an_image_to_success_streams_json_lines_ending_with_succeeded(sim, env, capsys):
    code, out, err = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--output", "json")

    assert code == 0, err
    lines = json_lines(out)
    assert {line["type"] for line in lines} >= {"snapshot", "event_changed", "traffic", "done"}
    assert all("timestamp" in line and line["deployment_id"] for line in lines)
    final = lines[-1]
    assert final["type"] == "done"
    assert final["outcome"] == "succeeded"
    assert final["exit_code"] == 0
    assert final["status"] == "Succeeded"
    changes = [(line["event"], line["event_status"]) for line in lines if "event" in line]
    assert ("AllowTraffic", "Succeeded") in changes
    assert len(changes) == len(set(changes))  # a line per change, not per poll
    assert "Pending" not in {status for _, status in changes}
    traffic = [line for line in lines if line["type"] == "traffic"]
    assert (traffic[-1]["blue"], traffic[-1]["green"]) == (0.0, 100.0)
    deployment_id = final["deployment_id"]
    assert sim.deployment(deployment_id).status == DeploymentStatus.SUCCEEDED


def test_deploy_to_a_pipe_prints_one_plain_line_per_change_and_a_summary(sim, env, capsys):
    code, out, _ = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE)

    assert code == 0
    lines = out.splitlines()
    assert any("Install Succeeded" in line for line in lines)
    assert any("production traffic  blue 0%  green 100%" in line for line in lines)
    assert lines[-1].startswith("d-")
    assert " Succeeded after " in lines[-1]
    assert "\x1b[" not in out  # no terminal control codes outside a terminal


def test_deploy_with_a_failing_hook_exits_1_naming_the_error_code_and_the_rollback(
    sim, env, capsys
):
    d = Deployer(sim, env)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))

    code, out, err = run(
        capsys,
        "deploy",
        *SERVICE,
        "--image",
        NEW_IMAGE,
        "--hook",
        f"AfterAllowTestTraffic={HOOK}",
        "--output",
        "json",
    )

    assert code == 1
    final = json_lines(out)[-1]
    deployment_id = final["deployment_id"]
    rollback_id = d.rollback_of(deployment_id)
    assert final["type"] == "done"
    assert final["outcome"] == "rolled_back"
    assert final["exit_code"] == 1
    error = json_lines(out)[-2]
    assert error["type"] == "error"
    assert error["error_code"] == "HOOK_EXECUTION_FAILURE"
    assert error["rollback_deployment_id"] == rollback_id
    assert "HOOK_EXECUTION_FAILURE" in err
    assert f"rolled back by {rollback_id}" in err


def test_a_deploy_refused_by_aws_exits_4_saying_what_it_put_back(sim, env, capsys):
    sim.faults.server_error("CreateDeployment", rate=1.0)

    code, _, err = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE)

    assert code == 4
    lines = err.splitlines()
    assert all(line.startswith("bluegreen: ") for line in lines)
    # The notes on the error reach the user: the revision made for it is gone again.
    assert any("task-definition revision" in line and "deregistered" in line for line in lines)
    assert "Traceback" not in err


def test_deploy_no_wait_prints_only_the_id_of_the_created_deployment(sim, env, capsys):
    code, out, err = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait")

    assert code == 0
    deployment_id = out.strip()
    assert out == f"{deployment_id}\n"
    assert attach(sim, deployment_id).status().status is DeploymentStatus.CREATED
    assert f"bluegreen wait --deployment-id {deployment_id}" in err


def test_deploy_no_wait_in_json_is_one_done_line_with_outcome_started(sim, env, capsys):
    code, out, _ = run(
        capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait", "--output", "json"
    )

    assert code == 0
    [line] = json_lines(out)
    assert (line["type"], line["outcome"], line["exit_code"]) == ("done", "started", 0)
    assert attach(sim, line["deployment_id"]).status().status is DeploymentStatus.CREATED


def test_the_endpoint_url_can_come_from_bluegreen_endpoint_url(capsys, monkeypatch):
    monkeypatch.setenv("BLUEGREEN_ENDPOINT_URL", "http://127.0.0.1:9")  # the discard port
    clock = VirtualClock()  # the retries of the refused connection take no real time
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: clock)

    code, _, err = run(capsys, "status", *SERVICE)

    assert code == 4
    assert "127.0.0.1:9" in err


def test_deploy_until_a_milestone_returns_there_with_outcome_reached(sim, capsys):
    Deployer.create(sim, deployment_config=CANARY)

    code, out, _ = run(
        capsys,
        "deploy",
        *SERVICE,
        "--image",
        NEW_IMAGE,
        "--until",
        "test_traffic",
        "--output",
        "json",
    )

    assert code == 0
    final = json_lines(out)[-1]
    assert final["outcome"] == "reached"
    assert final["status"] == "InProgress"
    snapshot = attach(sim, final["deployment_id"]).status()
    assert snapshot.event(LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC).status == "Succeeded"
    # Returned there, long before the canary's 5 minutes (reads may let a few seconds pass).
    assert snapshot.event(LifecycleEvent.ALLOW_TRAFFIC).status != "Succeeded"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --image (once, or as CONTAINER=URI per container) or --task-definition"),
        (
            ["--image", NEW_IMAGE, "--task-definition", "web:2"],
            "give --image (once, or as CONTAINER=URI per container) or --task-definition",
        ),
        (
            ["--image", "web=nginx:1.29", "--image", "nginx:1.29"],
            "each must look like CONTAINER=URI",
        ),
        (["--image", NEW_IMAGE, "--hook", "AfterInstall"], "must look like EVENT=FUNCTION"),
        (
            ["--image", NEW_IMAGE, "--rollback-events", "DEPLOYMENT_FAILURE,SOMETIMES"],
            "--rollback-events 'DEPLOYMENT_FAILURE,SOMETIMES'",
        ),
        (["--image", NEW_IMAGE, "--application", "AppECS-prod-web"], "together, or neither"),
        (["--image", NEW_IMAGE, "--no-wait", "--until", "ready"], "--no-wait returns at once"),
    ],
)
def test_deploy_argument_mistakes_exit_2_before_any_change(sim, env, capsys, argv, message):
    code, out, err = run(capsys, "deploy", *SERVICE, *argv)

    assert code == 2
    assert out == ""
    assert message in err
    assert Deployer(sim, env).codedeploy.list_deployments()["deployments"] == []


def test_deploy_refuses_no_rollback_together_with_rollback_events(env, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-rollback", "--rollback-events", "X"])

    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_deploy_with_a_timeout_exits_3_and_says_how_to_follow_it_again(sim, capsys):
    Deployer.create(sim, deployment_config=CANARY)

    code, _, err = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--timeout", "120")

    assert code == 3
    assert "did not reach end within" in err
    assert "the deployment goes on in AWS" in err
    assert "bluegreen wait --deployment-id d-" in err


# -- plan ------------------------------------------------------------------------------------


def test_plan_prints_what_deploy_would_do_and_changes_nothing(sim, env, capsys):
    code, out, _ = run(capsys, "plan", *SERVICE, "--image", NEW_IMAGE)

    assert code == 0
    assert NEW_IMAGE in out
    assert Deployer(sim, env).codedeploy.list_deployments()["deployments"] == []


def test_plan_json_is_one_object(sim, env, capsys):
    code, out, _ = run(capsys, "plan", *SERVICE, "--image", NEW_IMAGE, "--output", "json")

    assert code == 0
    assert isinstance(json.loads(out), dict)


def test_plan_with_problems_prints_them_and_exits_2(sim, env, capsys):
    code, out, err = run(capsys, "plan", *SERVICE, "--image", "nginx:latest")

    assert code == 2
    assert "latest" in out
    assert "the plan has" in err


# -- status ----------------------------------------------------------------------------------


def test_status_of_the_service_shows_its_deployment_in_flight(sim, env, capsys):
    d = Deployer(sim, env)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    code, out, _ = run(capsys, "status", *SERVICE)

    assert code == 0
    assert out.startswith(f"<DeploymentSnapshot {deployment_id} InProgress")
    assert "waiting for green to reach steady state (Install)" in out


def test_status_json_by_id_of_a_finished_deployment(sim, env, capsys):
    d = Deployer(sim, env)
    deployment_id = d.deploy()
    d.done(deployment_id)

    code, out, _ = run(capsys, "status", "--deployment-id", deployment_id, "--output", "json")

    assert code == 0
    snapshot = json.loads(out)
    assert snapshot["deployment_id"] == deployment_id
    assert snapshot["status"] == "Succeeded"
    assert [e["status"] for e in snapshot["events"]] == ["Succeeded"] * len(snapshot["events"])


def test_status_of_the_service_after_its_deployment_ended_shows_the_last_one(sim, env, capsys):
    d = Deployer(sim, env)
    deployment_id = d.deploy()
    d.done(deployment_id)

    code, out, _ = run(capsys, "status", *SERVICE)

    assert code == 0
    assert out.startswith(f"<DeploymentSnapshot {deployment_id} Succeeded")


def test_status_without_a_deployment_or_a_service_exits_2(env, capsys):
    code, out, err = run(capsys, "status", "--cluster", "prod")

    assert code == 2
    assert out == ""
    assert "give --deployment-id, or --cluster and --service" in err


def test_status_of_an_unknown_deployment_exits_4(env, capsys):
    code, _, err = run(capsys, "status", "--deployment-id", "d-NOSUCH000")

    assert code == 4
    assert "d-NOSUCH000" in err


# -- wait ------------------------------------------------------------------------------------


def test_wait_for_ready_returns_there_then_wait_follows_to_the_end(sim, capsys):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()

    code, out, _ = run(
        capsys, "wait", "--deployment-id", deployment_id, "--until", "ready", "--output", "json"
    )

    assert code == 0
    assert json_lines(out)[-1]["outcome"] == "reached"
    assert json_lines(out)[-1]["status"] == "Ready"
    attach(sim, deployment_id).promote()
    code, out, _ = run(capsys, "wait", *SERVICE, "--output", "json")
    assert code == 0
    assert json_lines(out)[-1]["outcome"] == "succeeded"


def test_wait_for_a_deployment_that_fails_exits_1(sim, env, capsys):
    d = Deployer(sim, env)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK})

    code, out, err = run(capsys, "wait", "--deployment-id", deployment_id)

    assert code == 1
    assert "at AfterInstall" in err
    # wait() followed the rollback to its end: the last line says how it ended, not how to
    # follow it.
    rollback_id = d.rollback_of(deployment_id)
    last = out.splitlines()[-1]
    assert last.startswith(
        f"{deployment_id} was rolled back: {rollback_id} (rollback of {deployment_id}) "
        "Succeeded after "
    )
    assert last.endswith(": blue serves production again")
    assert f"follow the rollback with: bluegreen wait --deployment-id {rollback_id}" not in out


def test_wait_for_a_milestone_the_failed_deployment_never_reached_exits_1(sim, env, capsys):
    d = Deployer(sim, env)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK})
    d.done(deployment_id)

    code, out, _ = run(
        capsys, "wait", "--deployment-id", deployment_id, "--until", "ready", "--output", "json"
    )

    assert code == 1
    assert json_lines(out)[-1]["outcome"] == "rolled_back"


def test_wait_with_a_timeout_exits_3_with_outcome_timed_out(sim, capsys):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment_id = d.deploy()

    code, out, err = run(
        capsys, "wait", "--deployment-id", deployment_id, "--timeout", "60", "--output", "json"
    )

    assert code == 3
    final = json_lines(out)[-1]
    assert (final["type"], final["outcome"], final["exit_code"]) == ("done", "timed_out", 3)
    assert f"bluegreen wait --deployment-id {deployment_id}" in err
    assert not attach(sim, deployment_id).status().status.is_terminal


class _InterruptedClock:
    """The simulator's clock, with a Ctrl-C during the third pause of a wait."""

    def __init__(self, clock: Any) -> None:
        self._clock = clock
        self.sleeps = 0

    def time(self) -> float:
        return float(self._clock.time())

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if self.sleeps == 3:
            raise KeyboardInterrupt
        self._clock.sleep(seconds)


def test_ctrl_c_during_a_wait_exits_130_and_says_how_to_reattach(sim, env, capsys, monkeypatch):
    deployment_id = Deployer(sim, env).deploy()
    interrupted = _InterruptedClock(sim.clock)
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: interrupted)

    code, out, err = run(
        capsys,
        "wait",
        "--deployment-id",
        deployment_id,
        "--region",
        "us-east-1",
        "--output",
        "json",
    )

    assert code == 130
    assert json_lines(out)[-1]["outcome"] == "interrupted"
    assert f"deployment {deployment_id} goes on in AWS" in err
    assert f"bluegreen wait --deployment-id {deployment_id} --region us-east-1" in err
    assert not attach(sim, deployment_id).status().status.is_terminal


# -- promote ---------------------------------------------------------------------------------


def test_promote_a_ready_deployment_then_it_succeeds(sim, capsys):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    attach(sim, deployment_id).wait(Milestone.READY)

    code, out, _ = run(capsys, "promote", *SERVICE)

    assert code == 0
    assert out == (
        f"promoted {deployment_id} (ContinueDeployment(READY_WAIT); Ready -> InProgress): "
        "production traffic shifts to green (CodeDeployDefault.ECSAllAtOnce); follow it with "
        f"bluegreen wait --deployment-id {deployment_id}\n"
    )
    assert attach(sim, deployment_id).wait().succeeded


def test_promote_before_ready_exits_2_saying_what_it_waits_for(sim, capsys):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    code, out, err = run(capsys, "promote", "--deployment-id", deployment_id)

    assert code == 2
    assert out == ""
    assert f"cannot promote deployment {deployment_id}" in err
    assert "not Ready" in err
    # Advice in the command line's words, not Python's.
    assert "run `bluegreen wait --until ready` first" in err
    assert "wait('ready')" not in err
    assert d.status(deployment_id) == "InProgress"


def test_promote_when_the_last_deployment_has_ended_exits_2(sim, env, capsys):
    d = Deployer(sim, env)
    d.done(d.deploy())

    code, _, err = run(capsys, "promote", *SERVICE)

    assert code == 2
    assert "there is nothing to promote" in err


# -- finish ----------------------------------------------------------------------------------


def test_finish_in_the_termination_wait_removes_blue_and_the_deployment_succeeds(sim, capsys):
    d = Deployer.create(sim, termination_wait_minutes=60)
    deployment_id = d.deploy()
    attach(sim, deployment_id).wait(Milestone.TERMINATION_WAIT)

    code, out, _ = run(capsys, "finish", *SERVICE, "--output", "json")

    assert code == 0
    done = json.loads(out)
    assert done["outcome"] == "finished"
    assert (done["status_before"], done["request"]) == (
        "InProgress",
        "ContinueDeployment(TERMINATION_WAIT)",
    )
    assert done["next"] == "blue is being removed and the deployment succeeds"
    assert attach(sim, deployment_id).wait(timeout=15 * 60).succeeded


def test_finish_before_the_termination_wait_exits_2(sim, capsys):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    attach(sim, deployment_id).wait(Milestone.READY)

    code, _, err = run(capsys, "finish", "--deployment-id", deployment_id)

    assert code == 2
    assert "it is not in its termination wait" in err
    assert d.status(deployment_id) == "Ready"


# -- abort -----------------------------------------------------------------------------------


def test_abort_stops_the_deployment_and_follows_the_rollback_to_its_end(sim, capsys):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    attach(sim, deployment_id).wait(Milestone.READY)

    code, out, _ = run(capsys, "abort", *SERVICE, "--output", "json")

    assert code == 0
    lines = json_lines(out)
    rollback_id = d.rollback_of(deployment_id)
    assert lines[-1]["outcome"] == "rolled_back"
    assert lines[-1]["deployment_id"] == rollback_id
    assert {line["deployment_id"] for line in lines} == {deployment_id, rollback_id}
    assert d.status(deployment_id) == "Stopped"
    assert d.traffic()["web-blue"] == 100


def test_abort_no_wait_asks_to_stop_and_returns(sim, capsys):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    attach(sim, deployment_id).wait(Milestone.READY)

    code, out, _ = run(capsys, "abort", "--deployment-id", deployment_id, "--no-wait")

    assert code == 0
    assert out.startswith(f"stopping {deployment_id}")
    d.done(deployment_id)
    assert d.status(deployment_id) == "Stopped"


def test_abort_of_a_finished_deployment_exits_2_and_points_to_rollback(sim, env, capsys):
    d = Deployer(sim, env)
    deployment_id = d.deploy()
    d.done(deployment_id)

    code, out, err = run(capsys, "abort", "--deployment-id", deployment_id, "--output", "json")

    assert code == 2
    assert f"cannot abort deployment {deployment_id}: it has already ended" in err
    final = json_lines(out)[-1]
    assert (final["outcome"], final["exit_code"]) == ("refused", 2)


# -- rollback --------------------------------------------------------------------------------


def test_rollback_of_the_last_deployment_deploys_the_previous_good_task_definition(
    sim, env, capsys
):
    d = Deployer(sim, env)
    good = d.register_revision(image="nginx:1.28")
    d.done(d.deploy(appspec=d.appspec(good)))
    bad = d.deploy(appspec=d.appspec(d.register_revision(image="nginx:1.29")))
    d.done(bad)

    code, out, _ = run(capsys, "rollback", *SERVICE, "--output", "json")

    assert code == 0
    final = json_lines(out)[-1]
    assert final["outcome"] == "succeeded"
    assert final["deployment_id"] != bad
    assert d.task_set("PRIMARY")["taskDefinition"] == good
    announced = json_lines(out)[0]
    assert announced["type"] == "rollback"
    assert (announced["rolled_back"], announced["task_definition"]) == (bad, good)
    assert announced["deployment_id"] == final["deployment_id"]


def test_rollback_says_which_revision_it_goes_back_to_and_from_which_deployment(sim, env, capsys):
    d = Deployer(sim, env)
    good_id = d.deploy(appspec=d.appspec(d.register_revision(image="nginx:1.28")))
    d.done(good_id)
    bad = d.deploy(appspec=d.appspec(d.register_revision(image="nginx:1.29")))
    d.done(bad)

    code, out, _ = run(capsys, "rollback", *SERVICE)

    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith(
        f"rolling back {bad} (web:3) to web:2, the revision {good_id} deployed: new deployment d-"
    )


def test_rollback_no_wait_keeps_stdout_the_new_id_and_says_the_rest_on_stderr(sim, env, capsys):
    d = Deployer(sim, env)
    good_id = d.deploy(appspec=d.appspec(d.register_revision(image="nginx:1.28")))
    d.done(good_id)
    bad = d.deploy(appspec=d.appspec(d.register_revision(image="nginx:1.29")))
    d.done(bad)

    code, out, err = run(capsys, "rollback", "--deployment-id", bad, "--no-wait")

    assert code == 0
    new_id = out.strip()
    assert re.fullmatch(r"d-[A-Z0-9]{9}", new_id)
    assert f"rolling back {bad} (web:3) to web:2, the revision {good_id} deployed" in err


def test_rollback_without_an_earlier_successful_deployment_exits_2(sim, env, capsys):
    d = Deployer(sim, env)
    deployment_id = d.deploy()
    d.done(deployment_id)

    code, out, err = run(capsys, "rollback", "--deployment-id", deployment_id)

    assert code == 2
    assert out == ""
    assert "no successful deployment before it" in err


def test_rollback_of_a_deployment_in_flight_exits_2(sim, env, capsys):
    d = Deployer(sim, env)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    code, _, err = run(capsys, "rollback", "--deployment-id", deployment_id)

    assert code == 2
    assert deployment_id in err


# -- a malformed --deployment-id --------------------------------------------------------------


@pytest.mark.parametrize("command", ["status", "wait", "promote", "finish", "abort", "rollback"])
@pytest.mark.parametrize("bad", ["d-123", "abc", "d-abcdefghi", "d-ABC DEFGHI"])
def test_a_malformed_deployment_id_exits_2_before_any_aws_call(sim, capsys, command, bad):
    # No environment needed: a call that went out would show in the simulator's log anyway.
    before = len(list(sim.api_calls()))

    code, out, err = run(capsys, command, "--deployment-id", bad)

    assert code == 2
    assert out == ""
    assert "--deployment-id is invalid" in err
    assert "'d-' followed by 9 upper-case letters or digits" in err
    assert len(list(sim.api_calls())) == before


# -- status and autoscaling ----------------------------------------------------------------------


def test_status_after_the_deployment_ended_no_longer_promises_a_restore_at_its_end(
    sim, env, capsys
):
    code, out, _ = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait")
    assert code == 0
    deployment_id = out.strip()
    during = run(capsys, "status", *SERVICE)[1]
    assert "restored when the deployment ends" in during  # true while it runs
    Deployer(sim, env).done(deployment_id)  # nobody followed it to restore scaling

    code, out, _ = run(capsys, "status", "--deployment-id", deployment_id, "--scaling")

    assert code == 0
    assert "restored when the deployment ends" not in out
    assert f"deployment {deployment_id} ended (Succeeded) and it is not restored yet" in out
    assert "`bluegreen recover` restores it now" in out


# -- a killed wait, re-attached from a new process ---------------------------------------------

WAIT_SECONDS = 120.0
BLUEGREEN = (sys.executable, "-m", "bluegreen")
FAST_POLLING = ("--min-interval", "0.2", "--max-interval", "0.5")


class _Lines:
    """The lines a process prints, read on a thread into a queue."""

    def __init__(self, stream: Any) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self._stream = stream
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            self.queue.put(line)

    def close(self) -> None:
        """Once the process has ended: let the reader see the end, then close the pipe."""
        self._thread.join(timeout=WAIT_SECONDS)
        self._stream.close()


def _next_line(lines: _Lines, want: Any, what: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"gave up waiting for {what}")
        try:
            line = lines.queue.get(timeout=remaining)
        except queue.Empty:
            continue
        if want(line):
            return line


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    """``bluegreen sim serve`` whose deployments wait in Ready for a promotion, and the
    environment that points the CLI at it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "BLUEGREEN"))}
    server = subprocess.Popen(
        [
            *BLUEGREEN,
            "sim",
            "serve",
            "--port",
            "0",
            "--speed",
            "120",
            "--ready-wait",
            "2880",
            "--termination-wait",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines = _Lines(server.stdout)
    try:
        url = _next_line(lines, lambda line: "serving on http://" in line, "the server").split()[-1]
        _next_line(lines, lambda line: "Press Ctrl-C" in line, "the sample environment")
        yield {**env, "BLUEGREEN_ENDPOINT_URL": url}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=WAIT_SECONDS)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            lines.close()


def _bluegreen(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BLUEGREEN, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT_SECONDS,
        check=False,
    )


def _is_ready(line: str) -> bool:
    record = json.loads(line)
    return record["type"] == "snapshot" and record["status"] == "Ready"


def _is_done(line: str) -> bool:
    return bool(json.loads(line)["type"] == "done")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_killed_wait_is_reattached_from_a_new_process_that_sees_the_end(served):
    started = _bluegreen(served, "deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait")
    assert started.returncode == 0, started.stderr
    deployment_id = started.stdout.strip()
    wait = ["wait", "--deployment-id", deployment_id, "--output", "json", *FAST_POLLING]

    first = subprocess.Popen(
        [*BLUEGREEN, *wait],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=served,
    )
    first_lines = _Lines(first.stdout)
    try:
        _next_line(first_lines, _is_ready, "the deployment to wait in Ready")
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first_lines.close()

    second = subprocess.Popen(
        [*BLUEGREEN, *wait],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=served,
    )
    lines = _Lines(second.stdout)
    try:
        _next_line(lines, _is_ready, "the re-attached wait to see Ready")
        promoted = _bluegreen(served, "promote", "--deployment-id", deployment_id)
        assert promoted.returncode == 0, promoted.stderr
        assert second.wait(timeout=WAIT_SECONDS) == 0
        final = json.loads(_next_line(lines, _is_done, "the re-attached wait's last line"))
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
        lines.close()

    assert (final["type"], final["outcome"], final["deployment_id"]) == (
        "done",
        "succeeded",
        deployment_id,
    )


def test_ctrl_c_during_a_wait_restores_the_scaling_the_deployment_suspended(
    sim, env, capsys, monkeypatch
):
    from bluegreen.scaling import scaling_state

    before = scaling_state(env.cluster, env.service, clients=sim.clients()).targets
    started = bluegreen.deploy(
        env.cluster,
        env.service,
        image="registry.example.com/web:2.0",
        clients=sim.clients(),
        clock=sim.clock,
    )
    during = scaling_state(env.cluster, env.service, clients=sim.clients())
    assert during.record is not None
    assert during.targets != before
    interrupted = _InterruptedClock(sim.clock)
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: interrupted)

    code, _, err = run(capsys, "wait", "--deployment-id", started.id)

    assert code == 130
    after = scaling_state(env.cluster, env.service, clients=sim.clients())
    assert after.record is None
    assert after.targets == before
    assert "scaling: restored service/prod/web" in err
    assert not attach(sim, started.id).status().status.is_terminal
