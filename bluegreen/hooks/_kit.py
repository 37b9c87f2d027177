"""The lifecycle-hook kit: a decorator that turns a check function into a Lambda handler that
reports ``Succeeded`` or ``Failed`` to CodeDeploy exactly once, whatever happens.

CodeDeploy waits up to an hour for a hook to call ``PutLifecycleEventHookExecutionStatus``; a
hook that crashes or times out first leaves the deployment hanging for that hour (contract
sections 2.2 and 8). So the check function runs in a worker thread while the handler's own
thread watches the Lambda's remaining time, and every path ends in one report.

boto3 is imported when the first client is made, not when this module is imported.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypeVar, overload
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from bluegreen._aws import Clients, error_code, translate_errors
from bluegreen.errors import ServiceUnavailableError, ThrottledError

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

__all__ = [
    "CheckResult",
    "HookEvent",
    "HookResult",
    "LambdaHandler",
    "aws_call",
    "default_clients",
    "lifecycle_hook",
    "mask_headers",
    "mask_url",
]

logger = logging.getLogger("bluegreen.hooks")
_T = TypeVar("_T")
Status: TypeAlias = Literal["Succeeded", "Failed"]

TEST_URL_VARIABLE = "BLUEGREEN_TEST_URL"
PRODUCTION_URL_VARIABLE = "BLUEGREEN_PRODUCTION_URL"
ENDPOINT_URL_VARIABLE = "BLUEGREEN_ENDPOINT_URL"
LOG_LEVEL_VARIABLE = "BLUEGREEN_LOG_LEVEL"

_ALREADY_COMPLETED = "LifecycleEventAlreadyCompletedException"
_MASK = "***"
_SECRET_NAME = re.compile(
    r"authorization|cookie|api[-_]?key|token|secret|password|passwd|session|signature|credential",
    re.IGNORECASE,
)


# -- results ------------------------------------------------------------------------------


@attrs.frozen
class CheckResult:
    """What one check tried, what came back and how long it took.

    Attributes:
        name: the check, e.g. ``http`` or ``latency``.
        ok: whether it passed.
        tried: what was tried, e.g. ``GET https://lb.example.com:8080/health``.
        got: what came back, e.g. ``200 OK; body '{"status": "ok"}'``, or why it failed.
        elapsed_ms: how long the check took, in milliseconds.
        details: anything else worth logging (problems found, counts, percentiles).
    """

    name: str
    ok: bool
    tried: str
    got: str
    elapsed_ms: float
    details: Mapping[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the result."""
        return {
            "name": self.name,
            "ok": self.ok,
            "tried": self.tried,
            "got": self.got,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "details": dict(self.details),
        }


HookResult: TypeAlias = bool | CheckResult | Iterable[CheckResult] | None


# -- secrets out of logs --------------------------------------------------------------------


def mask_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``headers`` with the values of secret-looking ones (Authorization, Cookie, X-Api-Key,
    anything naming a token, secret or password) replaced by ``***``."""
    return {
        name: (_MASK if _SECRET_NAME.search(name) else value)
        for name, value in (headers or {}).items()
    }


def mask_url(url: str) -> str:
    """``url`` without a password in its user info or secret-looking query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{_MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, _MASK if _SECRET_NAME.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _log(level: int, payload: Mapping[str, Any]) -> None:
    logger.log(level, json.dumps(payload, default=str, sort_keys=False))


# -- AWS ------------------------------------------------------------------------------------

_DEFAULT_LOCK = threading.Lock()
_DEFAULT: tuple[tuple[str | None, str | None], Clients] | None = None


def default_clients() -> Clients:
    """The module-level ``Clients`` the hooks use unless given others.

    Made on first use and kept for warm invocations of the same Lambda. The region comes from
    ``AWS_REGION`` (set by Lambda) or ``AWS_DEFAULT_REGION``; the endpoint from
    ``BLUEGREEN_ENDPOINT_URL``, else boto3's own ``AWS_ENDPOINT_URL``. botocore's retries are
    off: the kit retries throttling and 5xx itself, within the Lambda's time.
    """
    global _DEFAULT  # noqa: PLW0603
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    endpoint = os.environ.get(ENDPOINT_URL_VARIABLE) or os.environ.get("AWS_ENDPOINT_URL") or None
    key = (region, endpoint)
    with _DEFAULT_LOCK:
        if _DEFAULT is None or _DEFAULT[0] != key:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "total_max_attempts": 1},
                # Short, so a hung call still leaves time to report within the margin.
                connect_timeout=3,
                read_timeout=5,
            )
            clients = Clients(
                session=boto3.Session(region_name=region), endpoint_url=endpoint, config=config
            )
            _DEFAULT = (key, clients)
        return _DEFAULT[1]


_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)


def aws_call(
    operation: str,
    call: Callable[[], _T],
    *,
    delays: Sequence[float] = _RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> _T:
    """``call()`` with botocore errors translated, retried after each of ``delays`` when AWS
    throttles or answers 5xx (and only then).

    Raises:
        AWSError: the last error, once the delays are used up, or any other AWS error.
    """
    attempt = 0
    while True:
        try:
            with translate_errors(operation):
                return call()
        except (ThrottledError, ServiceUnavailableError) as exc:
            if attempt >= len(delays):
                raise
            delay = delays[attempt]
            attempt += 1
            _log(
                logging.WARNING,
                {"event": "aws_retry", "operation": operation, "error": str(exc), "delay": delay},
            )
            sleep(delay)


# -- the typed event ------------------------------------------------------------------------


@attrs.define
class HookEvent:
    """The event CodeDeploy sends a lifecycle hook, with the Lambda context.

    Attributes:
        deployment_id: the deployment, ``d-XXXXXXXXX``.
        execution_id: the ``LifecycleEventHookExecutionId`` to report on.
        raw: the event as received.
        context: the Lambda context (None when run without one).
    """

    deployment_id: str
    execution_id: str
    raw: Mapping[str, Any] = attrs.field(repr=False)
    context: Any = attrs.field(default=None, repr=False)
    _clients: Clients | None = attrs.field(default=None, alias="clients", repr=False)
    _remaining_at_entry: float | None = attrs.field(default=None, alias="remaining_at_entry")
    _entered: float = attrs.field(factory=time.monotonic, alias="entered", repr=False)
    _urls: dict[str, str] = attrs.field(factory=dict, init=False, repr=False)

    def remaining_seconds(self) -> float:
        """Seconds until the Lambda times out, on the wall clock from the context's remaining
        time at entry; ``inf`` without a context."""
        if self._remaining_at_entry is None:
            return math.inf
        return self._remaining_at_entry - (time.monotonic() - self._entered)

    @property
    def clients(self) -> Clients:
        """The AWS clients this hook uses (the module-level ones unless configured)."""
        if self._clients is None:
            self._clients = default_clients()
        return self._clients

    @property
    def test_url(self) -> str:
        """The test listener's base URL: ``BLUEGREEN_TEST_URL`` if set, else discovered from
        the deployment's group (``http(s)://<load balancer DNS name>:<port>``)."""
        return self._url("test", TEST_URL_VARIABLE)

    @property
    def production_url(self) -> str:
        """The production listener's base URL: ``BLUEGREEN_PRODUCTION_URL`` if set, else
        discovered like ``test_url``."""
        return self._url("production", PRODUCTION_URL_VARIABLE)

    def _url(self, route: str, variable: str) -> str:
        override = os.environ.get(variable)
        if override:
            return override.rstrip("/")
        if route not in self._urls:
            from bluegreen.hooks._listener import listener_url

            self._urls[route] = listener_url(self.deployment_id, route, clients=self.clients)
        return self._urls[route]


# -- parsing the event ------------------------------------------------------------------------

_ID_KEYS = {
    "deployment": ("DeploymentId", "deploymentId", "deployment_id"),
    "execution": (
        "LifecycleEventHookExecutionId",
        "lifecycleEventHookExecutionId",
        "lifecycle_event_hook_execution_id",
    ),
}


@attrs.frozen
class _Parsed:
    deployment_id: str | None
    execution_id: str | None
    problems: tuple[str, ...]


def _parse(raw: Any) -> _Parsed:
    """The two ids, and what is wrong with the event (empty when it is CodeDeploy's shape)."""
    problems: list[str] = []
    event = raw
    if isinstance(raw, str | bytes | bytearray):
        try:
            event = json.loads(raw)
        except ValueError:
            event = None
        if isinstance(event, Mapping):
            problems.append("the event is a JSON string, not an object")
    if not isinstance(event, Mapping):
        problems.append(f"the event is a {type(raw).__name__}, not an object")
        return _Parsed(None, None, tuple(problems))
    ids: dict[str, str | None] = {}
    for what, keys in _ID_KEYS.items():
        canonical = keys[0]
        value = event.get(canonical)
        if not (isinstance(value, str) and value.strip()):
            found = next((k for k in keys[1:] if event.get(k) not in (None, "")), None)
            if value in (None, "") and found is None:
                problems.append(f"{canonical} is missing")
            elif found is not None:
                problems.append(f"{canonical} is spelled {found}")
                value = event[found]
            else:
                problems.append(f"{canonical} is a {type(value).__name__}, not a string")
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            ids[what] = str(value).strip()
        else:
            ids[what] = None
    return _Parsed(ids["deployment"], ids["execution"], tuple(problems))


# -- the decorator ------------------------------------------------------------------------


class LambdaHandler(Protocol):
    """A Lambda entry point made by ``lifecycle_hook``."""

    def __call__(self, raw_event: Any, context: Any = None) -> dict[str, Any]: ...


CheckFunction: TypeAlias = Callable[[HookEvent], HookResult]


@attrs.define
class _Outcome:
    """What the worker thread found; read by the handler's thread once the worker is done."""

    results: list[CheckResult] = attrs.Factory(list)
    status: Status | None = None
    reason: str = ""
    done: threading.Event = attrs.Factory(threading.Event)


@overload
def lifecycle_hook(function: CheckFunction, /) -> LambdaHandler: ...


@overload
def lifecycle_hook(
    *,
    margin_seconds: float = 10.0,
    client: CodeDeployClient | Clients | None = None,
    retry_delays: Sequence[float] = _RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[CheckFunction], LambdaHandler]: ...


def lifecycle_hook(
    function: CheckFunction | None = None,
    /,
    *,
    margin_seconds: float = 10.0,
    client: CodeDeployClient | Clients | None = None,
    retry_delays: Sequence[float] = _RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> LambdaHandler | Callable[[CheckFunction], LambdaHandler]:
    """Turn a check function into a CodeDeploy lifecycle-hook Lambda handler.

    The check function takes a ``HookEvent`` and returns None or True (passed), False
    (failed), a ``CheckResult`` or an iterable of them (passed when every one is ok). The
    handler reports ``Succeeded`` or ``Failed`` with ``PutLifecycleEventHookExecutionStatus``
    exactly once: a check that raises, a malformed event that still names the deployment and
    execution, and a Lambda about to time out all report ``Failed``. Throttling and 5xx on the
    report are retried; ``LifecycleEventAlreadyCompletedException`` counts as reported.

    Usable bare (``@lifecycle_hook``) or configured (``@lifecycle_hook(margin_seconds=5)``).

    Args:
        function: the check function.
        margin_seconds: report ``Failed`` when the Lambda has this many seconds left and the
            check has not finished.
        client: a boto3 CodeDeploy client or ``bluegreen.Clients``; by default clients are
            made on first use and kept for warm invocations.
        retry_delays: the waits between attempts of a throttled or 5xx report.
        sleep: how to wait between attempts (for tests).

    Returns:
        ``handler(raw_event, context)``, returning ``{"status", "reason", "checks"}`` after
        reporting.

    Raises:
        AWSError: from the handler, when the report itself could not be made (for example
            a missing ``codedeploy:PutLifecycleEventHookExecutionStatus`` permission), so the
            failed invocation shows in the Lambda's errors instead of passing silently.
    """

    def decorate(check: CheckFunction) -> LambdaHandler:
        runner = _Runner(
            check=check,
            margin_seconds=margin_seconds,
            client=client,
            retry_delays=tuple(retry_delays),
            sleep=sleep,
        )

        @functools.wraps(check)
        def handler(raw_event: Any, context: Any = None) -> dict[str, Any]:
            return runner.run(raw_event, context)

        return handler

    if function is not None:
        return decorate(function)
    return decorate


def _ensure_log_level() -> None:
    """Log check results at INFO unless told otherwise: Lambda's root logger stops at WARNING."""
    if logger.level == logging.NOTSET:
        name = os.environ.get(LOG_LEVEL_VARIABLE, "INFO").strip().upper()
        logger.setLevel(logging.getLevelNamesMapping().get(name, logging.INFO))


def _remaining_seconds(context: Any) -> float | None:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:
        return None
    try:
        return float(getter()) / 1000.0
    except Exception:
        return None


@attrs.define
class _Runner:
    check: CheckFunction
    margin_seconds: float
    client: Any
    retry_delays: tuple[float, ...]
    sleep: Callable[[float], None]

    def _clients(self) -> Clients:
        if self.client is None:
            return default_clients()
        if isinstance(self.client, Clients):
            return self.client
        return Clients(codedeploy=self.client)

    def run(self, raw_event: Any, context: Any) -> dict[str, Any]:
        _ensure_log_level()
        entered = time.monotonic()
        remaining = _remaining_seconds(context)
        parsed = _parse(raw_event)
        deployment_id, execution_id = parsed.deployment_id, parsed.execution_id
        where = {"deployment_id": deployment_id, "execution_id": execution_id}
        if parsed.problems:
            reason = "malformed event: " + "; ".join(parsed.problems)
            if deployment_id is None or execution_id is None:
                _log(
                    logging.ERROR,
                    {
                        "event": "not_reported",
                        **where,
                        "reason": reason + "; nothing to report on, so no report was made",
                        "raw_event": _excerpt(raw_event),
                    },
                )
                return {"status": "Failed", "reason": reason, "checks": []}
            _log(logging.ERROR, {"event": "malformed_event", **where, "reason": reason})
            return self._report(deployment_id, execution_id, "Failed", reason, [])
        assert deployment_id is not None
        assert execution_id is not None
        event = HookEvent(
            deployment_id=deployment_id,
            execution_id=execution_id,
            raw=raw_event,
            context=context,
            clients=self._clients() if self.client is not None else None,
            remaining_at_entry=remaining,
            entered=entered,
        )
        outcome = _Outcome()
        status: Status
        if remaining is not None and remaining - self.margin_seconds <= 0:
            status, reason = "Failed", self._timed_out(remaining)
        else:
            worker = threading.Thread(
                target=self._work,
                args=(event, outcome),
                name=f"bluegreen-hook-{execution_id}",
                daemon=True,
            )
            worker.start()
            wait = None if remaining is None else remaining - self.margin_seconds
            if outcome.done.wait(wait):
                status = outcome.status or "Failed"
                reason = outcome.reason
            else:
                status, reason = "Failed", self._timed_out(event.remaining_seconds())
        results = list(outcome.results)
        return self._report(deployment_id, execution_id, status, reason, results)

    def _timed_out(self, left: float) -> str:
        return (
            f"timed out with {max(left, 0.0):.1f} s left "
            f"(margin {self.margin_seconds:g} s) before the checks finished"
        )

    def _work(self, event: HookEvent, outcome: _Outcome) -> None:
        """Run the check function and judge what it returned; never raises."""
        where = {"deployment_id": event.deployment_id, "execution_id": event.execution_id}
        status: Status
        try:
            returned = self.check(event)
            if returned is None or returned is True:
                status, reason = "Succeeded", "the check function passed"
            elif returned is False:
                status, reason = "Failed", "the check function returned False"
            elif isinstance(returned, CheckResult):
                self._record(outcome, returned, where)
                status, reason = _judge([returned])
            elif isinstance(returned, Iterable) and not isinstance(returned, str | bytes):
                items: list[CheckResult] = []
                for item in returned:
                    if not isinstance(item, CheckResult):
                        raise TypeError(
                            f"the check function yielded a {type(item).__name__}, not a CheckResult"
                        )
                    self._record(outcome, item, where)
                    items.append(item)
                status, reason = _judge(items)
            else:
                raise TypeError(
                    f"the check function returned a {type(returned).__name__}; return None, "
                    "a bool, a CheckResult or an iterable of CheckResults"
                )
        except BaseException as exc:
            status = "Failed"
            reason = f"the check raised {type(exc).__name__}: {exc}"
            _log(
                logging.ERROR,
                {
                    "event": "check_raised",
                    **where,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": "".join(traceback.format_exception(exc)),
                },
            )
        outcome.status, outcome.reason = status, reason
        outcome.done.set()

    @staticmethod
    def _record(outcome: _Outcome, result: CheckResult, where: Mapping[str, Any]) -> None:
        outcome.results.append(result)
        level = logging.INFO if result.ok else logging.WARNING
        _log(level, {"event": "check", **where, **result.to_dict()})

    def _report(
        self,
        deployment_id: str,
        execution_id: str,
        status: Status,
        reason: str,
        results: list[CheckResult],
    ) -> dict[str, Any]:
        where = {"deployment_id": deployment_id, "execution_id": execution_id}
        answer = {
            "status": status,
            "reason": reason,
            "checks": [r.to_dict() for r in results],
        }
        codedeploy = self._clients().codedeploy
        try:
            aws_call(
                "PutLifecycleEventHookExecutionStatus",
                lambda: codedeploy.put_lifecycle_event_hook_execution_status(
                    deploymentId=deployment_id,
                    lifecycleEventHookExecutionId=execution_id,
                    status=status,
                ),
                delays=self.retry_delays,
                sleep=self.sleep,
            )
        except Exception as exc:
            if error_code(exc) == _ALREADY_COMPLETED:
                _log(
                    logging.WARNING,
                    {
                        "event": "already_reported",
                        **where,
                        "status": status,
                        "reason": reason,
                        "detail": "CodeDeploy already has this hook's status; treated as reported",
                    },
                )
                return answer
            _log(
                logging.ERROR,
                {
                    "event": "report_failed",
                    **where,
                    "status": status,
                    "reason": reason,
                    "error": f"{type(exc).__name__}: {exc}",
                },
            )
            raise
        level = logging.INFO if status == "Succeeded" else logging.ERROR
        _log(level, {"event": "reported", **where, "status": status, "reason": reason})
        return answer


def _judge(results: list[CheckResult]) -> tuple[Status, str]:
    failed = [r for r in results if not r.ok]
    if not results:
        return "Succeeded", "no checks returned"
    if not failed:
        return "Succeeded", f"{len(results)} check{'s' if len(results) != 1 else ''} passed"
    first = failed[0]
    more = f" (and {len(failed) - 1} more failed)" if len(failed) > 1 else ""
    return "Failed", f"{first.name} failed: tried {first.tried}, got {first.got}{more}"


def _excerpt(raw: Any, limit: int = 300) -> str:
    text = repr(raw)
    return text if len(text) <= limit else text[:limit] + "..."
