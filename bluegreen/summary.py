"""A deployment told in Markdown, for a GitHub Actions job summary or ``--summary FILE``.

``deployment_summary`` writes a heading with the outcome, a table with one row per
deployment (the rollback's row too), the lifecycle events and traffic steps as a Mermaid
``gantt`` chart (GitHub renders it), why it failed, and the analysis with its evaluations.
``github_annotations`` gives the ``::error``/``::notice`` workflow commands for the same
deployment, and ``write_step_summary`` appends Markdown to ``$GITHUB_STEP_SUMMARY``.

Only ids, statuses, times, configs and reasons are shown: never a hook's log tail, a task
definition, or an environment value. Times are the deployment's own (the server's), in UTC.
The pieces (``deployments_table``, ``timeline``, ``analysis_section``) take several
deployments, so a summary of many services can be built from them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping, Sequence

from bluegreen.analysis_run import AnalysisRun
from bluegreen.clock import format_duration
from bluegreen.errors import BlueGreenError, DeploymentError
from bluegreen.snapshot import DeploymentSnapshot, TransitionState
from bluegreen.status import LifecycleEvent, LifecycleEventStatus

__all__ = [
    "analysis_section",
    "deployment_summary",
    "deployments_table",
    "github_annotations",
    "markdown_table",
    "mermaid_text",
    "outcome_word",
    "table_cell",
    "timeline",
    "workflow_command",
    "write_step_summary",
]

MERMAID_DATE_FORMAT = "YYYY-MM-DDTHH:mm:ss"
"""The ``dateFormat`` of the chart (dayjs tokens), matching ``_MERMAID_TIME``."""
_MERMAID_TIME = "%Y-%m-%dT%H:%M:%S"
_NO_VALUE = "-"


# -- words and times ------------------------------------------------------------------------


def outcome_word(snapshot: DeploymentSnapshot) -> str:
    """``succeeded``, ``rolled back``, ``failed``, ``stopped``, or ``in progress``: how the
    deployment ended (``DeploymentSnapshot.ending``), in a word or two (no emoji, so logs and
    screen readers say it)."""
    return (snapshot.ending or "in progress").replace("_", " ")


def _utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(microsecond=0)


def _shown_time(when: dt.datetime | None) -> str:
    return _NO_VALUE if when is None else f"{_utc(when):%Y-%m-%d %H:%M:%S} UTC"


def _took(snapshot: DeploymentSnapshot, now: dt.datetime) -> str:
    """From the start (or creation) to the end, or to ``now`` while it runs."""
    start = snapshot.start_time or snapshot.create_time
    end = snapshot.complete_time if snapshot.status.is_terminal else now
    if start is None or end is None:
        return _NO_VALUE
    text = format_duration((end - start).total_seconds())
    return text if snapshot.status.is_terminal else f"{text} so far"


def _now(snapshot: DeploymentSnapshot, now: dt.datetime | None) -> dt.datetime:
    """``now``, else when the snapshot was read, else the latest moment it reports."""
    return now or snapshot.observed_at or snapshot.latest_timestamp or dt.datetime.now(dt.UTC)


def _where(snapshot: DeploymentSnapshot, service: str | None) -> str:
    if service:
        return service
    if snapshot.native is not None or (snapshot.application and snapshot.deployment_group):
        return snapshot.where
    return _NO_VALUE


# -- Markdown -------------------------------------------------------------------------------


def table_cell(value: object) -> str:
    """``value`` safe in one Markdown table cell: ``|`` escaped, line breaks as ``<br>``,
    HTML's ``&<>`` as entities (GitHub would read them as tags)."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "<br>".join(line for line in lines if line) or _NO_VALUE


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table: ``header``, then one line per row, every cell through ``table_cell``."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(table_cell(v) for v in row) + " |" for row in rows]
    return lines


def deployments_table(
    rows: Iterable[tuple[str | None, DeploymentSnapshot]], *, now: dt.datetime | None = None
) -> str:
    """A Markdown table with one row per ``(cluster/service, snapshot)``; a service of None
    shows the snapshot's application and deployment group."""
    body = [
        (
            _where(snapshot, service),
            snapshot.deployment_id,
            snapshot.deployment_config,
            snapshot.status,
            snapshot.outcome or snapshot.state_line,
            _shown_time(snapshot.start_time or snapshot.create_time),
            _took(snapshot, _now(snapshot, now)),
            snapshot.rollback_deployment_id,
        )
        for service, snapshot in rows
    ]
    header = (
        "Service",
        "Deployment",
        "Config",
        "Status",
        "Outcome",
        "Started",
        "Took",
        "Rolled back by",
    )
    return "\n".join(markdown_table(header, body))


def _reasons(snapshot: DeploymentSnapshot) -> list[str]:
    """Why the deployment did not succeed: CodeDeploy's error and the failed event's
    diagnostics message (never its log tail, which may hold anything a hook printed)."""
    reasons = []
    if snapshot.error_code or snapshot.error_message:
        code = f"{snapshot.error_code}: " if snapshot.error_code else ""
        reasons.append(f"{code}{snapshot.error_message or 'no message'}")
    failed = snapshot.failed_event
    if failed is not None:
        said = f": {failed.diagnostics}" if failed.diagnostics else ""
        reasons.append(f"failed at {failed.name}{said}")
    return reasons


def analysis_section(run: AnalysisRun) -> str:
    """The analysis's verdict and why, then a table of its evaluations: the window's time,
    the outcome, and each metric's sentence with green's and blue's numbers."""
    lines = [f"### Analysis: {run.verdict}", ""]
    if run.reason:
        lines += [table_cell(run.reason), ""]
    if run.stopped:
        lines += [f"The analysis stopped {run.stopped} and rolled it back.", ""]
    if run.unstoppable:
        lines += [f"The deployment could no longer be stopped: {table_cell(run.unstoppable)}", ""]
    if not run.evaluations:
        lines.append("No evaluation yet.")
        return "\n".join(lines)
    rows = []
    for evaluation in run.evaluations:
        sentences = [line.strip() for line in evaluation.summary().splitlines()[1:]]
        window = f"{_utc(evaluation.start):%H:%M}-{_utc(evaluation.end):%H:%M} UTC"
        rows.append((window, evaluation.outcome, "\n".join(sentences)))
    lines += markdown_table(("Window", "Outcome", "Metrics"), rows)
    return "\n".join(lines)


# -- the Mermaid chart ----------------------------------------------------------------------

_EVENT_TAGS = {
    LifecycleEventStatus.SUCCEEDED: "done",
    LifecycleEventStatus.IN_PROGRESS: "active",
    LifecycleEventStatus.FAILED: "crit",
}


def mermaid_text(text: str) -> str:
    """``text`` as a gantt task name, title or section: without the characters its grammar
    stops at (``:``, ``#``, ``;``, line breaks), and with no ``%`` where Mermaid would read a
    comment (in the first two characters)."""
    cleaned = re.sub(r"[:#;\r\n]+", " ", text)
    head, tail = cleaned[:2].replace("%", " pct"), cleaned[2:]
    return " ".join((head + tail).split()) or "unnamed"


def _at(when: dt.datetime) -> str:
    return _utc(when).strftime(_MERMAID_TIME)


def _steps_taken(snapshot: DeploymentSnapshot) -> list[tuple[str, dt.datetime, bool]]:
    """The schedule's transitions with a due time, as (name, when, happened).

    A traffic step counts as happened when it was due before AllowTraffic ended: a canary
    stopped mid-shift did move its first step, although ``transitions`` calls the steps of
    a deployment that ended early skipped. A ready wait cut short by a promotion ended
    when BeforeAllowTraffic started, not when it was due.
    """
    shift = snapshot.event(LifecycleEvent.ALLOW_TRAFFIC)
    promoted = snapshot.event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC)
    shift_end = shift.end if shift is not None and shift.has_started else None
    out = []
    for transition in snapshot.transitions:
        if transition.due is None:
            continue
        happened = transition.state is TransitionState.HAPPENED
        due = transition.due
        if happened and transition.what == "ready wait ends" and promoted and promoted.start:
            due = min(due, promoted.start)
        if transition.state is TransitionState.SKIPPED:
            if not (transition.what.startswith("green ") and shift_end is not None):
                continue
            if due > shift_end:
                continue
            happened = True
        out.append((transition.what, due, happened))
    return out


def _section(snapshot: DeploymentSnapshot, key: str, now: dt.datetime) -> list[str]:
    title = f"rollback {snapshot.deployment_id}" if snapshot.is_rollback else snapshot.deployment_id
    lines = [f"    section {mermaid_text(title)}"]
    for number, event in enumerate(snapshot.events, 1):
        if event.start is None or not event.has_started:
            continue
        end = event.end or max(now, event.start)
        tags = [tag for tag in [_EVENT_TAGS.get(event.status)] if tag]
        data = ", ".join([*tags, f"{key}e{number}", _at(event.start), _at(end)])
        lines.append(f"    {mermaid_text(str(event.name))} :{data}")
    for number, (what, due, happened) in enumerate(_steps_taken(snapshot), 1):
        # A rollback's green is the version that served before: blue, back.
        name = what.replace("green ", "blue back at ") if snapshot.is_rollback else what
        tags = ["milestone", "done"] if happened else ["milestone"]
        data = ", ".join([*tags, f"{key}m{number}", _at(due), "0d"])
        lines.append(f"    {mermaid_text(name)} :{data}")
    if snapshot.status.is_terminal and snapshot.complete_time is not None:
        which = "rollback" if snapshot.is_rollback else "deployment"
        ended = f"{which} {str(snapshot.status).lower()}"
        data = f"milestone, {key}end, {_at(snapshot.complete_time)}, 0d"
        lines.append(f"    {mermaid_text(ended)} :{data}")
    return lines


def timeline(
    snapshots: Iterable[DeploymentSnapshot], *, title: str, now: dt.datetime | None = None
) -> str:
    """A Mermaid ``gantt`` block (fenced): one section per deployment, a task per lifecycle
    event that started (its start to its end, or to ``now`` while it runs), the traffic steps
    and the end as milestones. Empty when no event has started."""
    sections: list[str] = []
    for index, snapshot in enumerate(snapshots):
        if any(e.start is not None and e.has_started for e in snapshot.events):
            sections += _section(snapshot, f"d{index}", _now(snapshot, now))
    if not sections:
        return ""
    head = [
        "```mermaid",
        "gantt",
        f"    title {mermaid_text(title)}",
        f"    dateFormat {MERMAID_DATE_FORMAT}",
        "    axisFormat %H:%M",
        "    todayMarker off",
    ]
    return "\n".join([*head, *sections, "```"])


# -- the whole summary ------------------------------------------------------------------------


def deployment_summary(
    snapshot: DeploymentSnapshot,
    *,
    rollback: DeploymentSnapshot | None = None,
    analysis: AnalysisRun | None = None,
    service: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The Markdown summary of one deployment, for a job summary or a file.

    Args:
        snapshot: the deployment, best read once it has ended (``Deployment.status()``).
        rollback: the rollback CodeDeploy started for it, read the same way: its row and its
            events are added.
        analysis: the deployment's ``AnalysisRun`` (``Deployment.analysis``): its verdict and
            evaluations are added.
        service: ``cluster/service``, shown in the heading and table; by default the
            snapshot's CodeDeploy application and deployment group.
        now: the server's time, for a deployment still running (default: when the snapshot
            was read).

    Returns:
        Markdown ending with a newline.
    """
    where = _where(snapshot, service)
    word = outcome_word(snapshot)
    lines = [f"## Deployment {snapshot.deployment_id} of {table_cell(where)}: {word}", ""]
    rows: list[tuple[str | None, DeploymentSnapshot]] = [(service, snapshot)]
    if rollback is not None:
        rows.append((service, rollback))
    lines += [deployments_table(rows, now=now), ""]
    why = _reasons(snapshot) if word != "succeeded" else []
    if analysis is not None and analysis.stopped == snapshot.deployment_id:
        why.insert(0, f"stopped by the analysis, which {analysis.reason}")
    if why:
        lines += ["**Why**", "", *(f"- {table_cell(reason)}" for reason in why), ""]
    if not snapshot.status.is_terminal:
        lines += [f"Now {table_cell(snapshot.state_line)}.", ""]
    chart = timeline([s for _, s in rows], title=f"{snapshot.deployment_id} {where} (UTC)", now=now)
    if chart:
        lines += ["### Timeline", "", chart, ""]
    if analysis is not None:
        lines += [analysis_section(analysis), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- GitHub Actions -----------------------------------------------------------------------------


def _command_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    """A workflow command's property value (``escapeProperty``): also ``:`` and ``,``."""
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(kind: str, title: str, message: str) -> str:
    """A GitHub workflow command (``::error title=...::message``), escaped as GitHub's
    toolkit escapes it."""
    return f"::{kind} title={_command_property(title)}::{_command_data(message)}"


def github_annotations(
    snapshot_or_error: DeploymentSnapshot | BaseException, *, now: dt.datetime | None = None
) -> list[str]:
    """The workflow commands that annotate a GitHub Actions run with the deployment's end:
    ``::error`` for a failed, stopped or rolled-back deployment (or any error), ``::notice``
    for one that succeeded or still runs. Print each on its own line of stdout."""
    item = snapshot_or_error
    if isinstance(item, DeploymentSnapshot):
        word = outcome_word(item)
        took = _took(item, _now(item, now))
        title = f"Deployment {item.deployment_id} {word}"
        if item.succeeded or not item.status.is_terminal:
            message = f"{item.deployment_id} {item.state_line} ({took})"
            return [workflow_command("notice", title, message)]
        details = [f"{item.deployment_id} {item.state_line} after {took}"]
        details += _reasons(item)
        return [workflow_command("error", title, "\n".join(details))]
    if isinstance(item, DeploymentError):
        title = f"Deployment {item.deployment_id} {(item.status or 'failed').lower()}"
        if item.rollback_deployment_id:
            title += f", rolled back by {item.rollback_deployment_id}"
    elif isinstance(item, BlueGreenError):
        title = f"bluegreen: {type(item).__name__}"
    else:
        title = f"bluegreen: unexpected {type(item).__name__}"
    return [workflow_command("error", title, str(item))]


def write_step_summary(markdown: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Append ``markdown`` to the file ``$GITHUB_STEP_SUMMARY`` names (GitHub shows the
    file on the run's page; every step appends its own part). Returns whether it wrote:
    False outside GitHub Actions, where the variable is not set."""
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(text + "\n")
    return True
