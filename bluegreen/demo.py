"""The first run: two releases on the embedded simulator, with real HTTP traffic to watch.

``run_demo`` starts the simulator in real time (time compressed by ``speed``) with the sample
environment, and on 127.0.0.1 one tiny HTTP app per version (v1 runs, v2 is good, v3's
``/health`` answers 500), a proxy for the production and the test listener that routes every
request by the weights the simulated CodeDeploy has written to the listener at that moment,
and a load generator that keeps calling production. It then releases v2 (which succeeds:
the ready-made ``verify_test_listener`` hook passes, production moves 10% then 100%) and v3
(the hook fails, CodeDeploy rolls back, production never serves v3) with the public API, and
checks that everything behaved so. What is shown is up to a ``Narrator`` (the CLI's text and
JSON forms live in ``bluegreen.cli.demo``).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import http.client
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from bluegreen.errors import DeploymentError

if TYPE_CHECKING:
    from bluegreen.deployment import DeploymentSnapshot
    from bluegreen.scaling import ScalingStatus
    from bluegreen.testing import Environment, Simulator

__all__ = [
    "CANARY_CONFIG",
    "HOOK_FUNCTION",
    "Check",
    "DemoResult",
    "Narrator",
    "Phase",
    "run_demo",
]

CANARY_CONFIG = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK_FUNCTION = "CodeDeployHook_verify_test_listener"
HOOK_EVENT = "AfterAllowTestTraffic"
IMAGE_REPOSITORY = "registry.example.com/web"
BROKEN_VERSION = "v3"
_HOST = "127.0.0.1"
_WAIT_TIMEOUT = 3 * 3600.0
"""Simulated seconds any one wait may take before the demo gives up."""
_LOAD_LIMIT = 2_000_000
"""Requests the load generator sends at most (it normally stops long before)."""
_SETTLE_REQUESTS = 20
"""Production requests to see after a release before reading what production serves."""


# -- results -------------------------------------------------------------------------------


@attrs.frozen
class Check:
    """One thing the demo promised, and whether it held."""

    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@attrs.frozen(kw_only=True)
class DemoResult:
    """What the two releases did, and the checks made on it."""

    checks: tuple[Check, ...]
    served: Mapping[str, int]
    errors: int
    phases: tuple[Phase, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "served": dict(self.served),
            "errors": self.errors,
            "phases": [p.to_dict() for p in self.phases],
            "seconds": round(self.seconds, 3),
        }


@attrs.define
class Phase:
    """Production responses while the listener's weights stayed the same."""

    weights: dict[str, int]
    """Weight by version (``"none"`` for a target group no task set uses)."""
    served: collections.Counter[str] = attrs.Factory(collections.Counter)

    @property
    def total(self) -> int:
        return sum(self.served.values())

    def share(self, version: str) -> float:
        """The percentage of this phase's responses that ``version`` served."""
        return 100.0 * self.served[version] / self.total if self.total else 0.0

    def describe(self) -> str:
        weights = " / ".join(f"{v} {w}" for v, w in self.weights.items())
        shares = "  ".join(f"{v} {self.share(v):.0f}%" for v in sorted(self.served))
        return f"weights {weights}: {self.total} responses, {shares or 'none'}"

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "served": dict(self.served)}


class Narrator(Protocol):
    """What the demo tells as it goes (``bluegreen.cli.demo`` has the text and JSON forms)."""

    def intro(
        self,
        environment: Environment,
        urls: Mapping[str, str],
        speed: float,
        now: Callable[[], dt.datetime],
    ) -> None:
        """The demo is set up; ``now`` reads the simulated time of day."""

    def autoscaling(self, when: str, status: ScalingStatus) -> None: ...

    def release_started(self, label: str, image: str, deployment_id: str) -> None: ...

    def progress(self, snapshot: DeploymentSnapshot, phases: tuple[Phase, ...]) -> None: ...

    def release_ended(
        self,
        label: str,
        phases: tuple[Phase, ...],
        error: DeploymentError | None,
        hook_reports: tuple[str, ...],
    ) -> None:
        """The release (and any rollback) ended; ``hook_reports`` are what the hook said."""

    def summary(self, result: DemoResult) -> None: ...


# -- the version apps --------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, version: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("X-Bluegreen-Version", version)
    handler.end_headers()
    handler.wfile.write(body)


@attrs.define
class _Served:
    """An HTTP server on 127.0.0.1 with its serving thread."""

    server: _Server
    thread: threading.Thread

    @classmethod
    def start(cls, handler: type[BaseHTTPRequestHandler], name: str) -> _Served:
        server = _Server((_HOST, 0), handler)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        thread.start()
        return cls(server, thread)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _start_app(version: str, *, broken: bool) -> _Served:
    """A task set's containers: ``/`` names the version; ``/health`` fails when broken."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            failing = broken and self.path.split("?")[0] == "/health"
            status = 500 if failing else 200
            body = {"version": version, "status": "failing" if failing else "ok"}
            _reply(self, status, json.dumps(body).encode(), version)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return _Served.start(Handler, f"bluegreen-demo-app-{version}")


# -- the listener proxy ------------------------------------------------------------------------


@attrs.define
class _Router:
    """Which version each target group of a listener stands for, read from the simulator."""

    sim: Simulator
    cluster: str
    service: str
    _versions: dict[str, str] = attrs.Factory(dict)

    def targets(self, listener_arn: str) -> list[tuple[str, str, int]]:
        """``(target group ARN, version, weight)`` of the listener right now."""
        with self.sim.lock:
            weights = self.sim.listener_weights(listener_arn)
            by_group = self._group_versions()
        return [(tg, by_group.get(tg, "none"), weight) for tg, weight in weights]

    def _group_versions(self) -> dict[str, str]:
        svc = self.sim.moto.service(self.cluster, self.service)
        found: dict[str, str] = {}
        # A task set being drained gives way to a live one on the same target group.
        task_sets = sorted(svc.task_sets if svc else (), key=lambda t: t.status != "DRAINING")
        for task_set in task_sets:
            version = self._version(str(task_set.task_definition))
            for lb in task_set.load_balancers or ():
                if lb.get("targetGroupArn"):
                    found[lb["targetGroupArn"]] = version
        return found

    def _version(self, task_definition: str) -> str:
        if task_definition not in self._versions:
            td = self.sim.moto.task_definition(task_definition) or {}
            containers = td.get("containerDefinitions") or [{}]
            image = str(containers[0].get("image", ""))
            self._versions[task_definition] = image.rpartition(":")[2] or "none"
        return self._versions[task_definition]


@attrs.define
class _Proxy:
    """A listener: each request goes to the version the live weights pick, in the exact
    proportions (smooth weighted round robin, so shares are exact rather than random)."""

    listener_arn: str
    router: _Router
    apps: Mapping[str, _Served]
    phases: list[Phase] = attrs.Factory(list)
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _key: tuple[tuple[str, int], ...] | None = None
    _credit: dict[str, int] = attrs.Factory(dict)
    _served: _Served | None = None

    def pick(self) -> tuple[str | None, Phase | None]:
        targets = self.router.targets(self.listener_arn)
        key = tuple((tg, weight) for tg, _, weight in targets)
        with self._lock:
            if key != self._key:
                self._key = key
                self._credit = {tg: 0 for tg, _, _ in targets}
                weights: dict[str, int] = {}
                for _, version, weight in targets:
                    weights[version] = weights.get(version, 0) + weight
                self.phases.append(Phase(weights))
            total = sum(weight for _, _, weight in targets)
            if total <= 0:
                return None, self.phases[-1]
            for tg, _, weight in targets:
                self._credit[tg] += weight
            chosen = max(self._credit, key=lambda tg: self._credit[tg])
            self._credit[chosen] -= total
            version = next(v for tg, v, _ in targets if tg == chosen)
            return version, self.phases[-1]

    def count(self, phase: Phase | None, version: str) -> None:
        if phase is not None:
            with self._lock:
                phase.served[version] += 1

    def snapshot(self) -> tuple[Phase, ...]:
        with self._lock:
            return tuple(Phase(dict(p.weights), collections.Counter(p.served)) for p in self.phases)

    def start(self, name: str) -> _Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                version, phase = proxy.pick()
                app = proxy.apps.get(version or "")
                if app is None:
                    body = json.dumps({"error": f"no healthy target ({version})"}).encode()
                    _reply(self, 503, body, "none")
                    return
                connection = http.client.HTTPConnection(_HOST, app.port, timeout=5)
                try:
                    connection.request("GET", self.path)
                    answer = connection.getresponse()
                    status, body = answer.status, answer.read()
                finally:
                    connection.close()
                proxy.count(phase, version or "none")
                _reply(self, status, body, version or "none")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._served = _Served.start(Handler, f"bluegreen-demo-{name}-listener")
        return self

    @property
    def url(self) -> str:
        assert self._served is not None
        return self._served.url

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None


# -- the load generator ------------------------------------------------------------------------


@attrs.define
class _Load:
    """Keeps calling production and counts the responses by the version that served them."""

    url: str
    pause: float = 0.002
    served: collections.Counter[str] = attrs.Factory(collections.Counter)
    errors: int = 0
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _stop: threading.Event = attrs.Factory(threading.Event)
    _thread: threading.Thread | None = None
    _sent: int = 0

    def start(self) -> _Load:
        self._thread = threading.Thread(target=self._run, name="bluegreen-demo-load", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=5.0) as client:
            for _ in range(_LOAD_LIMIT):
                if self._stop.is_set():
                    return
                try:
                    response = client.get(f"{self.url}/")
                    version = response.headers.get("X-Bluegreen-Version", "none")
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    version, ok = "none", False
                with self._lock:
                    self._sent += 1
                    if ok:
                        self.served[version] += 1
                    else:
                        self.errors += 1
                self._stop.wait(self.pause)

    def counts(self) -> tuple[collections.Counter[str], int, int]:
        """(responses by version, errors, requests sent) so far."""
        with self._lock:
            return collections.Counter(self.served), self.errors, self._sent

    def see_more(self, requests: int, *, timeout: float = 10.0) -> None:
        """Return once ``requests`` more have been sent (or ``timeout`` real seconds passed)."""
        target = self.counts()[2] + requests
        deadline = time.monotonic() + timeout
        while self.counts()[2] < target and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


# -- the environment the demo runs in ------------------------------------------------------------

_AWS_VARIABLES_REMOVED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "BLUEGREEN_ENDPOINT_URL",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` for the demo, without AWS profiles, endpoints or any ``BLUEGREEN_*``
    setting of the caller's, then put everything back: the hook reads its settings and its
    region from the environment, and nothing in the demo may find real credentials."""
    names = set(values) | set(_AWS_VARIABLES_REMOVED)
    names |= {name for name in os.environ if name.startswith("BLUEGREEN_")}
    names.add("BLUEGREEN_TEST_URL")
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _HookReports(logging.Handler):
    """Collects what the hook kit logs when it reports (its ``reported`` JSON lines), so the
    demo can say why a hook failed instead of letting the log reach stderr."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reports: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = json.loads(record.getMessage())
        except ValueError:
            return
        if isinstance(fields, dict) and fields.get("event") == "reported":
            reason = f"{fields.get('status')}: {fields.get('reason')}"
            self.reports.append((str(fields.get("deployment_id")), reason))

    def of(self, deployment_id: str) -> tuple[str, ...]:
        return tuple(reason for d, reason in self.reports if d == deployment_id)


@contextlib.contextmanager
def _collect_hook_reports() -> Iterator[_HookReports]:
    logger = logging.getLogger("bluegreen.hooks")
    handler = _HookReports()
    propagate, level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = propagate, level


def _load_hook() -> Callable[[dict[str, Any], Any], Any]:
    """The real ready-made ``verify_test_listener`` handler, as the Lambda zip runs it."""
    from bluegreen.hooks.handlers.verify_test_listener import handler

    return handler


# -- the run -----------------------------------------------------------------------------------


@attrs.define
class _Run:
    sim: Simulator
    environment: Environment
    production: _Proxy
    load: _Load
    narrator: Narrator
    hook_reports: _HookReports
    checks: list[Check] = attrs.Factory(list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, bool(ok), detail))

    def scaling(self) -> ScalingStatus:
        from bluegreen.scaling import scaling_state

        return scaling_state(
            self.environment.cluster, self.environment.service, clients=self.sim.clients()
        )

    def release(self, label: str, version: str) -> tuple[DeploymentSnapshot | None, Any]:
        """Deploy ``version`` and follow it (and its rollback); returns the last snapshot
        and the ``DeploymentError`` if the release failed."""
        import bluegreen
        from bluegreen.deployment import Deployment

        before = self.scaling()
        self.narrator.autoscaling(f"before {label}", before)
        image = f"{IMAGE_REPOSITORY}:{version}"
        deployment = bluegreen.deploy(
            self.environment.cluster,
            self.environment.service,
            image=image,
            hooks={HOOK_EVENT: HOOK_FUNCTION},
            clients=self.sim.clients(),
            clock=self.sim.clock,
        )
        self.narrator.release_started(label, image, deployment.id)
        during: list[ScalingStatus] = []
        last: list[DeploymentSnapshot] = []

        def on_progress(snapshot: DeploymentSnapshot) -> None:
            last.append(snapshot)
            if not during and str(snapshot.status) == "InProgress":
                during.append(self.scaling())
            self.narrator.progress(snapshot, self.production.snapshot())

        error: DeploymentError | None = None
        try:
            deployment.wait(timeout=_WAIT_TIMEOUT, on_progress=on_progress)
        except DeploymentError as exc:
            error = exc
            if exc.rollback_deployment_id:
                rollback = Deployment.attach(
                    exc.rollback_deployment_id, clients=self.sim.clients(), clock=self.sim.clock
                )
                rollback.wait(timeout=_WAIT_TIMEOUT, on_progress=on_progress)
        self.load.see_more(_SETTLE_REQUESTS)
        self.narrator.release_ended(
            label, self.production.snapshot(), error, self.hook_reports.of(deployment.id)
        )
        if during:
            self.narrator.autoscaling(f"during {label}", during[0])
        after = self.scaling()
        self.narrator.autoscaling(f"after {label}", after)
        self.check(
            f"{label}: autoscaling restored",
            after.targets == before.targets and after.record is None,
            "the scalable target is as before the release"
            if after.targets == before.targets
            else f"before {[str(t) for t in before.targets]}, after "
            f"{[str(t) for t in after.targets]}",
        )
        if during:
            suspended = any(t.suspended for t in during[0].targets)
            self.check(
                f"{label}: autoscaling suspended during the deployment",
                suspended,
                "suspended: " + ", ".join(s for t in during[0].targets for s in t.suspended)
                if suspended
                else "nothing was suspended while the deployment ran",
            )
        return (last[-1] if last else None), error


def _last_phase_serving(phases: tuple[Phase, ...]) -> Phase | None:
    return next((p for p in reversed(phases) if p.total), None)


def _check_success(run: _Run, snapshot: DeploymentSnapshot | None, error: Any) -> None:
    label = "release 1 (v2)"
    run.check(
        f"{label}: succeeded",
        error is None and snapshot is not None and snapshot.succeeded,
        "Succeeded" if error is None else str(error),
    )
    hook = snapshot.event(HOOK_EVENT) if snapshot is not None else None
    run.check(
        f"{label}: the test-listener hook passed",
        hook is not None and str(hook.status) == "Succeeded",
        f"{HOOK_EVENT} {hook.status if hook else 'not run'}",
    )
    phases = run.production.snapshot()
    canary = [p for p in phases if p.weights.get("v2") == 10 and p.weights.get("v1") == 90]
    seen = sum(p.total for p in canary)
    v2 = sum(p.served["v2"] for p in canary)
    share = 100.0 * v2 / seen if seen else 0.0
    run.check(
        f"{label}: production served v2 to about 10% during the canary",
        seen > 0 and v2 > 0 and abs(share - 10.0) <= 5.0 + 100.0 / seen,
        f"{v2} of {seen} responses ({share:.1f}%) at weights v1 90 / v2 10",
    )
    full = [p for p in phases if p.weights.get("v2") == 100]
    only_v2 = bool(full) and all(set(p.served) <= {"v2"} for p in full)
    served = sum(p.total for p in full)
    run.check(
        f"{label}: production then served v2 only",
        only_v2 and served > 0,
        f"{served} responses at weight v2 100, all v2" if only_v2 else "no phase at v2 100%",
    )


def _check_rollback(
    run: _Run, error: DeploymentError | None, v3_before: int, phases_before: int
) -> None:
    label = "release 2 (v3)"
    run.check(
        f"{label}: failed at the test-listener hook",
        error is not None and error.lifecycle_event == HOOK_EVENT,
        "no error: the broken release succeeded"
        if error is None
        else f"{error.lifecycle_event} [{error.error_code}] {error.diagnostics or ''}".strip(),
    )
    run.check(
        f"{label}: CodeDeploy rolled back",
        error is not None and bool(error.rollback_deployment_id),
        f"rollback {error.rollback_deployment_id}" if error else "no rollback",
    )
    served, _, _ = run.load.counts()
    phases = run.production.snapshot()[phases_before:]
    v3_weighted = [p for p in phases if p.weights.get("v3")]
    run.check(
        f"{label}: production served no v3 response",
        served["v3"] == v3_before == 0 and not v3_weighted,
        f"{served['v3']} v3 responses; production weight on v3: "
        + ("never" if not v3_weighted else ", ".join(p.describe() for p in v3_weighted)),
    )
    last = _last_phase_serving(run.production.snapshot())
    run.check(
        f"{label}: production serves v2 after the rollback",
        last is not None and set(last.served) == {"v2"},
        last.describe() if last is not None else "no response seen",
    )


def run_demo(narrator: Narrator, *, speed: float = 30.0) -> DemoResult:
    """Run the demo; every server and thread is stopped before it returns or raises.

    Args:
        narrator: what shows the demo as it goes.
        speed: simulated seconds per real second.

    Returns:
        The checks made, and the production responses counted.

    Raises:
        BlueGreenError: an unexpected failure of the library (the checks cover the
            expected one).
    """
    from bluegreen.testing import Simulator

    started = time.monotonic()
    handler = _load_hook()
    apps: dict[str, _Served] = {}
    with contextlib.ExitStack() as stack:
        for version in ("v1", "v2", "v3"):
            apps[version] = _start_app(version, broken=version == BROKEN_VERSION)
            stack.callback(apps[version].stop)
        stack.enter_context(
            _environment(
                {
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_REGION": "us-east-1",
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "BLUEGREEN_CHECK_PATH": "/health",
                }
            )
        )
        reports = stack.enter_context(_collect_hook_reports())
        sim = stack.enter_context(Simulator(speed=speed))
        environment = sim.create_environment(
            deployment_config=CANARY_CONFIG,
            termination_wait_minutes=1,
            image=f"{IMAGE_REPOSITORY}:v1",
        )
        router = _Router(sim, environment.cluster, environment.service)
        production = _Proxy(environment.production_listener_arn, router, apps).start("production")
        stack.callback(production.stop)
        assert environment.test_listener_arn is not None
        test = _Proxy(environment.test_listener_arn, router, apps).start("test")
        stack.callback(test.stop)
        os.environ["BLUEGREEN_TEST_URL"] = test.url
        sim.register_hook(HOOK_FUNCTION, handler, timeout_seconds=900)
        load = _Load(production.url).start()
        stack.callback(load.stop)
        urls = {"production": production.url, "test": test.url}
        urls.update({f"app {v}": a.url for v, a in apps.items()})
        clock = sim.clock
        narrator.intro(
            environment, urls, speed, lambda: dt.datetime.fromtimestamp(clock.time(), dt.UTC)
        )
        load.see_more(_SETTLE_REQUESTS)

        run = _Run(sim, environment, production, load, narrator, reports)
        snapshot, error = run.release("release 1 (v2)", "v2")
        _check_success(run, snapshot, error)
        v3_before = load.counts()[0]["v3"]
        phases_before = len(production.snapshot())
        _, error = run.release("release 2 (v3)", "v3")
        _check_rollback(run, error, v3_before, phases_before)

        served, errors, _ = load.counts()
        run.check(
            "production answered every request",
            errors == 0,
            f"{sum(served.values())} answered, {errors} failed",
        )
        result = DemoResult(
            checks=tuple(run.checks),
            served=dict(served),
            errors=errors,
            phases=production.snapshot(),
            seconds=time.monotonic() - started,
        )
    narrator.summary(result)
    return result
