"""The lifecycle's order of events and its start (``_lifecycle``, contract 2.1 and 1.4):
eight events in order, AppSpecs that fail the deployment, and a long deployment on the
virtual clock, through boto3 against the simulator."""

import hashlib
import json

from deploying import EVENTS, TERMINAL, Deployer

from bluegreen.testing import SimSettings, Simulator

HOOK = "CodeDeployHook_check"


INVALID_APPSPEC = (
    "The deployment failed because the AppSpec file that specifies the deployment "
    "configuration is missing or has an invalid configuration. "
)


def content_revision(content):
    return {
        "revisionType": "AppSpecContent",
        "appSpecContent": {
            "content": content,
            "sha256": hashlib.sha256(content.encode()).hexdigest(),
        },
    }


def watch_events(d, deployment_id):
    """Run to the end, recording every distinct status each lifecycle event goes through."""
    seen = {}

    def record():
        for name, status in d.events(deployment_id).items():
            history = seen.setdefault(name, [])
            if not history or history[-1] != status:
                history.append(status)
        return d.status(deployment_id) in TERMINAL

    d.sim.run_until(record)
    return seen


def test_1_4_unparseable_appspec_fails_the_deployment_with_invalid_revision(sim):
    d = Deployer.create(sim)
    squashed = d.appspec().to_yaml().replace("\n", " ")
    deployment_id = d.deploy(revision=content_revision(squashed + " - ["))

    assert d.done(deployment_id) == "Failed"
    info = d.info(deployment_id)
    assert info["errorInformation"] == {
        "code": "INVALID_REVISION",
        "message": INVALID_APPSPEC
        + "The input AppSpec file is a not well-formed yaml. The template cannot be parsed.",
    }
    events = d.events(deployment_id)
    assert events["BeforeInstall"] == "Failed"
    assert [events[n] for n in EVENTS[1:]] == ["Skipped"] * 7
    assert "rollbackInfo" not in info
    assert len(d.task_sets()) == 1


def test_1_4_appspec_of_the_wrong_shape_fails_with_invalid_revision(sim):
    d = Deployer.create(sim)
    document = d.appspec().to_dict()
    properties = document["Resources"][0]["TargetService"]["Properties"]
    properties["LoadBalancerInfo"] = [properties["LoadBalancerInfo"]]
    deployment_id = d.deploy(revision=content_revision(json.dumps(document)))

    assert d.done(deployment_id) == "Failed"
    error = d.info(deployment_id)["errorInformation"]
    assert error["code"] == "INVALID_REVISION"
    assert error["message"].startswith(INVALID_APPSPEC)
    assert "LoadBalancerInfo" in error["message"]


def test_10_a_30_minute_linear_deployment_with_hooks_runs_on_the_virtual_clock(sim):
    d = Deployer.create(
        sim,
        deployment_config="CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
        termination_wait_minutes=5,
    )
    calls = []
    sim.register_hook(HOOK, d.reporting_hook(calls=calls))
    deployment_id = d.deploy(
        hooks={str(event): HOOK for event in EVENTS if event.startswith(("Before", "After"))}
    )

    assert d.done(deployment_id) == "Succeeded"
    assert len(calls) == 5
    assert d.traffic() == {"web-green": 100, "web-blue": 0}
    info = d.info(deployment_id)
    elapsed = info["completeTime"] - info["createTime"]
    assert elapsed.total_seconds() > 32 * 60


# -- 2.1 order and what each event does ----------------------------------------------


def test_2_1_eight_events_in_order_each_pending_then_in_progress_then_succeeded(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    sim.advance(3)

    seen = watch_events(d, deployment_id)

    assert list(seen) == list(EVENTS)
    # The target is unreadable while Created, and BeforeInstall starts with the deployment.
    assert seen["BeforeInstall"] == ["InProgress", "Succeeded"]
    for name in EVENTS[1:]:
        assert seen[name] == ["Pending", "InProgress", "Succeeded"], name
    assert d.status(deployment_id) == "Succeeded"


def test_2_1_events_have_start_and_end_times_in_run_order(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    events = d.target(deployment_id)["lifecycleEvents"]
    times = [(e["startTime"], e["endTime"]) for e in events]
    assert all(start <= end for start, end in times)
    assert all(times[i][1] <= times[i + 1][0] for i in range(len(times) - 1))


def test_2_1_test_listener_follows_green_at_allow_test_traffic_before_production_moves(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK, "AfterAllowTestTraffic": HOOK})

    sim.run_until(lambda: len(calls) == 1)
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100}
    d.report(calls[0])

    sim.run_until(lambda: len(calls) == 2)
    assert d.events(deployment_id)["AllowTestTraffic"] == "Succeeded"
    assert d.traffic(d.env.test_listener_arn) == {"web-green": 100, "web-blue": 0}
    assert d.traffic() == {"web-blue": 100}
    d.report(calls[1])
    assert d.done(deployment_id) == "Succeeded"


def test_2_1_without_test_listener_the_two_test_events_are_skipped_by_default(sim):
    d = Deployer.create(sim, test_listener=False)
    deployment_id = d.deploy()

    assert d.done(deployment_id) == "Succeeded"
    events = d.events(deployment_id)
    assert list(events) == list(EVENTS)
    assert events["AllowTestTraffic"] == events["AfterAllowTestTraffic"] == "Skipped"
    assert [n for n, s in events.items() if s == "Succeeded"] == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]


def test_2_1_without_test_listener_the_test_events_are_omitted_when_configured():
    with Simulator(settings=SimSettings(test_events_without_test_listener="omit")) as sim:
        d = Deployer.create(sim, test_listener=False)
        deployment_id = d.deploy()

        assert d.done(deployment_id) == "Succeeded"
        assert d.events(deployment_id) == {
            "BeforeInstall": "Succeeded",
            "Install": "Succeeded",
            "AfterInstall": "Succeeded",
            "BeforeAllowTraffic": "Succeeded",
            "AllowTraffic": "Succeeded",
            "AfterAllowTraffic": "Succeeded",
        }


def test_2_1_all_events_succeeded_while_status_in_progress_during_termination_wait(sim):
    d = Deployer.create(sim, termination_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")

    sim.advance(10 * 60)
    assert set(d.events(deployment_id).values()) == {"Succeeded"}
    assert d.target(deployment_id)["status"] == "Succeeded"
    assert d.status(deployment_id) == "InProgress"
    assert {ts["status"] for ts in d.task_sets()} == {"PRIMARY", "ACTIVE"}

    waited = d.until_status(deployment_id, "Succeeded")
    assert 19 * 60 < waited <= 21 * 60
