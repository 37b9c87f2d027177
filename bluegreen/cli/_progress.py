"""What ``deploy``, ``wait``, ``abort`` and ``rollback`` show while they follow a deployment.

Three forms, picked by ``--output`` and by whether stdout is a terminal:

- a live view (text on a terminal): the lifecycle events with their status and duration, a
  blue/green bar of the production weights, what the deployment waits for, and the time
  elapsed against the time expected; redrawn at every poll (rich, imported only here);
- plain lines (text elsewhere, e.g. a CI log): one line per change, never redrawn;
- JSON lines (``--output json``): one object per change, each with ``type`` (``snapshot``,
  ``event_changed``, ``traffic``, ``error``, ``done``), ``timestamp`` and ``deployment_id``;
  the last line is always ``done``, with the ``outcome`` and the ``exit_code``. Lines of a
  running deployment carry ``elapsed_seconds``; ``bluegreen rollback`` first writes a
  ``rollback`` line (what it goes back to, and from).

Every form is fed the snapshots ``Deployment.wait(on_progress=...)`` reads, so following a
deployment costs no API call beyond the wait's own. Every time shown (elapsed, ETAs, the
time of day of a line, a JSON ``timestamp``) is the server's, from ``Deployment.server_now``:
a simulator running faster than real time, or a local clock that is off, changes nothing.
"""

from __future__ import annotations

import abc
import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

import attrs

from bluegreen.cli import (
    EXIT_AWS_ERROR,
    EXIT_DEPLOYMENT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_TIMEOUT,
    reattach_hint,
    wall_clock,
)
from bluegreen.errors import (
    AWSError,
    BlueGreenError,
    DeploymentError,
    DeploymentStateError,
    WaitTimeoutError,
)
from bluegreen.status import DeploymentStatus, LifecycleEventStatus, TargetLabel

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from bluegreen.deployment import ControlResult, DeploymentSnapshot, LifecycleEventProgress
    from bluegreen.traffic import Schedule

Now = Callable[[], dt.datetime]
Wait = Callable[[Callable[["DeploymentSnapshot"], None]], "DeploymentSnapshot | None"]


# -- outcomes ------------------------------------------------------------------------------


def outcome_of(snapshot: DeploymentSnapshot) -> str:
    """``succeeded``, ``rolled_back``, ``failed``, ``stopped``, or ``reached`` (a milestone
    short of the end)."""
    status = snapshot.status
    if not status.is_terminal:
        return "reached"
    if snapshot.rollback_deployment_id or (snapshot.is_rollback and status.is_success):
        return "rolled_back"
    if status is DeploymentStatus.SUCCEEDED:
        return "succeeded"
    return "failed" if status is DeploymentStatus.FAILED else "stopped"


def _exit_code_of(exc: BaseException) -> int:
    if isinstance(exc, DeploymentError):
        return EXIT_DEPLOYMENT_FAILED
    if isinstance(exc, WaitTimeoutError):
        return EXIT_TIMEOUT
    if isinstance(exc, AWSError):
        return EXIT_AWS_ERROR
    return EXIT_INVALID


def _error_fields(exc: BaseException) -> dict[str, Any]:
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


# -- reading snapshots ------------------------------------------------------------------------


def production_weights(snapshot: DeploymentSnapshot) -> tuple[float, float] | None:
    """(blue %, green %) of production traffic, or None before the task sets are known."""
    blue = snapshot.task_set(TargetLabel.BLUE)
    green = snapshot.task_set(TargetLabel.GREEN)
    if blue is None and green is None:
        return None
    return (
        blue.traffic_weight if blue is not None else 0.0,
        green.traffic_weight if green is not None else 0.0,
    )


def format_duration(seconds: float) -> str:
    """``42s``, ``3m 05s``, ``1h 02m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def event_seconds(event: LifecycleEventProgress, now: dt.datetime) -> float | None:
    """How long the event took, or has been running."""
    if event.end is not None:
        return _seconds_between(event.start, event.end)
    if event.status is LifecycleEventStatus.IN_PROGRESS:
        return _seconds_between(event.start, now)
    return None


def elapsed_seconds(snapshot: DeploymentSnapshot, now: dt.datetime) -> float | None:
    """From the deployment's start (or creation) to its end, or to now while it runs."""
    start = snapshot.start_time or snapshot.create_time
    end = snapshot.complete_time if snapshot.status.is_terminal else now
    return _seconds_between(start, end or now)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


# -- the expected schedule ----------------------------------------------------------------------


def describe_expected(schedule: Schedule) -> str:
    """``~10 min after install (shift 5 min, keep blue 5 min)``."""
    parts = [f"shift {schedule.shift_minutes} min"]
    if schedule.ready_wait_minutes:
        parts.insert(0, f"promotion up to {schedule.ready_wait_minutes} min")
    parts.append(f"keep blue {schedule.termination_wait_minutes} min")
    return f"~{schedule.total_minutes} min after install ({', '.join(parts)})"


# -- what changed between two polls ------------------------------------------------------


@attrs.frozen
class _EventChange:
    event: LifecycleEventProgress
    previous: LifecycleEventStatus | None


@attrs.frozen
class _Changes:
    """What one poll brought, compared with the previous one."""

    snapshot: DeploymentSnapshot
    first: bool
    status_changed: bool
    events: tuple[_EventChange, ...]
    traffic: tuple[float, float] | None
    previous_traffic: tuple[float, float] | None
    waiting_for_changed: bool

    @classmethod
    def between(cls, previous: DeploymentSnapshot | None, now: DeploymentSnapshot) -> _Changes:
        first = previous is None or previous.deployment_id != now.deployment_id
        weights = production_weights(now)
        if previous is None or first:
            return cls(now, True, True, (), weights, None, True)
        before = {e.name: e.status for e in previous.events}
        # An event first listed as Pending (the target appears once the deployment starts)
        # is no change worth a line.
        events = tuple(
            _EventChange(e, before.get(e.name))
            for e in now.events
            if before.get(e.name) != e.status
            and not (e.name not in before and e.status is LifecycleEventStatus.PENDING)
        )
        previous_weights = production_weights(previous)
        return cls(
            now,
            False,
            previous.status is not now.status,
            events,
            weights if weights != previous_weights else None,
            previous_weights,
            previous.waiting_for != now.waiting_for,
        )


# -- the reporters ----------------------------------------------------------------------------


class Reporter(abc.ABC):
    """Shows a followed deployment; subclasses decide how. Use as a context manager."""

    def __init__(self, stream: IO[str], now: Now) -> None:
        self.stream = stream
        self.now = now
        self.last: DeploymentSnapshot | None = None

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027  (only the live view has something to stop)
        """Stop redrawing."""

    def update(self, snapshot: DeploymentSnapshot) -> None:
        """Called with every snapshot the wait reads (its ``on_progress``)."""
        changes = _Changes.between(self.last, snapshot)
        self.last = snapshot
        self.show(changes)

    @abc.abstractmethod
    def show(self, changes: _Changes) -> None:
        """Show what one poll brought."""

    @abc.abstractmethod
    def started(self, deployment_id: str) -> None:
        """A deployment was created and is not followed (``--no-wait``)."""

    @abc.abstractmethod
    def done(self, snapshot: DeploymentSnapshot) -> None:
        """The wait returned ``snapshot``: the end, or the milestone asked for."""

    @abc.abstractmethod
    def failed(self, exc: BaseException) -> None:
        """The wait raised ``exc``; ``main`` prints it to stderr afterwards."""

    @abc.abstractmethod
    def interrupted(self, deployment_id: str, hint: str) -> None:
        """Ctrl-C: the deployment goes on; ``hint`` is the command that follows it again."""


class JsonLines(Reporter):
    """One JSON object per line per change, the last one ``done``."""

    def _emit(self, kind: str, deployment_id: str | None, **fields: Any) -> None:
        record = {"type": kind, "timestamp": _iso(self.now()), "deployment_id": deployment_id}
        record.update(fields)
        self.stream.write(json.dumps(record, default=_json_default) + "\n")
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

    def show(self, changes: _Changes) -> None:
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
                start=_iso(event.start),
                end=_iso(event.end),
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

    def started(self, deployment_id: str) -> None:
        self._emit("done", deployment_id, outcome="started", exit_code=EXIT_OK)

    def done(self, snapshot: DeploymentSnapshot) -> None:
        self._emit(
            "done",
            snapshot.deployment_id,
            outcome=outcome_of(snapshot),
            exit_code=EXIT_OK,
            **self._snapshot_fields(snapshot),
        )

    def failed(self, exc: BaseException) -> None:
        fields = _error_fields(exc)
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
            exit_code=_exit_code_of(exc),
            message=str(exc),
            **final,
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


class PlainLines(Reporter):
    """One line per change, prefixed with the time of day: for logs, never redrawn."""

    def _line(self, deployment_id: str, text: str) -> None:
        self.stream.write(f"{self.now():%H:%M:%S} {deployment_id} {text}\n")
        self.stream.flush()

    def show(self, changes: _Changes) -> None:
        snapshot = changes.snapshot
        d = snapshot.deployment_id
        if changes.first:
            where = f"{snapshot.application}/{snapshot.deployment_group}"
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

    def started(self, deployment_id: str) -> None:
        self.stream.write(f"{deployment_id}\n")
        self.stream.flush()

    def done(self, snapshot: DeploymentSnapshot) -> None:
        self.stream.write(summary(snapshot, self.now()) + "\n")
        self.stream.flush()

    def failed(self, exc: BaseException) -> None:
        """``main`` prints the error; a failed deployment also gets where to look next."""
        text = rollback_note(exc, self.last, self.now())
        if text is not None:
            self.stream.write(text + "\n")
            self.stream.flush()

    def interrupted(self, deployment_id: str, hint: str) -> None:
        return None


def rollback_note(
    exc: BaseException, last: DeploymentSnapshot | None, now: dt.datetime
) -> str | None:
    """For a deployment that was rolled back: how the rollback ended, when the last
    snapshot shows it ended, else how to follow it. None for any other error."""
    if not (isinstance(exc, DeploymentError) and exc.rollback_deployment_id):
        return None
    rollback = exc.rollback_deployment_id
    if last is not None and last.deployment_id == rollback and last.status.is_terminal:
        return f"{exc.deployment_id} was rolled back: {summary(last, now)}"
    return (
        f"{exc.deployment_id} was rolled back by {rollback}; follow the rollback with: "
        f"bluegreen wait --deployment-id {rollback}"
    )


def summary(snapshot: DeploymentSnapshot, now: dt.datetime) -> str:
    """The last line of a followed deployment, e.g. ``d-X Succeeded after 12m 30s``."""
    outcome = outcome_of(snapshot)
    elapsed = elapsed_seconds(snapshot, now)
    after = f" after {format_duration(elapsed)}" if elapsed is not None else ""
    d = snapshot.deployment_id
    if outcome == "reached":
        return f"{d} {snapshot.status}{after}: waiting for {snapshot.waiting_for}"
    if outcome == "rolled_back" and snapshot.is_rollback:
        return (
            f"{d} (rollback of {snapshot.rollback_of or 'the deployment'}) "
            f"{snapshot.status}{after}: blue serves production again"
        )
    if snapshot.rollback_deployment_id:
        return f"{d} {snapshot.status}{after}, rolled back by {snapshot.rollback_deployment_id}"
    return f"{d} {snapshot.status}{after}"


class LiveView(Reporter):
    """A rich ``Live`` panel redrawn at every poll and once a second (for the clocks)."""

    def __init__(self, stream: IO[str], now: Now) -> None:
        super().__init__(stream, now)
        from rich.console import Console

        self.console: Console = Console(file=stream)
        self._live: Live | None = None

    def __enter__(self) -> LiveView:
        from rich.live import Live

        self._live = Live(
            self, console=self.console, refresh_per_second=1, transient=False, auto_refresh=True
        )
        self._live.start()
        return self

    def close(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def show(self, changes: _Changes) -> None:
        if self._live is not None:
            self._live.refresh()

    def __rich__(self) -> RenderableType:
        return render(self.last, self.now())

    def started(self, deployment_id: str) -> None:
        self.close()
        self.console.print(deployment_id, highlight=False)

    def done(self, snapshot: DeploymentSnapshot) -> None:
        self.last = snapshot
        self.close()
        style = "green" if outcome_of(snapshot) in ("succeeded", "reached") else "yellow"
        self.console.print(summary(snapshot, self.now()), style=style, highlight=False)

    def failed(self, exc: BaseException) -> None:
        self.close()
        text = rollback_note(exc, self.last, self.now())
        if text is not None:
            self.console.print(text, highlight=False)

    def interrupted(self, deployment_id: str, hint: str) -> None:
        self.close()


_EVENT_STYLES = {
    LifecycleEventStatus.SUCCEEDED: ("✓", "green"),
    LifecycleEventStatus.SKIPPED: ("-", "dim"),
    LifecycleEventStatus.IN_PROGRESS: ("●", "cyan"),
    LifecycleEventStatus.FAILED: ("✗", "red"),
    LifecycleEventStatus.PENDING: ("·", "dim"),
    LifecycleEventStatus.UNKNOWN: ("?", "dim"),
}

_BAR_WIDTH = 40


def render(snapshot: DeploymentSnapshot | None, now: dt.datetime) -> RenderableType:
    """The live view of ``snapshot``: header, lifecycle events, traffic bar, wait, clocks."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if snapshot is None:
        return Text("reading the deployment ...", style="dim")
    header = Text.assemble(
        ("Deployment ", "bold"),
        (snapshot.deployment_id, "bold"),
        "  ",
        (str(snapshot.status), _status_style(snapshot.status)),
        f"  {snapshot.application}/{snapshot.deployment_group}  {snapshot.deployment_config}",
    )
    if snapshot.is_rollback and snapshot.rollback_of:
        header.append(f"  rollback of {snapshot.rollback_of}", style="yellow")
    parts: list[RenderableType] = [header]
    if snapshot.events:
        table = Table.grid(padding=(0, 2))
        for column in ("mark", "event", "status", "duration", "diagnostics"):
            table.add_column(column, no_wrap=column != "diagnostics")
        for event in snapshot.events:
            mark, style = _EVENT_STYLES.get(event.status, ("?", "dim"))
            seconds = event_seconds(event, now)
            table.add_row(
                Text(mark, style=style),
                Text(str(event.name)),
                Text(str(event.status), style=style),
                Text(format_duration(seconds) if seconds is not None else ""),
                Text(event.diagnostics or "", style="red"),
            )
        parts.append(table)
    weights = production_weights(snapshot)
    if weights is not None:
        parts.append(_traffic_bar(*weights))
    parts.append(Text(snapshot.state_line))
    if snapshot.error_code or snapshot.error_message:
        parts.append(Text(f"{snapshot.error_code}: {snapshot.error_message}", style="red"))
    clocks = Text("elapsed ", style="dim")
    elapsed = elapsed_seconds(snapshot, now)
    clocks.append(format_duration(elapsed) if elapsed is not None else "-")
    if snapshot.schedule is not None:
        clocks.append("  expected ", style="dim")
        clocks.append(describe_expected(snapshot.schedule))
    upcoming = snapshot.next_transition
    if upcoming is not None and upcoming.due is not None and not snapshot.status.is_terminal:
        clocks.append("  next ", style="dim")
        left = (upcoming.due - now).total_seconds()
        if left >= 0:
            clocks.append(f"{upcoming.what} in ~{format_duration(left)}")
        else:
            clocks.append(f"{upcoming.what} due {format_duration(-left)} ago")
    parts.append(clocks)
    return Group(*parts)


def _status_style(status: DeploymentStatus) -> str:
    if status is DeploymentStatus.SUCCEEDED:
        return "bold green"
    if status.is_terminal:
        return "bold red"
    return "bold cyan"


_GREEN_CELL = "█"
_BLUE_CELL = "░"
"""Green's share is drawn solid and blue's shaded, so the split reads without colour
(``NO_COLOR``, a CI log, a ``tmux capture-pane``)."""


def _traffic_bar(blue: float, green: float) -> RenderableType:
    from rich.text import Text

    total = blue + green
    green_cells = round(_BAR_WIDTH * green / total) if total else 0
    bar = Text("production  ")
    bar.append(f"blue {blue:>5.1f}% ", style="bold blue")
    bar.append(_BLUE_CELL * (_BAR_WIDTH - green_cells), style="blue")
    bar.append(_GREEN_CELL * green_cells, style="green")
    bar.append(f" {green:>5.1f}% green", style="bold green")
    return bar


# -- following a deployment ---------------------------------------------------------------


def reporter_for(output: str, *, stream: IO[str] | None = None, now: Now | None = None) -> Reporter:
    """The reporter for ``--output``: JSON lines, a live view on a terminal, else lines."""
    stream = stream if stream is not None else sys.stdout
    now = now if now is not None else wall_clock()
    if output == "json":
        return JsonLines(stream, now)
    if _is_terminal(stream):
        return LiveView(stream, now)
    return PlainLines(stream, now)


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def follow(
    args: argparse.Namespace, deployment_id: str, wait: Wait, *, now: Now | None = None
) -> int:
    """Run ``wait(on_progress)`` with the reporter ``args.output`` asks for.

    ``now`` is the clock every time shown is read from: pass ``Deployment.server_now`` so
    they are the server's (default: ``wall_clock()``, the local one).

    Errors are reported (in JSON, as the last ``error`` and ``done`` lines) and raised again
    for ``main`` to print and map to an exit code. Ctrl-C ends the command with 130 and says
    how to follow the deployment again; it goes on in AWS.

    Returns:
        ``EXIT_OK`` once ``wait`` returned.
    """
    reporter = reporter_for(args.output, now=now)
    with reporter:
        try:
            final = wait(reporter.update)
        except KeyboardInterrupt:
            current = reporter.last.deployment_id if reporter.last is not None else deployment_id
            hint = reattach_hint(args, current)
            reporter.interrupted(current, hint)
            print(
                f"bluegreen: interrupted; deployment {current} goes on in AWS. "
                f"Follow it again with: {hint}",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        except BlueGreenError as exc:
            reporter.failed(exc)
            raise
        if final is None:
            reporter.started(deployment_id)
        else:
            reporter.done(final)
    return EXIT_OK


def print_result(args: argparse.Namespace, result: ControlResult, now: Now) -> None:
    """What a control (promote, finish, abort --no-wait) did: a sentence, or one JSON
    ``done`` line stamped with the server's time."""
    if getattr(args, "output", "text") == "json":
        record: dict[str, Any] = {
            "type": "done",
            "timestamp": _iso(now()),
            "deployment_id": result.deployment_id,
            "outcome": result.action,
            "exit_code": EXIT_OK,
        }
        record.update(result.to_dict())
        print(json.dumps(record, default=_json_default), flush=True)
    else:
        print(str(result), flush=True)
