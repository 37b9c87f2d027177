"""The live view on a terminal: the lifecycle events with their status and duration, a
blue/green bar of the production weights, what the deployment waits for, and the time elapsed
against the time expected; redrawn at every poll and once a second (rich, imported only
here, and only once a view is drawn)."""

from __future__ import annotations

import datetime as dt
from typing import IO, TYPE_CHECKING, Self

from bluegreen.cli._progress.reading import (
    describe_expected,
    elapsed_seconds,
    event_seconds,
    outcome_of,
    production_weights,
    rollback_note,
    summary,
)
from bluegreen.cli._progress.reporter import Changes, Now, Reporter
from bluegreen.clock import format_duration
from bluegreen.status import DeploymentStatus, LifecycleEventStatus

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.deployment import DeploymentSnapshot


class RichLive:
    """A rich ``Live`` display of ``self`` (a renderable) on ``self.console``: entered, it
    is redrawn once a second (and by ``refresh()``) until ``close()``."""

    console: Console
    _live: Live | None = None

    def _open_console(self, stream: IO[str]) -> None:
        from rich.console import Console

        self.console = Console(file=stream)
        self._live = None

    def __enter__(self) -> Self:
        from rich.live import Live

        self._live = Live(
            self.renderable(),
            console=self.console,
            refresh_per_second=1,
            transient=False,
            auto_refresh=True,
        )
        self._live.start()
        return self

    def renderable(self) -> RenderableType:
        """What the display draws: ``self``, which draws itself (``__rich__``)."""
        return self  # type: ignore[return-value]  # subclasses define __rich__

    def close(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()


class LiveView(RichLive, Reporter):
    """A rich ``Live`` panel redrawn at every poll and once a second (for the clocks)."""

    def __init__(self, stream: IO[str], now: Now) -> None:
        super().__init__(stream, now)
        self._open_console(stream)

    def show(self, changes: Changes) -> None:
        if self._live is not None:
            self._live.refresh()

    def __rich__(self) -> RenderableType:
        view = render(self.last, self.now())
        if self.analysis is None or self.analysis.last is None:
            return view
        from rich.console import Group
        from rich.text import Text

        run, last = self.analysis, self.analysis.last
        style = {"pass": "green", "fail": "red"}.get(str(last.outcome), "yellow")
        lines = [Text(f"analysis: {len(run.evaluations)} evaluations, {run.verdict}")]
        lines += [Text(line, style=style) for line in last.summary().splitlines()]
        return Group(view, *lines)

    def show_evaluation(self, run: AnalysisRun) -> None:
        if self._live is not None:
            self._live.refresh()

    def _report(self) -> None:
        if self.analysis is not None:
            self.console.print(self.analysis.report(), highlight=False)

    def started(self, deployment_id: str) -> None:
        self.close()
        self.console.print(deployment_id, highlight=False)

    def done(self, snapshot: DeploymentSnapshot) -> None:
        self.last = snapshot
        self.close()
        style = "green" if outcome_of(snapshot) in ("succeeded", "reached") else "yellow"
        self.console.print(summary(snapshot, self.now()), style=style, highlight=False)
        self._report()

    def failed(self, exc: BaseException) -> None:
        self.close()
        text = rollback_note(exc, self.last, self.now())
        if text is not None:
            self.console.print(text, highlight=False)
        self._report()

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
        f"  {snapshot.where}  {snapshot.deployment_config}",
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
        parts.append(traffic_bar(*weights))
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


def traffic_bar(blue: float, green: float) -> RenderableType:
    from rich.text import Text

    total = blue + green
    green_cells = round(_BAR_WIDTH * green / total) if total else 0
    bar = Text("production  ")
    bar.append(f"blue {blue:>5.1f}% ", style="bold blue")
    bar.append(_BLUE_CELL * (_BAR_WIDTH - green_cells), style="blue")
    bar.append(_GREEN_CELL * green_cells, style="green")
    bar.append(f" {green:>5.1f}% green", style="bold green")
    return bar
