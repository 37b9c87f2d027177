"""``--output json``: one JSON object per change, each with ``type`` (``snapshot``,
``event_changed``, ``traffic``, ``analysis``, ``error``, ``done``), ``timestamp`` and
``deployment_id``; the last line is always ``done``, with the ``outcome`` and the
``exit_code`` (and, when an analysis ran, its verdict and every evaluation as ``analysis``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bluegreen.cli._exit_codes import (
    EXIT_AWS_ERROR,
    EXIT_DEPLOYMENT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_TIMEOUT,
)
from bluegreen.cli._progress.reading import (
    elapsed_seconds,
    event_seconds,
    iso,
    json_default,
    outcome_of,
    production_weights,
)
from bluegreen.cli._progress.reporter import Changes, Reporter
from bluegreen.errors import AWSError, DeploymentError, DeploymentStateError, WaitTimeoutError

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.deployment import DeploymentSnapshot


def exit_code_of(exc: BaseException) -> int:
    if isinstance(exc, DeploymentError):
        return EXIT_DEPLOYMENT_FAILED
    if isinstance(exc, WaitTimeoutError):
        return EXIT_TIMEOUT
    if isinstance(exc, AWSError):
        return EXIT_AWS_ERROR
    return EXIT_INVALID


def error_fields(exc: BaseException) -> dict[str, Any]:
    fields: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    names = (
        "deployment_id",
        "lifecycle_event",
        "error_code",
        "error_message",
        "diagnostics",
        "rollback_deployment_id",
        "milestone",
        "waiting_for",
        "elapsed",
        "operation",
        "code",
        "request_id",
        "status",
    )
    for name in names:
        value = getattr(exc, name, None)
        if value is not None:
            fields[name] = value
    return fields


class JsonLines(Reporter):
    """One JSON object per line per change, the last one ``done``."""

    def _emit(self, kind: str, deployment_id: str | None, /, **fields: Any) -> None:
        record = {"type": kind, "timestamp": iso(self.now()), "deployment_id": deployment_id}
        record.update(fields)
        self.stream.write(json.dumps(record, default=json_default) + "\n")
        self.stream.flush()

    def _snapshot_fields(self, snapshot: DeploymentSnapshot) -> dict[str, Any]:
        fields = dict(snapshot.to_dict())
        fields.pop("deployment_id", None)
        fields["waiting_for"] = snapshot.waiting_for
        weights = production_weights(snapshot)
        fields["production"] = (
            None if weights is None else {"blue": weights[0], "green": weights[1]}
        )
        fields["elapsed_seconds"] = self._elapsed(snapshot)
        return fields

    def _elapsed(self, snapshot: DeploymentSnapshot) -> float | None:
        elapsed = elapsed_seconds(snapshot, self.now())
        return None if elapsed is None else round(elapsed, 3)

    def show(self, changes: Changes) -> None:
        snapshot = changes.snapshot
        if changes.first or changes.status_changed:
            fields = self._snapshot_fields(snapshot)
            if changes.first:
                expected = snapshot.schedule
                fields["expected_minutes_after_install"] = (
                    None if expected is None else expected.total_minutes
                )
            self._emit("snapshot", snapshot.deployment_id, **fields)
        for change in changes.events:
            event = change.event
            seconds = event_seconds(event, self.now())
            self._emit(
                "event_changed",
                snapshot.deployment_id,
                event=event.name,
                event_status=event.status,
                previous_status=change.previous,
                start=iso(event.start),
                end=iso(event.end),
                duration_seconds=None if seconds is None else round(seconds, 3),
                diagnostics=event.diagnostics,
                status=snapshot.status,
                waiting_for=snapshot.waiting_for,
                elapsed_seconds=self._elapsed(snapshot),
            )
        if changes.traffic is not None and not changes.first:
            blue, green = changes.traffic
            previous = changes.previous_traffic
            self._emit(
                "traffic",
                snapshot.deployment_id,
                blue=blue,
                green=green,
                previous=None if previous is None else {"blue": previous[0], "green": previous[1]},
                status=snapshot.status,
                waiting_for=snapshot.waiting_for,
                elapsed_seconds=self._elapsed(snapshot),
            )

    def show_evaluation(self, run: AnalysisRun) -> None:
        last = run.last
        self._emit(
            "analysis",
            self.last.deployment_id if self.last is not None else None,
            number=len(run.evaluations),
            evaluation=None if last is None else last.to_dict(),
            verdict=str(run.verdict),
            reason=run.reason,
            stopped=run.stopped,
        )

    def _analysis_fields(self) -> dict[str, Any]:
        return {} if self.analysis is None else {"analysis": self.analysis.to_dict()}

    def started(self, deployment_id: str) -> None:
        self._emit("done", deployment_id, outcome="started", exit_code=EXIT_OK)

    def done(self, snapshot: DeploymentSnapshot) -> None:
        self._emit(
            "done",
            snapshot.deployment_id,
            outcome=outcome_of(snapshot),
            exit_code=EXIT_OK,
            **self._snapshot_fields(snapshot),
            **self._analysis_fields(),
        )

    def failed(self, exc: BaseException) -> None:
        fields = error_fields(exc)
        deployment_id = fields.pop(
            "deployment_id", self.last.deployment_id if self.last is not None else None
        )
        self._emit("error", deployment_id, **fields)
        outcome = "error"
        if isinstance(exc, WaitTimeoutError):
            outcome = "timed_out"
        elif isinstance(exc, DeploymentError):
            outcome = self._failure_outcome(exc)
        elif isinstance(exc, DeploymentStateError):
            outcome = "refused"
        final: dict[str, Any] = {}
        if self.last is not None and self.last.deployment_id == deployment_id:
            final = self._snapshot_fields(self.last)
        self._emit(
            "done",
            deployment_id,
            outcome=outcome,
            exit_code=exit_code_of(exc),
            message=str(exc),
            **final,
            **self._analysis_fields(),
        )

    def _failure_outcome(self, exc: DeploymentError) -> str:
        last = self.last
        if last is not None and last.deployment_id == exc.deployment_id:
            outcome = outcome_of(last)
            if outcome != "reached":
                return outcome
        return "rolled_back" if exc.rollback_deployment_id else "failed"

    def interrupted(self, deployment_id: str, hint: str) -> None:
        self._emit(
            "done",
            deployment_id,
            outcome="interrupted",
            exit_code=EXIT_INTERRUPTED,
            message=f"interrupted; the deployment goes on in AWS; follow it again with: {hint}",
        )
