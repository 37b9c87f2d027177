"""The runner that reports exactly once: ``lifecycle_hook`` turns a check function into a
Lambda handler that reports ``Succeeded`` or ``Failed`` to CodeDeploy once, whatever happens.

CodeDeploy waits up to an hour for a hook to call ``PutLifecycleEventHookExecutionStatus``; a
hook that crashes or times out first leaves the deployment hanging for that hour (contract
sections 2.2 and 8). So the check function runs in a worker thread while the handler's own
thread watches the Lambda's remaining time, and every path ends in one report, made by the
same ``Caller`` as every AWS call of bluegreen (``bluegreen.hooks._clients``).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, overload

from bluegreen._aws import Clients, error_code
from bluegreen.errors import ValidationError
from bluegreen.hooks._clients import RETRY_DELAYS, caller, default_clients
from bluegreen.hooks._event import HookEvent, parse
from bluegreen.hooks._results import (
    CheckResult,
    HookResult,
    describe_exception,
    ensure_log_level,
    format_traceback,
    log,
    type_name,
)

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

__all__ = ["CheckFunction", "LambdaHandler", "Status", "lifecycle_hook"]

Status: TypeAlias = Literal["Succeeded", "Failed"]

_ALREADY_COMPLETED = "LifecycleEventAlreadyCompletedException"

NO_CONTEXT_SECONDS = 900.0
"""How long the checks may run without a Lambda context (a local run, a test): Lambda's
longest run, 15 minutes. With a context, its remaining time less the margin decides."""


class LambdaHandler(Protocol):
    """A Lambda entry point made by ``lifecycle_hook``."""

    def __call__(self, raw_event: Any, context: Any = None) -> dict[str, Any]: ...


CheckFunction: TypeAlias = Callable[[HookEvent], HookResult]


class _Outcome:
    """What the worker thread found; read by the handler's thread once the worker is done.

    (Plain classes here and in ``_Runner``: every class attrs builds costs a cold start about
    a millisecond, and these two are private.)
    """

    __slots__ = ("checks", "done", "reason", "results", "status")

    def __init__(self) -> None:
        self.results: list[CheckResult] = []
        self.checks: list[dict[str, Any]] = []
        self.status: Status | None = None
        self.reason = ""
        self.done = threading.Event()


@overload
def lifecycle_hook(function: CheckFunction, /) -> LambdaHandler: ...


@overload
def lifecycle_hook(
    *,
    margin_seconds: float = 10.0,
    client: CodeDeployClient | Clients | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[CheckFunction], LambdaHandler]: ...


def lifecycle_hook(
    function: CheckFunction | None = None,
    /,
    *,
    margin_seconds: float = 10.0,
    client: CodeDeployClient | Clients | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> LambdaHandler | Callable[[CheckFunction], LambdaHandler]:
    """Turn a check function into a CodeDeploy lifecycle-hook Lambda handler.

    The check function takes a ``HookEvent`` and returns None or True (passed), False
    (failed), a ``CheckResult`` or an iterable of them (passed when every one is ok). The
    handler reports ``Succeeded`` or ``Failed`` with ``PutLifecycleEventHookExecutionStatus``
    exactly once: a check that raises (anything, even ``SystemExit``, even an exception that
    cannot be turned into a string), returns something else, a malformed event that still
    names the deployment and execution, and a Lambda about to time out all report
    ``Failed``. Throttling and 5xx on the report are retried;
    ``LifecycleEventAlreadyCompletedException`` counts as reported.

    Usable bare (``@lifecycle_hook``) or configured (``@lifecycle_hook(margin_seconds=5)``).

    Args:
        function: the check function.
        margin_seconds: report ``Failed`` when the Lambda has this many seconds left and the
            check has not finished. Without a Lambda context (a local run) the check gets
            ``NO_CONTEXT_SECONDS`` (15 minutes, Lambda's longest run).
        client: a boto3 CodeDeploy client or ``bluegreen.Clients``; by default clients are
            made on first use and kept for warm invocations.
        retry_delays: the waits between attempts of a throttled or 5xx report.
        sleep: how to wait between attempts (for tests).

    Returns:
        ``handler(raw_event, context)``, returning ``{"status", "reason", "checks"}`` after
        reporting.

    Raises:
        ValidationError: when decorating, an argument of the wrong type (every one named).
        AWSError: from the handler, when the report itself could not be made (for example
            a missing ``codedeploy:PutLifecycleEventHookExecutionStatus`` permission), so the
            failed invocation shows in the Lambda's errors instead of passing silently.
    """
    problems = _option_problems(margin_seconds, client, retry_delays, sleep)
    if problems:
        raise ValidationError(problems, subject="lifecycle_hook arguments")

    def decorate(check: CheckFunction) -> LambdaHandler:
        if not callable(check):
            raise ValidationError(
                [
                    "lifecycle_hook decorates a check function taking a HookEvent, "
                    f"got {type_name(check)}"
                ],
                subject="lifecycle_hook arguments",
            )
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


def _option_problems(
    margin_seconds: object, client: object, retry_delays: object, sleep: object
) -> list[str]:
    problems = []
    if not _seconds(margin_seconds):
        problems.append(
            "margin_seconds must be a number of seconds, 0 or more, got "
            f"{type_name(margin_seconds)}"
        )
    if not (
        client is None
        or isinstance(client, Clients)
        or callable(getattr(client, "put_lifecycle_event_hook_execution_status", None))
    ):
        problems.append(
            "client must be a boto3 CodeDeploy client or bluegreen.Clients (or None), "
            f"got {type_name(client)}"
        )
    if isinstance(retry_delays, str | bytes) or not isinstance(retry_delays, Sequence):
        problems.append(
            "retry_delays must be a sequence of seconds, e.g. (1, 2, 4), got "
            f"{type_name(retry_delays)}"
        )
    elif not all(_seconds(delay) for delay in retry_delays):
        problems.append("retry_delays must hold numbers of seconds, 0 or more")
    if not callable(sleep):
        problems.append(f"sleep must be a function taking seconds, got {type_name(sleep)}")
    return problems


def _seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _remaining_seconds(context: Any) -> float | None:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:
        return None
    try:
        return float(getter()) / 1000.0
    except Exception:
        return None


class _Runner:
    """Runs one check function per invocation and reports its outcome once."""

    __slots__ = ("check", "client", "margin_seconds", "retry_delays", "sleep")

    def __init__(
        self,
        *,
        check: CheckFunction,
        margin_seconds: float,
        client: Any,
        retry_delays: tuple[float, ...],
        sleep: Callable[[float], None],
    ) -> None:
        self.check = check
        self.margin_seconds = margin_seconds
        self.client = client
        self.retry_delays = retry_delays
        self.sleep = sleep

    def _clients(self) -> Clients:
        if self.client is None:
            return default_clients()
        if isinstance(self.client, Clients):
            return self.client
        return Clients(codedeploy=self.client)

    def run(self, raw_event: Any, context: Any) -> dict[str, Any]:
        ensure_log_level()
        entered = time.monotonic()
        remaining = _remaining_seconds(context)
        parsed = parse(raw_event)
        deployment_id, execution_id = parsed.deployment_id, parsed.execution_id
        where = {"deployment_id": deployment_id, "execution_id": execution_id}
        if parsed.problems:
            reason = "malformed event: " + "; ".join(parsed.problems)
            if deployment_id is None or execution_id is None:
                log(
                    logging.ERROR,
                    {
                        "event": "not_reported",
                        **where,
                        "reason": reason + "; nothing to report on, so no report was made",
                        "raw_event": _excerpt(raw_event),
                    },
                )
                return {"status": "Failed", "reason": reason, "checks": []}
            log(logging.ERROR, {"event": "malformed_event", **where, "reason": reason})
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
            limit = NO_CONTEXT_SECONDS if remaining is None else remaining - self.margin_seconds
            if outcome.done.wait(limit):
                status = outcome.status or "Failed"
                reason = outcome.reason
            elif remaining is None:
                status = "Failed"
                reason = (
                    f"timed out after {limit:g} s without a Lambda context before the checks "
                    "finished"
                )
            else:
                status, reason = "Failed", self._timed_out(event.remaining_seconds())
        checks = list(outcome.checks)
        return self._report(deployment_id, execution_id, status, reason, checks)

    def _timed_out(self, left: float) -> str:
        return (
            f"timed out with {max(left, 0.0):.1f} s left "
            f"(margin {self.margin_seconds:g} s) before the checks finished"
        )

    def _work(self, event: HookEvent, outcome: _Outcome) -> None:
        """Run the check function and judge what it returned; whatever the check does (raise
        an exception that cannot be rendered, a ``SystemExit``, return anything), the outcome
        is set and the handler's thread woken, exactly once."""
        where = {"deployment_id": event.deployment_id, "execution_id": event.execution_id}
        name = _check_name(self.check)
        status: Status = "Failed"
        reason = f"the check {name} ended without a result"
        try:
            status, reason = self._judge_returned(name, self.check(event), outcome, where)
        except BaseException as exc:  # a check's failure, whatever its kind, is reported
            status = "Failed"
            error = describe_exception(exc)
            reason = f"the check {name} raised {error}"
            log(
                logging.ERROR,
                {
                    "event": "check_raised",
                    **where,
                    "check": name,
                    "error": error,
                    "traceback": format_traceback(exc),
                },
            )
        finally:
            outcome.status, outcome.reason = status, reason
            outcome.done.set()

    def _judge_returned(
        self, name: str, returned: object, outcome: _Outcome, where: Mapping[str, Any]
    ) -> tuple[Status, str]:
        """The status and reason for what the check function returned."""
        if returned is None or returned is True:
            return "Succeeded", "the check function passed"
        if returned is False:
            return "Failed", "the check function returned False"
        if isinstance(returned, CheckResult):
            self._record(outcome, returned, where)
            return _judge([returned])
        if isinstance(returned, Iterable) and not isinstance(returned, str | bytes):
            items: list[CheckResult] = []
            for item in returned:
                if not isinstance(item, CheckResult):
                    return "Failed", (
                        f"the check {name} yielded a value of type {type_name(item)}, not a "
                        "CheckResult"
                    )
                self._record(outcome, item, where)
                items.append(item)
            return _judge(items)
        return "Failed", (
            f"the check {name} returned a value of type {type_name(returned)}; return None, "
            "a bool, a CheckResult or an iterable of CheckResults"
        )

    @staticmethod
    def _record(outcome: _Outcome, result: CheckResult, where: Mapping[str, Any]) -> None:
        rendered = result.to_dict()
        outcome.results.append(result)
        outcome.checks.append(rendered)
        level = logging.INFO if result.ok else logging.WARNING
        log(level, {"event": "check", **where, **rendered})

    def _report(
        self,
        deployment_id: str,
        execution_id: str,
        status: Status,
        reason: str,
        checks: list[dict[str, Any]],
    ) -> dict[str, Any]:
        where = {"deployment_id": deployment_id, "execution_id": execution_id}
        answer = {"status": status, "reason": reason, "checks": checks}
        codedeploy = self._clients().codedeploy
        report = caller(delays=self.retry_delays, sleep=self.sleep)
        try:
            report(
                "PutLifecycleEventHookExecutionStatus",
                codedeploy.put_lifecycle_event_hook_execution_status,
                deploymentId=deployment_id,
                lifecycleEventHookExecutionId=execution_id,
                status=status,
            )
        except Exception as exc:
            if error_code(exc) == _ALREADY_COMPLETED:
                log(
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
            log(
                logging.ERROR,
                {
                    "event": "report_failed",
                    **where,
                    "status": status,
                    "reason": reason,
                    "error": describe_exception(exc),
                },
            )
            raise
        level = logging.INFO if status == "Succeeded" else logging.ERROR
        log(level, {"event": "reported", **where, "status": status, "reason": reason})
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


def _check_name(check: object) -> str:
    """The check function's name, for the reason reported: ``verify_green``, ``<lambda>``."""
    name = getattr(check, "__name__", None)
    return name if isinstance(name, str) else type_name(check)


def _excerpt(raw: Any, limit: int = 300) -> str:
    try:
        text = repr(raw)
    except BaseException:
        text = f"<a {type_name(raw)} whose __repr__ raised>"
    return text if len(text) <= limit else text[:limit] + "..."
