"""The simulator: moto for ECS, ELBv2, CloudWatch and Application Auto Scaling, our own
CodeDeploy for ECS blue/green, one clock, hooks and faults.

Requests reach it two ways, and both end in ``Simulator.route``:

* in-process: a botocore ``before-send`` handler, registered ahead of moto's, answers every
  request of a client created while a simulator is running;
* as a server: ``bluegreen.testing._server`` puts the same routing in front of moto's
  server application on 127.0.0.1.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import random
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.testing._clock import Clock, RealTimeClock, VirtualClock
from bluegreen.testing._codedeploy import CodeDeploy, DeploymentRecord, HookExecution
from bluegreen.testing._lifecycle import Lifecycle
from bluegreen.testing._moto import MotoState
from bluegreen.testing._settings import SimSettings
from bluegreen.testing._wire import ApiError, Response, error, http_date, ok

if TYPE_CHECKING:
    from bluegreen._aws import Clients
    from bluegreen.testing._environment import Environment
    from bluegreen.testing._server import SimServer

__all__ = ["Faults", "HookFunction", "LambdaContext", "Simulator"]

ACCOUNT_ID = "123456789012"
_NO_DEFAULT_AMIS = "MOTO_EC2_LOAD_DEFAULT_AMIS"
_SESSIONS: dict[str, Any] = {}
_SESSIONS_LOCK = threading.Lock()
_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:(?P<name>[^:]+)(?::(?P<q>.+))?$"
)
# GetFunction's FunctionName: a name, a partial ARN or a full ARN, each with an optional
# qualifier (the pattern of botocore's lambda model).
_FUNCTION_NAME = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):)?"
    r"(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<q>\$LATEST|[a-zA-Z0-9_-]+))?$"
)
_GET_FUNCTION_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/?$")


@attrs.define
class LambdaContext:
    """What a Lambda handler receives as ``context``; remaining time follows the sim clock."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    clock: Clock = attrs.field(repr=False)
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock.time()) * 1000))


@attrs.frozen
class HookFunction:
    """A Python callable standing in for a Lambda function."""

    name: str
    function: Callable[[dict[str, Any], LambdaContext], Any]
    timeout_seconds: float = 60.0
    registered_at: float = 0.0


@attrs.define
class _FaultRule:
    service: str
    operation: str
    code: str
    status: int
    rate: float
    remaining: int | None

    def matches(self, service: str, operation: str, rng: random.Random) -> bool:
        if self.service not in (service, "*") or self.operation not in (operation, "*"):
            return False
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        return rng.random() < self.rate


@attrs.define
class Faults:
    """Failures on demand, for reliability tests.

    Attributes:
        unhealthy_green: green task sets never become healthy, so Install waits until its
            timeout (contract section 8, "stuck in Install").
    """

    unhealthy_green: bool = False
    seed: int = 0
    _rules: list[_FaultRule] = attrs.Factory(list)
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def throttle(
        self,
        operation: str = "*",
        *,
        service: str = "codedeploy",
        rate: float = 1.0,
        count: int | None = None,
    ) -> None:
        """Answer ``operation`` of ``service`` with a throttling error.

        Args:
            operation: the API operation (``GetDeployment``) or ``"*"``.
            service: the signing name: ``codedeploy``, ``ecs``, ``elasticloadbalancing``,
                ``application-autoscaling``, ``monitoring``, or ``"*"``.
            rate: the share of calls that fail (seeded, so runs repeat).
            count: fail exactly the next ``count`` matching calls instead.
        """
        code = "Throttling" if service == "elasticloadbalancing" else "ThrottlingException"
        self._rules.append(_FaultRule(service, operation, code, 400, rate, count))

    def server_error(
        self,
        operation: str = "*",
        *,
        service: str = "codedeploy",
        rate: float = 1.0,
        count: int | None = None,
        status: int = 503,
    ) -> None:
        """Answer ``operation`` with a 5xx error (``ServiceUnavailable`` or ``InternalFailure``)."""
        code = "ServiceUnavailable" if status == 503 else "InternalFailure"
        self._rules.append(_FaultRule(service, operation, code, status, rate, count))

    def clear(self) -> None:
        self._rules.clear()
        self.unhealthy_green = False

    def match(self, service: str, operation: str) -> _FaultRule | None:
        return next((r for r in self._rules if r.matches(service, operation, self._rng)), None)


class _Running:
    """The simulator that in-process requests go to (one per process, like moto's mock)."""

    simulator: Simulator | None = None


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
    """

    settings: SimSettings = attrs.Factory(SimSettings)
    speed: float | None = None
    region: str = "us-east-1"
    clock: Clock = attrs.field(init=False)
    faults: Faults = attrs.Factory(Faults)
    lock: threading.RLock = attrs.field(init=False, factory=threading.RLock)
    moto: MotoState = attrs.field(init=False)
    codedeploy: CodeDeploy = attrs.field(init=False)
    lifecycle: Lifecycle = attrs.field(init=False)
    _hooks: dict[str, HookFunction] = attrs.field(init=False, factory=dict)
    _mock: Any = attrs.field(init=False, default=None)
    _set_env: bool = attrs.field(init=False, default=False)
    _suspended_before: dict[tuple[str, str], dict[str, bool]] = attrs.field(
        init=False, factory=dict
    )
    calls: collections.deque[tuple[float, str, str]] = attrs.field(
        init=False, factory=lambda: collections.deque(maxlen=1_000_000)
    )

    def __attrs_post_init__(self) -> None:
        self.clock = VirtualClock() if self.speed is None else RealTimeClock(self.speed)
        self.moto = MotoState(ACCOUNT_ID, self.region, self.clock.time)
        self.codedeploy = CodeDeploy(self)
        self.lifecycle = Lifecycle(self)

    # -- in-process use -----------------------------------------------------------------

    def start(self) -> Simulator:
        """Start moto and route every new boto3 client's requests here."""
        if _Running.simulator not in (None, self):
            raise RuntimeError("another bluegreen Simulator is already running in this process")
        from moto import mock_aws

        # moto's EC2 would load ~40,000 default AMIs (a quarter of a second) into every
        # fresh backend; nothing here needs them.
        self._set_env = _NO_DEFAULT_AMIS not in os.environ
        os.environ.setdefault(_NO_DEFAULT_AMIS, "false")
        self._mock = mock_aws()
        self._mock.start()
        _Running.simulator = self
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
        if _Running.simulator is self:
            _Running.simulator = None

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

        Returns:
            The deployment's final status (``Succeeded``, ``Failed`` or ``Stopped``).
        """

        def done() -> bool:
            record = self.codedeploy.deployments[deployment_id]
            if not record.status.is_terminal:
                return False
            rollback = (record.rollback_info or {}).get("rollbackDeploymentId")
            return rollback is None or self.codedeploy.deployments[rollback].status.is_terminal

        self.run_until(done, timeout=timeout)
        return str(self.codedeploy.deployments[deployment_id].status)

    # -- clients and the sample environment ---------------------------------------------

    def clients(self, endpoint_url: str | None = None) -> Clients:
        """``bluegreen.Clients`` for this simulator's region (in-process, or the server's URL)."""
        from bluegreen._aws import Clients

        return Clients(session=_fake_session(self.region), endpoint_url=endpoint_url)

    def create_environment(self, **options: Any) -> Environment:
        """The sample environment (see ``build_environment`` for the options)."""
        from bluegreen.testing._environment import build_environment

        return build_environment(clients=self.clients(), **options)

    # -- hooks --------------------------------------------------------------------------

    def register_hook(
        self,
        name: str,
        function: Callable[[dict[str, Any], LambdaContext], Any],
        *,
        timeout_seconds: float = 60.0,
    ) -> None:
        """Stand ``function`` in for the Lambda function ``name`` (a name or an ARN)."""
        key = _function_name(name)
        self._hooks[key] = HookFunction(key, function, timeout_seconds, self.clock.time())

    def hook(self, name_or_arn: str) -> HookFunction | None:
        return self._hooks.get(_function_name(name_or_arn))

    def invoke_hook(self, hook: HookFunction, deployment_id: str, execution: HookExecution) -> None:
        event = {
            "DeploymentId": deployment_id,
            "LifecycleEventHookExecutionId": execution.id,
        }
        context = LambdaContext(
            function_name=hook.name,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{hook.name}",
            aws_request_id=str(uuid.uuid4()),
            deadline=self.clock.time() + hook.timeout_seconds,
            clock=self.clock,
            log_group_name=f"/aws/lambda/{hook.name}",
        )

        def call() -> None:
            try:
                hook.function(event, context)
            except Exception as exc:
                with self.lock:
                    self.lifecycle.hook_crashed(execution, exc)

        if isinstance(self.clock, VirtualClock):
            self.clock.call_later(0, call)
        else:
            threading.Thread(target=call, name=f"hook-{hook.name}", daemon=True).start()

    # -- ECS tasks ----------------------------------------------------------------------

    def start_tasks(self, task_set: Any) -> None:
        """Tasks of a new task set start and pass health checks after ``task_start_seconds``,
        unless ``faults.unhealthy_green``."""
        unhealthy = self.faults.unhealthy_green

        def started() -> None:
            with self.lock:
                if unhealthy or task_set.status == "DRAINING":
                    return
                desired = int(getattr(task_set, "computed_desired_count", 0))
                self.moto.update_task_set(task_set, running=desired, pending=0, steady=True)

        self.clock.call_later(self.settings.task_start_seconds, started)

    def drain(self, task_set: Any) -> None:
        """Scale a task set to 0 and mark it DRAINING."""
        self.moto.update_task_set(
            task_set, scale=0.0, status="DRAINING", running=0, pending=0, steady=False
        )

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
            svc = self.moto.service(cluster, service)
            if svc is None:
                raise LookupError(f"no service {cluster}/{service}")
            target = self.moto.scalable_target(cluster, service)
            suspended = dict(getattr(target, "suspended_state", None) or {})
            out = desired_count > svc.desired_count
            if out and suspended.get("DynamicScalingOutSuspended"):
                return False
            if not out and suspended.get("DynamicScalingInSuspended"):
                return False
            if desired_count == svc.desired_count:
                return False
            self.moto.set_desired_count(svc, desired_count)
            settle = self.settings.task_start_seconds if settle_seconds is None else settle_seconds
            for task_set in list(svc.task_sets):
                if task_set.status == "DRAINING":
                    continue
                wanted = int(task_set.computed_desired_count)
                self.moto.update_task_set(
                    task_set,
                    running=min(wanted, int(getattr(task_set, "running_count", 0))),
                    pending=max(0, wanted - int(getattr(task_set, "running_count", 0))),
                    steady=False,
                )

                def settled(ts: Any = task_set) -> None:
                    with self.lock:
                        if ts.status == "DRAINING":
                            return
                        n = int(ts.computed_desired_count)
                        self.moto.update_task_set(ts, running=n, pending=0, steady=True)

                self.clock.call_later(settle, settled)
            self.lifecycle.scaling_event(svc.cluster_name, svc.name)
            return True

    # -- routing ------------------------------------------------------------------------

    def http_date(self) -> str:
        """The ``Date`` header of every response: the simulator's clock, not the wall clock
        (the same time as the ``createTime`` and other timestamps it answers)."""
        return http_date(self.clock.time())

    def route(
        self,
        headers: Mapping[str, str],
        body: bytes | str | None,
        *,
        method: str = "",
        target: str = "",
    ) -> Response | None:
        """Answer a request, or return None to let moto answer it.

        CodeDeploy and Lambda's GetFunction for registered hooks are answered here; an
        injected fault is answered here for any service; everything else goes to moto, and
        ``after_moto`` fixes moto's gaps afterwards. Every answer carries a ``Date`` header
        in simulated time.

        Args:
            method: the HTTP method, for REST services (Lambda).
            target: the request target as sent (``/path?query``, percent-encoded).
        """
        answer = self._route(headers, body, method=method, target=target)
        if answer is not None:
            answer[1]["Date"] = self.http_date()
        return answer

    def _route(
        self, headers: Mapping[str, str], body: bytes | str | None, *, method: str, target: str
    ) -> Response | None:
        service, region, operation = _identify(headers, body)
        function: str | None = None
        if service == "lambda" and not operation:
            operation, function = _lambda_operation(method, target)
        with self.lock:
            self.calls.append((self.clock.time(), service, operation))
            rule = self.faults.match(service, operation)
            if rule is not None:
                return _fault_response(rule, json_protocol="x-amz-target" in _lower(headers))
            if function is not None:
                return self._get_function(function, target)
            if service != "codedeploy":
                if operation == "RegisterScalableTarget":
                    self._remember_suspended_state(body)
                return None
            if region and region != self.region:
                return error(
                    ApiError(
                        "InvalidInputException",
                        f"the bluegreen simulator serves region {self.region}, not {region}",
                    )
                )
            try:
                payload = json.loads(body or b"{}")
                return ok(self.codedeploy.handle(operation, payload))
            except ApiError as exc:
                return error(exc)

    def _get_function(self, function: str, target: str) -> Response | None:
        """Lambda GetFunction for a registered hook; None (moto answers) for anything else."""
        match = _FUNCTION_NAME.match(function)
        if match is None or match.group("region") not in (None, self.region):
            return None
        if match.group("account") not in (None, ACCOUNT_ID):
            return None
        name = match.group("name")
        hook = self._hooks.get(name)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        qualifier: str | None = match.group("q") or next(iter(query.get("Qualifier") or ()), None)
        if hook is not None:
            configuration = self._function_configuration(hook, qualifier)
            return _json_response(200, {"Configuration": configuration})
        if self.moto.has_lambda_function(name):
            return None  # a function created in moto: moto answers
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        message = f"Function not found: {arn}" + (f":{qualifier}" if qualifier else "")
        answer = _json_response(404, {"Type": "User", "Message": message})
        answer[1]["x-amzn-ErrorType"] = "ResourceNotFoundException"
        return answer

    def _function_configuration(self, hook: HookFunction, qualifier: str | None) -> dict[str, Any]:
        """A ``FunctionConfiguration`` (botocore's lambda model) for a registered hook."""
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{hook.name}"
        module = getattr(hook.function, "__module__", None) or "hook"
        handler = getattr(hook.function, "__name__", None) or "handler"
        modified = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(hook.registered_at))
        return {
            "FunctionName": hook.name,
            "FunctionArn": f"{arn}:{qualifier}" if qualifier else arn,
            "Runtime": "python3.12",
            "Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{hook.name}-role",
            "Handler": f"{module.rsplit('.', 1)[-1]}.{handler}",
            "CodeSize": 0,
            "Description": "a Python callable standing in for this function (bluegreen simulator)",
            "Timeout": max(1, int(hook.timeout_seconds)),
            "MemorySize": 128,
            "LastModified": modified,
            "CodeSha256": _base64_sha256(f"{module}:{handler}"),
            "Version": qualifier if qualifier and qualifier.isdigit() else "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}:{hook.registered_at}")),
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{hook.name}"},
        }

    def _remember_suspended_state(self, body: bytes | str | None) -> None:
        """The target's ``SuspendedState`` before a RegisterScalableTarget, for ``after_moto``."""
        payload = json.loads(body or b"{}")
        key = (payload.get("ResourceId", ""), payload.get("ScalableDimension", ""))
        target = self.moto.autoscaling.targets.get(key[1], {}).get(key[0])
        before = getattr(target, "suspended_state", None) if target is not None else None
        self._suspended_before[key] = dict(before or {})

    def _merge_suspended_state(self, body: bytes | str | None) -> None:
        """Application Auto Scaling keeps the ``SuspendedState`` flags a request leaves out and
        always describes all three; moto replaces the whole dict and omits it when unset."""
        payload = json.loads(body or b"{}")
        key = (payload.get("ResourceId", ""), payload.get("ScalableDimension", ""))
        before = self._suspended_before.pop(key, {})
        target = self.moto.autoscaling.targets.get(key[1], {}).get(key[0])
        if target is None:
            return
        given = payload.get("SuspendedState") or {}
        target.suspended_state = {
            flag: bool(given.get(flag, before.get(flag, False))) for flag in _SUSPEND_FLAGS
        }

    def after_moto(self, headers: Mapping[str, str], body: bytes | str | None) -> None:
        """Fix moto's state after it answered (see ``_moto.py``)."""
        service, _, operation = _identify(headers, body)
        if service == "application-autoscaling" and operation == "RegisterScalableTarget":
            with self.lock:
                self._merge_suspended_state(body)
        if service == "ecs" and operation == "CreateService":
            payload = json.loads(body or b"{}")
            with self.lock:
                self.moto.ensure_initial_task_set(
                    payload.get("cluster", "default"), payload.get("serviceName", "")
                )

    # -- reading state (for tests, the demo and the listener proxy) ---------------------

    def deployment(self, deployment_id: str) -> DeploymentRecord:
        return self.codedeploy.deployments[deployment_id]

    def listener_weights(self, listener_arn: str) -> list[tuple[str, int]]:
        """The live ``(target group ARN, weight)`` pairs of a listener's forward action."""
        with self.lock:
            return self.moto.listener_weights(listener_arn)

    def api_calls(self, service: str | None = None) -> Iterator[tuple[float, str, str]]:
        """Every request routed so far: ``(simulated time, service, operation)``."""
        return (c for c in list(self.calls) if service is None or c[1] == service)


_SUSPEND_FLAGS = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        str(k).lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in headers.items()
    }


def _identify(headers: Mapping[str, str], body: bytes | str | None) -> tuple[str, str, str]:
    """(signing service, region, operation) of a signed AWS request."""
    lowered = _lower(headers)
    match = _CREDENTIAL.search(lowered.get("authorization", ""))
    service = match.group("service") if match else ""
    region = match.group("region") if match else ""
    target = lowered.get("x-amz-target")
    if target:
        return service, region, target.rsplit(".", 1)[-1]
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    action = re.search(r"(?:^|&)Action=([A-Za-z]+)", text)
    return service, region, action.group(1) if action else ""


def _lambda_operation(method: str, target: str) -> tuple[str, str | None]:
    """(operation, function name) of a Lambda REST request; only GetFunction is told apart."""
    path = urllib.parse.urlsplit(target).path
    match = _GET_FUNCTION_PATH.match(path)
    if method.upper() == "GET" and match is not None:
        return "GetFunction", urllib.parse.unquote(match.group("function"))
    return "", None


def _json_response(status: int, payload: Mapping[str, Any]) -> Response:
    return (
        status,
        {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())},
        json.dumps(payload),
    )


def _base64_sha256(text: str) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _fault_response(rule: _FaultRule, *, json_protocol: bool) -> Response:
    message = "Rate exceeded" if "Throttl" in rule.code else "Service unavailable (simulated)"
    if json_protocol:
        return error(ApiError(rule.code, message, rule.status))
    request_id = str(uuid.uuid4())
    kind = "Sender" if rule.status < 500 else "Receiver"
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{rule.code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return (rule.status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body)


def _fake_session(region: str) -> Any:
    """One fake-credential ``boto3.Session`` per region for every simulator in the process.

    A session parses each service model once; a new session per ``clients()`` call made
    the sample environment and ``discover`` spend most of a test in botocore's JSON loader.
    """
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(region)
        if session is None:
            import boto3

            session = boto3.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
            )
            _SESSIONS[region] = session
        return session


def _function_name(name_or_arn: str) -> str:
    match = _LAMBDA_ARN.match(name_or_arn)
    return match.group("name") if match else name_or_arn


def _before_send(request: Any, **kwargs: Any) -> Any:
    """botocore ``before-send``, in moto's place: the running simulator answers first and
    hands the rest to moto's stubber (botocore calls every ``before-send`` handler, so the
    two cannot both be registered)."""
    from moto.core.models import botocore_stubber

    sim = _Running.simulator
    if sim is None:
        return botocore_stubber(request=request, **kwargs)
    from botocore.awsrequest import AWSResponse, HTTPHeaders
    from moto.core.botocore_stubber import MockRawResponse

    parts = urllib.parse.urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    answer = sim.route(request.headers, request.body, method=request.method, target=target)
    if answer is None:
        response = botocore_stubber(request=request, **kwargs)
        sim.after_moto(request.headers, request.body)
        if response is not None:
            response.headers["Date"] = sim.http_date()
        return response
    status, headers, body = answer
    http_headers = HTTPHeaders()
    for key, value in headers.items():
        http_headers[key] = value
    return AWSResponse(request.url, status, http_headers, MockRawResponse(body))


def _install_handler() -> None:
    from botocore.handlers import BUILTIN_HANDLERS
    from moto.core.models import botocore_stubber

    for i, entry in enumerate(BUILTIN_HANDLERS):
        if entry[0] == "before-send" and entry[1] is botocore_stubber:
            BUILTIN_HANDLERS[i] = ("before-send", _before_send)
    if ("before-send", _before_send) not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(("before-send", _before_send))


_install_handler()
