"""A release on Temporal against the same release in-process, and resuming after a killed worker.

Run by hand (never in CI): ``python bench/release_temporal.py [RUNS] [PART ...]`` (RUNS
default 3, about 7 minutes of wall time; PART 1 or 2, default both). Needs
``bluegreen[temporal]`` and the Temporal CLI beside the venv's python (``temporal server
start-dev``, as tests/test_temporal.py starts it).

Everything runs against one simulator served on 127.0.0.1 (``Simulator(speed=SPEED).serve()``
in this process), real time compressed SPEED times: CodeDeploy's ``createTime`` and
``completeTime`` and the simulator's clock are in *server seconds*. Every release is of six
fresh sample services (new names, each built for its release alone: each release deploys
for real, and its checks see only its own deployments) in two waves of three, concurrency 3,
CodeDeployDefault.ECSAllAtOnce, a 1-minute termination wait, no hooks, no analysis.

The releases run in processes of their own, so that neither shares this process's (the
simulator's) interpreter, and both read a clock as fast as the simulator's (``RealTimeClock``:
the waits' pauses and the rate budget keep their meaning in server seconds):

* **in-process**: ``bluegreen.release(manifest, endpoint_url=...)`` in a child process that
  has imported everything and starts when told (a line on stdin);
* **Temporal**: one ``bluegreen worker`` process (started beforehand, polling), and
  ``bluegreen.temporal.client.start_release(..., wait=True)`` from this process.

Part 1 (runs alternate which goes first: the machine is shared and noisy):

* **release**: from the moment it is told to start (the child told to go, ``start_release``
  called) to its result, in server seconds, and the ratio Temporal / in-process;
* **orchestration gap**: from the first wave's last ``completeTime`` to the second wave's
  first ``createTime``: noticing that the wave ended (the waits' polling), restoring scaling,
  and starting the next services; for Temporal also every workflow task and activity dispatch
  on the way (follow activity done -> child workflow task -> child done -> release workflow
  task -> child started -> its workflow task -> start activity dispatched -> CreateDeployment),
  whose part from the first wave's last ``follow`` activity ending to the second wave's first
  ``start`` activity starting is printed apart (from the workflows' histories: Temporal's
  times are the wall clock's, multiplied by SPEED here);
* **start**: from the start to the first ``createTime`` (planning included), **in the
  waves**: each wave's first ``createTime`` to its last ``completeTime``, summed (and the
  spread of each wave's ``createTime``s, summed), and **tail**: from the last
  ``completeTime`` to the result. Start + waves + gap + tail = release.

Part 2, resume after a killed worker (Temporal only), with the default heartbeat timeout
(30 s) and sticky timeout (10 s), with a short heartbeat timeout alone (5 s / 10 s), and with
both short (5 s / 1 s); the retry policy is the default (first retry after 1 s). Each run
releases twice, each time with a fresh worker on task queues of its own: once with a SIGKILL
of the worker as soon as a deployment of the second wave is seen in flight (a replacement
worker, already imported, starts at once), and once without (the baseline). Temporal's
timeouts run on the real clock, so this part is in *wall* seconds (server seconds are SPEED
times as many):

* **takeover**: from the kill to the first activity attempt the new worker started (the
  earliest ``ActivityTaskStarted`` of a retried attempt in the services' workflow histories);
* **kill to end**: from the kill to the release's result;
* **release** with and without the kill, and **extra** = with - without.

After every release: exactly one deployment per service, Succeeded, whose description carries
the release's marker (``parse_marker``), and every scalable target as it was before.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bluegreen.clock import Clock
from bluegreen.manifest import parse_marker
from bluegreen.manifest_load import load_manifest
from bluegreen.temporal import ReleaseOptions
from bluegreen.temporal.client import start_release
from bluegreen.testing import Simulator
from bluegreen.testing._server import SimServer

SPEED = 60.0
"""Server seconds per wall second: a deployment (about 3 minutes) takes about 3 s."""
WAVES = ("first", "second")
PER_WAVE = 3
CONCURRENCY = 3
CONFIG = "CodeDeployDefault.ECSAllAtOnce"
SETTINGS = {
    "default (30 s / 10 s)": (30.0, 10.0),
    "short heartbeat (5 s / 10 s)": (5.0, 10.0),
    "short (5 s / 1 s)": (5.0, 1.0),
}
"""Part 2: heartbeat timeout and sticky timeout, in (wall) seconds."""
ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]
LIMIT = 300.0
"""Wall seconds any one wait of the bench may take before it gives up."""

_names = itertools.count()

PRELUDE = """
import sys

import bluegreen.cli._clock
from bluegreen.testing import RealTimeClock

clock = RealTimeClock(speed=float(sys.argv[1]))
bluegreen.cli._clock._clock_factory = lambda: clock
"""
"""Both children's waits, retries and budgets read a clock as fast as the simulator."""

WORKER = (
    PRELUDE
    + """
import bluegreen.cli
import bluegreen.temporal.worker

print("imported", flush=True)
sys.stdin.readline()
sys.exit(bluegreen.cli.main(["worker", *sys.argv[2:]]))
"""
)
"""``bluegreen worker``: imports, then starts when told (a line on stdin)."""

IN_PROCESS = (
    PRELUDE
    + """
import json

import bluegreen

print("imported", flush=True)
sys.stdin.readline()
result = bluegreen.release(sys.argv[2], endpoint_url=sys.argv[3], clock=clock)
print(json.dumps({"services": len(result.services)}), flush=True)
"""
)
"""``bluegreen.release`` of the manifest ``argv[2]`` against ``argv[3]``, when told."""


# -- the Temporal server, the simulator, the children -------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def temporal_server(log: Path) -> Iterator[str]:
    """``temporal server start-dev`` (in memory, headless) on free ports: its address."""
    binary = str(Path(sys.executable).parent / "temporal")
    port = _free_port()
    command = [
        *(binary, "server", "start-dev", "--headless", "--ip", "127.0.0.1"),
        *("--port", str(port), "--http-port", str(_free_port())),
        *("--metrics-port", str(_free_port()), "--log-level", "error"),
    ]
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                asyncio.run(_connect(address))
                break
            except RuntimeError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(
                        f"the Temporal server did not start: {log.read_text()}"
                    ) from None
                time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _connect(address: str) -> Any:
    from temporalio.client import Client

    return await Client.connect(address)


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    return env


def spawn(script: str, args: Sequence[str], log: Path) -> subprocess.Popen[str]:
    """A child running ``script`` that has imported what it needs and waits for ``go``."""
    with log.open("a") as errors:
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(SPEED), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=_child_env(),
        )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line == "imported\n", f"{line!r}; see {log}"
    return child


def go(child: subprocess.Popen[str]) -> str:
    """Tell the child to start; its next line of output."""
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    return child.stdout.readline()


def start_worker(site: Site, prefix: str, sticky: float) -> subprocess.Popen[str]:
    """A ``bluegreen worker`` on the task queues ``prefix`` and ``prefix-default``, polling."""
    worker = spawn_worker(site, prefix, sticky)
    line = go(worker)
    assert line.startswith("bluegreen worker: polling"), f"{line!r}; see {site.directory}"
    return worker


def spawn_worker(site: Site, prefix: str, sticky: float) -> subprocess.Popen[str]:
    """The same, imported and waiting for ``go``."""
    return spawn(
        WORKER,
        [
            *("--temporal", site.address, "--endpoint-url", site.server.endpoint_url),
            *("--task-queue", prefix, "--task-queue", f"{prefix}-default"),
            *("--sticky-timeout", str(sticky)),
        ],
        site.directory / "workers.log",
    )


def stop(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()


# -- a release and what it did ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Site:
    """Where the releases run: the served simulator and its clock, the Temporal server's
    address, and a directory for manifests and the children's logs."""

    server: SimServer
    clock: Clock
    address: str
    directory: Path


class Release:
    """Six fresh services on the simulator, the manifest that releases them, and checks."""

    def __init__(self, site: Site) -> None:
        self.clock = site.clock
        server = site.server
        directory = site.directory
        tag = f"r{next(_names)}"
        self.waves = [[f"{tag}{wave[0]}{i}" for i in range(PER_WAVE)] for wave in WAVES]
        self.envs = {
            name: server.create_environment(
                name=name, deployment_config=CONFIG, termination_wait_minutes=1
            )
            for names in self.waves
            for name in names
        }
        lines = [f"release: bench-{tag}", "defaults:", "  cluster: prod", "waves:"]
        for wave, names in zip(WAVES, self.waves, strict=True):
            lines += [f"  - name: {wave}", f"    concurrency: {CONCURRENCY}", "    services:"]
            for name in names:
                lines += [f"      - service: {name}", "        image: 'nginx:1.99'"]
        self.path = directory / f"{tag}.yaml"
        self.path.write_text("\n".join(lines) + "\n")
        self.id = load_manifest(self.path).id
        clients = server.clients()  # over HTTP, as the releases' calls go
        self.codedeploy = clients.client("codedeploy")
        self.autoscaling = clients.client("application-autoscaling")
        self.scaling_before = self.scaling()

    def now(self) -> float:
        """The server's clock, in seconds."""
        return self.clock.time()

    def deployments(self, name: str) -> list[dict[str, Any]]:
        env = self.envs[name]
        ids = self.codedeploy.list_deployments(
            applicationName=env.application, deploymentGroupName=env.deployment_group
        )["deployments"]
        if not ids:
            return []
        return list(self.codedeploy.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"])

    def in_flight(self, name: str) -> bool:
        env = self.envs[name]
        return bool(
            self.codedeploy.list_deployments(
                applicationName=env.application,
                deploymentGroupName=env.deployment_group,
                includeOnlyStatuses=ACTIVE,
            )["deployments"]
        )

    def scaling(self) -> list[Any]:
        return [
            self.autoscaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[env.scalable_resource_id or ""]
            )["ScalableTargets"]
            for env in self.envs.values()
        ]

    def check(self) -> list[tuple[list[float], list[float]]]:
        """Each wave's createTimes and completeTimes, once the release is checked:
        one deployment per service, Succeeded, carrying this release's marker; scaling as
        it was."""
        spans = []
        for names in self.waves:
            created, completed = [], []
            for name in names:
                found = self.deployments(name)
                assert len(found) == 1, f"{name}: {len(found)} deployments"
                (deployment,) = found
                marker = parse_marker(deployment.get("description") or "")
                assert marker is not None, (name, deployment.get("description"))
                assert marker.release == self.id, (name, marker)
                assert deployment["status"] == "Succeeded", (name, deployment["status"])
                created.append(deployment["createTime"].timestamp())
                completed.append(deployment["completeTime"].timestamp())
            spans.append((created, completed))
        assert self.scaling() == self.scaling_before, "scaling was not restored"
        return spans


def figures(release: Release, started: float, ended: float) -> dict[str, float]:
    """Part 1's figures of a checked release, in server seconds."""
    waves = release.check()
    (first_created, first_done), (second_created, second_done) = waves
    return {
        "release": ended - started,
        "start (to first createTime)": min(first_created) - started,
        "in the waves (first createTime to last completeTime, both waves)": sum(
            max(done) - min(created) for created, done in waves
        ),
        "- createTimes' spread in a wave (both waves)": sum(
            max(created) - min(created) for created, _ in waves
        ),
        "orchestration gap": min(second_created) - max(first_done),
        "tail (last completeTime to result)": ended - max(second_done),
    }


def run_in_process(site: Site) -> dict[str, float]:
    release = Release(site)
    url = site.server.endpoint_url
    child = spawn(IN_PROCESS, [str(release.path), url], site.directory / "inproc.log")
    started = release.now()
    line = go(child)
    ended = release.now()
    stop(child)
    assert json.loads(line)["services"] == len(release.envs), line
    return figures(release, started, ended)


def run_temporal(site: Site, prefix: str, options: ReleaseOptions) -> dict[str, float]:
    release = Release(site)
    started = release.now()
    done = start_release(release.path, site.address, options=options, task_queue=prefix, wait=True)
    ended = release.now()
    assert done.result is not None
    assert done.result.outcome == "succeeded", done
    found = figures(release, started, ended)
    dispatch = _dispatch(asyncio.run(_steps(site.address, release)), release)
    found["dispatch"] = dispatch * SPEED
    return found


# -- part 2: a killed worker ---------------------------------------------------------------------


def run_killed(site: Site, *, heartbeat: float, sticky: float, kill: bool) -> dict[str, float]:
    """One release on a fresh worker (task queues of its own); with ``kill``, SIGKILLed as
    soon as a deployment of the second wave is in flight, a replacement started at once.
    Wall seconds."""
    release = Release(site)
    prefix = f"bench-{release.id}"
    first = start_worker(site, prefix, sticky)
    replacement = spawn_worker(site, prefix, sticky) if kill else None
    options = ReleaseOptions(heartbeat_timeout=heartbeat, queue_prefix=prefix)
    started = time.time()
    start_release(release.path, site.address, options=options, task_queue=prefix)
    out: dict[str, float] = {}
    if replacement is not None:
        _wait_until(lambda: any(release.in_flight(n) for n in release.waves[1]))
        first.send_signal(signal.SIGKILL)
        killed = time.time()
        first.wait(timeout=30)
        go(replacement)
        out["kill after start"] = killed - started
    result = asyncio.run(_result(site.address, release.id))
    ended = time.time()
    assert result.outcome == "succeeded", result
    release.check()
    out["release"] = ended - started
    if replacement is not None:
        out["kill to end"] = ended - killed
        out["takeover"] = _first_retry(asyncio.run(_steps(site.address, release))) - killed
        stop(replacement)
    stop(first)
    return out


def _wait_until(condition: Any) -> None:
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {LIMIT:g} s")
        time.sleep(0.02)


async def _result(address: str, release_id: str) -> Any:
    from bluegreen.temporal.client import wait_release_async

    client = await _connect(address)
    return await asyncio.wait_for(wait_release_async(client.get_workflow_handle(release_id)), LIMIT)


@dataclasses.dataclass(frozen=True)
class Step:
    """An activity attempt of a service's workflow, from its history (wall, epoch s)."""

    service: str
    activity: str
    attempt: int
    started: float
    ended: float | None


async def _steps(address: str, release: Release) -> list[Step]:
    """Every service's activities, from its ``ServiceWorkflow``'s history. Temporal writes
    an activity's ``ActivityTaskStarted`` once it ends, with its last attempt's number and
    start time."""
    from temporalio.api.enums.v1 import EventType

    client = await _connect(address)
    steps = []
    for names in release.waves:
        for name in names:
            handle = client.get_workflow_handle(f"{release.id}/prod/{name}")
            scheduled: dict[int, str] = {}
            started: dict[int, tuple[int, float]] = {}
            ended: dict[int, float] = {}
            async for event in handle.fetch_history_events():
                at = event.event_time.ToDatetime(dt.UTC).timestamp()
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    attributes = event.activity_task_scheduled_event_attributes
                    scheduled[event.event_id] = attributes.activity_type.name
                elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    begun = event.activity_task_started_event_attributes
                    started[begun.scheduled_event_id] = (begun.attempt, at)
                elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    done = event.activity_task_completed_event_attributes
                    ended[done.scheduled_event_id] = at
            for key, activity in scheduled.items():
                attempt, at = started[key]
                steps.append(Step(name, activity, attempt, at, ended.get(key)))
    return steps


def _first_retry(steps: Sequence[Step]) -> float:
    """When the first retried activity attempt started: the new worker taking over."""
    retried = [step.started for step in steps if step.attempt > 1]
    assert retried, "no activity was retried: the kill came too late?"
    return min(retried)


def _dispatch(steps: Sequence[Step], release: Release) -> float:
    """Wall seconds from the first wave's last ``follow`` activity ending to the second
    wave's first ``start`` activity starting: Temporal's part of the orchestration gap."""
    first, second = release.waves
    followed = [s.ended for s in steps if s.service in first and s.activity == "bluegreen.follow"]
    starts = [s.started for s in steps if s.service in second and s.activity == "bluegreen.start"]
    return min(starts) - max(t for t in followed if t is not None)


# -- the tables ------------------------------------------------------------------------------


def _spread(values: Sequence[float], digits: int = 1) -> str:
    middle = statistics.median(values)
    return " / ".join(f"{v:.{digits}f}" for v in (min(values), middle, max(values)))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def part1(site: Site, runs: int) -> None:
    """The same release in-process and on Temporal, RUNS times each, in turns."""
    print(f"Part 1: {runs} runs, simulator at {SPEED:g}x", flush=True)
    found: dict[str, list[dict[str, float]]] = {"in-process": [], "Temporal": []}
    worker = start_worker(site, "bench", 10.0)
    try:
        for run in range(runs):
            order = ["in-process", "Temporal"]
            for mode in order if run % 2 == 0 else order[::-1]:
                if mode == "in-process":
                    one = run_in_process(site)
                else:
                    options = ReleaseOptions(queue_prefix="bench")
                    one = run_temporal(site, "bench", options)
                found[mode].append(one)
                print(f"  run {run + 1} {mode}: {one}", flush=True)
    finally:
        stop(worker)
    rows = [
        [f"{figure}, server s", *(_spread([r[figure] for r in found[m]]) for m in found)]
        for figure in found["in-process"][0]
    ]
    ratios = [t["release"] / i["release"] for i, t in zip(*found.values(), strict=True)]
    rows.append(["**release, Temporal / in-process** (per run)", _spread(ratios, 3), ""])
    gaps = [[r["orchestration gap"] / SPEED for r in found[m]] for m in found]
    rows.append(["orchestration gap, wall s", *(_spread(g, 2) for g in gaps)])
    dispatch = [r["dispatch"] for r in found["Temporal"]]
    rows.append(
        [
            "- of the gap: last `follow` activity ended to next `start` began, server s",
            "",
            _spread(dispatch),
        ]
    )
    print()
    print(_table(["figure (min / median / max)", *found], rows))


def part2(site: Site, runs: int) -> None:
    """Releases with a killed worker and without, RUNS times each per setting, in turns."""
    print(f"\nPart 2: {runs} runs per setting", flush=True)
    rows = []
    for label, (heartbeat, sticky) in SETTINGS.items():
        found: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for run in range(runs):
            for kill in (True, False) if run % 2 == 0 else (False, True):
                one = run_killed(site, heartbeat=heartbeat, sticky=sticky, kill=kill)
                found[kill].append(one)
                print(f"  {label} run {run + 1} kill={kill}: {one}", flush=True)
        killed, alone = found[True], found[False]
        extra = [k["release"] - n["release"] for k, n in zip(killed, alone, strict=True)]
        rows.append(
            [
                label,
                _spread([r["kill after start"] for r in killed]),
                _spread([r["takeover"] for r in killed]),
                _spread([r["kill to end"] for r in killed]),
                _spread([r["release"] for r in killed]),
                _spread([r["release"] for r in alone]),
                _spread(extra),
            ]
        )
    header = [
        "heartbeat / sticky timeout",
        "kill after start",
        "kill to takeover",
        "kill to end",
        "release with kill",
        "without",
        "extra (paired per run)",
    ]
    print("\nWall seconds, min / median / max:\n")
    print(_table(header, rows))


def main(argv: Sequence[str]) -> None:
    runs = int(argv[0]) if argv else 3
    parts = set(argv[1:]) or {"1", "2"}
    with tempfile.TemporaryDirectory(prefix="bench-temporal-") as tmp:
        directory = Path(tmp)
        simulator = Simulator(speed=SPEED)
        with (
            simulator.serve() as server,
            temporal_server(directory / "temporal.log") as address,
        ):
            site = Site(server, simulator.clock, address, directory)
            if "1" in parts:
                part1(site, runs)
            if "2" in parts:
                part2(site, runs)


if __name__ == "__main__":
    main(sys.argv[1:])
