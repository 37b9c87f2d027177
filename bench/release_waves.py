"""A release of 50 services in 3 waves (``bluegreen.release``) on the simulator's virtual clock.

Run by hand (never in CI): ``python bench/release_waves.py [RUNS]`` (default 3; a run of
the three configurations takes about a minute of wall time). Each configuration runs on a
fresh simulator whose virtual clock the release's threads share (``VirtualClock.worker()``,
which ``bluegreen.release`` enters by itself), so simulated time moves only when every
thread waits: the figures are the schedule's and the rate budget's, not this machine's.

The release: 50 sample services (``svc0``..., cluster ``prod``, built as
``bench/release_many.py`` builds them: CodeDeployDefault.ECSCanary10Percent5Minutes, a
1-minute termination wait, the simulator's 30 s clean-up of blue, no hooks), in waves

* ``canary``: 1 service, then a 5-minute bake;
* ``early``: 9 services, all at once (concurrency 9), then a 5-minute bake;
* ``rest``: 40 services, 20 at once: two rounds, so the wave shows how the next service
  starts when one ends. 20 is the width release_many.py measured within the budget: 20
  waits read about 0.16 of the 5 calls/s on average and only their ends crowd it.

Configurations:

1. **one account**: every service in the default account and region: one ``RateBudget``
   (5 calls/s, burst 10) for all 50.
2. **two accounts**: the services alternate between two IAM roles
   (``ServiceRelease(role=...)``), so the release has two accounts with a budget each. The
   simulator serves one region only (CodeDeploy in another region answers
   InvalidInputException), so the split is by role, not region; ``Accounts`` keys budgets
   by (role, region) either way. In the simulator both roles live in its one moto account.
3. **failure**: one wave of 20 at once where ``svc7`` has a hook that reports Failed at
   AfterAllowTestTraffic, so the release stops the 19 others in flight.

What is measured, in simulated time, from the events (``on_event``, each timed by the
virtual clock when it is told), CodeDeploy's ``createTime``/``completeTime`` of every
deployment, and every AWS call: counted by
``bluegreen._aws.recording_calls`` (every ``Caller`` of the process), and timed as sent
(after the rate budget let it go) by a botocore ``before-send`` handler the recorder puts
on each client it sees, which also reads the call's account (its access key) from the
signature.

* **ideal**: the schedule a runner with no overhead achieves with the deployments' actual
  durations: per wave, a list schedule (at most ``concurrency`` at once, each next service
  in manifest order starting the moment a slot frees), plus the bakes. Also printed: the
  ideal with ``ceil(n / concurrency)`` times the wave's longest deployment, and the issue's
  literal baseline, the sum of the waves' longest deployments plus the bakes (unreachable
  for the 40-service wave at 20 at once).
* **overhead** = release - ideal, split exactly into: reading the release's state
  (``read_release``: the call to the ``release_started`` event), planning (``plan_release``:
  to the first ``wave_started``), the waves' starts (``wave_started`` to its first
  CodeDeploy ``createTime``), in the waves (first ``createTime`` to last ``completeTime``,
  less the wave's ideal), bakes beyond their setting (a bake counts from the wave's last
  ``completeTime``), and the lag from the last deployment's end to ``release`` returning.
* **slot gaps** (the 40-service wave): from the k-th deployment's end to the start of the
  service that took its slot (the (20+k)-th in manifest order), split into the lag until
  the runner saw the end (its ``service`` event ``succeeded``, after the wait's scaling
  restore) and the cost of starting the next one (to its ``createTime``).
* **calls**: per account, calls per simulated second over the release, and the busiest
  1-second and 10-second windows (a token bucket allows at most ``burst + rate x window``:
  15 and 60), the calls of each part and per operation, and the seconds callers slept
  for the process-wide ``DEFAULT_BUDGET`` (a release's calls should all draw from their
  account's budget: what sleeps there escaped it).
* **failure**: from the failing deployment's ``completeTime`` to the runner acting on it
  (the ``stopping`` event) and to its own ``service`` event with phase failed (told once
  its wait has followed CodeDeploy's rollback), to the first and last StopDeployment sent,
  and to every deployment in flight then showing Stopped (their ``completeTime``).

Every figure is min / median / max over RUNS runs.
"""

from __future__ import annotations

import bisect
import collections
import math
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

import bluegreen
from bluegreen._aws import recording_calls
from bluegreen.clock import DEFAULT_BUDGET
from bluegreen.errors import BlueGreenError
from bluegreen.manifest import Manifest, ServiceRelease, Wave
from bluegreen.release_events import EventKind, ReleaseEvent
from bluegreen.release_state import Phase
from bluegreen.testing import Simulator, build_environment

CONFIG = "CodeDeployDefault.ECSCanary10Percent5Minutes"
OLD, NEW = "registry.example.com/app:1", "registry.example.com/app:2"
WAVES = (("canary", 1, 1, 300.0), ("early", 9, 9, 300.0), ("rest", 40, 20, 0.0))
"""(name, services, concurrency, bake seconds)."""
ROLES = ("arn:aws:iam::123456789012:role/deployer-a", "arn:aws:iam::123456789012:role/deployer-b")
FAILING_HOOK = "CodeDeployHook_refuse"
FAILING_SERVICE = "prod/svc7"
RATE, BURST = 5.0, 10.0  # bluegreen.release's defaults: each account's RateBudget
_CREDENTIAL = re.compile(r"Credential=([^/]+)/")


# -- recording every call -------------------------------------------------------------------


@attrs.define
class CallLog:
    """Every AWS call a release makes: asked (``recording_calls``: operation, simulated time)
    and sent (botocore ``before-send``: after the budget's pause, with the account)."""

    now: Callable[[], float]
    asked: list[tuple[float, str]] = attrs.Factory(list)
    sent: list[tuple[float, str, str]] = attrs.Factory(list)
    """(simulated time, access key, operation)."""
    _clients: set[int] = attrs.Factory(set)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def record(
        self, operation: str, function: Callable[..., Any], kwargs: Mapping[str, Any]
    ) -> None:
        """``recording_calls``'s recorder: count the call, and time its client's sends."""
        client = getattr(function, "__self__", None)
        with self._lock:
            self.asked.append((self.now(), operation))
            if client is None or id(client) in self._clients:
                return
            self._clients.add(id(client))
        client.meta.events.register_first("before-send", self._on_send)

    def _on_send(self, request: Any, **_: Any) -> None:
        headers = request.headers
        found = _CREDENTIAL.search(str(headers.get("Authorization", "")))
        target = headers.get("X-Amz-Target")
        if target:
            operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        else:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            action = re.search(r"(?:^|&)Action=(\w+)", body or "")
            operation = action.group(1) if action else "?"
        with self._lock:
            self.sent.append((self.now(), found.group(1) if found else "?", operation))


def busiest(times: Sequence[float], window: float) -> int:
    """The most calls in any ``window`` seconds (half-open: [t, t + window))."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window - 1e-9) - i for i, t in enumerate(ordered)),
        default=0,
    )


# -- the release ------------------------------------------------------------------------------


@attrs.frozen
class Run:
    """One release on a fresh simulator: what it told, what CodeDeploy shows, every call."""

    manifest: Manifest
    events: list[tuple[float, ReleaseEvent]]
    """Every event with the simulated time it was told at (the runner tells each as it
    happens, and the virtual clock stands still while a thread works)."""
    deployments: Mapping[str, Mapping[str, Any]]
    """CodeDeploy's deployment info by service name (``prod/svc3``)."""
    calls: CallLog
    started: float
    returned: float
    wall: float
    sim_calls: int
    """Requests the simulator routed meanwhile (hooks' and the bench's own included)."""
    default_budget_slept: float
    """Seconds callers slept for the process-wide ``DEFAULT_BUDGET`` meanwhile: a release's
    calls should all draw from their account's budget, so anything here escaped it."""

    def at(self, kind: EventKind, **match: Any) -> list[float]:
        """When the events of ``kind`` (with these fields) were told."""
        return [
            at
            for at, e in self.events
            if e.kind is kind and all(getattr(e, k) == v for k, v in match.items())
        ]

    def created(self, name: str) -> float:
        return float(self.deployments[name]["createTime"].timestamp())

    def completed(self, name: str) -> float:
        return float(self.deployments[name]["completeTime"].timestamp())


def build(sim: Simulator, services: int) -> None:
    clients = sim.clients()
    for i in range(services):
        build_environment(
            clients=clients,
            name=f"svc{i}",
            cluster="prod",
            deployment_config=CONFIG,
            termination_wait_minutes=1,
            image=OLD,
        )


def waves_manifest(accounts: int) -> Manifest:
    """The 50 services in their 3 waves; with 2 accounts, svcN uses role N % 2."""
    waves, first = [], 0
    for name, size, concurrency, bake in WAVES:
        services = tuple(
            ServiceRelease(
                cluster="prod",
                service=f"svc{i}",
                image=NEW,
                role=ROLES[i % 2] if accounts == 2 else None,
            )
            for i in range(first, first + size)
        )
        waves.append(Wave(name, services, concurrency=concurrency, bake=bake))
        first += size
    return Manifest(name="bench-waves", waves=tuple(waves))


def failure_manifest() -> Manifest:
    services = tuple(
        ServiceRelease(
            cluster="prod",
            service=f"svc{i}",
            image=NEW,
            hooks={"AfterAllowTestTraffic": FAILING_HOOK} if i == 7 else None,
        )
        for i in range(20)
    )
    return Manifest(name="bench-failure", waves=(Wave("all", services, concurrency=20),))


def release_on_simulator(manifest: Manifest, *, failing_hook: bool = False) -> Run:
    """Build the manifest's services on a fresh simulator and release them, recording."""
    with Simulator() as sim:
        build(sim, len(manifest.services))
        if failing_hook:
            codedeploy = sim.clients().codedeploy

            def refuse(event: dict[str, Any], context: Any) -> None:
                codedeploy.put_lifecycle_event_hook_execution_status(
                    deploymentId=event["DeploymentId"],
                    lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                    status="Failed",
                )

            sim.register_hook(FAILING_HOOK, refuse)
        events: list[tuple[float, ReleaseEvent]] = []
        calls = CallLog(now=sim.clock.time)
        default_waited = DEFAULT_BUDGET.waited
        routed_before = len(list(sim.api_calls()))
        started, wall = sim.clock.time(), time.perf_counter()
        with recording_calls(calls.record):
            try:
                bluegreen.release(
                    manifest,
                    clients=sim.clients(),
                    clock=sim.clock,
                    on_event=lambda event: events.append((sim.clock.time(), event)),
                    rate=RATE,
                    burst=BURST,
                )
            except BlueGreenError as exc:
                if not failing_hook:
                    raise
                print(f"  (expected) {str(exc).splitlines()[0]}", file=sys.stderr)
        returned, wall = sim.clock.time(), time.perf_counter() - wall
        sim_calls = len(list(sim.api_calls())) - routed_before
        ids = {e.service: e.deployment_id for _, e in events if e.service and e.deployment_id}
        codedeploy, wanted = sim.clients().codedeploy, list(ids.values())
        by_id = {
            info["deploymentId"]: info
            for i in range(0, len(wanted), 25)  # BatchGetDeployments takes 25 at most
            for info in codedeploy.batch_get_deployments(deploymentIds=wanted[i : i + 25])[
                "deploymentsInfo"
            ]
        }
    deployments = {name: by_id[d] for name, d in ids.items() if d in by_id}
    return Run(
        manifest,
        events,
        deployments,
        calls,
        started,
        returned,
        wall,
        sim_calls,
        DEFAULT_BUDGET.waited - default_waited,
    )


# -- figures ----------------------------------------------------------------------------------


def list_schedule(durations: Sequence[float], width: int) -> float:
    """The makespan of ``durations`` run in order, ``width`` at once, each next one starting
    the moment a slot frees."""
    slots = [0.0] * width
    for length in durations:
        slots[slots.index(min(slots))] += length
    return max(slots)


def success_figures(run: Run) -> dict[str, float]:
    """The schedule against its ideal, the overhead's parts, the calls against the budget."""
    waves = run.manifest.waves
    release = run.returned - run.started
    read = run.at(EventKind.STARTED)[0] - run.started
    plan = run.at(EventKind.WAVE_STARTED, wave=waves[0].name)[0] - run.at(EventKind.STARTED)[0]
    figures: dict[str, float] = {"succeeded": float(len(run.deployments)), "release": release}
    ideal = starts = inside = bake_beyond = literal = rounds = 0.0
    previous_end: float | None = None
    for wave in waves:
        names = [s.name for s in wave.services]
        durations = [run.completed(n) - run.created(n) for n in names]
        makespan = list_schedule(durations, wave.width)
        longest = max(durations)
        began = run.at(EventKind.WAVE_STARTED, wave=wave.name)[0]
        first = min(run.created(n) for n in names)
        last = max(run.completed(n) for n in names)
        ideal += makespan + wave.bake
        literal += longest + wave.bake
        rounds += math.ceil(len(names) / wave.width) * longest + wave.bake
        starts += first - began
        inside += (last - first) - makespan
        if previous_end is not None:
            bake_beyond += began - previous_end
        previous_end = last + wave.bake
        figures[f"start_{wave.name}"] = first - began
        figures[f"spread_{wave.name}"] = (
            sorted(run.created(n) for n in names)[wave.width - 1] - first
        )
    assert previous_end is not None
    ideal -= waves[-1].bake  # no bake after the last wave
    end_lag = run.returned - (previous_end - waves[-1].bake)
    figures |= {
        "ideal": ideal,
        "ratio": release / ideal,
        "ratio_rounds": release / (rounds - waves[-1].bake),
        "ratio_literal": release / (literal - waves[-1].bake),
        "overhead": release - ideal,
        "read": read,
        "plan": plan,
        "starts": starts,
        "inside": inside,
        "bake_beyond": bake_beyond,
        "end_lag": end_lag,
        "wall": run.wall,
    }
    figures |= slot_gaps(run, waves[-1])
    figures |= seen_lags(run)
    figures |= call_figures(run)
    return figures


def slot_gaps(run: Run, wave: Wave) -> dict[str, float]:
    """End of the k-th deployment to end -> start of the service that took its slot."""
    names = [s.name for s in wave.services]
    seen = sorted(  # the runner's "succeeded" events of the wave, in order
        (at, e.service)
        for at, e in run.events
        if e.kind is EventKind.SERVICE and e.wave == wave.name and e.phase is Phase.SUCCEEDED
    )
    gaps, lags, costs = [], [], []
    for (saw, ended), successor in zip(seen, names[wave.width :], strict=False):
        assert ended is not None
        lags.append(saw - run.completed(ended))
        costs.append(run.created(successor) - saw)
        gaps.append(lags[-1] + costs[-1])
    if not gaps:
        return {}
    return {
        "gap_median": statistics.median(gaps),
        "gap_max": max(gaps),
        "gap_lag_median": statistics.median(lags),
        "gap_start_median": statistics.median(costs),
        "gap_start_max": max(costs),
    }


def seen_lags(run: Run) -> dict[str, float]:
    """Every deployment's end (completeTime) to the runner's ``succeeded`` event."""
    lags = [
        at - run.completed(e.service)
        for at, e in run.events
        if e.kind is EventKind.SERVICE and e.phase is Phase.SUCCEEDED and e.service
    ]
    return {"seen_median": statistics.median(lags), "seen_max": max(lags)}


def call_figures(run: Run) -> dict[str, float]:
    started = run.at(EventKind.STARTED)[0]
    planned = run.at(EventKind.WAVE_STARTED, wave=run.manifest.waves[0].name)[0]
    asked = run.calls.asked
    release = run.returned - run.started
    by_account: dict[str, list[float]] = collections.defaultdict(list)
    for at, key, operation in run.calls.sent:
        if operation != "AssumeRole":  # STS, outside the budgets
            by_account[key].append(at)
    accounts = sorted(by_account.values(), key=len, reverse=True)
    figures = {
        "calls": float(len(asked)),
        "calls_sent": float(len(run.calls.sent)),
        "calls_simulator": float(run.sim_calls),
        "calls_read": float(sum(1 for at, _ in asked if at < started)),
        "calls_plan": float(sum(1 for at, _ in asked if started <= at < planned)),
        "calls_waves": float(sum(1 for at, _ in asked if at >= planned)),
        "accounts": float(len(accounts)),
        "default_budget_slept": run.default_budget_slept,
    }
    for i, times in enumerate(accounts[:2], start=1):
        figures[f"a{i}_calls"] = float(len(times))
        figures[f"a{i}_per_second"] = len(times) / release
        figures[f"a{i}_busiest_1s"] = float(busiest(times, 1.0))
        figures[f"a{i}_busiest_10s"] = float(busiest(times, 10.0))
    every = [t for times in accounts for t in times]
    figures["all_busiest_10s"] = float(busiest(every, 10.0))
    for operation, count in collections.Counter(op for _, op in asked).items():
        figures[f"op_{operation}"] = float(count)
    return figures


def failure_figures(run: Run) -> dict[str, float]:
    """From one failure (the failing deployment's completeTime) to every deployment in
    flight stopped."""
    failed_at = run.completed(FAILING_SERVICE)
    in_flight = [
        name
        for name in run.deployments
        if name != FAILING_SERVICE and run.created(name) <= failed_at < run.completed(name)
    ]
    stopped = [n for n in in_flight if run.deployments[n]["status"] == "Stopped"]
    stops = [at for at, _, op in run.calls.sent if op == "StopDeployment"]
    first_stop, last_stop = min(stops), max(stops)
    own_failed = run.at(EventKind.SERVICE, service=FAILING_SERVICE, phase=Phase.FAILED)[0]
    return {
        "in_flight": float(len(in_flight)),
        "stopped": float(len(stopped)),
        "stop_calls": float(len(stops)),
        "created_after": float(sum(1 for n in run.deployments if run.created(n) > failed_at)),
        "stopping": run.at(EventKind.STOPPING)[0] - failed_at,
        "failed_event": own_failed - failed_at,
        "first_stop": first_stop - failed_at,
        "last_stop": last_stop - failed_at,
        "all_stopped": max(run.completed(n) for n in stopped) - failed_at,
        "stop_spacing": (last_stop - first_stop) / max(1, len(stops) - 1),
        "calls_meanwhile": float(
            sum(1 for at, _, _ in run.calls.sent if failed_at <= at <= last_stop)
        ),
        "returned": run.returned - failed_at,
        "wall": run.wall,
    }


# -- printing ---------------------------------------------------------------------------------

Row = tuple[str, str, str]  # (label, key, format)

SUCCESS_ROWS: tuple[Row, ...] = (
    ("deployments succeeded", "succeeded", "{:.0f}"),
    ("release, simulated min (release() called to returned)", "release", "min"),
    ("ideal, min (per wave a list schedule of the actual durations, + bakes)", "ideal", "min"),
    ("**release / ideal** (goal <= 1.05)", "ratio", "{:.3f}"),
    ("release / (ceil(n/concurrency) x wave's longest, + bakes)", "ratio_rounds", "{:.3f}"),
    ("release / (sum of waves' longest + bakes): the issue's words", "ratio_literal", "{:.3f}"),
    ("overhead = release - ideal, s", "overhead", "{:.1f}"),
    ("- reading the release's state (read_release), s", "read", "{:.1f}"),
    ("- planning 50 services (plan_release), s", "plan", "{:.1f}"),
    ("- waves' starts (wave_started to first createTime), s", "starts", "{:.1f}"),
    ("- in the waves (first create to last complete, less ideal), s", "inside", "{:.1f}"),
    ("- bakes beyond their 5 min, s", "bake_beyond", "{:.1f}"),
    ("- last deployment's end to release() returning, s", "end_lag", "{:.1f}"),
    ("start of wave canary (1 service), s", "start_canary", "{:.1f}"),
    ("start of wave early (9 at once), s", "start_early", "{:.1f}"),
    ("start of wave rest (20 at once), s", "start_rest", "{:.1f}"),
    ("first round's createTimes spread, wave early, s", "spread_early", "{:.1f}"),
    ("first round's createTimes spread, wave rest, s", "spread_rest", "{:.1f}"),
    ("wave rest: slot gap, end to next createTime, median s", "gap_median", "{:.1f}"),
    ("wave rest: slot gap, longest s", "gap_max", "{:.1f}"),
    ("- of which end to the runner seeing it, median s", "gap_lag_median", "{:.1f}"),
    ("- of which seeing it to the next createTime, median s", "gap_start_median", "{:.1f}"),
    ("- of which seeing it to the next createTime, longest s", "gap_start_max", "{:.1f}"),
    ("any deployment: end to the runner's `succeeded`, median s", "seen_median", "{:.1f}"),
    ("any deployment: end to the runner's `succeeded`, longest s", "seen_max", "{:.1f}"),
    ("AWS calls (recording_calls)", "calls", "{:.0f}"),
    ("- reading the state / planning / in the waves", "calls_read/calls_plan/calls_waves", ""),
    ("requests sent (before-send) / routed by the simulator", "calls_sent/calls_simulator", ""),
    ("accounts (budgets)", "accounts", "{:.0f}"),
    ("account 1: calls", "a1_calls", "{:.0f}"),
    ("account 1: calls per simulated s (budget 5)", "a1_per_second", "{:.2f}"),
    ("account 1: busiest 1 s (bucket allows 15)", "a1_busiest_1s", "{:.0f}"),
    ("account 1: busiest 10 s (bucket allows 60)", "a1_busiest_10s", "{:.0f}"),
    ("account 2: calls", "a2_calls", "{:.0f}"),
    ("account 2: calls per simulated s (budget 5)", "a2_per_second", "{:.2f}"),
    ("account 2: busiest 1 s (bucket allows 15)", "a2_busiest_1s", "{:.0f}"),
    ("account 2: busiest 10 s (bucket allows 60)", "a2_busiest_10s", "{:.0f}"),
    ("both accounts together: busiest 10 s", "all_busiest_10s", "{:.0f}"),
    ("slept for the process-wide DEFAULT_BUDGET, s (should be 0)", "default_budget_slept", ""),
    ("wall s (the release alone)", "wall", "{:.1f}"),
)

FAILURE_ROWS: tuple[Row, ...] = (
    ("deployments in flight when svc7 failed (of 19 others)", "in_flight", "{:.0f}"),
    ("of those, Stopped", "stopped", "{:.0f}"),
    ("StopDeployment calls", "stop_calls", "{:.0f}"),
    ("deployments created after the failure", "created_after", "{:.0f}"),
    ("failure (completeTime) to the runner acting: `stopping` event, s", "stopping", "{:.1f}"),
    ("failure to svc7's own `failed` event (after the rollback), s", "failed_event", "{:.1f}"),
    ("failure to the first StopDeployment sent, s", "first_stop", "{:.1f}"),
    ("**failure to the last StopDeployment sent**, s", "last_stop", "{:.1f}"),
    ("**failure to every one in flight Stopped** (their completeTime), s", "all_stopped", "{:.1f}"),
    ("between two StopDeployments, mean s", "stop_spacing", "{:.1f}"),
    ("calls sent from the failure to the last StopDeployment", "calls_meanwhile", "{:.0f}"),
    ("failure to release() returning (rollbacks followed to their end), s", "returned", "{:.1f}"),
    ("wall s (the release alone)", "wall", "{:.1f}"),
)


def cell(figures: list[dict[str, float]], key: str, fmt: str) -> str:
    """min / median / max of ``key`` in ``fmt`` ("min": seconds shown in minutes; "": whole
    numbers); ``a/b`` keys: each one's median, side by side."""
    if "/" in key:
        parts = [statistics.median(f.get(k, math.nan) for f in figures) for k in key.split("/")]
        return " / ".join(f"{p:.0f}" for p in parts)
    values = [f.get(key, math.nan) for f in figures]
    if all(math.isnan(v) for v in values):
        return "-"
    if fmt == "min":
        values, fmt = [v / 60 for v in values], "{:.2f}"
    fmt = fmt or "{:.0f}"
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def table(
    header: Sequence[str], rows: Sequence[Row], columns: Sequence[list[dict[str, float]]]
) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(cell(c, key, fmt) for c in columns) + " |")
    print()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    one: list[dict[str, float]] = []
    two: list[dict[str, float]] = []
    failure: list[dict[str, float]] = []
    for n in range(runs):
        one.append(success_figures(release_on_simulator(waves_manifest(accounts=1))))
        two.append(success_figures(release_on_simulator(waves_manifest(accounts=2))))
        failure.append(failure_figures(release_on_simulator(failure_manifest(), failing_hook=True)))
        print(
            f"run {n + 1}/{runs}: release/ideal {one[-1]['ratio']:.3f} (one account), "
            f"{two[-1]['ratio']:.3f} (two); failure to last stop {failure[-1]['last_stop']:.1f} s",
            file=sys.stderr,
        )
    waves = ", ".join(f"{w} {n} (concurrency {c}, bake {b / 60:g} min)" for w, n, c, b in WAVES)
    print(
        f"50 services in 3 waves: {waves}; {CONFIG}, 1-min termination wait; budget {RATE:g}/s, "
        f"burst {BURST:g} per account; simulator on its virtual clock; {runs} runs; "
        "min / median / max\n"
    )
    table(("figure", "one account", "two accounts (roles)"), SUCCESS_ROWS, (one, two))
    operations = sorted(
        {k for f in one + two for k in f if k.startswith("op_")},
        key=lambda k: -statistics.median(f.get(k, 0.0) for f in one),
    )
    table(
        ("calls per operation", "one account", "two accounts (roles)"),
        [(k[3:], k, "{:.0f}") for k in operations],
        (one, two),
    )
    print("One failure in a wave of 20 at once (svc7's AfterAllowTestTraffic hook fails):\n")
    table(("figure", "min / median / max"), FAILURE_ROWS, (failure,))


if __name__ == "__main__":
    main()
