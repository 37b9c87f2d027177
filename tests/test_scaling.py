"""bluegreen.scaling: record, suspend and restore Application Auto Scaling around a deployment,
on the simulator through real boto3 clients (retries sleep on its virtual clock)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploying import Deployer

import bluegreen
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
from bluegreen.deploying import deploy, plan
from bluegreen.errors import ValidationError
from bluegreen.scaling_record import record_key, records_in

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


def records(d: Deployer) -> tuple[ScalingRecord, ...]:
    """The scaling records on the service now, oldest first."""
    return records_in(tags(d), resource_id=RESOURCE)


def record_keys(d: Deployer) -> list[str]:
    return [k for k in tags(d) if k == RECORD_TAG or k.startswith(RECORD_TAG + ":")]


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
    assert record_keys(d) == [record_key(lease.record.request_id)]
    record = ScalingRecord.from_tag(tags(d)[lease.record.key])
    assert record == lease.record
    assert record.suspended == ("in", "out", "scheduled")
    assert record.targets[0].suspended == ()
    assert (record.targets[0].min_capacity, record.targets[0].max_capacity) == (1, 10)
    assert targets(d)[0]["SuspendedState"] == ALL
    assert len(tags(d)[record.key]) <= 256
    assert len(record.key) <= 128


def test_restore_puts_back_the_recorded_flags_and_removes_the_record(sim):
    d = Deployer.create(sim)
    before = targets(d)

    with suspend(sim, deployment_id="d-123") as lease:
        assert targets(d)[0]["SuspendedState"] == ALL
    assert lease.restore().already_restored  # a second restore does nothing

    assert targets(d) == before
    assert records(d) == ()


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


def test_two_leases_keep_their_own_records_and_each_kind_stays_suspended_while_its_record_is(sim):
    d = Deployer.create(sim)
    set_suspended(d, ScheduledScalingSuspended=True)  # the operator's own
    before = targets(d)
    first = suspend(sim, suspend=("out",))
    second = suspend(sim, suspend=("in",))

    assert {r.key for r in records(d)} == {first.record.key, second.record.key}
    assert second.record.targets == first.record.targets  # the original, not first's suspension
    assert targets(d)[0]["SuspendedState"] == ALL
    shown = str(scaling_state("prod", "web", clients=sim.clients()))
    assert shown.count("suspended by bluegreen") == 2
    assert "suspended before any release: scheduled" in shown

    given_back = first.restore()

    assert given_back.live == (second.record,)
    assert "kept suspended for no deployment yet" in str(given_back)
    assert targets(d)[0]["SuspendedState"] == {
        "DynamicScalingInSuspended": True,  # second's
        "DynamicScalingOutSuspended": False,  # first's, given back
        "ScheduledScalingSuspended": True,  # the operator's
    }
    assert [r.key for r in records(d)] == [second.record.key]
    assert second.restore().restored == (RESOURCE,)
    assert targets(d) == before
    assert records(d) == ()


def test_an_older_record_written_while_ours_is_read_back_gives_ours_its_original(sim, on_call):
    d = Deployer.create(sim)
    rival = ScalingRecord.from_tag(
        "v=2 r=rival d=- o=bob@ci t=2020-01-01T00:00:00Z s=in:out:scheduled g=1:10:001@" + RESOURCE
    )

    def rival_records_first(**kwargs: Any) -> None:
        # A release that read the targets before us recorded the original (scheduled was
        # suspended by the operator) and suspended, all before our read-back.
        if rival.key not in tags(d):
            d.ecs.tag_resource(
                resourceArn=d.env.service_arn, tags=[{"key": rival.key, "value": rival.to_tag()}]
            )
            set_suspended(d, **ALL)

    on_call("after-call.ecs.TagResource", rival_records_first)

    lease = suspend(sim, suspend=("out",))

    assert lease.record.targets == rival.targets
    assert ScalingRecord.from_tag(tags(d)[lease.record.key]).targets == rival.targets
    assert {r.key for r in records(d)} == {rival.key, lease.record.key}


def test_a_record_removed_just_after_attach_wrote_it_is_written_again_while_it_runs(sim, on_call):
    d = Deployer.create(sim)
    lease = suspend(sim)
    deployment_id = d.deploy()
    writes: list[str] = []

    def forced_restore_in_between(**kwargs: Any) -> None:
        writes.append("TagResource")
        if len(writes) == 1:  # attach's write: a `recover --force` lands right after it
            recover("prod", "web", force=True, clients=sim.clients(), clock=sim.clock)

    on_call("after-call.ecs.TagResource", forced_restore_in_between)
    lease.attach(deployment_id)

    assert [r.deployment_id for r in records(d)] == [deployment_id]
    assert targets(d)[0]["SuspendedState"] == ALL
    d.done(deployment_id)
    assert recover("prod", "web", clients=sim.clients(), clock=sim.clock).restored == (RESOURCE,)


def test_a_target_deregistered_meanwhile_is_reported_not_crashed_on(sim):
    d = Deployer.create(sim)
    lease = suspend(sim)
    d.autoscaling.deregister_scalable_target(
        ServiceNamespace="ecs", ResourceId=RESOURCE, ScalableDimension="ecs:service:DesiredCount"
    )

    result = restore_scaling("prod", "web", clients=sim.clients(), clock=sim.clock)

    assert result.missing == (RESOURCE,)
    assert result.restored == ()
    assert records(d) == ()
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
    assert records(d) == (lease.record,)
    sim.faults.clear()
    assert recover("prod", "web", clients=sim.clients(), clock=sim.clock).restored == (RESOURCE,)
    assert records(d) == ()


def test_the_context_manager_restores_on_keyboard_interrupt(sim):
    d = Deployer.create(sim)
    before = targets(d)

    with pytest.raises(KeyboardInterrupt), suspend(sim):
        raise KeyboardInterrupt

    assert targets(d) == before
    assert records(d) == ()


def test_restore_for_another_deployment_keeps_a_record_in_force_and_its_suspension(sim):
    d = Deployer.create(sim)
    lease = suspend(sim)  # no deployment yet: in force for the pending limit

    result = restore_scaling(
        "prod", "web", deployment_id="d-other", clients=sim.clients(), clock=sim.clock
    )

    assert result.restored == ()
    assert not result.already_restored
    assert result.live == (lease.record,)
    assert records(d) == (lease.record,)
    assert targets(d)[0]["SuspendedState"] == ALL
    lease.restore()


def test_scaling_state_shows_the_targets_and_the_record(sim):
    Deployer.create(sim)
    lease = suspend(sim, deployment_id="d-9")

    state = scaling_state("prod", "web", clients=sim.clients())

    assert state.record == lease.record
    assert state.records == (lease.record,)
    assert state.targets[0].suspended == ("in", "out", "scheduled")
    assert "d-9" in str(state)
    assert "or with bluegreen.recover(...)" in str(state)  # Python advice from Python
    assert "suspended before any release: nothing" in str(state)
    document = json.loads(json.dumps(state.to_dict()))
    assert document["record"]["deployment_id"] == "d-9"
    assert [r["key"] for r in document["records"]] == [lease.record.key]
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


def test_recover_of_a_record_without_deployment_id_waits_for_the_pending_limit(sim):
    d = Deployer.create(sim)
    before = targets(d)
    suspend(sim)  # a release that died before CreateDeployment

    with pytest.raises(DeploymentStateError) as caught:
        recover("prod", "web", clients=sim.clients(), clock=sim.clock)
    assert "has not created its deployment yet" in str(caught.value)
    assert "once the record is 10 min old (in 10 min)" in str(caught.value)
    sim.advance(10 * 60)
    result = recover("prod", "web", clients=sim.clients(), clock=sim.clock)

    assert result.restored == (RESOURCE,)
    assert targets(d) == before
    assert records(d) == ()


def test_an_expired_record_without_deployment_id_waits_for_a_deployment_no_record_names(sim):
    d = Deployer.create(sim)
    suspend(sim)
    deployment_id = d.deploy()  # created by the release that then died before recording it
    expired = dt.timedelta(0)

    with pytest.raises(DeploymentStateError, match=deployment_id):
        recover("prod", "web", pending_limit=expired, clients=sim.clients(), clock=sim.clock)
    forced = recover("prod", "web", force=True, clients=sim.clients(), clock=sim.clock)

    assert forced.restored == (RESOURCE,)
    assert records(d) == ()


# -- deploy and wait ---------------------------------------------------------------------------


def test_a_fault_free_deploy_and_wait_leaves_the_scalable_target_byte_identical(sim):
    d = Deployer.create(sim)
    before = targets(d)

    deployment = deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)
    (record,) = records(d)
    assert record.deployment_id == deployment.id
    assert targets(d)[0]["SuspendedState"] == ALL
    deployment.wait(min_interval=30, max_interval=60)

    assert targets(d) == before
    assert records(d) == ()


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
    assert records(d) == ()
    assert len(register_writes(sim)) == writes


def test_deploy_restores_when_create_deployment_fails(sim):
    d = Deployer.create(sim)
    before = targets(d)
    sim.faults.throttle("CreateDeployment")

    with pytest.raises(AWSError) as caught:
        deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)

    assert any("restored service/prod/web" in n for n in caught.value.__notes__)
    assert targets(d) == before
    assert records(d) == ()


def test_a_deploy_that_codedeploy_refuses_names_the_deployment_in_flight_and_gives_back(
    sim, on_call
):
    d = Deployer.create(sim)
    before = targets(d)
    revisions = d.ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"]
    other: list[str] = []

    def another_deployment_starts(**kwargs: Any) -> None:
        # Created by hand after this release's preflight: CodeDeploy refuses the second.
        if not other:
            other.append(d.deploy())

    on_call("before-call.codedeploy.CreateDeployment", another_deployment_starts)
    with pytest.raises(ConflictError) as caught:
        deploy("prod", "web", image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock)

    message = str(caught.value)
    assert f"deployment {other[0]} is in flight" in message
    assert f'bluegreen.Deployment.attach("{other[0]}").wait()' in message
    assert "--deployment-id" not in message
    assert isinstance(caught.value.__cause__, AWSError)
    assert caught.value.__cause__.code == "DeploymentLimitExceededException"
    assert any("was deregistered again" in n for n in caught.value.__notes__)
    active = d.ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"]
    assert active == [*revisions, active[-1]]  # the other deployment's revision, not ours
    assert targets(d) == before  # the deployment in flight has no record: nothing keeps it
    assert records(d) == ()


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


def test_the_end_of_a_wait_keeps_scaling_suspended_for_another_release_in_force(sim):
    d = Deployer.create(sim)
    before = targets(d)
    deployment_id = d.deploy()
    other = suspend(sim)  # a release about to create its deployment

    from bluegreen import Deployment

    Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock).wait(
        min_interval=30, max_interval=60
    )

    assert records(d) == (other.record,)
    assert targets(d)[0]["SuspendedState"] == ALL
    other.restore()
    assert targets(d) == before


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
    assert records(d) == ()


def test_cli_deploy_suspends_only_what_it_is_told(sim, cli, capsys):
    d = Deployer.create(sim)

    code = cli.main(
        ["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait", "--suspend-scaling", "out"]
    )

    assert code == 0, capsys.readouterr().err
    assert [r.suspended for r in records(d)] == [("out",)]
    assert targets(d)[0]["SuspendedState"]["DynamicScalingOutSuspended"] is True
    assert targets(d)[0]["SuspendedState"]["DynamicScalingInSuspended"] is False


def test_cli_deploy_no_suspend_scaling_leaves_it_alone(sim, cli, capsys):
    d = Deployer.create(sim)

    code = cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait", "--no-suspend-scaling"])

    assert code == 0, capsys.readouterr().err
    assert records(d) == ()


def test_cli_deploy_that_loses_to_a_deployment_in_flight_says_how_to_follow_it(
    sim, cli, capsys, on_call, monkeypatch
):
    d = Deployer.create(sim)
    import bluegreen.cli.deploy

    # The simulator's session, where on_call's handler is registered.
    monkeypatch.setattr(bluegreen.cli.deploy, "clients_from", lambda args: sim.clients())
    other: list[str] = []
    on_call(
        "before-call.codedeploy.CreateDeployment",
        lambda **kw: other.append(d.deploy()) if not other else None,
    )

    code = cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait"])

    err = capsys.readouterr().err
    assert code == 2
    assert f"`bluegreen wait --deployment-id {other[0]}`" in err
    assert "attach(" not in err
    assert "Traceback" not in err
    assert records(d) == ()


def test_cli_recover_pending_minutes_zero_restores_a_killed_releases_record_at_once(
    sim, cli, capsys
):
    d = Deployer.create(sim)
    before = targets(d)
    suspend(sim)  # the release was killed before creating its deployment

    assert cli.main(["recover", *SERVICE]) == 2
    assert "has not created its deployment yet" in capsys.readouterr().err
    assert cli.main(["recover", *SERVICE, "--pending-minutes", "0"]) == 0

    assert "scaling: restored service/prod/web" in capsys.readouterr().out
    assert targets(d) == before
    assert cli.main(["recover", *SERVICE, "--pending-minutes", "-1"]) == 2


def test_cli_status_shows_the_scaling_and_the_record(sim, cli, capsys):
    d = Deployer.create(sim)
    assert cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait"]) == 0
    capsys.readouterr()

    assert cli.main(["status", *SERVICE]) == 0
    text = capsys.readouterr().out
    assert cli.main(["status", *SERVICE, "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)

    (record,) = records(d)
    assert "suspended by bluegreen (in, out, scheduled)" in text
    assert document["scaling"]["record"]["deployment_id"] == record.deployment_id
    assert document["scaling"]["targets"][0]["suspended"] == ["in", "out", "scheduled"]


def test_cli_recover_refuses_while_running_then_restores(sim, cli, capsys):
    d = Deployer.create(sim)
    before = targets(d)
    assert cli.main(["deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait"]) == 0
    deployment_id = records(d)[0].deployment_id
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


def test_the_next_release_removes_a_record_whose_deployment_ended_unwatched_keeping_its_original(
    sim,
):
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

    (record,) = records(d)
    assert record.deployment_id == second.id
    assert record.targets[0].suspended == ("scheduled",)  # the original, not the suspended one
    assert targets(d)[0]["SuspendedState"] == ALL
    second.wait(min_interval=30, max_interval=60)
    assert targets(d) == before
    assert records(d) == ()


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
    assert records(d) == ()
    assert targets(d) == before


def test_the_public_functions_refuse_bad_arguments_before_any_call():
    with pytest.raises(ValidationError, match="suspend= takes some of in, out, scheduled, not 5"):
        bluegreen.suspend_scaling("prod", "web", suspend=5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        bluegreen.recover("", 123, clock=3)  # type: ignore[arg-type]
    assert caught.value.problems == (
        "cluster= is empty: give a cluster name or ARN",
        "service= must be a service name or ARN (a string), got int 123",
        "clock= must have time() and sleep(seconds) methods, got int 3",
    )
    with pytest.raises(ValidationError, match=r"pending_limit= must be a datetime\.timedelta"):
        bluegreen.restore_scaling("prod", "web", pending_limit=-1)  # type: ignore[arg-type]
