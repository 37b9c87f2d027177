"""bluegreen.scaling: record, suspend and restore Application Auto Scaling around a deployment,
on the simulator through real boto3 clients (retries sleep on its virtual clock)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploying import Deployer

from bluegreen import (
    RECORD_TAG,
    AWSError,
    ConflictError,
    DeploymentError,
    DeploymentStateError,
    ResourceNotFoundError,
    ScalingRecord,
    recover,
    restore_scaling,
    scaling_state,
    suspend_scaling,
)
from bluegreen.release import deploy, plan

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
RESOURCE = "service/prod/web"
ALL = {
    "DynamicScalingInSuspended": True,
    "DynamicScalingOutSuspended": True,
    "ScheduledScalingSuspended": True,
}


def targets(d: Deployer) -> list[dict[str, Any]]:
    """DescribeScalableTargets of the service, as boto3 returns it."""
    return list(
        d.autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[RESOURCE])[
            "ScalableTargets"
        ]
    )


def tags(d: Deployer) -> dict[str, str]:
    answer = d.ecs.list_tags_for_resource(resourceArn=d.env.service_arn)
    return {t["key"]: t["value"] for t in answer["tags"]}


def set_suspended(d: Deployer, **state: bool) -> None:
    d.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=RESOURCE,
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState=state,  # type: ignore[arg-type]
    )


@pytest.fixture
def on_call(sim: Any) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """Register a botocore handler on the simulator's shared session; removed afterwards."""
    events = sim.clients().session.events
    registered: list[tuple[str, Callable[..., Any]]] = []

    def register(event: str, handler: Callable[..., Any]) -> None:
        events.register(event, handler)
        registered.append((event, handler))

    yield register
    for event, handler in registered:
        events.unregister(event, handler)


def suspend(sim: Any, **kwargs: Any) -> Any:
    return suspend_scaling("prod", "web", clients=sim.clients(), clock=sim.clock, **kwargs)


def register_writes(sim: Any) -> list[str]:
    return [op for _, _, op in sim.api_calls("application-autoscaling") if op.startswith("Reg")]


def test_the_state_is_recorded_on_the_service_before_anything_is_suspended(sim, on_call):
    d = Deployer.create(sim)
    order: list[str] = []
    on_call("before-call.ecs.TagResource", lambda **kw: order.append("TagResource"))
    on_call(
        "before-call.application-autoscaling.RegisterScalableTarget",
        lambda **kw: order.append("RegisterScalableTarget"),
    )

    lease = suspend(sim)

    assert order == ["TagResource", "RegisterScalableTarget"]
    record = ScalingRecord.from_tag(tags(d)[RECORD_TAG])
    assert record == lease.record
    assert record.suspended == ("in", "out", "scheduled")
    assert record.targets[0].suspended == ()
    assert (record.targets[0].min_capacity, record.targets[0].max_capacity) == (1, 10)
    assert targets(d)[0]["SuspendedState"] == ALL
    assert len(tags(d)[RECORD_TAG]) <= 256


def test_restore_puts_back_the_recorded_flags_and_removes_the_record(sim):
    d = Deployer.create(sim)
    before = targets(d)

    with suspend(sim, deployment_id="d-123") as lease:
        assert targets(d)[0]["SuspendedState"] == ALL
    assert lease.restore().already_restored  # a second restore does nothing

    assert targets(d) == before
    assert RECORD_TAG not in tags(d)


def test_a_flag_suspended_before_stays_suspended_and_min_max_are_untouched(sim, on_call):
    d = Deployer.create(sim)
    set_suspended(d, DynamicScalingInSuspended=True)
    before = targets(d)
    sent: list[dict[str, Any]] = []
    on_call(
        "provide-client-params.application-autoscaling.RegisterScalableTarget",
        lambda params, **kw: sent.append(dict(params)),
    )

    lease = suspend(sim, suspend=("out",))
    assert targets(d)[0]["SuspendedState"] == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": True,
        "ScheduledScalingSuspended": False,
    }
    result = lease.restore()

    assert result.restored == (RESOURCE,)
    assert targets(d) == before
    assert targets(d)[0]["SuspendedState"]["DynamicScalingInSuspended"] is True
    assert sent
    assert all("MinCapacity" not in p and "MaxCapacity" not in p for p in sent)


def test_a_second_release_is_refused_while_a_record_exists(sim):
    Deployer.create(sim)
    first = suspend(sim, deployment_id="d-first")

    with pytest.raises(ConflictError) as caught:
        suspend(sim)

    message = str(caught.value)
    assert "d-first" in message
    assert "bluegreen.recover('prod', 'web')" in message  # Python advice for a Python caller
    assert "--cluster" not in message
    assert first.record.owner in message
    first.restore()


def test_a_release_that_loses_the_race_for_the_record_backs_off_without_suspending(sim, on_call):
    d = Deployer.create(sim)
    rival = ScalingRecord.from_tag("v=2 r=rival d=d-rival o=bob@ci t=2026-01-01T00:00:00Z s=-")

    def overwrite(**kwargs: Any) -> None:
        d.ecs.tag_resource(
            resourceArn=d.env.service_arn, tags=[{"key": RECORD_TAG, "value": rival.to_tag()}]
        )

    on_call("after-call.ecs.TagResource", overwrite)
    with pytest.raises(ConflictError, match="d-rival"):
        suspend(sim)

    assert "SuspendedState" not in targets(d) or not any(targets(d)[0]["SuspendedState"].values())
    assert ScalingRecord.from_tag(tags(d)[RECORD_TAG]).request_id == "rival"


def test_a_target_deregistered_meanwhile_is_reported_not_crashed_on(sim):
    d = Deployer.create(sim)
    lease = suspend(sim)
    d.autoscaling.deregister_scalable_target(
        ServiceNamespace="ecs", ResourceId=RESOURCE, ScalableDimension="ecs:service:DesiredCount"
    )

    result = restore_scaling("prod", "web", clients=sim.clients(), clock=sim.clock)

    assert result.missing == (RESOURCE,)
    assert result.restored == ()
    assert RECORD_TAG not in tags(d)
    assert targets(d) == []  # not registered again
    assert lease.restore().already_restored


def test_a_restore_that_keeps_failing_raises_loudly_and_keeps_the_record(sim):
    d = Deployer.create(sim)
    lease = suspend(sim, deployment_id="d-1")
    sim.faults.server_error("RegisterScalableTarget", service="application-autoscaling")

    with pytest.raises(AWSError) as caught:
        lease.restore()

    notes = " ".join(caught.value.__notes__)
    assert "NOT restored" in notes
    assert "bluegreen.recover('prod', 'web')" in notes
    assert RECORD_TAG in tags(d)
    sim.faults.clear()
    assert recover("prod", "web", clients=sim.clients(), clock=sim.clock).restored == (RESOURCE,)
    assert RECORD_TAG not in tags(d)


def test_the_context_manager_restores_on_keyboard_interrupt(sim):
    d = Deployer.create(sim)
    before = targets(d)

    with pytest.raises(KeyboardInterrupt), suspend(sim):
        raise KeyboardInterrupt

    assert targets(d) == before
    assert RECORD_TAG not in tags(d)


def test_restore_for_another_deployment_leaves_the_record_alone(sim):
    d = Deployer.create(sim)
    lease = suspend(sim, deployment_id="d-mine")

    result = restore_scaling(
        "prod", "web", deployment_id="d-other", clients=sim.clients(), clock=sim.clock
    )

    assert result.restored == ()
    assert not result.already_restored
    assert result.record == lease.record
    assert RECORD_TAG in tags(d)
    lease.restore()


def test_scaling_state_shows_the_targets_and_the_record(sim):
    Deployer.create(sim)
    lease = suspend(sim, deployment_id="d-9")

    state = scaling_state("prod", "web", clients=sim.clients())

    assert state.record == lease.record
    assert state.targets[0].suspended == ("in", "out", "scheduled")
    assert "d-9" in str(state)
    assert "or with bluegreen.recover(...)" in str(state)  # Python advice from Python
    assert json.loads(json.dumps(state.to_dict()))["record"]["deployment_id"] == "d-9"
    lease.restore()
    assert scaling_state("prod", "web", clients=sim.clients()).record is None


# -- recover -----------------------------------------------------------------------------------


def test_recover_refuses_while_the_deployment_runs_and_restores_after_the_end(sim):
    d = Deployer.create(sim)
    before = targets(d)
    lease = suspend(sim)
    deployment_id = d.deploy()
    lease.attach(deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        recover("prod", "web", clients=sim.clients(), clock=sim.clock)
    assert deployment_id in str(caught.value)
    assert "recover('prod', 'web', force=True)" in str(caught.value)
    assert "--force" not in str(caught.value)

    assert d.done(deployment_id) == "Succeeded"
    result = recover("prod", "web", clients=sim.clients(), clock=sim.clock)

    assert result.restored == (RESOURCE,)
    assert targets(d) == before
    assert recover("prod", "web", clients=sim.clients(), clock=sim.clock).already_restored


def test_recover_of_a_record_without_deployment_id_waits_for_the_groups_deployment(sim):
    d = Deployer.create(sim)
    suspend(sim)
    deployment_id = d.deploy()

    with pytest.raises(DeploymentStateError, match=deployment_id):
        recover("prod", "web", clients=sim.clients(), clock=sim.clock)
    forced = recover("prod", "web", force=True, clients=sim.clients(), clock=sim.clock)

    assert forced.restored == (RESOURCE,)


# -- deploy and wait ---------------------------------------------------------------------------


def test_a_fault_free_deploy_and_wait_leaves_the_scalable_target_byte_identical(sim):
    d = Deployer.create(sim)
    before = targets(d)

    deployment = deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)
    record = ScalingRecord.from_tag(tags(d)[RECORD_TAG])
    assert record.deployment_id == deployment.id
    assert targets(d)[0]["SuspendedState"] == ALL
    deployment.wait(min_interval=30, max_interval=60)

    assert targets(d) == before
    assert RECORD_TAG not in tags(d)


def test_deploy_without_suspending_writes_nothing(sim):
    d = Deployer.create(sim)
    before = targets(d)
    writes = len(register_writes(sim))

    deploy(
        "prod",
        "web",
        image=NEW_IMAGE,
        suspend_scaling=False,
        clients=sim.clients(),
        clock=sim.clock,
    )

    assert targets(d) == before
    assert RECORD_TAG not in tags(d)
    assert len(register_writes(sim)) == writes


def test_deploy_restores_when_create_deployment_fails(sim):
    d = Deployer.create(sim)
    before = targets(d)
    sim.faults.throttle("CreateDeployment")

    with pytest.raises(AWSError) as caught:
        deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)

    assert any("restored service/prod/web" in n for n in caught.value.__notes__)
    assert targets(d) == before
    assert RECORD_TAG not in tags(d)


def test_deploy_is_refused_before_any_change_when_another_release_holds_the_record(sim):
    d = Deployer.create(sim)
    other = suspend(sim)  # another release, about to create its deployment

    with pytest.raises(ConflictError, match="no deployment yet"):
        deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)

    assert sim.codedeploy.deployments == {}
    assert d.ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"] == [
        d.env.task_definition_arn
    ]
    other.restore()


def test_plan_says_what_deploy_will_suspend(sim):
    Deployer.create(sim)

    chosen = plan("prod", "web", image=NEW_IMAGE, suspend_scaling=["out"], clients=sim.clients())
    nothing = plan("prod", "web", image=NEW_IMAGE, suspend_scaling=False, clients=sim.clients())
    wrong = plan("prod", "web", image=NEW_IMAGE, suspend_scaling=["up"], clients=sim.clients())

    assert chosen.suspends_scaling == ("out",)
    assert "deploy suspends scaling (out)" in str(chosen)
    assert nothing.suspends_scaling == ()
    assert "scaling is not suspended" in str(nothing)
    assert any("suspend_scaling=" in p for p in wrong.problems)


def test_a_scaling_activity_during_a_suspended_deployment_does_not_change_desired_count(sim):
    d = Deployer.create(sim)
    deployment = deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)
    d.until_event(deployment.id, "Install", "Succeeded")
    desired = d.ecs.describe_services(cluster="prod", services=["web"])["services"][0][
        "desiredCount"
    ]

    assert not sim.scaling_activity("prod", "web", desired + 3)
    assert not sim.scaling_activity("prod", "web", max(1, desired - 1)) or desired == 1
    assert (
        d.ecs.describe_services(cluster="prod", services=["web"])["services"][0]["desiredCount"]
        == desired
    )
    deployment.wait(min_interval=30, max_interval=60)
    assert deployment.status().succeeded


def test_waiting_for_a_deployment_leaves_another_deployments_record_alone(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    other = suspend(sim, deployment_id="d-someone-else")

    from bluegreen import Deployment

    Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock).wait(
        min_interval=30, max_interval=60
    )

    assert ScalingRecord.from_tag(tags(d)[RECORD_TAG]) == other.record
    other.restore()


def test_an_unknown_service_is_not_found(sim):
    Deployer.create(sim)
    with pytest.raises(ResourceNotFoundError):
        scaling_state("prod", "nope", clients=sim.clients())


# -- the command line --------------------------------------------------------------------------


class _InterruptedClock:
    """The simulator's clock, with a Ctrl-C (or SIGTERM) during the third pause of a wait.

    Only pauses of a second or more count: the shared rate budget's short pauses (a fraction
    of a second, while the calls before CreateDeployment spend its burst) are not a wait's.
    """

    def __init__(self, clock: Any) -> None:
        self._clock = clock
        self.sleeps = 0

    def time(self) -> float:
        return float(self._clock.time())

    def sleep(self, seconds: float) -> None:
        if seconds >= 1.0:
            self.sleeps += 1
        if self.sleeps == 3:
            raise KeyboardInterrupt
        self._clock.sleep(seconds)


@pytest.fixture
def cli(sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``bluegreen`` in-process; its waits read the simulator's virtual clock."""
    import bluegreen.cli
    import bluegreen.cli._clock

    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: sim.clock)
    return bluegreen.cli


SERVICE = ("--cluster", "prod", "--service", "web")


def test_cli_ctrl_c_during_deploy_wait_restores_the_scaling_and_says_so(
    sim, cli, capsys, monkeypatch
):
    d = Deployer.create(sim)
    before = targets(d)
    interrupted = _InterruptedClock(sim.clock)
    monkeypatch.setattr(cli._clock, "_clock_factory", lambda: interrupted)

    code = cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--output", "json"])
    err = capsys.readouterr().err

    assert code == 130
    assert "scaling: restored service/prod/web" in err
    assert targets(d) == before
    assert RECORD_TAG not in tags(d)


def test_cli_deploy_suspends_only_what_it_is_told(sim, cli, capsys):
    d = Deployer.create(sim)

    code = cli.main(
        ["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait", "--suspend-scaling", "out"]
    )

    assert code == 0, capsys.readouterr().err
    assert ScalingRecord.from_tag(tags(d)[RECORD_TAG]).suspended == ("out",)
    assert targets(d)[0]["SuspendedState"]["DynamicScalingOutSuspended"] is True
    assert targets(d)[0]["SuspendedState"]["DynamicScalingInSuspended"] is False


def test_cli_deploy_no_suspend_scaling_leaves_it_alone(sim, cli, capsys):
    d = Deployer.create(sim)

    code = cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait", "--no-suspend-scaling"])

    assert code == 0, capsys.readouterr().err
    assert RECORD_TAG not in tags(d)


def test_cli_status_shows_the_scaling_and_the_record(sim, cli, capsys):
    d = Deployer.create(sim)
    assert cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait"]) == 0
    capsys.readouterr()

    assert cli.main(["status", *SERVICE]) == 0
    text = capsys.readouterr().out
    assert cli.main(["status", *SERVICE, "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)

    record = ScalingRecord.from_tag(tags(d)[RECORD_TAG])
    assert "suspended by bluegreen (in, out, scheduled)" in text
    assert document["scaling"]["record"]["deployment_id"] == record.deployment_id
    assert document["scaling"]["targets"][0]["suspended"] == ["in", "out", "scheduled"]


def test_cli_recover_refuses_while_running_then_restores(sim, cli, capsys):
    d = Deployer.create(sim)
    before = targets(d)
    assert cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait"]) == 0
    deployment_id = ScalingRecord.from_tag(tags(d)[RECORD_TAG]).deployment_id
    assert deployment_id is not None
    capsys.readouterr()

    assert cli.main(["recover", *SERVICE]) == 2
    err = capsys.readouterr().err
    assert "`bluegreen recover --force --cluster prod --service web`" in err
    assert "force=True" not in err
    assert d.done(deployment_id) == "Succeeded"
    assert cli.main(["recover", *SERVICE, "--output", "json"]) == 0

    assert json.loads(capsys.readouterr().out)["restored"] == [RESOURCE]
    assert targets(d) == before


def test_deploy_restores_a_record_whose_deployment_ended_unwatched_then_records_anew(sim):
    d = Deployer.create(sim)
    set_suspended(d, ScheduledScalingSuspended=True)
    before = targets(d)
    first = deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)
    assert d.done(first.id) == "Succeeded"  # nobody called wait()

    second = deploy(
        "prod",
        "web",
        image="public.ecr.aws/nginx/nginx:1.29",
        clients=sim.clients(),
        clock=sim.clock,
    )

    record = ScalingRecord.from_tag(tags(d)[RECORD_TAG])
    assert record.deployment_id == second.id
    assert record.targets[0].suspended == ("scheduled",)  # the state before, not the suspended one
    second.wait(min_interval=30, max_interval=60)
    assert targets(d) == before


def test_a_failed_deployment_s_wait_follows_the_rollback_and_restores_scaling(sim):
    d = Deployer.create(sim)
    before = targets(d)
    sim.register_hook("CodeDeployHook_fail", d.reporting_hook(status="Failed"))
    deployment = deploy(
        "prod",
        "web",
        image=NEW_IMAGE,
        hooks={"AfterAllowTestTraffic": "CodeDeployHook_fail"},
        clients=sim.clients(),
        clock=sim.clock,
    )

    with pytest.raises(DeploymentError) as failed:
        deployment.wait()

    rollback = sim.deployment(failed.value.rollback_deployment_id)
    assert str(rollback.status) == "Succeeded"
    assert RECORD_TAG not in tags(d)
    assert targets(d) == before
