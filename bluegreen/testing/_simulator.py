"""The simulator: moto for ECS, ELBv2, CloudWatch and Application Auto Scaling, our own
CodeDeploy for ECS blue/green, one clock, hooks and faults.

Requests reach it two ways, and both end in ``Simulator.route`` (``_routing.Router``):

* in-process: a botocore ``before-send`` handler, registered ahead of moto's, answers every
  request of a client created while a simulator is running;
* as a server: ``bluegreen.testing._server`` puts the same routing in front of moto's
  server application on 127.0.0.1.

This module puts the parts together: ``_records`` (what the account holds),
``_codedeploy`` (the API), ``_lifecycle`` (deployments on the clock), ``_hooks`` (Lambda
stand-ins), ``_faults``, ``_tasks`` (simulated ECS tasks) and ``_routing``.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._aws import Clients
from bluegreen.testing._alarms import Alarms
from bluegreen.testing._client_pool import pooled_clients
from bluegreen.testing._clock import Clock, RealTimeClock, VirtualClock
from bluegreen.testing._codedeploy import CodeDeploy
from bluegreen.testing._faults import Faults
from bluegreen.testing._hooks import HookFunction, Hooks, LambdaContext
from bluegreen.testing._lifecycle import Lifecycle
from bluegreen.testing._moto import MotoState
from bluegreen.testing._native_api import NativeEcs
from bluegreen.testing._native_records import ServiceDeploymentRecord
from bluegreen.testing._records import DeploymentRecord, HookExecution, Store
from bluegreen.testing._routing import Call, Router
from bluegreen.testing._running import Running
from bluegreen.testing._settings import ACCOUNT_ID, SimSettings
from bluegreen.testing._tasks import drain, resize, start_tasks
from bluegreen.testing._traffic import Traffic
from bluegreen.testing._wire import Response

if TYPE_CHECKING:
    from bluegreen.testing._environment import Environment
    from bluegreen.testing._server import SimServer

__all__ = ["Faults", "HookFunction", "LambdaContext", "Simulator"]

_NO_DEFAULT_AMIS = "MOTO_EC2_LOAD_DEFAULT_AMIS"


@attrs.define(eq=False)
class Simulator:
    """A local CodeDeploy ECS blue/green simulator over moto.

    Use it as a context manager (in-process: every boto3 client created inside talks to it)
    or serve it (``serve()`` / ``bluegreen sim serve``).

    Args:
        settings: timings and the choices for behaviour AWS does not document.
        speed: ``None`` for a virtual clock moved by the test (``advance``, ``run_until``);
            a number for real time multiplied by it (the server and the demo).
        region: the region it serves.
        start_time: the simulated time it starts at, seconds since the epoch (default:
            now); with the same ``start_time`` and ``Traffic(seed=...)`` a run repeats.
        traffic: the production traffic sent every simulated minute and how each version
            answers it (``sim.traffic.behave(...)``); its ALB metrics reach CloudWatch,
            whose metric alarms ``alarms`` evaluates every minute.
    """

    settings: SimSettings = attrs.Factory(SimSettings)
    speed: float | None = None
    region: str = "us-east-1"
    start_time: float | None = None
    clock: Clock = attrs.field(init=False)
    faults: Faults = attrs.Factory(Faults)
    traffic: Traffic = attrs.Factory(Traffic)
    alarms: Alarms = attrs.field(init=False, factory=Alarms)
    lock: threading.RLock = attrs.field(init=False, factory=threading.RLock)
    moto: MotoState = attrs.field(init=False)
    store: Store = attrs.field(init=False, factory=Store)
    hooks: Hooks = attrs.field(init=False)
    lifecycle: Lifecycle = attrs.field(init=False)
    codedeploy: CodeDeploy = attrs.field(init=False)
    native: NativeEcs = attrs.field(init=False)
    router: Router = attrs.field(init=False)
    _mock: Any = attrs.field(init=False, default=None)
    _set_env: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self.clock = (
            VirtualClock(self.start_time)
            if self.speed is None
            else RealTimeClock(self.speed, start=self.start_time)
        )
        self.moto = MotoState(ACCOUNT_ID, self.region, self.clock.time)
        self.hooks = Hooks(self.clock, self.lock, self.region)
        self.lifecycle = Lifecycle(self)
        self.codedeploy = CodeDeploy(self, self.lifecycle)
        self.native = NativeEcs(self)
        self.router = Router(self, self.codedeploy, self.region, native=self.native)
        self.clock.every(60.0, self._minute)

    @property
    def calls(self) -> collections.deque[Call]:
        """The record of calls: ``(simulated time, service, operation)`` of every request."""
        return self.router.calls

    # -- in-process use -----------------------------------------------------------------

    def start(self) -> Simulator:
        """Start moto and route every new boto3 client's requests here."""
        if Running.simulator not in (None, self):
            raise RuntimeError("another bluegreen Simulator is already running in this process")
        from moto import mock_aws

        # moto's EC2 would load ~40,000 default AMIs (a quarter of a second) into every
        # fresh backend; nothing here needs them.
        self._set_env = _NO_DEFAULT_AMIS not in os.environ
        os.environ.setdefault(_NO_DEFAULT_AMIS, "false")
        self._mock = mock_aws()
        self._mock.start()
        Running.simulator = self
        return self

    def stop(self) -> None:
        if isinstance(self.clock, RealTimeClock):
            self.clock.stop()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._set_env:
            os.environ.pop(_NO_DEFAULT_AMIS, None)
            self._set_env = False
        if Running.simulator is self:
            Running.simulator = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve(self, *, port: int = 0, host: str = "127.0.0.1") -> SimServer:
        """Serve this simulator over HTTP instead (``port=0`` picks a free port).

        Returns:
            The started ``SimServer``; use it as a context manager or call ``stop()``.
        """
        from bluegreen.testing._server import SimServer

        return SimServer(self, host=host, port=port).start()

    # -- time ---------------------------------------------------------------------------

    @property
    def virtual_clock(self) -> VirtualClock:
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("this simulator runs in real time; advance() needs speed=None")
        return self.clock

    def advance(self, seconds: float) -> None:
        """Move simulated time forward, running the lifecycle on the way."""
        self.virtual_clock.advance(seconds)

    def run_until(
        self, condition: Callable[[], bool], *, timeout: float | None = 6 * 3600
    ) -> float:
        """Advance until ``condition()`` holds; returns the simulated seconds it took."""
        return self.virtual_clock.run_until(condition, timeout=timeout)

    def run_until_done(self, deployment_id: str, *, timeout: float | None = 6 * 3600) -> str:
        """Advance until the deployment, and any rollback it started, has ended.

        ``deployment_id`` may be an ECS-native ``serviceDeploymentArn`` too.

        Returns:
            The deployment's final status (``Succeeded``, ``Failed`` or ``Stopped``; for a
            native one ``SUCCESSFUL``, ``STOPPED``, ``ROLLBACK_SUCCESSFUL`` or
            ``ROLLBACK_FAILED``).
        """
        native = self.native.store.deployments.get(deployment_id)
        if native is not None:
            self.run_until(lambda: native.is_terminal, timeout=timeout)
            return native.status

        def done() -> bool:
            record = self.codedeploy.deployments[deployment_id]
            if not record.status.is_terminal:
                return False
            rollback = (record.rollback_info or {}).get("rollbackDeploymentId")
            return rollback is None or self.codedeploy.deployments[rollback].status.is_terminal

        self.run_until(done, timeout=timeout)
        return str(self.codedeploy.deployments[deployment_id].status)

    def _minute(self) -> None:
        """Every simulated minute: the minute's traffic reaches CloudWatch as ALB metrics,
        CloudWatch evaluates its alarms, and CodeDeploy stops deployments whose alarm fired."""
        with self.lock:
            now = self.clock.time() // 60 * 60  # the real-time clock's tick can run late
            if (
                not self.traffic.while_idle
                and all(
                    record.status.is_terminal and (record.complete_time or 0.0) < now - 60.0
                    for record in self.codedeploy.deployments.values()
                )
                and not self.native.in_flight(now - 60.0)
            ):
                return  # nothing in flight this minute: none to judge (Traffic.while_idle)
            self.traffic.publish_minute(self, now - 60.0)
            if self.alarms.evaluate(self.moto.cloudwatch, now):
                self.lifecycle.watch_alarms()
            self.native.watch_alarms()

    # -- clients and the sample environment ---------------------------------------------

    def clients(self, endpoint_url: str | None = None) -> Clients:
        """``bluegreen.Clients`` for this simulator's region (in-process, or the server's URL).

        Their boto3 clients are kept for the process and shared (``_client_pool``): one an
        event handler is registered on is never handed out again."""
        return pooled_clients(self.region, endpoint_url)

    def create_environment(self, **options: Any) -> Environment:
        """The sample environment (see ``build_environment`` for the options); in a pristine
        simulator a copy of the one made before with the same options
        (``_environment_copies``)."""
        from bluegreen.testing._environment import build_environment
        from bluegreen.testing._environment_copies import environment_for

        return environment_for(
            self, options, lambda: build_environment(clients=pooled_clients(self.region), **options)
        )

    # -- hooks --------------------------------------------------------------------------

    def register_hook(
        self,
        name: str,
        function: Callable[[dict[str, Any], LambdaContext], Any],
        *,
        timeout_seconds: float = 60.0,
    ) -> None:
        """Stand ``function`` in for the Lambda function ``name`` (a name or an ARN)."""
        self.hooks.register(name, function, timeout_seconds=timeout_seconds)

    def hook(self, name_or_arn: str) -> HookFunction | None:
        return self.hooks.get(name_or_arn)

    def invoke_hook(self, hook: HookFunction, deployment_id: str, execution: HookExecution) -> None:
        self.hooks.invoke(hook, deployment_id, execution)

    # -- ECS tasks ----------------------------------------------------------------------

    def start_tasks(self, task_set: Any) -> None:
        """Tasks of a new task set start and pass health checks after ``task_start_seconds``,
        unless ``faults.unhealthy_green``."""
        start_tasks(self, task_set)

    def drain(self, task_set: Any) -> None:
        """Scale a task set to 0 and mark it DRAINING."""
        drain(self.moto, task_set)

    def scaling_activity(
        self,
        cluster: str,
        service: str,
        desired_count: int,
        *,
        settle_seconds: float | None = None,
    ) -> bool:
        """An Application Auto Scaling activity sets the service's desired count.

        Honours the scalable target's ``SuspendedState``: a scale-out while
        ``DynamicScalingOutSuspended`` (or scale-in while ``DynamicScalingInSuspended``)
        does nothing. During a deployment every task set resizes and must be steady again
        within ``settings.scaling_settle_limit`` or the deployment fails (contract 7.1).

        Args:
            settle_seconds: how long the resized task sets take to become steady
                (default ``settings.task_start_seconds``).

        Returns:
            True if the desired count changed.
        """
        with self.lock:
            svc = resize(self, cluster, service, desired_count, settle_seconds)
            if svc is None:
                return False
            self.lifecycle.scaling_event(svc.cluster_name, svc.name)
            return True

    # -- routing ------------------------------------------------------------------------

    def http_date(self) -> str:
        """The ``Date`` header of every response: the simulator's clock, not the wall clock
        (the same time as the ``createTime`` and other timestamps it answers)."""
        return self.router.http_date()

    def route(
        self,
        headers: Mapping[str, str],
        body: bytes | str | None,
        *,
        method: str = "",
        target: str = "",
    ) -> Response | None:
        """Answer a request, or return None to let moto answer it (see ``Router.route``).

        Args:
            method: the HTTP method, for REST services (Lambda).
            target: the request target as sent (``/path?query``, percent-encoded).
        """
        return self.router.route(headers, body, method=method, target=target)

    def after_moto(self, headers: Mapping[str, str], body: bytes | str | None) -> None:
        """Fix moto's state after it answered (see ``_moto.py``)."""
        self.router.after_moto(headers, body)

    # -- reading state (for tests, the demo and the listener proxy) ---------------------

    def deployment(self, deployment_id: str) -> DeploymentRecord:
        return self.codedeploy.deployments[deployment_id]

    def service_deployment(self, arn: str) -> ServiceDeploymentRecord:
        """An ECS-native service deployment's record (``_native_records``), by its ARN."""
        return self.native.store.deployments[arn]

    def listener_weights(self, listener_arn: str) -> list[tuple[str, int]]:
        """The live ``(target group ARN, weight)`` pairs of a listener's forward action."""
        with self.lock:
            return self.moto.listener_weights(listener_arn)

    def api_calls(self, service: str | None = None) -> Iterator[tuple[float, str, str]]:
        """Every request routed so far: ``(simulated time, service, operation)``."""
        return (c for c in list(self.calls) if service is None or c[1] == service)


def _new_simulator(speed: float) -> Simulator:
    return Simulator(speed=speed)


Running.factory = _new_simulator
