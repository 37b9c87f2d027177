"""The runner's ECS-native side: run the checks for one invocation of an ECS lifecycle hook and
return the one answer ECS reads, ``hookStatus``, instead of calling CodeDeploy.

- Checks passed: ``{"hookStatus": "SUCCEEDED"}`` (nothing else, so no field ECS might refuse
  can turn a pass into a rollback).
- Checks failed, the event is malformed, anything raised: ``{"hookStatus": "FAILED",
  "hookDetails": {"bluegreen": {"reason": ...}}}``, the reason also logged. Never an
  exception: ECS would roll back without saying why.
- A check returned or raised ``RetryLater``, or is still running when the Lambda is about to
  time out: ``{"hookStatus": "IN_PROGRESS", "callBackDelay": N, "hookDetails": {...}}``, where
  ``hookDetails`` is what ECS passed (the hook's configured values) plus the kit's state under
  ``"bluegreen"``: when the first invocation began, how many came before, and
  ``HookEvent.state``. The next invocation resumes from it; once ``deadline_seconds`` have
  passed since the first, the hook fails.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from bluegreen._aws import Clients
from bluegreen.hooks._event import HookEvent
from bluegreen.hooks._native import RESUME_KEY, NativeInvocation, answer, parse_native
from bluegreen.hooks._results import describe_exception, format_traceback, log
from bluegreen.hooks._worker import CheckFunction, Outcome, check_name, remaining_seconds, start

__all__ = ["DEFAULT_DEADLINE_SECONDS", "OVERTIME_CALLBACK_SECONDS", "NativeRunner"]

DEFAULT_DEADLINE_SECONDS = 3600.0
"""How long one hook execution's checks may keep asking for more time: an hour, as long as
CodeDeploy waits for a hook."""

OVERTIME_CALLBACK_SECONDS = 5.0
"""``callBackDelay`` after checks that outran the invocation: run them again soon, in a fresh
invocation with the Lambda's whole timeout."""

_REASON_LIMIT = 1000


class NativeRunner:
    """Answers one invocation of an ECS-native hook."""

    __slots__ = (
        "check",
        "clients",
        "deadline_seconds",
        "margin_seconds",
        "no_context_seconds",
        "now",
    )

    def __init__(
        self,
        *,
        check: CheckFunction,
        margin_seconds: float,
        clients: Clients | None,
        deadline_seconds: float,
        now: Callable[[], float],
        no_context_seconds: float,
    ) -> None:
        self.check = check
        self.margin_seconds = margin_seconds
        self.clients = clients
        self.deadline_seconds = deadline_seconds
        self.now = now
        self.no_context_seconds = no_context_seconds

    def run(self, raw_event: Any, context: Any) -> dict[str, Any]:
        """The answer for this invocation; never raises."""
        try:
            return self._run(raw_event, context)
        except BaseException as exc:  # an answer, always: an exception rolls back unexplained
            reason = f"the hook kit raised {describe_exception(exc)}"
            log(
                logging.ERROR,
                {"event": "hook_raised", "error": reason, "traceback": format_traceback(exc)},
            )
            return self._answer({}, "FAILED", reason)

    def _run(self, raw_event: Any, context: Any) -> dict[str, Any]:
        entered = time.monotonic()
        remaining = remaining_seconds(context)
        invocation, problems = parse_native(raw_event)
        if invocation is None:
            reason = "malformed ECS lifecycle hook event: " + "; ".join(problems)
            log(logging.ERROR, {"event": "malformed_event", "kind": "ecs", "reason": reason})
            return self._answer({}, "FAILED", reason)
        where = {
            "deployment_id": invocation.deployment_arn,
            "execution_id": invocation.execution_id,
            "stage": invocation.stage,
        }
        resume = invocation.resume
        wall = self.now()
        started = resume.started if resume.started is not None else wall
        mine = {"started": started, "invocations": resume.invocations + 1}
        if wall - started > self.deadline_seconds:
            reason = (
                f"the checks had not decided {wall - started:.0f} s after the first of "
                f"{resume.invocations} invocations, past the deadline of "
                f"{self.deadline_seconds:g} s"
            )
            if resume.waiting:
                reason += f"; last waiting for: {resume.waiting}"
            return self._answer(where, "FAILED", reason, mine)
        limit = self.no_context_seconds if remaining is None else remaining - self.margin_seconds
        if limit <= 0:
            return self._answer(
                where,
                "FAILED",
                f"the Lambda had {max(remaining or 0.0, 0.0):.1f} s left at entry, no more than "
                f"the margin of {self.margin_seconds:g} s: give the function a longer timeout",
                mine,
            )
        event = self._event(invocation, raw_event, context, remaining, entered)
        outcome = start(self.check, event, where)
        if not outcome.done.wait(limit):
            return self._more_time(
                where,
                event,
                mine,
                OVERTIME_CALLBACK_SECONDS,
                f"the checks were still running {limit:.1f} s into the invocation",
            )
        return self._decided(where, event, outcome, mine, wall)

    def _event(
        self,
        invocation: NativeInvocation,
        raw_event: Any,
        context: Any,
        remaining: float | None,
        entered: float,
    ) -> HookEvent:
        return HookEvent(
            deployment_id=invocation.deployment_arn or "",
            execution_id=invocation.execution_id or "",
            raw=raw_event,
            context=context,
            kind="ecs",
            stage=invocation.stage,
            native=invocation,
            state=dict(invocation.resume.state),
            clients=self.clients,
            remaining_at_entry=remaining,
            entered=entered,
        )

    def _decided(
        self,
        where: dict[str, Any],
        event: HookEvent,
        outcome: Outcome,
        mine: dict[str, Any],
        wall: float,
    ) -> dict[str, Any]:
        retry = outcome.retry
        if outcome.verdict == "Retry" and retry is not None:
            event.state.update(retry.state)
            return self._more_time(where, event, mine, retry.seconds, retry.reason)
        if outcome.verdict == "Succeeded":
            return self._answer(where, "SUCCEEDED", outcome.reason, mine)
        return self._answer(where, "FAILED", outcome.reason, mine)

    def _more_time(
        self,
        where: dict[str, Any],
        event: HookEvent,
        mine: dict[str, Any],
        seconds: float,
        reason: str,
    ) -> dict[str, Any]:
        """IN_PROGRESS with the state to resume from, unless the deadline comes first."""
        waited = self.now() - mine["started"]
        if waited + seconds > self.deadline_seconds:
            return self._answer(
                where,
                "FAILED",
                f"{reason}; running the checks again in {seconds:g} s would pass the deadline "
                f"of {self.deadline_seconds:g} s ({waited:.0f} s since the first invocation)",
                mine,
            )
        try:
            state = _json_copy(event.state)
        except (TypeError, ValueError) as exc:
            return self._answer(
                where,
                "FAILED",
                f"{reason}; HookEvent.state cannot be kept for the next invocation: it must be "
                f"JSON ({describe_exception(exc)})",
                mine,
            )
        passed = event.native.hook_details if event.native is not None else {}
        details = {**passed, RESUME_KEY: {**mine, "waiting": reason, "state": state}}
        log(
            logging.INFO,
            {
                "event": "answered",
                **where,
                "hookStatus": "IN_PROGRESS",
                "reason": reason,
                "callBackDelay": seconds,
                "invocation": mine["invocations"],
            },
        )
        return answer("IN_PROGRESS", delay=seconds, hook_details=details)

    def _answer(
        self,
        where: dict[str, Any],
        status: str,
        reason: str,
        mine: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """SUCCEEDED or FAILED, logged; a FAILED answer says why in ``hookDetails``."""
        if len(reason) > _REASON_LIMIT:
            reason = reason[:_REASON_LIMIT] + "..."
        level = logging.INFO if status == "SUCCEEDED" else logging.ERROR
        log(
            level,
            {
                "event": "answered",
                **where,
                "hookStatus": status,
                "reason": reason,
                "check": check_name(self.check),
                **({"invocation": mine["invocations"]} if mine else {}),
            },
        )
        return answer(status, hook_details={RESUME_KEY: {**(mine or {}), "reason": reason}})


def _json_copy(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` as ECS will carry it (a copy, so the check's thread cannot change it now)."""
    for _ in range(3):
        try:
            copied = json.loads(json.dumps(state))
        except RuntimeError:  # changed by a check still running while being copied
            continue
        if not isinstance(copied, dict):
            raise TypeError("state is not a mapping")
        return copied
    raise ValueError("the state kept changing while it was copied")
