"""A release of many services told in Markdown, for a GitHub Actions job summary or
``bluegreen release FILE --summary FILE``: ``release_summary``, and ``release_annotations``
for the workflow's ``::error::`` lines.

The summary has a heading with the outcome, a table with one row per service (wave,
service, outcome, deployment, how long it took, traffic config, analysis verdict), why the
release failed, and a Mermaid ``gantt`` timeline with a section per wave, a bar per service
from its deployment's creation to its end (``crit`` for a failure) and the bakes between
waves. It is built from the ``ReleaseResult`` and the release's events, with the pieces of
``bluegreen.summary`` (cells, tables, chart text, workflow commands), so it shows what a
deployment's summary shows: ids, statuses, times, configs and reasons, never a task
definition or an environment value. Times are in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bluegreen.clock import format_duration
from bluegreen.release_events import EventKind, ReleaseEvent
from bluegreen.release_state import Phase
from bluegreen.summary import (
    MERMAID_DATE_FORMAT,
    markdown_table,
    mermaid_text,
    table_cell,
    workflow_command,
)

if TYPE_CHECKING:
    from bluegreen.release_events import ServiceRun
    from bluegreen.release_result import ReleaseResult

__all__ = ["release_annotations", "release_summary", "service_outcome"]

_MERMAID_TIME = "%Y-%m-%dT%H:%M:%S"
_NO_VALUE = "-"
_BAR_TAGS = {
    Phase.SUCCEEDED: "done",
    Phase.FAILED: "crit",
    Phase.ROLLED_BACK: "crit",
    Phase.ROLLING_BACK: "crit",
    Phase.IN_FLIGHT: "active",
}


def service_outcome(run: ServiceRun) -> str:
    """How a service of a release ended, in a word or two: ``succeeded``, ``failed``,
    ``stopped`` (the release stopped it), ``rolled back``, ``pending`` (never started)..."""
    if run.phase is Phase.FAILED and run.stopped:
        return "stopped"
    return str(run.phase).replace("_", " ")


def _utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(microsecond=0)


def _took(run: ServiceRun) -> str:
    if run.started is None or run.ended is None:
        return _NO_VALUE
    return format_duration(max(0.0, (run.ended - run.started).total_seconds()))


def _traffic_config(run: ServiceRun) -> str:
    if run.snapshot is not None and run.snapshot.deployment_config:
        return run.snapshot.deployment_config
    return run.service.traffic_config or "the group's"


def _verdict(run: ServiceRun) -> str:
    if run.analysis is not None:
        return str(run.analysis.verdict)
    if run.verdict:
        return run.verdict.partition(":")[0]
    return "none" if run.service.analysis is None else _NO_VALUE


def _row(run: ServiceRun) -> tuple[str, ...]:
    outcome = service_outcome(run)
    if run.rollback_id:
        outcome += f"\nrollback {run.rollback_id}"
    return (
        run.wave,
        run.name,
        outcome,
        run.deployment_id or _NO_VALUE,
        _took(run),
        _traffic_config(run),
        _verdict(run),
    )


def _why(result: ReleaseResult) -> list[str]:
    reasons = [result.reason] if result.reason else []
    reasons += [f"{run.name}: {run.error}" for run in result.services if run.error]
    return list(dict.fromkeys(reasons))


def _at(when: dt.datetime) -> str:
    return _utc(when).strftime(_MERMAID_TIME)


def _bakes(events: Iterable[ReleaseEvent]) -> dict[str, tuple[dt.datetime, float]]:
    """Each wave's bake, from the release's ``baking`` events: (start, seconds)."""
    bakes = {}
    for event in events:
        if event.kind is EventKind.BAKING and event.wave is not None:
            seconds = event.data.get("seconds")
            if isinstance(seconds, int | float) and seconds > 0:
                bakes[event.wave] = (event.at, float(seconds))
    return bakes


def release_timeline(
    result: ReleaseResult, *, events: Iterable[ReleaseEvent] = (), now: dt.datetime | None = None
) -> str:
    """A fenced Mermaid ``gantt`` block: a section per wave, a bar per service that started
    (its deployment's creation to its end, or to ``now`` while it runs) and the wave's bake.
    Empty when no service started."""
    end_of_running = now or result.ended
    bakes = _bakes(events)
    sections: list[str] = []
    number = 0
    for wave in result.manifest.waves:
        lines = []
        for run in (r for r in result.services if r.wave == wave.name):
            number += 1
            if run.started is None:
                continue
            end = max(run.ended or end_of_running, run.started)
            tag = _BAR_TAGS.get(run.phase)
            tags = [tag] if tag else []
            data = ", ".join([*tags, f"s{number}", _at(run.started), _at(end)])
            name = f"{run.name} {service_outcome(run)}"
            lines.append(f"    {mermaid_text(name)} :{data}")
        if wave.name in bakes:
            start, seconds = bakes[wave.name]
            finish = start + dt.timedelta(seconds=seconds)
            data = f"b{len(sections)}, {_at(start)}, {_at(finish)}"
            lines.append(f"    {mermaid_text('bake ' + format_duration(seconds))} :{data}")
        if lines:
            sections += [f"    section {mermaid_text(wave.name)}", *lines]
    if not sections:
        return ""
    head = [
        "```mermaid",
        "gantt",
        f"    title {mermaid_text(f'release {result.manifest.id} (UTC)')}",
        f"    dateFormat {MERMAID_DATE_FORMAT}",
        "    axisFormat %H:%M",
        "    todayMarker off",
    ]
    return "\n".join([*head, *sections, "```"])


def release_summary(
    result: ReleaseResult, *, events: Iterable[ReleaseEvent] = (), now: dt.datetime | None = None
) -> str:
    """The Markdown summary of a release, for a job summary or a file.

    Args:
        result: how every service ended (``ReleaseResult``, or ``ReleaseError.result``).
        events: the release's events (``on_event``), for the bakes in the timeline.
        now: the end of the bars of services still running (default: ``result.ended``).

    Returns:
        Markdown ending with a newline.
    """
    word = "succeeded" if result.ok else "failed"
    named = f" ({table_cell(result.manifest.name)})" if result.manifest.name else ""
    lines = [f"## Release {table_cell(result.manifest.id)}{named}: {word}", ""]
    lines += [table_cell(result.headline), ""]
    header = ("Wave", "Service", "Outcome", "Deployment", "Took", "Traffic config", "Analysis")
    lines += [*markdown_table(header, [_row(run) for run in result.services]), ""]
    why = _why(result) if not result.ok else []
    if why:
        lines += ["**Why**", "", *(f"- {table_cell(reason)}" for reason in why), ""]
    chart = release_timeline(result, events=events, now=now)
    if chart:
        lines += ["### Timeline", "", chart, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def release_annotations(result: ReleaseResult) -> list[str]:
    """The GitHub workflow commands for a release's end: an ``::error`` per service whose
    own deployment failed (one for the release when none did but it failed anyway, e.g.
    interrupted), or one ``::notice`` when it succeeded. Print each on its own line."""
    if result.ok:
        return [
            workflow_command("notice", f"Release {result.manifest.id} succeeded", result.headline)
        ]
    lines = []
    for run in _failed(result.services):
        title = f"Release {result.manifest.id}: {run.name} failed"
        where = f"wave {run.wave}, deployment {run.deployment_id or 'not created'}"
        lines.append(workflow_command("error", title, f"{where}: {run.error or 'failed'}"))
    if not lines:
        title = f"Release {result.manifest.id} failed"
        lines.append(workflow_command("error", title, result.headline))
    return lines


def _failed(runs: Sequence[ServiceRun]) -> list[ServiceRun]:
    return [r for r in runs if r.phase is Phase.FAILED and not r.stopped]
