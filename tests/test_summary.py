"""The Markdown summary of a deployment (GitHub job summary, ``--summary FILE``), built from
deployments run on the simulator: the table row, the Mermaid gantt of lifecycle events and
traffic steps (checked line by line against the gantt grammar), the analysis with the failing
metric's numbers, the rollback's row, the workflow-command annotations and the step-summary
file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from deploying import Deployer, attach, run_deploy

from bluegreen import DeploymentError
from bluegreen.analysis import DEFAULT_ANALYSIS
from bluegreen.analysis_run import AnalysisRun
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.status import LifecycleEvent, LifecycleEventStatus
from bluegreen.summary import (
    deployment_summary,
    github_annotations,
    mermaid_text,
    table_cell,
    write_step_summary,
)
from bluegreen.testing import Simulator, Traffic

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
START = 1_796_000_017.0
BAD = "public.ecr.aws/nginx/nginx:1.29-bad"
GOOD = "public.ecr.aws/nginx/nginx:1.28"


@attrs.frozen
class Released:
    """A canary run to its end: the deployment, its rollback (if any) and its analysis."""

    snapshot: DeploymentSnapshot
    rollback: DeploymentSnapshot | None
    analysis: AnalysisRun | None
    error: DeploymentError | None


@pytest.fixture
def canary() -> Any:
    """Run a canary of ``image`` with the default analysis on a fresh simulator."""
    sims: list[Simulator] = []

    def release(image: str) -> Released:
        sim = Simulator(traffic=Traffic(requests_per_minute=2000, seed=7), start_time=START)
        sim.start()
        sims.append(sim)
        Deployer.create(sim, deployment_config=CANARY, alarms=False)
        sim.traffic.behave(BAD, error_rate=0.3)
        deployment = run_deploy(sim, image=image, analysis=DEFAULT_ANALYSIS)
        error = None
        try:
            deployment.wait()
        except DeploymentError as raised:
            error = raised
        rollback = None
        if error is not None and error.rollback_deployment_id:
            rollback = attach(sim, error.rollback_deployment_id).status()
        return Released(deployment.status(), rollback, deployment.analysis, error)

    yield release
    for sim in sims:
        sim.stop()


# -- the Mermaid gantt grammar the chart is written against (mermaid's gantt.jison) ---------

KEYWORDS = re.compile(
    r"(gantt|dateformat|axisformat|tickinterval|includes|excludes|todaymarker|weekday|title"
    r"|section|click|call|href|acc|inclusiveenddates|topaxis|\d{4}-\d\d-\d\d)",
    re.IGNORECASE,
)
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
TASK = re.compile(r"^ {4}(?P<name>[^#:;\n]+?) :(?P<data>[^#;\n]+)$")
TAGS = {"done", "active", "crit", "milestone"}


@attrs.frozen
class Task:
    section: str
    name: str
    tags: frozenset[str]
    id: str
    start: str
    end: str


def gantt(markdown: str) -> list[Task]:
    """The tasks of the one ```mermaid block, after checking each of its lines is one the
    gantt grammar accepts: ``gantt``, title, dateFormat, axisFormat, todayMarker, section,
    and ``name :tags, id, start, end`` with ISO times (a milestone ends ``0d``)."""
    blocks = re.findall(r"```mermaid\n(.*?)\n```", markdown, re.DOTALL)
    assert len(blocks) == 1, markdown
    lines = blocks[0].split("\n")
    assert lines[0] == "gantt"
    assert "    dateFormat YYYY-MM-DDTHH:mm:ss" in lines
    assert "    axisFormat %H:%M" in lines
    tasks: list[Task] = []
    ids: set[str] = set()
    section = ""
    for line in lines[1:]:
        if re.fullmatch(r" {4}title [^#;\n]+", line):
            continue
        if line in ("    dateFormat YYYY-MM-DDTHH:mm:ss", "    axisFormat %H:%M"):
            continue
        if line == "    todayMarker off":
            continue
        if found := re.fullmatch(r" {4}section ([^#:;\n]+)", line):
            section = found.group(1)
            continue
        task = TASK.fullmatch(line)
        assert task is not None, f"not a gantt line: {line!r}"
        name = task.group("name")
        assert not KEYWORDS.match(name), f"task name read as a keyword: {name!r}"
        assert "%" not in name[:2], f"a comment to Mermaid: {name!r}"
        assert "%%" not in name, f"a comment to Mermaid: {name!r}"
        parts = [p.strip() for p in task.group("data").split(",")]
        tags = frozenset(p for p in parts if p in TAGS)
        assert parts[: len(tags)] == [p for p in parts if p in TAGS], line  # tags come first
        rest = parts[len(tags) :]
        assert len(rest) == 3, f"want id, start, end: {line!r}"
        task_id, start, end = rest
        assert re.fullmatch(r"[a-z][a-z0-9]*", task_id), line
        assert task_id not in ids, f"duplicate id {task_id}"
        ids.add(task_id)
        assert re.fullmatch(TIME, start), line
        if "milestone" in tags:
            assert end == "0d", line
        else:
            assert re.fullmatch(TIME, end), line
            assert end >= start, line
        tasks.append(Task(section, name, tags, task_id, start, end))
    return tasks


def at(when: dt.datetime | None) -> str:
    assert when is not None
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of the deployments table's rows (the table under the heading)."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    header = next(i for i, r in enumerate(rows) if r.startswith("| Service |"))
    out = []
    for line in rows[header + 1 :]:
        if not line.startswith("| prod/web |"):
            break
        out.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return out


# -- a canary that succeeded -----------------------------------------------------------------


def test_a_good_canary_has_a_heading_and_one_row_with_its_id_config_status_and_time(
    canary: Any,
) -> None:
    done = canary(GOOD)

    markdown = deployment_summary(done.snapshot, analysis=done.analysis, service="prod/web")

    snapshot = done.snapshot
    assert markdown.startswith(f"## Deployment {snapshot.deployment_id} of prod/web: succeeded\n")
    [row] = table_rows(markdown)
    took = snapshot.complete_time - snapshot.start_time
    minutes, seconds = divmod(round(took.total_seconds()), 60)
    assert row == [
        "prod/web",
        snapshot.deployment_id,
        CANARY,
        "Succeeded",
        "succeeded",
        f"{snapshot.start_time.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
        f"{minutes}m {seconds:02d}s",
        "-",
    ]
    assert "**Why**" not in markdown
    assert "### Analysis: passed" in markdown


def test_every_lifecycle_event_is_a_gantt_task_from_its_start_to_its_end(canary: Any) -> None:
    done = canary(GOOD)

    tasks = gantt(deployment_summary(done.snapshot))

    events = [t for t in tasks if "milestone" not in t.tags]
    assert [t.name for t in events] == [str(e) for e in LifecycleEvent]
    for task, event in zip(events, done.snapshot.events, strict=True):
        assert (task.start, task.end) == (at(event.start), at(event.end))
        assert task.tags == {"done"}
    assert {t.section for t in tasks} == {done.snapshot.deployment_id}


def test_the_canary_steps_are_milestones_at_allow_traffic_and_five_minutes_later(
    canary: Any,
) -> None:
    done = canary(GOOD)

    tasks = gantt(deployment_summary(done.snapshot))

    shift = done.snapshot.event(LifecycleEvent.ALLOW_TRAFFIC)
    assert shift is not None
    assert shift.start is not None
    milestones = {t.name: t for t in tasks if "milestone" in t.tags}
    assert milestones["green 10%"].start == at(shift.start)
    assert milestones["green 100%"].start == at(shift.start + dt.timedelta(minutes=5))
    assert milestones["green 10%"].tags == milestones["green 100%"].tags == {"milestone", "done"}
    assert milestones["deployment succeeded"].start == at(done.snapshot.complete_time)


def test_a_good_canary_is_announced_with_a_notice(canary: Any) -> None:
    done = canary(GOOD)

    [line] = github_annotations(done.snapshot)

    first = done.snapshot.deployment_id
    assert line.startswith(
        f"::notice title=Deployment {first} succeeded::{first} ended: succeeded ("
    )
    assert "\n" not in line


# -- a bad canary the analysis stopped -------------------------------------------------------


def test_a_stopped_canary_shows_its_row_the_rollbacks_row_and_why(canary: Any) -> None:
    done = canary(BAD)
    assert done.rollback is not None

    markdown = deployment_summary(
        done.snapshot, rollback=done.rollback, analysis=done.analysis, service="prod/web"
    )

    first, second = done.snapshot.deployment_id, done.rollback.deployment_id
    assert markdown.startswith(f"## Deployment {first} of prod/web: rolled back\n")
    rows = table_rows(markdown)
    assert [r[1:5] for r in rows] == [
        [first, CANARY, "Stopped", f"stopped; rolled back by {second}"],
        [
            second,
            "CodeDeployDefault.ECSAllAtOnce",
            "Succeeded",
            f"succeeded (the rollback of {first})",
        ],
    ]
    assert [r[7] for r in rows] == [second, "-"]
    why = markdown.split("**Why**", 1)[1].split("###", 1)[0]
    assert re.search(r"- stopped by the analysis, which failed at evaluation \d+ \(", why)
    assert "- MANUAL_STOP: The deployment was stopped by a StopDeployment request." in why
    assert "- failed at AllowTraffic" in why


def test_the_analysis_section_gives_the_verdict_and_the_failing_metrics_numbers(
    canary: Any,
) -> None:
    done = canary(BAD)
    run = done.analysis
    assert run is not None

    markdown = deployment_summary(done.snapshot, rollback=done.rollback, analysis=run)

    section = markdown.split("### Analysis: failed\n", 1)[1]
    assert f"The analysis stopped {done.snapshot.deployment_id} and rolled it back." in section
    failing = run.evaluations[-1]
    metric = next(m for m in failing.metrics if m.name == "5xx rate")
    assert metric.green is not None
    assert metric.green.value is not None
    green = f"green {metric.green.value * 100:.1f}% ({metric.green.count:g}/{metric.green.total:g})"
    row = f"| {failing.start:%H:%M}-{failing.end:%H:%M} UTC | fail | 5xx rate: {green} vs blue "
    assert row in section
    header_and_rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert len(header_and_rows) == 1 + len(run.evaluations)


def test_the_stopped_canary_chart_marks_allow_traffic_critical_and_only_the_step_taken(
    canary: Any,
) -> None:
    done = canary(BAD)
    assert done.rollback is not None

    tasks = gantt(deployment_summary(done.snapshot, rollback=done.rollback))

    first, second = done.snapshot.deployment_id, done.rollback.deployment_id
    mine = {t.name: t for t in tasks if t.section == first}
    shift = done.snapshot.event(LifecycleEvent.ALLOW_TRAFFIC)
    assert shift is not None
    assert mine["AllowTraffic"].tags == {"crit"}
    assert (mine["AllowTraffic"].start, mine["AllowTraffic"].end) == (
        at(shift.start),
        at(shift.end),
    )
    assert "AfterAllowTraffic" not in mine  # skipped before it started
    assert mine["green 10%"].tags == {"milestone", "done"}
    assert "green 100%" not in mine
    assert mine["deployment stopped"].start == at(done.snapshot.complete_time)
    theirs = [t for t in tasks if t.section == f"rollback {second}"]
    assert [t.name for t in theirs if "milestone" not in t.tags] == [str(e) for e in LifecycleEvent]
    assert {t.start for t in theirs} >= {at(e.start) for e in done.rollback.events}
    assert "blue back at 100%" in {t.name for t in theirs}


def test_a_stopped_deployment_is_annotated_as_an_error_on_one_escaped_line(canary: Any) -> None:
    done = canary(BAD)
    assert done.error is not None

    [from_snapshot] = github_annotations(done.snapshot)
    [from_error] = github_annotations(done.error)

    first = done.snapshot.deployment_id
    assert from_snapshot.startswith(f"::error title=Deployment {first} rolled back::{first} ")
    assert "%0AMANUAL_STOP%3A" not in from_snapshot  # a message escapes only %, CR and LF
    assert "%0AMANUAL_STOP: The deployment was stopped" in from_snapshot
    rollback = done.error.rollback_deployment_id
    assert from_error.startswith(
        f"::error title=Deployment {first} stopped%2C rolled back by {rollback}::"
    )
    assert re.search(r"5xx rate: green \d+\.\d%25 \(\d+/\d+\) vs blue", from_error)
    assert "%" not in from_error.replace("%25", "").replace("%2C", "")
    assert "\n" not in from_snapshot + from_error


def test_a_promoted_ready_wait_ends_at_the_promotion_not_an_hour_later(sim: Any) -> None:
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment = run_deploy(sim, image=GOOD)
    d.until_status(deployment.id, "Ready")
    sim.advance(120)
    deployment.promote()
    assert d.done(deployment.id) == "Succeeded"
    snapshot = attach(sim, deployment.id).status()

    tasks = {t.name: t for t in gantt(deployment_summary(snapshot))}

    promoted = snapshot.event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC)
    assert promoted is not None
    assert tasks["ready wait ends"].start == at(promoted.start)
    assert tasks["ready wait ends"].tags == {"milestone", "done"}
    planned = next(t.due for t in snapshot.transitions if t.what == "ready wait ends")
    assert planned is not None
    assert promoted.start is not None
    assert planned - promoted.start > dt.timedelta(minutes=30)  # what the schedule allowed


# -- a deployment still running -------------------------------------------------------------


def test_a_running_deployment_shows_its_event_in_progress_up_to_now(sim: Any) -> None:
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = run_deploy(sim, image=GOOD)
    d.until_event(deployment.id, "AllowTraffic", "InProgress")
    snapshot = attach(sim, deployment.id).status()
    assert snapshot.observed_at is not None

    markdown = deployment_summary(snapshot, service="prod/web")

    assert f"{deployment.id} of prod/web: in progress" in markdown
    [row] = table_rows(markdown)
    assert row[3] == "InProgress"
    assert row[6].endswith(" so far")
    assert "Now waiting for production traffic to shift to green (AllowTraffic" in markdown
    tasks = {t.name: t for t in gantt(markdown)}
    assert tasks["AllowTraffic"].tags == {"active"}
    assert tasks["AllowTraffic"].end == at(snapshot.observed_at)
    assert "AfterAllowTraffic" not in tasks
    assert tasks["green 10%"].tags == {"milestone", "done"}
    assert tasks["green 100%"].tags == {"milestone"}  # expected, not yet


# -- text that must not break the Markdown, the chart or the workflow command ---------------


def test_table_cells_escape_pipes_newlines_and_html() -> None:
    assert table_cell("a|b\nc\r\nd <e> & f") == "a\\|b<br>c<br>d &lt;e&gt; &amp; f"
    assert table_cell(None) == "-"
    assert table_cell("") == "-"


def test_names_in_the_chart_lose_what_mermaid_would_misread() -> None:
    assert mermaid_text("a:b#c;d\ne") == "a b c d e"
    assert mermaid_text("5% green") == "5 pct green"
    assert mermaid_text("green 10%") == "green 10%"


def test_a_hooks_log_tail_never_reaches_the_summary_but_its_message_does(canary: Any) -> None:
    done = canary(BAD)
    failed = with_failed_event(
        done.snapshot,
        diagnostics="smoke test | got 500\non /health",
        log_tail="DB_PASSWORD=hunter2",
    )

    markdown = deployment_summary(failed, service="prod/web")
    [annotation] = github_annotations(failed)

    assert "- failed at AllowTraffic: smoke test \\| got 500<br>on /health" in markdown
    assert "hunter2" not in markdown + annotation
    assert "smoke test | got 500%0Aon /health" in annotation


def with_failed_event(snapshot: DeploymentSnapshot, **changes: Any) -> DeploymentSnapshot:
    """``snapshot`` with its failed event changed (what a hook could have reported)."""
    events = tuple(
        attrs.evolve(e, **changes) if e.status is LifecycleEventStatus.FAILED else e
        for e in snapshot.events
    )
    return attrs.evolve(snapshot, events=events)


# -- the step summary file ------------------------------------------------------------------


def test_each_summary_is_appended_to_the_step_summary_file(tmp_path: Path) -> None:
    path = tmp_path / "step_summary.md"
    path.write_text("# Earlier step\n")
    environ = {"GITHUB_STEP_SUMMARY": str(path)}

    assert write_step_summary("## Deployment d-AAAAAAAAA of prod/web: succeeded\n", environ)
    assert write_step_summary("## Deployment d-BBBBBBBBB of prod/web: failed", environ)

    text = path.read_text()
    assert text.startswith("# Earlier step\n## Deployment d-AAAAAAAAA")
    assert text.count("## Deployment ") == 2
    assert text.endswith("## Deployment d-BBBBBBBBB of prod/web: failed\n\n")


def test_without_github_step_summary_nothing_is_written(tmp_path: Path) -> None:
    assert write_step_summary("## x\n", {}) is False
    assert write_step_summary("## x\n", {"GITHUB_STEP_SUMMARY": ""}) is False
    assert list(tmp_path.iterdir()) == []
