"""The live view (``bluegreen.cli._progress.live_view``), read as text: without colour
(``NO_COLOR``, a CI log, ``tmux capture-pane``) and at every status of a deployment."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from deploying import Deployer, as_text, attach

from bluegreen import TargetLabel
from bluegreen.cli._progress.live_view import render, traffic_bar

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"


def bar_of(text: str) -> str:
    """The cells of the traffic bar, without the styles (bold) a terminal still gets."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    line = next(line for line in plain.splitlines() if line.startswith("production"))
    cells = re.search(r"[█░]+", line)
    assert cells is not None, line
    return cells.group()


def canary_at_ten_percent(sim: Any) -> Any:
    """A canary deployment's snapshot while green has 10 % of production."""
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)
    return attach(sim, deployment_id).status()


@pytest.mark.parametrize(
    "console_options",
    [{"no_color": True}, {"color_system": None}, {"force_terminal": False}],
    ids=["NO_COLOR", "no-colour-terminal", "a-log-file"],
)
def test_the_traffic_bar_shows_the_split_in_characters_without_colour(
    sim: Any, console_options: dict[str, Any]
) -> None:
    early = canary_at_ten_percent(sim)
    early_green = early.task_set(TargetLabel.GREEN).traffic_weight
    assert early_green == 10.0

    early_bar = bar_of(as_text(render(early, early.observed_at), **console_options))

    solid, shaded = early_bar.count("█"), early_bar.count("░")
    assert solid + shaded == 40
    # Green's share is solid, blue's shaded: 10/90 and 90/10 no longer look the same.
    assert solid == round(40 * early_green / 100)
    assert early_bar == "░" * shaded + "█" * solid
    assert 0 < solid < shaded


def test_ten_ninety_and_ninety_ten_draw_different_bars() -> None:
    ten = bar_of(as_text(traffic_bar(90.0, 10.0)))
    ninety = bar_of(as_text(traffic_bar(10.0, 90.0)))

    assert ten != ninety
    assert (ten.count("█"), ten.count("░")) == (4, 36)
    assert (ninety.count("█"), ninety.count("░")) == (36, 4)


def test_the_live_view_shows_events_the_traffic_bar_and_what_it_waits_for(sim, capsys):
    from rich.console import Console

    d = Deployer.create(sim, deployment_config=CANARY)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)
    snapshot = attach(sim, deployment_id).status()
    console = Console(file=io.StringIO(), width=120, color_system=None)

    console.print(render(snapshot, snapshot.observed_at or dt.datetime.now(dt.UTC)))

    text = console.file.getvalue()
    assert f"Deployment {deployment_id}  InProgress" in text
    assert "Install" in text
    assert "Succeeded" in text
    assert "blue  90.0%" in text
    assert "10.0% green" in text
    assert "waiting for production traffic to shift to green" in text
    assert "expected ~10 min after install (shift 5 min, keep blue 5 min)" in text
    assert "next green 100% in ~" in text


# -- wording at every status ----------------------------------------------------------------


def test_a_deployment_in_its_termination_wait_reads_naturally(sim: Any) -> None:
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())
    held = deployment.wait("termination_wait")

    text = as_text(render(held, held.observed_at))

    assert "waiting for the termination wait to end (blue is kept until then)" in text
    assert "termination wait ends (blue removed) in ~" in text
    assert "waiting for termination wait" not in text
    assert "waiting for the termination wait to end" in repr(held)


def test_a_finished_deployment_waits_for_nothing(sim: Any) -> None:
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())
    end = deployment.wait()

    text = as_text(render(end, end.observed_at))

    assert "waiting for" not in text
    assert "nothing" not in text
    assert "waiting for" not in repr(end)
    assert "ended: succeeded" in repr(end)
    assert end.to_dict()["waiting_for"] is None


def test_the_live_view_shows_the_latest_evaluation_with_green_and_blue_numbers(sim: Any) -> None:
    from bluegreen.analysis import DEFAULT_ANALYSIS
    from bluegreen.analysis_query import MetricData, MetricReading
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.cli._progress.live_view import LiveView

    snapshot = canary_at_ten_percent(sim)
    run = AnalysisRun(DEFAULT_ANALYSIS)
    end = dt.datetime(2026, 12, 2, 10, 3, tzinfo=dt.UTC)
    run.add(
        MetricData(
            start=end - dt.timedelta(minutes=3),
            end=end,
            requests={"green": 400.0, "blue": 3600.0},
            readings={
                "5xx rate": (MetricReading(0.3, 120.0, 400.0), MetricReading(0.001, 4.0, 3600.0)),
                "p99 response time": (MetricReading(0.21), MetricReading(0.2)),
            },
        ),
        end + dt.timedelta(seconds=10),
    )
    view = LiveView(io.StringIO(), lambda: end)
    view.last = snapshot
    view.evaluated(run)

    text = as_text(view.__rich__(), no_color=True)

    assert "analysis: 1 evaluations, failed" in text  # one beyond doubt fails the default
    assert "10:03 UTC, fail" in text
    assert "5xx rate: green 30.0% (120/400) vs blue 0.1% (4/3600)" in text
    assert "Deployment " in text  # the deployment's view is still drawn above
