"""Two releases of one service at once (issue 13): whatever the interleaving of their scaling
records, suspensions and CreateDeployment calls, exactly one deployment runs, scaling is
suspended for the whole of it, and afterwards the scalable target is exactly as it was (the
operator's own suspension of scheduled scaling included) with no record left.

Each release runs ``bluegreen.deploy`` (or a wait) on its own thread, with its own boto3
clients, against one in-process simulator. An interleaving is forced, never hoped for: a
botocore ``before-call`` handler on one side's clients holds a call until the other side has
done something (an ``after-call`` handler on the other's clients sets an event). The calls
of both sides are made one at a time, as AWS makes each call atomic (moto does not).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from deploying import Deployer

from bluegreen import ConflictError, Deployment, DeploymentStateError, recover
from bluegreen.deploying import deploy
from bluegreen.scaling import PENDING_LIMIT, RECORD_TAG, suspend_scaling
from bluegreen.scaling_record import ScalingRecord, records_in

RESOURCE = "service/prod/web"
HOLD_SECONDS = 30.0
"""A held call gives up (and fails the test) after this long: a bug must not hang the suite."""
ALL = {
    "DynamicScalingInSuspended": True,
    "DynamicScalingOutSuspended": True,
    "ScheduledScalingSuspended": True,
}
TERMINAL = ("Succeeded", "Failed", "Stopped")


class Side:
    """One release's clients, with calls held until an event and events set after calls."""

    def __init__(self, sim: Any, name: str, one_at_a_time: threading.Lock) -> None:
        self.name = name
        self.clients = sim.clients()
        self._one_at_a_time = one_at_a_time
        self._holds: list[tuple[str, int, Callable[[], bool]]] = []
        self._signals: list[tuple[str, int, threading.Event]] = []
        self._reached: list[tuple[str, int, threading.Event]] = []
        self._started: Counter[str] = Counter()
        self._finished: Counter[str] = Counter()
        clients = self.clients
        for client in (clients.ecs, clients.codedeploy, clients.autoscaling, clients.elbv2):
            client.meta.events.register("before-call", self._before)
            client.meta.events.register("after-call", self._after)
            client.meta.events.register("after-call-error", self._after)
        clients.cloudwatch.meta.events.register("before-call", self._before)
        clients.cloudwatch.meta.events.register("after-call", self._after)
        clients.cloudwatch.meta.events.register("after-call-error", self._after)

    def hold(
        self, operation: str, until: threading.Event | threading.Barrier, nth: int = 1
    ) -> None:
        """Hold this side's ``nth`` call of ``operation`` until ``until`` is set (or passed)."""

        def wait() -> bool:
            if isinstance(until, threading.Barrier):
                until.wait(HOLD_SECONDS)  # raises BrokenBarrierError when it times out
                return True
            return until.wait(HOLD_SECONDS)

        self._holds.append((operation, nth, wait))

    def reached(self, operation: str, event: threading.Event, nth: int = 1) -> None:
        """Set ``event`` when this side's ``nth`` call of ``operation`` is about to be made
        (before any hold of it)."""
        self._reached.append((operation, nth, event))

    def signal(self, operation: str, event: threading.Event, nth: int = 1) -> None:
        """Set ``event`` once this side's ``nth`` call of ``operation`` has been answered."""
        self._signals.append((operation, nth, event))

    def _before(self, model: Any, **kwargs: Any) -> None:
        self._started[model.name] += 1
        for operation, nth, event in self._reached:
            if (operation, nth) == (model.name, self._started[model.name]):
                event.set()
        for operation, nth, wait in self._holds:
            if (operation, nth) == (model.name, self._started[model.name]) and not wait():
                raise AssertionError(f"{self.name}: {operation} held for {HOLD_SECONDS:g} s")
        self._one_at_a_time.acquire()

    def _after(self, model: Any, **kwargs: Any) -> None:
        self._one_at_a_time.release()
        self._finished[model.name] += 1
        for operation, nth, event in self._signals:
            if (operation, nth) == (model.name, self._finished[model.name]):
                event.set()


class Run(threading.Thread):
    """``action()`` on its own thread; its result or the exception it raised."""

    def __init__(self, action: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._action = action
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._action()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def finish(self) -> Run:
        self.join(timeout=HOLD_SECONDS * 2)
        assert not self.is_alive(), "the release never ended"
        return self


class Race:
    """The sample service with two release sides whose calls are made one at a time."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.d = Deployer.create(sim)
        # The operator suspended scheduled scaling before any release: it must stay so.
        self.d.autoscaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=RESOURCE,
            ScalableDimension="ecs:service:DesiredCount",
            SuspendedState={"ScheduledScalingSuspended": True},
        )
        self.before = self.targets()
        self._one_at_a_time = threading.Lock()
        self.a = self.side("A")
        self.b = self.side("B")

    def side(self, name: str) -> Side:
        """Another side, its calls made one at a time with the others'."""
        return Side(self.sim, name, self._one_at_a_time)

    def release(self, side: Side, image: str) -> Run:
        def action() -> Deployment:
            return deploy("prod", "web", image=image, clients=side.clients, clock=self.sim.clock)

        run = Run(action)
        run.start()
        return run

    def targets(self) -> list[dict[str, Any]]:
        return list(
            self.d.autoscaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[RESOURCE]
            )["ScalableTargets"]
        )

    def flags(self) -> dict[str, bool]:
        return dict(self.targets()[0]["SuspendedState"])

    def records(self) -> tuple[ScalingRecord, ...]:
        answer = self.d.ecs.list_tags_for_resource(resourceArn=self.d.env.service_arn)
        return records_in({t["key"]: t["value"] for t in answer["tags"]}, resource_id=RESOURCE)

    def deployments(self) -> list[str]:
        return list(self.sim.codedeploy.deployments)

    def flags_at_every_step(self, deployment_id: str) -> list[tuple[str, dict[str, bool]]]:
        """Run the deployment to its end on the simulator's clock, reading the flags after
        every step of its lifecycle; ``(status, flags)`` of each step before the end."""
        seen: list[tuple[str, dict[str, bool]]] = []

        def ended() -> bool:
            status = str(self.sim.deployment(deployment_id).status)
            if status in TERMINAL:
                return True
            seen.append((status, self.flags()))
            return False

        self.sim.run_until(ended)
        return seen

    def assert_left_as_found(self) -> None:
        assert self.targets() == self.before
        assert self.records() == ()


def winner_and_loser(first: Run, second: Run) -> tuple[Deployment, ConflictError]:
    """The deployment of the release that won and the error of the one that lost."""
    first.finish(), second.finish()
    outcomes = sorted((first, second), key=lambda run: run.error is not None)
    won, lost = outcomes
    assert won.error is None, won.error
    assert isinstance(lost.error, ConflictError), lost.error
    return won.result, lost.error


def assert_names_the_winner(error: ConflictError, deployment_id: str) -> None:
    message = str(error)
    assert error.deployment_id == deployment_id
    assert f"deployment {deployment_id} is in flight" in message
    assert f'bluegreen.Deployment.attach("{deployment_id}").wait()' in message
    assert error.__cause__ is not None
    assert getattr(error.__cause__, "code", None) == "DeploymentLimitExceededException"


def assert_suspended_throughout(race: Race, deployment_id: str) -> None:
    steps = race.flags_at_every_step(deployment_id)
    assert len(steps) > 5, steps  # the lifecycle's steps were watched, not just its end
    assert [flags for _, flags in steps] == [ALL] * len(steps), steps


@pytest.fixture
def race(sim: Any) -> Race:
    return Race(sim)


def test_two_releases_started_at_once_make_one_deployment_and_the_loser_names_it(race):
    both_ready = threading.Barrier(2)
    race.a.hold("TagResource", both_ready)  # the first write of each: the scaling record
    race.b.hold("TagResource", both_ready)

    won, lost = winner_and_loser(
        race.release(race.a, "nginx:1.28"), race.release(race.b, "nginx:1.29")
    )

    assert race.deployments() == [won.id]
    assert_names_the_winner(lost, won.id)
    assert [r.deployment_id for r in race.records()] == [won.id]  # the loser gave its back
    assert race.flags() == ALL
    assert_suspended_throughout(race, won.id)
    won.wait()
    race.assert_left_as_found()


def test_a_record_written_after_the_other_release_created_its_deployment_keeps_it_suspended(
    race,
):
    b_created = threading.Event()
    race.b.signal("CreateDeployment", b_created)
    race.a.hold("TagResource", b_created)

    a = race.release(race.a, "nginx:1.28")
    b = race.release(race.b, "nginx:1.29").finish()
    a.finish()

    assert b.error is None, b.error
    assert race.flags() == ALL  # A's give-back left B's suspension alone
    assert_suspended_throughout(race, b.result.id)
    b.result.wait()
    race.assert_left_as_found()
    assert_names_the_winner(winner_and_loser(a, b)[1], b.result.id)


def test_a_release_that_reads_the_flags_after_the_other_suspended_leaves_nothing_suspended(race):
    b_suspended, b_created = threading.Event(), threading.Event()
    race.b.signal("RegisterScalableTarget", b_suspended)
    race.b.signal("CreateDeployment", b_created)
    race.a.hold("DescribeScalableTargets", b_suspended)  # A's preflight reads the flags
    race.a.hold("TagResource", b_created)

    a = race.release(race.a, "nginx:1.28")
    b = race.release(race.b, "nginx:1.29").finish()
    a.finish()

    assert b.error is None, b.error
    assert_suspended_throughout(race, b.result.id)
    b.result.wait()
    race.assert_left_as_found()  # nothing left suspended, no record
    assert_names_the_winner(winner_and_loser(a, b)[1], b.result.id)


def test_a_restore_at_the_end_racing_a_new_releases_suspension_puts_the_suspension_back(race):
    first = deploy("prod", "web", image="nginx:1.28", clients=race.a.clients, clock=race.sim.clock)
    assert race.sim.run_until_done(first.id) == "Succeeded"  # nobody has waited yet
    waiter = race.side("wait")
    restoring, e_suspended = threading.Event(), threading.Event()
    # The end of the first deployment's wait has read the flags and the records and is
    # about to restore; only then does the next release start. Its restore lands once the
    # next release has suspended (RegisterTaskDefinition comes right after).
    waiter.reached("RegisterScalableTarget", restoring)
    race.b.hold("DescribeServices", restoring)
    race.b.signal("RegisterTaskDefinition", e_suspended)
    waiter.hold("RegisterScalableTarget", e_suspended)

    ending = Run(Deployment.attach(first.id, clients=waiter.clients, clock=race.sim.clock).wait)
    ending.start()
    second = race.release(race.b, "nginx:1.29")
    ending.finish(), second.finish()

    assert ending.error is None, ending.error
    assert second.error is None, second.error
    assert [r.deployment_id for r in race.records()] == [second.result.id]
    assert race.flags() == ALL
    assert_suspended_throughout(race, second.result.id)
    second.result.wait()
    race.assert_left_as_found()


def test_a_killed_releases_record_expires_after_the_pending_limit_and_recover_restores(race):
    suspend_scaling("prod", "web", clients=race.a.clients, clock=race.sim.clock)  # then killed
    deployment = deploy(
        "prod", "web", image="nginx:1.29", clients=race.b.clients, clock=race.sim.clock
    )
    deployment.wait()  # the killed release's record is still in force: nothing restored
    assert race.flags() == ALL

    with pytest.raises(DeploymentStateError, match="has not created its deployment yet"):
        recover("prod", "web", clients=race.b.clients, clock=race.sim.clock)
    race.sim.advance(PENDING_LIMIT.total_seconds())
    result = recover("prod", "web", clients=race.b.clients, clock=race.sim.clock)

    assert result.restored == (RESOURCE,)
    race.assert_left_as_found()


def test_a_record_under_the_legacy_single_key_is_restored_by_recover(race):
    ended = race.d.deploy()
    assert race.d.done(ended) == "Succeeded"
    legacy = f"v=2 r=0123456789abcdef d={ended} o=ci t=2025-01-01T00:00:00Z s=in:out g=1:10:001@"
    race.d.ecs.tag_resource(
        resourceArn=race.d.env.service_arn, tags=[{"key": RECORD_TAG, "value": legacy}]
    )
    race.d.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=RESOURCE,
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState=ALL,
    )

    result = recover("prod", "web", clients=race.a.clients, clock=race.sim.clock)

    assert result.restored == (RESOURCE,)
    assert result.record is not None
    assert result.record.is_legacy
    race.assert_left_as_found()
