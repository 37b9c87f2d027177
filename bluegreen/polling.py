"""When to read a deployment again, and when a wait is over.

``Milestone`` names the points ``Deployment.wait(until=...)`` can wait for and ``reached``
says whether a snapshot is at one. ``poll_interval`` is the polling schedule: often around
expected transitions and right after a change, rarely during long bakes, between a floor
and a ceiling; a wait that watches only for the end reads rarely until the termination
wait is due (``earliest_end``, ``expected_end``; every ``BEFORE_END_CEILING`` at most
while a failure can end it) and steadily after. ``poll`` is the loop that reads, reports
and sleeps on the injected clock.
Retrying a call AWS refused is another kind of waiting, done by ``bluegreen._aws.Caller``.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Callable

from bluegreen._advice import advice
from bluegreen.clock import Clock
from bluegreen.errors import ValidationError, WaitTimeoutError
from bluegreen.native_status import STAGE_EVENTS, LifecycleStage, StageMilestone
from bluegreen.snapshot import DeploymentSnapshot, TransitionState
from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus, TargetLabel

__all__ = [
    "AFTER_END",
    "BEFORE_END_CEILING",
    "CLEANUP_SECONDS",
    "Milestone",
    "done_when",
    "earliest_end",
    "expected_end",
    "interval_problems",
    "poll",
    "poll_interval",
    "reached",
    "shift_ends",
]


class Milestone(enum.StrEnum):
    """Points of a deployment that ``Deployment.wait(until=...)`` can wait for."""

    INSTALLED = "installed"
    """Install Succeeded: green runs in steady state."""
    TEST_TRAFFIC = "test_traffic"
    """AllowTestTraffic Succeeded (or Skipped, without a test listener)."""
    READY = "ready"
    """Status Ready (waiting for ``promote()``) or BeforeAllowTraffic started."""
    TRAFFIC_STEP = "traffic_step"
    """The next production traffic step after the wait starts (green's weight goes up),
    or all traffic shifted."""
    TRAFFIC_SHIFTED = "traffic_shifted"
    """AllowTraffic Succeeded: production traffic goes to green."""
    TERMINATION_WAIT = "termination_wait"
    """Every lifecycle event done and the deployment still InProgress: blue is kept."""
    END = "end"
    """Succeeded, Failed or Stopped."""


def _green_weight(snapshot: DeploymentSnapshot) -> float:
    green = snapshot.task_set(TargetLabel.GREEN)
    return green.traffic_weight if green is not None else 0.0


def _next_step() -> Callable[[DeploymentSnapshot], bool]:
    """A test for ``Milestone.TRAFFIC_STEP``: green's weight above its first reading."""
    first: list[float] = []

    def done(snapshot: DeploymentSnapshot) -> bool:
        weight = _green_weight(snapshot)
        if not first:
            first.append(weight)
        return reached(snapshot, Milestone.TRAFFIC_SHIFTED) or weight > first[0]

    return done


def reached(snapshot: DeploymentSnapshot, milestone: Milestone | StageMilestone) -> bool:
    """True once ``snapshot`` is at or past ``milestone`` (failures are checked first). An
    ECS-native deployment rolling back reaches nothing but its end."""
    if snapshot.status.is_terminal:
        return True
    if snapshot.native is not None and snapshot.native.rolling_back:
        return False
    if isinstance(milestone, StageMilestone):
        return _stage_reached(snapshot, milestone.stage)
    event = snapshot.event
    done_ok = (LifecycleEventStatus.SUCCEEDED, LifecycleEventStatus.SKIPPED)
    if milestone is Milestone.INSTALLED:
        install = event(LifecycleEvent.INSTALL)
        return install is not None and install.status is LifecycleEventStatus.SUCCEEDED
    if milestone is Milestone.TEST_TRAFFIC:
        test = event(LifecycleEvent.ALLOW_TEST_TRAFFIC)
        if test is None:  # groups without a test listener may omit the event
            after = event(LifecycleEvent.AFTER_INSTALL)
            return after is not None and after.status in done_ok
        return test.status in done_ok
    if milestone is Milestone.READY:
        before = event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC)
        return snapshot.status is DeploymentStatus.READY or (
            before is not None and before.has_started
        )
    if milestone is Milestone.TRAFFIC_SHIFTED:
        shift = event(LifecycleEvent.ALLOW_TRAFFIC)
        return shift is not None and shift.status is LifecycleEventStatus.SUCCEEDED
    if milestone is Milestone.TERMINATION_WAIT:
        return snapshot.in_termination_wait
    return False


def _stage_reached(snapshot: DeploymentSnapshot, stage: LifecycleStage) -> bool:
    """At ``stage`` or past it: by the stage a native deployment reports, or by the event
    it maps to for a CodeDeploy one (BAKE_TIME: the termination wait)."""
    if snapshot.native is not None:
        now = LifecycleStage.parse(snapshot.native.stage)
        return now is not None and now.position >= stage.position
    if stage is LifecycleStage.BAKE_TIME:
        return snapshot.in_termination_wait
    if stage is LifecycleStage.CLEAN_UP:
        return False  # CodeDeploy reports no clean-up: the end is its only sign
    event = STAGE_EVENTS.get(stage) or STAGE_EVENTS[LifecycleStage.PRE_SCALE_UP]
    return any(e.name >= event and e.has_started for e in snapshot.events)


def done_when(milestone: Milestone | StageMilestone) -> Callable[[DeploymentSnapshot], bool]:
    """The test a wait for ``milestone`` applies to each snapshot."""
    if milestone is Milestone.TRAFFIC_STEP:
        return _next_step()
    return lambda snapshot: reached(snapshot, milestone)


_RAMP = 0.25
"""Away from an expected transition, poll after this fraction of the time since the last
change: a phase that has lasted ten minutes is read every two and a half."""

AFTER_END = 0.5
"""Once the termination wait is due, a wait for the end reads every ``min_interval`` times
this (2.5 s by default), steadily: all that is left is CodeDeploy deleting blue, which
takes 0-120 s, and every second it goes unnoticed is lag."""

BEFORE_END_CEILING = 30.0
"""The longest pause, in seconds, of a wait for the end before the termination wait while
the deployment is at work: installing, running a lifecycle hook, or between AllowTraffic's
last step and the termination wait. A failed hook, an install that times out or an alarm
that stops the deployment ends it then, and is noticed within this (``max_interval`` if
that is lower; never below ``min_interval``). During the ready wait and a bake (traffic
steps still ahead) the pause stays up to ``max_interval``, as in the termination wait.
Half the default ``max_interval``: one or two more reads (of GetDeployment and
GetDeploymentTarget) for a short install; 20 s would cost about as many again, which the
shortest deployments (AllAtOnce) cannot afford (bench/README.md, wait lag)."""

CLEANUP_SECONDS = 180.0
"""How long the steady reads after the termination wait's due time last: blue's clean-up
takes 0-120 s (contract 2.1, 6.1). A deployment still not ended after that counts as late
and is read less and less often, as after any other change."""


def expected_end(snapshot: DeploymentSnapshot) -> dt.datetime | None:
    """When the termination wait is due to end (blue's clean-up starts then), once known:
    from the moment the deployment is in its termination wait."""
    expected = [t for t in snapshot.transitions if t.state is TransitionState.EXPECTED]
    return expected[-1].due if expected and snapshot.in_termination_wait else None


def shift_ends(snapshot: DeploymentSnapshot) -> dt.datetime | None:
    """The soonest all production traffic can be on green: AllowTraffic's start plus the
    schedule's last step, once AllowTraffic has started (None before, or without a
    schedule). The termination wait cannot start before."""
    shift = snapshot.event(LifecycleEvent.ALLOW_TRAFFIC)
    if snapshot.schedule is None or shift is None or shift.start is None:
        return None
    if not shift.has_started:
        return None
    steps = snapshot.schedule.steps
    return shift.start + dt.timedelta(minutes=steps[-1].minute if steps else 0)


def earliest_end(snapshot: DeploymentSnapshot) -> dt.datetime | None:
    """The soonest the termination wait can be due, from the schedule: the traffic steps
    left, then the whole termination wait (the ready wait, ended by a promotion at any
    moment, counts as nothing). None without a schedule or before it is observed."""
    schedule, now = snapshot.schedule, snapshot.observed_at
    if schedule is None or now is None:
        return None
    due = expected_end(snapshot)
    if due is not None:
        return due
    shifted_by = shift_ends(snapshot)
    if shifted_by is None:
        steps = schedule.steps
        shifted_by = now + dt.timedelta(minutes=steps[-1].minute if steps else 0)
    return max(now, shifted_by) + dt.timedelta(minutes=schedule.termination_wait_minutes)


def _end_pause(snapshot: DeploymentSnapshot, now: dt.datetime, low: float, high: float) -> float:
    """``poll_interval`` for a wait that only watches for the end."""
    steady = low * AFTER_END
    due = expected_end(snapshot)
    if due is not None:
        if now < due:  # the first read after the due time comes one steady pause after it
            return min(high, (due - now).total_seconds() + steady)
        late = (now - due).total_seconds() - CLEANUP_SECONDS
        return steady if late <= 0 else min(high, max(steady, late * _RAMP))
    # Before the termination wait: nothing but a failure or a stop ends the deployment
    # until the termination wait has run, so read rarely (up to the ceiling, or
    # BEFORE_END_CEILING while something is at work that can fail); without a schedule, or
    # with no termination wait, slow down as time passes without a change.
    last = snapshot.start_time or snapshot.create_time
    quiet = (now - last).total_seconds() if last is not None and last <= now else 0.0
    earliest = earliest_end(snapshot)
    ahead = (earliest - now).total_seconds() if earliest is not None else 0.0
    pause = min(high, max(low, quiet * _RAMP, ahead))
    if snapshot.status is DeploymentStatus.READY:
        return pause  # the ready wait: a promotion is awaited, nothing is at work
    shift = snapshot.event(LifecycleEvent.ALLOW_TRAFFIC)
    shifting_until = shift_ends(snapshot)
    baking = shift is not None and not shift.status.is_done
    if baking and shifting_until is not None and now < shifting_until:
        return pause  # a bake: traffic steps are still ahead
    # at work (install, a hook): a failure can end the deployment at any moment
    return min(pause, max(low, BEFORE_END_CEILING))


def poll_interval(
    snapshot: DeploymentSnapshot,
    *,
    min_interval: float = 5.0,
    max_interval: float = 60.0,
    only_end: bool = False,
) -> float:
    """Seconds to wait before reading a deployment again, given what it looked like.

    Near an expected transition (a traffic step, the end of a wait) and right after a
    change this is ``min_interval``; the longer nothing has changed the longer the pause,
    up to ``max_interval``, but never past the next expected transition.

    With ``only_end`` (someone waits for the end and watches nothing on the way) only the
    end counts. Before the termination wait the pause is as long as the schedule allows
    while the traffic steps and the termination wait still to come make an end impossible
    sooner, up to ``BEFORE_END_CEILING`` (30 s) while the deployment is at work
    (installing, a hook), so a failure there is noticed within that, and up to
    ``max_interval`` during the ready wait and a bake (traffic steps still ahead). During
    the termination wait it is ``max_interval`` until the wait is due, then
    ``min_interval * AFTER_END`` (2.5 s by default) steadily while blue is deleted
    (``CLEANUP_SECONDS``), and slower again past that.
    """
    now = snapshot.observed_at
    if now is None:
        return min_interval
    if only_end:
        return _end_pause(snapshot, now, min_interval, max_interval)
    upcoming = snapshot.next_transition
    due = upcoming.due if upcoming is not None else None
    last = snapshot.last_change
    # A transition that is late counts as a change: poll often right after its due time,
    # then less and less, so a slow drain of blue does not cost a call every few seconds.
    moments = [m for m in (last, due) if m is not None and m <= now]
    quiet = (now - max(moments)).total_seconds() if moments else 0.0
    pause = min(max_interval, max(min_interval, quiet * _RAMP))
    if due is not None and due > now:
        pause = min(pause, max(min_interval, (due - now).total_seconds()))
    return pause


def interval_problems(min_interval: object, max_interval: object) -> list[str]:
    """Why ``min_interval`` and ``max_interval`` cannot bound a wait's pauses (empty: they
    can): each a positive number of seconds, the first no longer than the second."""
    problems = []
    names = {
        "min": advice("min_interval=", "--min-interval "),
        "max": advice("max_interval=", "--max-interval "),
    }
    for key, value in (("min", min_interval), ("max", max_interval)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            shown = f"{value!r}" if isinstance(value, int | float) else type(value).__name__
            problems.append(
                f"{names[key].strip()} must be a positive number of seconds, got {shown}"
            )
    if not problems and min_interval > max_interval:  # type: ignore[operator]
        problems.append(
            f"{names['min']}{min_interval:g} is more than {names['max']}{max_interval:g}: "
            f"the shortest pause cannot be longer than the longest; give "
            f"{names['min'].strip()} at most {max_interval:g}, or a larger "
            f"{names['max'].strip()}"
        )
    return problems


def poll(
    read: Callable[[DeploymentSnapshot | None, bool], DeploymentSnapshot],
    done: Callable[[DeploymentSnapshot], bool],
    *,
    clock: Clock,
    rate: Callable[[], float],
    deployment_id: str,
    milestone: Milestone | StageMilestone | str,
    timeout: float | None,
    min_interval: float,
    max_interval: float,
    on_progress: Callable[[DeploymentSnapshot], None] | None,
    wake: Callable[[], float | None] | None = None,
    light: bool = False,
) -> DeploymentSnapshot:
    """Read until ``done``; the first snapshot that is, is returned.

    ``read(previous, light)`` reads the next snapshot; ``light`` is True when the wait is for
    the end and nobody watches the way there (or ``light`` was asked for: ``on_progress``
    then sees what such a wait reads), so the read may skip what only they would see.

    The pauses follow ``poll_interval``, in the server's seconds (``rate()`` of them per
    second of ``clock``), and sleep on ``clock``. ``wake()`` gives the server seconds until
    something else is due (an analysis's next evaluation), or None: no pause is longer.

    Raises:
        WaitTimeoutError: ``timeout`` seconds of ``clock`` passed first.
        ValidationError: the intervals are not ``0 < min_interval <= max_interval``.
    """
    problems = interval_problems(min_interval, max_interval)
    if problems:
        raise ValidationError(problems, subject=advice("wait arguments", "command line"))
    started = clock.time()
    only_end = milestone is Milestone.END and (on_progress is None or light)
    snapshot: DeploymentSnapshot | None = None
    while True:
        snapshot = read(snapshot, only_end)
        if on_progress is not None:
            on_progress(snapshot)
        if done(snapshot):
            return snapshot
        elapsed = clock.time() - started
        if timeout is not None and elapsed >= timeout:
            raise WaitTimeoutError(
                deployment_id=deployment_id,
                milestone=str(milestone),
                waiting_for=snapshot.waiting_for or str(snapshot.status),
                elapsed=elapsed,
            )
        # The schedule is in the server's seconds, the bounds and the sleep in ours.
        speed = rate()
        pause = (
            poll_interval(
                snapshot,
                min_interval=min_interval * speed,
                max_interval=max_interval * speed,
                only_end=only_end,
            )
            / speed
        )
        due = wake() if wake is not None else None
        if due is not None:
            pause = min(pause, due / speed)
        if timeout is not None:
            pause = min(pause, timeout - elapsed)
        clock.sleep(max(0.0, pause))
