"""The runner that reports exactly once: ``lifecycle_hook`` turns a check function into a
Lambda handler that answers once per invocation, whatever happens: to CodeDeploy with
``PutLifecycleEventHookExecutionStatus`` (``Succeeded`` or ``Failed``), to ECS (an ECS-native
hook, ``_native_runner``) with the ``hookStatus`` it returns.

CodeDeploy waits up to an hour for a hook to call ``PutLifecycleEventHookExecutionStatus``; a
hook that crashes or times out first leaves the deployment hanging for that hour (contract
sections 2.2 and 8). So the check function runs in a worker thread (``_worker``) while the
handler's own thread watches the Lambda's remaining time, and every path ends in one report,
made by the same ``Caller`` as every AWS call of bluegreen (``bluegreen.hooks._clients``). A
check that asks to be run again later (``RetryLater``) is run again in the same invocation
while the Lambda has time: CodeDeploy invokes a hook once.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, overload

from bluegreen._aws import Clients, error_code
from bluegreen.errors import ValidationError
from bluegreen.hooks._clients import RETRY_DELAYS, caller, default_clients
from bluegreen.hooks._event import HookEvent, parse
from bluegreen.hooks._native import looks_native
from bluegreen.hooks._native_runner import DEFAULT_DEADLINE_SECONDS, NativeRunner
from bluegreen.hooks._results import (
    describe_exception,
    ensure_log_level,
    log,
    type_name,
)
from bluegreen.hooks._worker import CheckFunction, check_name, remaining_seconds, start

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


@overload
def lifecycle_hook(function: CheckFunction, /) -> LambdaHandler: ...


@overload
def lifecycle_hook(
    *,
    margin_seconds: float = 10.0,
    client: CodeDeployClient | Clients | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    now: Callable[[], float] = time.time,
) -> Callable[[CheckFunction], LambdaHandler]: ...


def lifecycle_hook(
    function: CheckFunction | None = None,
    /,
    *,
    margin_seconds: float = 10.0,
    client: CodeDeployClient | Clients | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    now: Callable[[], float] = time.time,
) -> LambdaHandler | Callable[[CheckFunction], LambdaHandler]:
    """Turn a check function into a lifecycle-hook Lambda handler, for CodeDeploy and for
    ECS-native deployments alike (the event tells which).

    The check function takes a ``HookEvent`` and returns None or True (passed), False
    (failed), a ``CheckResult`` or an iterable of them (passed when every one is ok), or
    returns or raises ``RetryLater`` (cannot decide yet: run me again in N seconds).

    For CodeDeploy the handler reports ``Succeeded`` or ``Failed`` with
    ``PutLifecycleEventHookExecutionStatus`` exactly once: a check that raises (anything,
    even ``SystemExit``, even an exception that cannot be turned into a string), returns
    something else, a malformed event that still names the deployment and execution, and a
    Lambda about to time out all report ``Failed``; a ``RetryLater`` waits and runs the check
    again while the Lambda has time. Throttling and 5xx on the report are retried;
    ``LifecycleEventAlreadyCompletedException`` counts as reported.

    For an ECS-native hook the handler returns ``{"hookStatus": "SUCCEEDED"}`` or
    ``{"hookStatus": "FAILED", "hookDetails": {"bluegreen": {"reason": ...}}}`` and calls
    nothing; a ``RetryLater``, or checks still running when the Lambda is about to time out,
    return ``IN_PROGRESS`` with ``callBackDelay`` and ``hookDetails`` holding
    ``HookEvent.state``, which the next invocation resumes from. No exception escapes:
    whatever goes wrong is ``FAILED`` with its reason.

    Usable bare (``@lifecycle_hook``) or configured (``@lifecycle_hook(margin_seconds=5)``).

    Args:
        function: the check function.
        margin_seconds: report ``Failed`` when the Lambda has this many seconds left and the
            check has not finished. Without a Lambda context (a local run) the check gets
            ``NO_CONTEXT_SECONDS`` (15 minutes, Lambda's longest run).
        client: a boto3 CodeDeploy client or ``bluegreen.Clients``; by default clients are
            made on first use and kept for warm invocations.
        retry_delays: the waits between attempts of a throttled or 5xx report.
        sleep: how to wait between attempts, and before running a check again that asked
            to be (for tests).
        deadline_seconds: how long the checks of one hook execution may keep asking to be
            run again (``RetryLater``, or too long for an ECS invocation), counted from the
            first invocation; then the hook fails. 1 hour by default, as CodeDeploy's.
        now: the wall clock, in epoch seconds, that counts the deadline across invocations
            (for tests: the simulator's clock).

    Returns:
        ``handler(raw_event, context)``, returning ``{"status", "reason", "checks"}`` after
        reporting to CodeDeploy, or the ``hookStatus`` answer to ECS.

    Raises:
        ValidationError: when decorating, an argument of the wrong type (every one named).
        AWSError: from the handler, when the report itself could not be made (for example
            a missing ``codedeploy:PutLifecycleEventHookExecutionStatus`` permission), so the
            failed invocation shows in the Lambda's errors instead of passing silently.
    """
    problems = _option_problems(margin_seconds, client, retry_delays, sleep)
    if not _seconds(deadline_seconds):
        problems.append(
            "deadline_seconds must be a number of seconds, 0 or more, got "
            f"{type_name(deadline_seconds)}"
        )
    if not callable(now):
        problems.append(f"now must be a function returning epoch seconds, got {type_name(now)}")
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
            deadline_seconds=float(deadline_seconds),
            now=now,
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


class _Runner:
    """Runs one check function per invocation and answers once."""

    __slots__ = (
        "check",
        "client",
        "deadline_seconds",
        "margin_seconds",
        "now",
        "retry_delays",
        "sleep",
    )

    def __init__(
        self,
        *,
        check: CheckFunction,
        margin_seconds: float,
        client: Any,
        retry_delays: tuple[float, ...],
        sleep: Callable[[float], None],
        deadline_seconds: float,
        now: Callable[[], float],
    ) -> None:
        self.check = check
        self.margin_seconds = margin_seconds
        self.client = client
        self.retry_delays = retry_delays
        self.sleep = sleep
        self.deadline_seconds = deadline_seconds
        self.now = now

    def _clients(self) -> Clients:
        if self.client is None:
            return default_clients()
        if isinstance(self.client, Clients):
            return self.client
        return Clients(codedeploy=self.client)

    def run(self, raw_event: Any, context: Any) -> dict[str, Any]:
        ensure_log_level()
        if looks_native(raw_event):
            return NativeRunner(
                check=self.check,
                margin_seconds=self.margin_seconds,
                clients=self._clients() if self.client is not None else None,
                deadline_seconds=self.deadline_seconds,
                now=self.now,
                no_context_seconds=NO_CONTEXT_SECONDS,
            ).run(raw_event, context)
        entered = time.monotonic()
        remaining = remaining_seconds(context)
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
                # hookStatus too: were this an ECS event of a shape the kit does not know,
                # ECS rolls back with this answer rather than for want of one.
                return {"status": "Failed", "reason": reason, "checks": [], "hookStatus": "FAILED"}
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
        checks: list[dict[str, Any]] = []
        status: Status
        if remaining is not None and remaining - self.margin_seconds <= 0:
            status, reason = "Failed", self._timed_out(remaining)
        else:
            status, reason = self._checks(event, entered, remaining, where, checks)
        return self._report(deployment_id, execution_id, status, reason, checks)

    def _checks(
        self,
        event: HookEvent,
        entered: float,
        remaining: float | None,
        where: dict[str, Any],
        checks: list[dict[str, Any]],
    ) -> tuple[Status, str]:
        """Run the check, again after each ``RetryLater`` while the Lambda has time; the
        status and reason to report (``checks`` gets every result)."""
        limit = NO_CONTEXT_SECONDS if remaining is None else remaining - self.margin_seconds
        end = entered + limit
        first = self.now()
        while True:
            outcome = start(self.check, event, where)
            if not outcome.done.wait(max(0.0, end - time.monotonic())):
                checks.extend(outcome.checks)
                if remaining is None:
                    return "Failed", (
                        f"timed out after {limit:g} s without a Lambda context before the "
                        "checks finished"
                    )
                return "Failed", self._timed_out(event.remaining_seconds())
            checks.extend(outcome.checks)
            retry = outcome.retry
            if outcome.verdict != "Retry" or retry is None:
                return ("Succeeded" if outcome.verdict == "Succeeded" else "Failed"), outcome.reason
            event.state.update(retry.state)
            log(
                logging.INFO,
                {"event": "retry_later", **where, "reason": retry.reason, "seconds": retry.seconds},
            )
            left = end - time.monotonic()
            if retry.seconds >= left or self.now() - first + retry.seconds > self.deadline_seconds:
                return "Failed", (
                    f"the check {check_name(self.check)} asked to be run again in "
                    f"{retry.seconds:g} s ({retry.reason}), with {max(left, 0.0):.1f} s left "
                    f"before the margin and a deadline of {self.deadline_seconds:g} s: "
                    "CodeDeploy invokes a hook once, so the wait must fit in one invocation"
                )
            self.sleep(retry.seconds)

    def _timed_out(self, left: float) -> str:
        return (
            f"timed out with {max(left, 0.0):.1f} s left "
            f"(margin {self.margin_seconds:g} s) before the checks finished"
        )

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


def _excerpt(raw: Any, limit: int = 300) -> str:
    try:
        text = repr(raw)
    except BaseException:
        text = f"<a {type_name(raw)} whose __repr__ raised>"
    return text if len(text) <= limit else text[:limit] + "..."
