"""Telling people about a release: ``ReleaseNotifier`` (the release's milestones and each
service's, once each), ``ReleaseNotification`` through a webhook's JSON and Slack bodies,
``Outbox``, and the release's Markdown summary and annotations."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import pytest

import bluegreen
from bluegreen.manifest import Manifest, ServiceRelease, Wave
from bluegreen.notify import Notification
from bluegreen.notify_webhook import Webhook, slack_body
from bluegreen.release_events import EventKind, ReleaseEvent
from bluegreen.release_notify import (
    Outbox,
    ReleaseMilestone,
    ReleaseNotification,
    ReleaseNotifier,
)
from bluegreen.release_summary import release_annotations, release_summary
from bluegreen.testing import Simulator, build_environment

NEW = "registry.example.com/app:2"
AT = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def released(
    bluegreen_sim: Simulator,
) -> tuple[bluegreen.ReleaseResult, list[ReleaseEvent], ReleaseNotifier, list[Any]]:
    """A release of svc0 (wave canary, 3-minute bake) then svc1 and svc2 (wave rest),
    told to a list."""
    clients = bluegreen_sim.clients()
    for number in range(3):
        build_environment(
            clients=clients,
            name=f"svc{number}",
            cluster="prod",
            termination_wait_minutes=1,
            image="registry.example.com/app:1",
        )
    manifest = Manifest(
        name="rollout",
        waves=(
            Wave("canary", (ServiceRelease("prod", "svc0", image=NEW),), bake=180),
            Wave("rest", tuple(ServiceRelease("prod", f"svc{n}", image=NEW) for n in (1, 2))),
        ),
    )
    told: list[Any] = []
    notifier = ReleaseNotifier([told.append])
    events: list[ReleaseEvent] = []

    def on_event(event: ReleaseEvent) -> None:
        events.append(event)
        notifier.update(event)

    result = bluegreen.release(
        manifest, clients=clients, clock=bluegreen_sim.clock, on_event=on_event
    )
    return result, events, notifier, told


def test_a_release_tells_its_own_milestones_and_each_services_once_in_order(
    released: tuple[bluegreen.ReleaseResult, list[ReleaseEvent], ReleaseNotifier, list[Any]],
) -> None:
    result, _, notifier, told = released

    assert result.ok
    assert told == notifier.sent
    release_level = [(str(n.milestone), n.wave) for n in told if n.service is None]
    assert release_level == [
        ("release_started", None),
        ("wave_started", "canary"),
        ("wave_started", "rest"),
        ("release_succeeded", None),
    ]
    for name in ("prod/svc0", "prod/svc1", "prod/svc2"):
        mine = [n for n in told if n.service == name]
        assert [str(n.milestone) for n in mine] == ["created", "traffic_shifted", "succeeded"]
        assert {n.fields["release"] for n in mine} == {result.manifest.id}
    # Each service's milestones come between its wave's start and the release's end.
    order = [(str(n.milestone), n.service or n.wave) for n in told]
    assert order.index(("wave_started", "rest")) < order.index(("created", "prod/svc1"))
    assert order.index(("succeeded", "prod/svc0")) < order.index(("wave_started", "rest"))
    ended = told[-1]
    assert isinstance(ended, ReleaseNotification)
    assert ended.fields["counts"] == {"succeeded": 3}
    assert ended.text.startswith(f"Release {result.manifest.id} succeeded")


def test_the_summary_has_a_row_per_service_and_a_gantt_section_per_wave_with_the_bake(
    released: tuple[bluegreen.ReleaseResult, list[ReleaseEvent], ReleaseNotifier, list[Any]],
) -> None:
    result, events, _, _ = released

    markdown = release_summary(result, events=events)

    assert markdown.startswith(f"## Release {result.manifest.id} (rollout): succeeded\n")
    for name in ("svc0", "svc1", "svc2"):
        run = next(r for r in result.services if r.name == f"prod/{name}")
        assert f"| prod/{name} | succeeded | {run.deployment_id} |" in markdown
    assert "| canary | prod/svc0 | succeeded |" in markdown
    assert "CodeDeployDefault.ECSAllAtOnce | none |" in markdown
    chart = markdown[markdown.index("```mermaid") :]
    assert chart.index("section canary") < chart.index("section rest")
    assert "prod/svc0 succeeded :done, s1, " in chart
    canary = chart.split("section rest")[0]
    assert "    bake " in canary
    assert " :b0, " in canary
    assert "**Why**" not in markdown
    assert release_annotations(result)[0].startswith("::notice title=Release rollout-")


def event(kind: EventKind, **fields: Any) -> ReleaseEvent:
    return ReleaseEvent(kind, "rollout-1234abcd", AT, **fields)


def test_a_failed_release_is_told_with_the_reason_and_the_counts() -> None:
    told: list[Any] = []
    notifier = ReleaseNotifier([told.append])
    services = [
        {"service": "prod/a", "wave": "one", "phase": "failed", "error": "hook failed"},
        {"service": "prod/b", "wave": "one", "phase": "failed", "stopped_by_release": True},
        {"service": "prod/c", "wave": "two", "phase": "pending"},
    ]

    notifier.update(event(EventKind.STOPPING, message="prod/a failed: hook failed"))
    notifier.update(
        event(
            EventKind.ENDED,
            message="release rollout-1234abcd failed after 3m",
            data={
                "ok": False,
                "services": services,
            },
        )
    )

    [note] = told
    assert note.milestone is ReleaseMilestone.FAILED
    assert note.text == "Release rollout-1234abcd failed after 3m"
    assert note.fields["reason"] == "prod/a failed: hook failed"
    assert note.fields["counts"] == {"failed": 1, "stopped": 1, "pending": 1}
    assert note.fields["failed"] == [{"service": "prod/a", "wave": "one", "error": "hook failed"}]


def test_a_release_notification_goes_through_a_webhook_as_json_and_as_slack() -> None:
    note = ReleaseNotification(
        milestone=ReleaseMilestone.FAILED,
        release_id="rollout-1234abcd",
        at=AT,
        text="Release rollout-1234abcd failed: <prod/a> & more",
        fields={"counts": {"failed": 1}},
    )

    body = Webhook("https://hooks.example.com/x").body(note)
    assert body["milestone"] == "release_failed"
    assert body["release"] == "rollout-1234abcd"
    assert body["deployment_id"] is None
    assert body["at"] == "2026-12-02T12:00:00+00:00"

    slack = slack_body(note)
    assert slack["text"] == note.text
    section = slack["blocks"][0]["text"]["text"]
    assert section.startswith(":x: *Release failed*")
    assert "&lt;prod/a&gt; &amp; more" in section
    assert slack["blocks"][1]["elements"][0]["text"] == "rollout-1234abcd · 2026-12-02 12:00:00 UTC"


def test_a_failing_sink_is_logged_and_the_others_still_get_every_notification(
    caplog: pytest.LogCaptureFixture,
) -> None:
    told: list[Any] = []

    def broken(notification: Any) -> None:
        raise RuntimeError("down")

    notifier = ReleaseNotifier([broken, told.append])
    with caplog.at_level(logging.WARNING, logger="bluegreen.notify"):
        notifier.update(event(EventKind.STARTED, message="2 services in 1 waves"))
        notifier.update(event(EventKind.WAVE_STARTED, wave="one", data={"width": 2}))

    assert [str(n.milestone) for n in told] == ["release_started", "wave_started"]
    assert told[1].text == "Release rollout-1234abcd: wave one started, 2 at once"
    assert "could not send the release_started notification" in caplog.text


def test_the_outbox_sends_in_order_from_its_own_thread_and_close_waits_for_it() -> None:
    seen: list[tuple[str, str]] = []
    release = threading.Event()

    def slow(notification: Notification | ReleaseNotification) -> None:
        release.wait(5)
        seen.append((threading.current_thread().name, str(notification.milestone)))

    outbox = Outbox([slow])
    notifier = ReleaseNotifier([outbox])
    notifier.update(event(EventKind.STARTED))
    notifier.update(event(EventKind.WAVE_STARTED, wave="one"))
    assert seen == []  # the release went on while the sink waited
    release.set()

    assert outbox.close()
    assert seen == [
        ("bluegreen-notify", "release_started"),
        ("bluegreen-notify", "wave_started"),
    ]
