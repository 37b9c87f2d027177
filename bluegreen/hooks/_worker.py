"""One run of a check function in a worker thread, and the verdict on what it did: passed,
failed (with the first failure's reason), or asked to be run again later (``RetryLater``).

The handler's own thread waits on ``Outcome.done`` for as long as the Lambda has time, so a
check that hangs cannot stop the hook from answering; whatever the check does (raise anything,
even ``SystemExit`` or an exception that cannot be rendered, return anything), the outcome is
set and the handler's thread woken, exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeAlias

from bluegreen.hooks._event import HookEvent
from bluegreen.hooks._results import (
    CheckResult,
    HookResult,
    describe_exception,
    format_traceback,
    log,
    type_name,
)
from bluegreen.hooks._retry import RetryLater

__all__ = ["CheckFunction", "Outcome", "Verdict", "check_name", "remaining_seconds", "start"]

Verdict: TypeAlias = Literal["Succeeded", "Failed", "Retry"]
CheckFunction: TypeAlias = Callable[[HookEvent], HookResult]


class Outcome:
    """What the worker thread found; read by the handler's thread once ``done`` is set.

    (A plain class: every class attrs builds costs a cold start about a millisecond.)
    """

    __slots__ = ("checks", "done", "reason", "results", "retry", "verdict")

    def __init__(self) -> None:
        self.results: list[CheckResult] = []
        self.checks: list[dict[str, Any]] = []
        self.verdict: Verdict | None = None
        self.reason = ""
        self.retry: RetryLater | None = None
        self.done = threading.Event()


def start(check: CheckFunction, event: HookEvent, where: Mapping[str, Any]) -> Outcome:
    """Run ``check(event)`` in a daemon thread; the returned outcome is filled when it ends."""
    outcome = Outcome()
    worker = threading.Thread(
        target=_work,
        args=(check, event, outcome, dict(where)),
        name=f"bluegreen-hook-{event.execution_id}",
        daemon=True,
    )
    worker.start()
    return outcome


def _work(
    check: CheckFunction, event: HookEvent, outcome: Outcome, where: Mapping[str, Any]
) -> None:
    name = check_name(check)
    verdict: Verdict = "Failed"
    reason = f"the check {name} ended without a result"
    try:
        verdict, reason = _judge_returned(name, check(event), outcome, where)
    except RetryLater as retry:
        verdict, reason = "Retry", retry.reason
        outcome.retry = retry
    except BaseException as exc:  # a check's failure, whatever its kind, is reported
        verdict = "Failed"
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
        outcome.verdict, outcome.reason = verdict, reason
        outcome.done.set()


def _judge_returned(
    name: str, returned: object, outcome: Outcome, where: Mapping[str, Any]
) -> tuple[Verdict, str]:
    """The verdict and reason for what the check function returned."""
    if returned is None or returned is True:
        return "Succeeded", "the check function passed"
    if returned is False:
        return "Failed", "the check function returned False"
    if isinstance(returned, RetryLater):
        outcome.retry = returned
        return "Retry", returned.reason
    if isinstance(returned, CheckResult):
        _record(outcome, returned, where)
        return _judge([returned])
    if isinstance(returned, Iterable) and not isinstance(returned, str | bytes):
        items: list[CheckResult] = []
        for item in returned:
            if isinstance(item, RetryLater):
                outcome.retry = item
                return "Retry", item.reason
            if not isinstance(item, CheckResult):
                return "Failed", (
                    f"the check {name} yielded a value of type {type_name(item)}, not a CheckResult"
                )
            _record(outcome, item, where)
            items.append(item)
        return _judge(items)
    return "Failed", (
        f"the check {name} returned a value of type {type_name(returned)}; return None, "
        "a bool, a CheckResult, an iterable of CheckResults or a RetryLater"
    )


def _record(outcome: Outcome, result: CheckResult, where: Mapping[str, Any]) -> None:
    rendered = result.to_dict()
    outcome.results.append(result)
    outcome.checks.append(rendered)
    level = logging.INFO if result.ok else logging.WARNING
    log(level, {"event": "check", **where, **rendered})


def _judge(results: list[CheckResult]) -> tuple[Verdict, str]:
    failed = [r for r in results if not r.ok]
    if not results:
        return "Succeeded", "no checks returned"
    if not failed:
        return "Succeeded", f"{len(results)} check{'s' if len(results) != 1 else ''} passed"
    first = failed[0]
    more = f" (and {len(failed) - 1} more failed)" if len(failed) > 1 else ""
    return "Failed", f"{first.name} failed: tried {first.tried}, got {first.got}{more}"


def check_name(check: object) -> str:
    """The check function's name, for the reason reported: ``verify_green``, ``<lambda>``."""
    name = getattr(check, "__name__", None)
    return name if isinstance(name, str) else type_name(check)


def remaining_seconds(context: Any) -> float | None:
    """The Lambda context's remaining time in seconds; None without a usable context."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:
        return None
    try:
        return float(getter()) / 1000.0
    except Exception:
        return None
