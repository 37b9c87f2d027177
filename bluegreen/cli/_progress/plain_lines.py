"""Text where stdout is no terminal (a CI log, a pipe): one line per change, prefixed with
the time of day, never redrawn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.cli._progress.reading import (
    describe_expected,
    event_seconds,
    rollback_note,
    summary,
)
from bluegreen.cli._progress.reporter import Changes, Reporter
from bluegreen.clock import format_duration
from bluegreen.status import LifecycleEventStatus

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.deployment import DeploymentSnapshot


class PlainLines(Reporter):
    """One line per change, prefixed with the time of day: for logs, never redrawn."""

    def _line(self, deployment_id: str, text: str) -> None:
        self.stream.write(f"{self.now():%H:%M:%S} {deployment_id} {text}\n")
        self.stream.flush()

    def show(self, changes: Changes) -> None:
        snapshot = changes.snapshot
        d = snapshot.deployment_id
        if changes.first:
            where = snapshot.where
            line = f"{snapshot.status}  {where}  {snapshot.deployment_config}"
            if snapshot.is_rollback and snapshot.rollback_of:
                line += f"  (rollback of {snapshot.rollback_of})"
            expected = snapshot.schedule
            if expected is not None:
                line += f"  expected {describe_expected(expected)}"
            self._line(d, line)
        elif changes.status_changed:
            self._line(d, f"{snapshot.status}")
        now = self.now()
        for change in changes.events:
            event = change.event
            seconds = event_seconds(event, now)
            took = ""
            if seconds is not None and event.status.is_done:
                took = f" after {format_duration(seconds)}"
            line = f"{event.name} {event.status}{took}"
            if event.diagnostics and event.status is LifecycleEventStatus.FAILED:
                line += f": {event.diagnostics}"
            self._line(d, line)
        if changes.traffic is not None:
            blue, green = changes.traffic
            self._line(d, f"production traffic  blue {blue:g}%  green {green:g}%")
        if changes.waiting_for_changed and snapshot.waiting_for is not None:
            self._line(d, f"waiting for {snapshot.waiting_for}")

    def show_evaluation(self, run: AnalysisRun) -> None:
        last = run.last
        d = self.last.deployment_id if self.last is not None else ""
        if last is not None:
            head = f"analysis {len(run.evaluations)}: {last.outcome} (to {last.end:%H:%M} UTC)"
            self._line(d, head)
            for line in last.summary().splitlines()[1:]:
                self._line(d, f"  {line.strip()}")
        if run.stopped:
            self._line(d, f"analysis {run.verdict}: stopping {run.stopped} with rollback")
        elif run.is_over:
            self._line(d, f"analysis {run.verdict}: {run.reason}")

    def _report(self) -> None:
        if self.analysis is not None:
            self.stream.write(self.analysis.report() + "\n")
            self.stream.flush()

    def started(self, deployment_id: str) -> None:
        self.stream.write(f"{deployment_id}\n")
        self.stream.flush()

    def done(self, snapshot: DeploymentSnapshot) -> None:
        self.stream.write(summary(snapshot, self.now()) + "\n")
        self.stream.flush()
        self._report()

    def failed(self, exc: BaseException) -> None:
        """``main`` prints the error; a failed deployment also gets where to look next."""
        text = rollback_note(exc, self.last, self.now())
        if text is not None:
            self.stream.write(text + "\n")
            self.stream.flush()
        self._report()

    def interrupted(self, deployment_id: str, hint: str) -> None:
        return None
