"""What ``bluegreen release FILE`` shows while the release runs, fed its ``ReleaseEvent``s.

Three forms, picked as a followed deployment's are (``--output`` and whether stdout is a
terminal):

- a live view on a terminal: a header with the release id and how many services are in
  each phase, what the release does now (the wave running, a bake, stopping), then one line
  per service: wave, service, phase, the deployment's status, green's share of production
  traffic, the analysis's verdict, the deployment id and what it waits for (rich, redrawn);
- plain lines elsewhere (a CI log): one line per event that matters (a service's phase,
  status or traffic changed, an analysis verdict, a wave started or ended, a bake, the
  release stopping, its end), each with the time of day in UTC, never redrawn;
- JSON lines (``--output json``): each event's ``ReleaseEvent.to_dict()`` on a line of its
  own, the last one ``release_ended`` with every service and the ``exit_code``; when the
  release raised instead (planning problems), a last ``release_ended`` line carries the
  ``error``, its ``message`` and ``problems``. Nothing else goes to stdout.

Times are the events' own: the server's where a deployment told them.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from bluegreen.cli._exit_codes import EXIT_DEPLOYMENT_FAILED, EXIT_OK
from bluegreen.cli._progress.following import _is_terminal
from bluegreen.cli._progress.live_view import _BLUE_CELL, _GREEN_CELL, RichLive
from bluegreen.cli._progress.reading import json_default
from bluegreen.clock import format_duration, plural
from bluegreen.release_events import EventKind, ReleaseEvent
from bluegreen.release_state import Phase

if TYPE_CHECKING:
    from rich.console import RenderableType

    from bluegreen.manifest import Manifest

Now = Callable[[], dt.datetime]

_PHASE_STYLES = {
    "pending": "dim",
    "in flight": "cyan",
    "succeeded": "green",
    "failed": "red",
    "stopped": "yellow",
    "rolling back": "yellow",
    "rolled back": "yellow",
    "unknown": "magenta",
}
"""By phase as shown (``shown_phase``)."""
_IN_FLIGHT = str(Phase.IN_FLIGHT)
_ENDED_STATUSES = ("Succeeded", "Failed", "Stopped")
_SHOWN = ("phase", "status", "traffic")
"""What a plain line is printed for when it changes for a service."""


def _clock_text(when: dt.datetime) -> str:
    return f"{when.astimezone(dt.UTC):%H:%M:%S}"


def shown_phase(row: dict[str, Any]) -> str:
    """A service's phase as people read it (``in flight``), ``stopped`` for a failure the
    release caused."""
    phase = str(row.get("phase", Phase.PENDING))
    if phase == str(Phase.FAILED) and row.get("stopped_by_release"):
        return "stopped"
    return phase.replace("_", " ")


def _running(row: dict[str, Any]) -> bool:
    """The service's deployment runs (its ``step`` is worth showing)."""
    return row.get("phase") == _IN_FLIGHT and row.get("status") not in _ENDED_STATUSES


def traffic_text(traffic: object, *, bar: int = 0) -> str:
    """Green's production traffic: ``25%``, after a bar of ``bar`` cells when asked."""
    if not isinstance(traffic, int | float):
        return "-"
    cells = round(bar * traffic / 100) if bar else 0
    drawn = (_BLUE_CELL * (bar - cells) + _GREEN_CELL * cells + " ") if bar else ""
    return f"{drawn}{traffic:g}%"


class ReleaseView(abc.ABC):
    """Keeps each service's row from the events, and shows them; a context manager."""

    def __init__(self, stream: IO[str], manifest: Manifest, now: Now) -> None:
        self.stream = stream
        self.manifest = manifest
        self.now = now
        self.rows: dict[str, dict[str, Any]] = {
            service.name: {
                "wave": wave.name,
                "service": service.name,
                "phase": str(Phase.PENDING),
                "analysis": "none" if service.analysis is None else None,
            }
            for wave in manifest.waves
            for service in wave.services
        }
        self.doing: str = "reading the release's state from AWS ..."
        self.ended: ReleaseEvent | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> ReleaseView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027  (only the live view has something to stop)
        """Stop redrawing."""

    def update(self, event: ReleaseEvent) -> None:
        """A release's ``on_event``: note what ``event`` says, then show it."""
        with self._lock:
            before = dict(self.rows.get(event.service or "", {}))
            self._note(event)
        self.show(event, before)

    def _note(self, event: ReleaseEvent) -> None:
        kind = event.kind
        if kind is EventKind.STARTED:
            state = event.data.get("state") or {}
            for progress in state.get("services", ()):
                row = self.rows.get(progress.get("service"))
                if row is not None:
                    keep = ("phase", "deployment_id", "status", "error", "rollback_id")
                    row.update({k: progress[k] for k in keep if progress.get(k) is not None})
            self.doing = "planning every service ..."
        elif kind in (EventKind.SERVICE, EventKind.EVALUATION) and event.service in self.rows:
            line = event.to_dict()
            for key in ("event", "release", "at", "message"):
                line.pop(key, None)
            self.rows[event.service].update(line)
        elif kind is EventKind.PLANNED:
            self.doing = event.message or "planned"
        elif kind is EventKind.WAVE_STARTED:
            width = event.data.get("width")
            self.doing = f"wave {event.wave}" + (f", {width} at once" if width else "")
        elif kind is EventKind.BAKING:
            seconds = float(event.data.get("seconds") or 0)
            until = event.at + dt.timedelta(seconds=seconds)
            self.doing = (
                f"baking {format_duration(seconds)} after wave {event.wave}, "
                f"until {_clock_text(until)} UTC"
            )
        elif kind is EventKind.STOPPING:
            self.doing = f"stopping: {event.message}"
        elif kind is EventKind.ROLLING_BACK:
            self.doing = "rolling back the services this release released"
        elif kind is EventKind.ENDED:
            self.ended = event
            self.doing = event.message
            for service in event.data.get("services", ()):
                row = self.rows.get(service.get("service"))
                if row is not None:
                    row.update(service)

    def counts(self) -> dict[str, int]:
        """Services per phase as shown, in the order phases are first met."""
        counts: dict[str, int] = {}
        for row in self.rows.values():
            phase = shown_phase(row)
            counts[phase] = counts.get(phase, 0) + 1
        return counts

    @abc.abstractmethod
    def show(self, event: ReleaseEvent, before: dict[str, Any]) -> None:
        """Show ``event``; ``before`` is its service's row before it (empty for others)."""

    def failed(self, exc: BaseException, exit_code: int) -> None:  # noqa: B027
        """The release raised ``exc`` instead of ending (``main`` prints it to stderr)."""


class ReleaseLines(ReleaseView):
    """Plain lines for logs: one per event that matters, never redrawn."""

    def _line(self, at: dt.datetime, text: str) -> None:
        self.stream.write(f"{_clock_text(at)} {text}\n")
        self.stream.flush()

    def show(self, event: ReleaseEvent, before: dict[str, Any]) -> None:
        kind, at = event.kind, event.at
        if kind is EventKind.SERVICE and event.service in self.rows:
            row = self.rows[event.service]
            changed = any(row.get(key) != before.get(key) for key in _SHOWN)
            if changed or (event.message and row.get("error") != before.get("error")):
                self._line(at, self._service_line(row, event.message))
        elif kind is EventKind.EVALUATION and event.service in self.rows:
            row = self.rows[event.service]
            if row.get("verdict") != before.get("verdict") and event.message:
                self._line(at, f"{row['wave']} {event.service} analysis {event.message}")
        elif kind is EventKind.ENDED:
            self._line(at, event.message)
            for row in self.rows.values():
                self.stream.write(f"  {self._service_line(row, '')}\n")
            self.stream.flush()
        elif kind is EventKind.WAVE_ENDED:
            self._line(at, f"wave {event.wave} {event.phase or 'ended'}")
        elif kind in (EventKind.STARTED, EventKind.PLANNED):
            self._line(at, f"release {event.release_id} {kind}: {event.message}")
        elif kind in (EventKind.WAVE_STARTED, EventKind.BAKING, EventKind.STOPPING):
            self._line(at, self.doing)
        elif kind is EventKind.ROLLING_BACK:
            names = ", ".join(event.data.get("services", ()))
            self._line(at, f"{self.doing}: {names}")

    @staticmethod
    def _service_line(row: dict[str, Any], message: str) -> str:
        parts = [
            str(row.get("wave")),
            str(row.get("service")),
            shown_phase(row),
            str(row.get("deployment_id") or "-"),
            str(row.get("status") or "-"),
        ]
        if row.get("traffic") is not None:
            parts.append(f"green {traffic_text(row['traffic'])}")
        if _running(row) and row.get("step"):
            parts.append(str(row["step"]))
        said = message if message and message != "succeeded" else ""
        if row.get("phase") != _IN_FLIGHT and row.get("error"):
            said = str(row["error"])
        return "  ".join([*parts, said] if said else parts)


class ReleaseJson(ReleaseView):
    """One JSON object per event (``ReleaseEvent.to_dict()``), the last ``release_ended``."""

    def _write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, default=json_default) + "\n")
        self.stream.flush()

    def show(self, event: ReleaseEvent, before: dict[str, Any]) -> None:
        record = event.to_dict()
        if event.kind is EventKind.ENDED:
            record["exit_code"] = EXIT_OK if event.data.get("ok") else EXIT_DEPLOYMENT_FAILED
        self._write(record)

    def failed(self, exc: BaseException, exit_code: int) -> None:
        if self.ended is not None:
            return
        record: dict[str, Any] = {
            "event": str(EventKind.ENDED),
            "release": self.manifest.id,
            "at": self.now().isoformat(),
            "ok": False,
            "error": type(exc).__name__,
            "message": str(exc),
        }
        problems = getattr(exc, "problems", None)
        if problems:
            record["problems"] = list(problems)
        record["services"] = list(self.rows.values())
        record["exit_code"] = exit_code
        self._write(record)


class ReleaseLive(RichLive, ReleaseView):
    """A rich ``Live`` table of every service, redrawn at every event and once a second."""

    def __init__(self, stream: IO[str], manifest: Manifest, now: Now) -> None:
        super().__init__(stream, manifest, now)
        self._open_console(stream)

    def show(self, event: ReleaseEvent, before: dict[str, Any]) -> None:
        if self._live is not None:
            self._live.refresh()

    def __rich__(self) -> RenderableType:
        with self._lock:
            rows = [dict(row) for row in self.rows.values()]
            counts, doing = self.counts(), self.doing
        return render_release(self.manifest, rows, counts, doing)


def render_release(
    manifest: Manifest, rows: list[dict[str, Any]], counts: dict[str, int], doing: str
) -> RenderableType:
    """The live view: the header, what the release does now, a line per service, then the
    errors of the services that failed."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    header = Text.assemble(("Release ", "bold"), (manifest.id, "bold"))
    header.append(f"  {plural(len(rows), 'service')} in {plural(len(manifest.waves), 'wave')}  ")
    for number, (phase, count) in enumerate(counts.items()):
        header.append(" · " if number else "")
        header.append(f"{count} {phase}", style=_PHASE_STYLES.get(phase, ""))
    table = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="bold")
    # Who and where never shrink on a narrow terminal; what a deployment waits for does.
    widest = {
        key: max([len(str(row.get(key) or "-")) for row in rows] + [len(key)])
        for key in ("wave", "service", "deployment_id")
    }
    for column, least in (
        ("WAVE", widest["wave"]),
        ("SERVICE", widest["service"]),
        ("PHASE", len("in flight")),
        ("STATUS", len("InProgress")),
        ("GREEN", len("░░░░░░░░░░ 100%")),
        ("ANALYSIS", None),
        ("DEPLOYMENT", widest["deployment_id"]),
    ):
        table.add_column(column, no_wrap=True, min_width=least)
    table.add_column("NOW", overflow="ellipsis", no_wrap=True)
    errors = []
    for row in rows:
        phase = shown_phase(row)
        verdict = str(row.get("verdict") or row.get("analysis") or "-").partition(":")[0]
        step = row.get("step") if _running(row) else None
        table.add_row(
            str(row.get("wave")),
            str(row.get("service")),
            Text(phase, style=_PHASE_STYLES.get(phase, "")),
            str(row.get("status") or "-"),
            traffic_text(row.get("traffic"), bar=10),
            verdict,
            str(row.get("deployment_id") or "-"),
            str(step or ""),
        )
        if row.get("error") and row.get("phase") != _IN_FLIGHT:
            errors.append(Text(f"{row.get('service')}: {row['error']}", style="red"))
    return Group(header, Text(doing, style="dim"), table, *errors)


def release_view_for(
    output: str, manifest: Manifest, *, now: Now, stream: IO[str] | None = None
) -> ReleaseView:
    """The view for ``--output``: JSON lines, a live view on a terminal, else lines."""
    import sys

    stream = stream if stream is not None else sys.stdout
    if output == "json":
        return ReleaseJson(stream, manifest, now)
    if _is_terminal(stream):
        return ReleaseLive(stream, manifest, now)
    return ReleaseLines(stream, manifest, now)
