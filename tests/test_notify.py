"""bluegreen.notify and bluegreen.notify_webhook: real deployments on the simulator report each
milestone once and in order, to a callback and to a webhook served over real HTTP on
127.0.0.1, which is retried after a 5xx and, when it keeps failing, only logged."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from deploying import NEW_IMAGE, Deployer, attach, run_deploy

from bluegreen import DeploymentError, Milestone, ValidationError
from bluegreen.notify import DeploymentMilestone, Notification, Notifier
from bluegreen.notify_webhook import Webhook, slack_body

HOOK = "CodeDeployHook_check"
M = DeploymentMilestone


class Endpoint:
    """A webhook endpoint on 127.0.0.1 that records the JSON bodies POSTed to it; it answers
    ``status`` to the first ``failures`` requests (all of them when ``failures`` is None)."""

    def __init__(
        self, *, failures: int | None = 0, status: int = 500, retry_after: str | None = None
    ) -> None:
        self.failures = failures
        self.status = status
        self.retry_after = retry_after
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                endpoint.requests += 1
                failing = endpoint.failures is None or endpoint.requests <= endpoint.failures
                if not failing:
                    endpoint.bodies.append(body)
                self.send_response(endpoint.status if failing else 200)
                if failing and endpoint.retry_after is not None:
                    self.send_header("Retry-After", endpoint.retry_after)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/services/T000/B000/secret-token"

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class FakeClock:
    """Time that passes only when slept; records the sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with Endpoint() as served:
        yield served


def milestones(notes: list[Notification]) -> list[DeploymentMilestone]:
    return [n.milestone for n in notes]


def a_notification(milestone: DeploymentMilestone = M.SUCCEEDED) -> Notification:
    return Notification(
        milestone=milestone,
        deployment_id="d-ABCDEFGHI",
        service="prod/web",
        at=dt.datetime(2026, 12, 2, 15, 30, tzinfo=dt.UTC),
        text="Deployment d-ABCDEFGHI of prod/web succeeded: the new version is live",
        fields={"status": "Succeeded"},
    )


# -- one deployment on the simulator ----------------------------------------------------------


def test_a_successful_deployment_notifies_created_traffic_shifted_succeeded_once_each(sim):
    Deployer.create(sim)
    received: list[Notification] = []
    notifier = Notifier([received.append], service="prod/web")
    deployment = run_deploy(sim, image=NEW_IMAGE)

    final = deployment.wait(on_progress=notifier.update)

    assert final.succeeded
    assert milestones(received) == [M.CREATED, M.TRAFFIC_SHIFTED, M.SUCCEEDED]
    assert notifier.milestones == (M.CREATED, M.TRAFFIC_SHIFTED, M.SUCCEEDED)
    assert {n.deployment_id for n in received} == {deployment.id}
    assert {n.service for n in received} == {"prod/web"}
    assert received[-1].text == (
        f"Deployment {deployment.id} of prod/web succeeded: the new version is live"
    )
    assert received[-1].at == final.observed_at
    times = [n.at for n in received]
    assert all(t is not None for t in times)
    assert times == sorted(times)  # type: ignore[type-var]


def test_reading_the_same_snapshots_again_notifies_nothing_more(sim):
    Deployer.create(sim)
    received: list[Notification] = []
    notifier = Notifier([received.append])
    deployment = run_deploy(sim, image=NEW_IMAGE)
    final = deployment.wait(on_progress=notifier.update)

    notifier.update(final)
    notifier.update(deployment.status())

    assert milestones(received) == [M.CREATED, M.TRAFFIC_SHIFTED, M.SUCCEEDED]


def test_a_ready_wait_notifies_ready_for_promotion_once_then_the_rest_after_promote(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    received: list[Notification] = []
    notifier = Notifier([received.append], service="prod/web")
    deployment = attach(sim, d.deploy())

    deployment.wait("ready", on_progress=notifier.update)
    notifier.update(deployment.status())  # read again while Ready: no second notice
    assert milestones(received) == [M.CREATED, M.READY_FOR_PROMOTION]
    assert "ready for promotion" in received[-1].text
    deployment.promote()
    deployment.wait(on_progress=notifier.update)

    assert milestones(received) == [
        M.CREATED,
        M.READY_FOR_PROMOTION,
        M.TRAFFIC_SHIFTED,
        M.SUCCEEDED,
    ]


def test_a_failing_hook_notifies_failed_with_the_reason_then_rolled_back(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment = attach(sim, d.deploy(hooks={"AfterAllowTraffic": HOOK}))
    received: list[Notification] = []
    notifier = Notifier([received.append], service="prod/web")

    with pytest.raises(DeploymentError) as raised:
        deployment.wait(on_progress=notifier.update)

    error = raised.value
    assert milestones(received) == [M.CREATED, M.TRAFFIC_SHIFTED, M.FAILED, M.ROLLED_BACK]
    failed, rolled_back = received[-2:]
    assert failed.deployment_id == deployment.id
    assert failed.fields["reason"] == error.message
    assert failed.fields["error_code"] == error.error_code
    assert failed.fields["error_message"] == d.info(deployment.id)["errorInformation"]["message"]
    assert failed.fields["lifecycle_event"] == "AfterAllowTraffic"
    assert failed.fields["rollback_deployment_id"] == error.rollback_deployment_id
    assert error.message in failed.text
    assert failed.text.startswith(f"Deployment {deployment.id} of prod/web did not succeed: ")
    assert rolled_back.deployment_id == deployment.id
    assert rolled_back.fields["rollback_deployment_id"] == error.rollback_deployment_id
    assert d.status(error.rollback_deployment_id) == "Succeeded"
    assert "blue serves production traffic again" in rolled_back.text


def test_wrap_notifies_and_still_calls_the_other_on_progress(sim):
    Deployer.create(sim)
    received: list[Notification] = []
    seen: list[str] = []
    notifier = Notifier([received.append])
    deployment = run_deploy(sim, image=NEW_IMAGE)

    deployment.wait(Milestone.END, on_progress=notifier.wrap(lambda s: seen.append(str(s.status))))

    assert seen[-1] == "Succeeded"
    assert milestones(received) == [M.CREATED, M.TRAFFIC_SHIFTED, M.SUCCEEDED]
    assert notifier.wrap(None) == notifier.update


def test_a_webhook_posts_every_milestone_of_a_real_deployment_as_json(sim, endpoint):
    Deployer.create(sim)
    webhook = Webhook(endpoint.url)
    deployment = run_deploy(sim, image=NEW_IMAGE)

    deployment.wait(on_progress=Notifier([webhook], service="prod/web").update)

    assert [b["milestone"] for b in endpoint.bodies] == [
        "created",
        "traffic_shifted",
        "succeeded",
    ]
    last = endpoint.bodies[-1]
    assert last["deployment_id"] == deployment.id
    assert last["service"] == "prod/web"
    assert last["fields"]["status"] == "Succeeded"
    assert dt.datetime.fromisoformat(last["at"]).tzinfo is not None
    assert webhook.delivered == 3


def test_a_webhook_that_always_fails_leaves_the_deployment_to_succeed_and_logs_a_warning(
    sim, caplog
):
    Deployer.create(sim)
    clock = FakeClock()
    with Endpoint(failures=None) as broken:
        webhook = Webhook(broken.url, attempts=3, clock=clock)
        deployment = run_deploy(sim, image=NEW_IMAGE)
        with caplog.at_level(logging.WARNING, logger="bluegreen.notify"):
            final = deployment.wait(on_progress=Notifier([webhook]).update)

    assert final.succeeded
    assert broken.requests == 9  # three milestones, three attempts each
    assert webhook.dropped == 3
    assert webhook.delivered == 0
    warnings = [r.getMessage() for r in caplog.records if r.name == "bluegreen.notify"]
    assert len(warnings) == 3
    assert "could not deliver the succeeded notification" in warnings[-1]
    assert "HTTP 500" in warnings[-1]
    assert all("secret-token" not in w for w in warnings)  # the URL's path stays private


def test_a_failing_webhook_does_not_change_a_failed_deployments_error(sim, caplog):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment = attach(sim, d.deploy(hooks={"AfterAllowTestTraffic": HOOK}))
    with Endpoint(failures=None) as broken, caplog.at_level(logging.WARNING):
        notifier = Notifier([Webhook(broken.url, attempts=2, clock=FakeClock())])
        with pytest.raises(DeploymentError) as raised:
            deployment.wait(on_progress=notifier.update)

    assert raised.value.status == "Failed"
    assert notifier.milestones == (M.CREATED, M.FAILED, M.ROLLED_BACK)
    assert sum("could not deliver" in r.getMessage() for r in caplog.records) == 3


def test_a_callback_that_raises_is_logged_and_the_other_sinks_still_get_the_notice(caplog):
    received: list[Notification] = []

    def broken(notification: Notification) -> None:
        raise RuntimeError("chat is down")

    notifier = Notifier([broken, received.append])
    with caplog.at_level(logging.WARNING, logger="bluegreen.notify"):
        notifier.send(a_notification())

    assert received == [a_notification()]
    assert "chat is down" in caplog.text
    assert "broken" in caplog.text


# -- the webhook on its own ----------------------------------------------------------------------


def test_a_webhook_retries_a_500_then_delivers_once():
    clock = FakeClock()
    with Endpoint(failures=2) as flaky:
        webhook = Webhook(flaky.url, clock=clock)
        assert webhook.send(a_notification())

    assert flaky.requests == 3
    assert flaky.bodies == [a_notification().to_dict()]
    assert len(clock.sleeps) == 2  # a pause before each retry, on the injected clock
    assert webhook.delivered == 1


def test_a_webhook_honours_retry_after_on_429():
    clock = FakeClock()

    with Endpoint(failures=1, status=429, retry_after="7") as limited:
        assert Webhook(limited.url, clock=clock).send(a_notification())

    assert limited.requests == 2
    assert clock.sleeps == [7.0]


def test_a_webhook_does_not_retry_a_4xx(caplog):
    clock = FakeClock()
    with Endpoint(failures=None, status=404) as missing:
        webhook = Webhook(missing.url, clock=clock)
        with caplog.at_level(logging.WARNING, logger="bluegreen.notify"):
            assert not webhook.send(a_notification())

    assert missing.requests == 1
    assert clock.sleeps == []
    assert "HTTP 404" in caplog.text


def test_a_webhook_that_cannot_connect_retries_then_logs(caplog):
    with Endpoint() as gone:
        url = gone.url
    clock = FakeClock()
    webhook = Webhook(url, attempts=3, clock=clock, timeout=2.0)
    with caplog.at_level(logging.WARNING, logger="bluegreen.notify"):
        assert not webhook.send(a_notification())

    assert len(clock.sleeps) == 2
    assert "ConnectError" in caplog.text
    assert "secret-token" not in caplog.text
    assert "secret-token" not in repr(webhook)


def test_a_slack_webhook_posts_text_and_blocks():
    with Endpoint() as slack:
        assert Webhook(slack.url, slack=True).send(a_notification(M.FAILED))

    body = slack.bodies[0]
    assert set(body) == {"text", "blocks"}
    assert body["text"] == a_notification().text
    section, context = body["blocks"]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith(":x: *Failed*\n")
    assert context["type"] == "context"
    assert context["elements"][0]["text"] == "d-ABCDEFGHI · prod/web · 2026-12-02 15:30:00 UTC"


def test_slack_text_escapes_the_characters_slack_reserves():
    note = Notification(
        milestone=M.FAILED,
        deployment_id="d-ABCDEFGHI",
        service=None,
        at=None,
        text="Deployment d-ABCDEFGHI did not succeed: p99 > 2s & <timeout>",
        fields={},
    )

    body = slack_body(note)

    assert body["text"] == note.text
    assert "p99 &gt; 2s &amp; &lt;timeout&gt;" in body["blocks"][0]["text"]["text"]
    assert body["blocks"][1]["elements"][0]["text"] == "d-ABCDEFGHI"


def test_a_deployment_an_analysis_stopped_is_reported_failed_with_the_analysis_reason():
    from bluegreen.analysis import DEFAULT_ANALYSIS
    from bluegreen.testing import Simulator, Traffic

    bad = "public.ecr.aws/nginx/nginx:1.29-bad"
    sim = Simulator(traffic=Traffic(requests_per_minute=2000, seed=7), start_time=1_796_000_017.0)
    sim.start()
    try:
        Deployer.create(
            sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes", alarms=False
        )
        sim.traffic.behave(bad, error_rate=0.3)
        received: list[Notification] = []
        notifier = Notifier([received.append], service="prod/web")
        deployment = run_deploy(sim, image=bad, analysis=DEFAULT_ANALYSIS)

        with pytest.raises(DeploymentError) as raised:
            deployment.wait(on_progress=notifier.update, on_evaluation=notifier.update_analysis)
    finally:
        sim.stop()

    assert milestones(received) == [M.CREATED, M.FAILED, M.ROLLED_BACK]
    failed = received[1]
    assert failed.fields["status"] == "Stopped"
    assert failed.fields["reason"] == raised.value.message
    assert "the analysis failed at evaluation" in failed.fields["stopped_because"]
    assert "5xx rate: green " in failed.text


def test_a_webhook_with_a_bad_url_or_settings_is_refused_with_every_problem():
    with pytest.raises(ValidationError) as raised:
        Webhook("hooks.example.com/secret-token", timeout=0, attempts=0)

    problems = raised.value.problems
    assert len(problems) == 3
    assert "http:// or https://" in problems[0]
    assert "timeout must be a positive number" in problems[1]
    assert "attempts must be a whole number of at least 1" in problems[2]
    assert "secret-token" not in str(raised.value)


def test_a_failure_found_too_late_to_stop_is_notified_as_failed_not_succeeded():
    from deploying import run_deploy

    from bluegreen.analysis import Analysis
    from bluegreen.testing import SimSettings, Simulator, Traffic

    with Simulator(
        traffic=Traffic(requests_per_minute=2000, seed=7),
        start_time=1_796_000_017.0,
        settings=SimSettings(blue_cleanup_seconds=300),
    ) as sim:
        Deployer.create(
            sim, deployment_config="CodeDeployDefault.ECSAllAtOnce", termination_wait_minutes=0
        )
        sim.traffic.behave("nginx:bad", error_rate=0.3)
        deployment = run_deploy(sim, image="nginx:bad", analysis=Analysis(server_alarm=False))
        received: list[Notification] = []
        notifier = Notifier([received.append], service="prod/web")

        with pytest.raises(DeploymentError):
            deployment.wait(on_progress=notifier.update, on_evaluation=notifier.update_analysis)

    assert milestones(received) == [M.CREATED, M.TRAFFIC_SHIFTED, M.FAILED]
    assert "could no longer be stopped" in received[-1].text
