"""bluegreen.release_state: a release's state read back from its deployments' descriptions, on
the simulator through real boto3 clients: what ``bluegreen release status FILE`` shows and
``resume FILE`` starts from."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from deploying import Deployer

import bluegreen
from bluegreen._aws import Caller, recording_calls
from bluegreen.deployment import Deployment
from bluegreen.manifest import Manifest, ServiceRelease, Wave, release_marker
from bluegreen.release_accounts import Accounts
from bluegreen.release_state import (
    Phase,
    ReleaseState,
    find_release_deployments,
    read_release,
)
from bluegreen.testing import Environment, Simulator, build_environment

RELEASE = "checkout-2026-12"


def environment(sim: Simulator, name: str) -> Environment:
    """A sample service ``prod/<name>`` whose blue is kept 0 minutes after a success."""
    return build_environment(
        clients=sim.clients(), name=name, cluster="prod", termination_wait_minutes=0
    )


def manifest(*waves: tuple[str, tuple[str, ...]], **service_options: str) -> Manifest:
    """A manifest of ``(wave, (service, ...))`` in cluster ``prod``, with a fixed id."""
    return Manifest(
        name="checkout",
        id=RELEASE,
        waves=tuple(
            Wave(
                wave,
                tuple(
                    ServiceRelease(cluster="prod", service=s, image="app:2", **service_options)
                    for s in services
                ),
            )
            for wave, services in waves
        ),
    )


def deploy(sim: Simulator, service: str, image: str, description: str | None) -> Deployment:
    """``bluegreen.deploy`` of ``image`` to ``prod/<service>``, with ``description``."""
    return bluegreen.deploy(
        "prod",
        service,
        image=image,
        clients=sim.clients(),
        clock=sim.clock,
        description=description,
    )


def deployed(sim: Simulator, service: str, image: str, description: str | None) -> Deployment:
    """``deploy``, followed to its end."""
    deployment = deploy(sim, service, image, description)
    deployment.wait()
    return deployment


def read(sim: Simulator, release: Manifest, **options: object) -> ReleaseState:
    accounts = Accounts(clients=sim.clients(), clock=sim.clock, rate=1000.0, burst=1000.0)
    return read_release(release, accounts, **options)  # type: ignore[arg-type]


@pytest.fixture
def operations() -> Iterator[list[str]]:
    """The AWS operations every ``Caller`` makes while the test runs, in order."""
    made: list[str] = []
    with recording_calls(lambda operation, function, kwargs: made.append(operation)):
        yield made


def test_finds_the_releases_deployment_and_ignores_other_releases_and_unmarked_ones(sim):
    environment(sim, "web")
    environment(sim, "api")
    deployed(sim, "web", "app:1", "by hand")
    ours = deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    deployed(sim, "web", "app:3", release_marker("another-release", "canary") + ": prod/web")
    deployed(sim, "api", "app:1", None)
    deployed(sim, "api", "app:2", release_marker("another-release", "rest") + ": prod/api")

    state = read(sim, manifest(("canary", ("web",)), ("rest", ("api",))))

    web, api = state.services
    assert (web.name, web.wave, web.phase, web.deployment_id) == (
        "prod/web",
        "canary",
        Phase.SUCCEEDED,
        ours.id,
    )
    assert web.status is bluegreen.DeploymentStatus.SUCCEEDED
    assert web.created is not None
    assert web.completed is not None
    assert web.created < web.completed
    assert (api.phase, api.deployment_id, api.status) == (Phase.PENDING, None, None)
    assert state.next_wave == "rest"
    assert not state.done
    assert not state.failed


def test_phases_pending_in_flight_succeeded_and_failed_by_abort(sim):
    for name in ("pending", "running", "good", "stopped"):
        environment(sim, name)
    good = deployed(sim, "good", "app:2", release_marker(RELEASE, "one") + ": prod/good")
    stopped = deploy(sim, "stopped", "app:2", release_marker(RELEASE, "one") + ": prod/stopped")
    stopped.abort()  # StopDeployment; CodeDeploy rolls it back
    running = deploy(sim, "running", "app:2", release_marker(RELEASE, "two") + ": prod/running")

    state = read(sim, manifest(("one", ("good", "stopped")), ("two", ("running", "pending"))))

    phases = {p.service.service: p.phase for p in state.services}
    assert phases == {
        "good": Phase.SUCCEEDED,
        "stopped": Phase.FAILED,
        "running": Phase.IN_FLIGHT,
        "pending": Phase.PENDING,
    }
    failed = state.service("prod/stopped")
    assert failed.deployment_id == stopped.id
    assert failed.status is bluegreen.DeploymentStatus.STOPPED
    assert (failed.error or "").startswith("MANUAL_STOP: ")
    assert failed.rollback_id is None  # CodeDeploy's own rollback is part of FAILED
    assert state.service("prod/good").deployment_id == good.id
    assert [p.deployment_id for p in state.in_flight] == [running.id]
    assert state.service("prod/running").active
    assert state.counts == {
        Phase.PENDING: 1,
        Phase.IN_FLIGHT: 1,
        Phase.SUCCEEDED: 1,
        Phase.FAILED: 1,
        Phase.ROLLING_BACK: 0,
        Phase.ROLLED_BACK: 0,
        Phase.UNKNOWN: 0,
    }
    assert state.failed
    assert not state.done
    assert state.next_wave == "one"


def test_the_releases_own_rollback_is_rolling_back_then_rolled_back(sim):
    environment(sim, "web")
    deployed(sim, "web", "app:1", None)  # the last good version the rollback goes back to
    released = deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    release = manifest(("canary", ("web",)))
    assert read(sim, release).done

    marker = release_marker(RELEASE, "canary", rollback=True)
    rollback = released.rollback(description=marker + ": prod/web, the release failed")

    rolling = read(sim, release).service("prod/web")
    assert (rolling.phase, rolling.rollback_id) == (Phase.ROLLING_BACK, rollback.id)
    assert rolling.deployment_id == released.id  # what was rolled back is still shown
    assert rolling.active
    rollback.wait()
    state = read(sim, release)
    rolled = state.service("prod/web")
    assert rolled.phase is Phase.ROLLED_BACK
    assert rolled.rollback_status is bluegreen.DeploymentStatus.SUCCEEDED
    assert state.failed
    assert not state.done


def test_a_deployment_after_the_releases_rollback_makes_that_rollback_history(sim):
    environment(sim, "web")
    deployed(sim, "web", "app:1", None)
    released = deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    released.rollback(
        description=release_marker(RELEASE, "canary", rollback=True) + ": prod/web"
    ).wait()
    again = deployed(sim, "web", "app:3", release_marker(RELEASE, "canary") + ": prod/web")

    web = read(sim, manifest(("canary", ("web",)))).service("prod/web")

    assert (web.phase, web.deployment_id, web.rollback_id) == (Phase.SUCCEEDED, again.id, None)
    account = Accounts(clients=sim.clients(), clock=sim.clock).get(None, None)
    deployment, rollback = find_release_deployments(
        ServiceRelease(cluster="prod", service="web"),
        RELEASE,
        clients=account.clients,
        call=Caller(clock=sim.clock, budget=account.budget),
    )
    assert deployment is not None
    assert (deployment["deploymentId"], rollback) == (again.id, None)  # nothing to roll back


def test_since_leaves_out_deployments_created_before_it(sim, operations):
    environment(sim, "web")
    old = deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    sim.advance(60)
    since = dt.datetime.fromtimestamp(sim.clock.time(), dt.UTC)
    release = manifest(("canary", ("web",)))

    assert read(sim, release).service("prod/web").deployment_id == old.id
    operations.clear()
    assert read(sim, release, since=since).service("prod/web").phase is Phase.PENDING
    assert "BatchGetDeployments" not in operations  # the listing was empty already

    newer = deployed(sim, "web", "app:3", release_marker(RELEASE, "canary") + ": prod/web")
    assert read(sim, release, since=since).service("prod/web").deployment_id == newer.id


def test_more_than_25_deployments_are_read_25_at_a_time_until_the_releases_is_found(
    sim, operations
):
    d = Deployer(sim, environment(sim, "web"))
    revision = d.appspec().revision()
    ids = []
    for n in range(30):
        mine = n in (0, 29)  # the oldest and the newest are the release's
        description = release_marker(RELEASE if mine else "other", "canary") + f": {n}"
        ids.append(d.deploy(revision=revision, description=description))
        d.done(ids[-1])
    release = manifest(("canary", ("web",)))

    operations.clear()
    assert read(sim, release).service("prod/web").deployment_id == ids[29]
    assert operations.count("BatchGetDeployments") == 1  # the newest 25 held it

    late = release_marker("other", "canary") + ": late"
    for _ in range(26):  # the release's newest is now 27th
        ids.append(d.deploy(revision=revision, description=late))
        d.done(ids[-1])
    operations.clear()
    assert read(sim, release).service("prod/web").deployment_id == ids[29]
    assert operations.count("BatchGetDeployments") == 2


def test_a_release_that_has_not_deployed_a_service_reads_all_its_history_in_chunks(sim, operations):
    d = Deployer(sim, environment(sim, "web"))
    revision = d.appspec().revision()
    for n in range(27):
        d.done(d.deploy(revision=revision, description=f"by hand {n}"))

    operations.clear()
    state = read(sim, manifest(("canary", ("web",))))

    assert state.service("prod/web").phase is Phase.PENDING
    assert operations.count("BatchGetDeployments") == 2  # 25 + 2: AWS takes 25 ids a call


def test_a_named_deployment_group_costs_one_listing_and_one_batch(sim, operations):
    env = environment(sim, "web")
    deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    named = manifest(
        ("canary", ("web",)), application=env.application, deployment_group=env.deployment_group
    )

    operations.clear()
    assert read(sim, named).service("prod/web").phase is Phase.SUCCEEDED
    assert operations == ["ListDeployments", "BatchGetDeployments"]

    operations.clear()
    assert read(sim, manifest(("canary", ("web",)))).service("prod/web").phase is Phase.SUCCEEDED
    assert operations == [
        "DescribeServices",
        "GetDeploymentGroup",
        "ListDeployments",
        "BatchGetDeployments",
    ]


def test_a_service_that_cannot_be_read_is_unknown_with_its_problem_and_the_others_are_read(sim):
    env = environment(sim, "web")
    deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    release = Manifest(
        name="checkout",
        id=RELEASE,
        waves=(
            Wave(
                "canary",
                (
                    ServiceRelease(cluster="prod", service="ghost", image="app:2"),
                    ServiceRelease(
                        cluster="prod",
                        service="typo",
                        image="app:2",
                        application=env.application,
                        deployment_group="no-such-group",
                    ),
                    ServiceRelease(cluster="prod", service="web", image="app:2"),
                ),
            ),
        ),
    )

    state = read(sim, release)

    ghost, typo, web = state.services
    assert ghost.phase is Phase.UNKNOWN
    assert "ghost" in (ghost.problem or "")
    assert typo.phase is Phase.UNKNOWN
    assert "no-such-group" in (typo.problem or "")
    assert web.phase is Phase.SUCCEEDED
    assert [p.name for p in state.problems] == ["prod/ghost", "prod/typo"]
    assert not state.done
    assert not state.failed
    assert state.next_wave == "canary"
    assert "ghost" in str(state)


def test_services_come_in_manifest_order_whatever_the_number_of_workers(sim):
    for name in ("a", "b"):
        environment(sim, name)
        deployed(sim, name, "app:2", release_marker(RELEASE, "w1") + f": prod/{name}")
    release = manifest(("w1", ("b", "x1", "a")), ("w2", ("x2", "x3", "x4", "x5")))
    names = ["prod/b", "prod/x1", "prod/a", "prod/x2", "prod/x3", "prod/x4", "prod/x5"]

    for workers in (1, 3, 8):
        state = read(sim, release, max_workers=workers)
        assert [p.name for p in state.services] == names
        assert [p.wave for p in state.services] == ["w1"] * 3 + ["w2"] * 4
    assert state.waves == ("w1", "w2")


def test_find_release_deployments_gives_the_deployment_and_the_rollback_as_aws_describes_them(
    sim,
):
    environment(sim, "web")
    deployed(sim, "web", "app:1", None)
    released = deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    rollback = released.rollback(
        description=release_marker(RELEASE, "canary", rollback=True) + ": prod/web"
    )
    accounts = Accounts(clients=sim.clients(), clock=sim.clock)
    account = accounts.get(None, None)

    deployment, rolled = find_release_deployments(
        ServiceRelease(cluster="prod", service="web", image="app:2"),
        RELEASE,
        clients=account.clients,
        call=Caller(clock=sim.clock, budget=account.budget),
    )

    assert deployment is not None
    assert rolled is not None
    assert deployment["deploymentId"] == released.id
    assert deployment["status"] == "Succeeded"
    assert rolled["deploymentId"] == rollback.id
    assert rolled["description"].startswith(f"bluegreen release {RELEASE} wave canary rollback:")


def test_str_is_a_summary_then_one_aligned_line_per_service(sim):
    environment(sim, "web")
    environment(sim, "api")
    web = deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")
    api = deploy(sim, "api", "app:2", release_marker(RELEASE, "rest") + ": prod/api")

    state = read(sim, manifest(("canary", ("web",)), ("rest", ("api", "later"))))
    text = str(state)

    lines = text.splitlines()
    assert lines[0].startswith(f"release {RELEASE} at ")
    assert lines[0].endswith(": 1 in flight, 1 succeeded, 1 unknown")
    header, *rows = lines[1:]
    assert header.split() == ["WAVE", "SERVICE", "PHASE", "DEPLOYMENT", "STATUS", "CREATED", "TOOK"]
    assert rows[0].split()[:5] == ["canary", "prod/web", "succeeded", web.id, "Succeeded"]
    assert rows[1].split()[:5] == ["rest", "prod/api", "in_flight", api.id, "Created"]
    assert rows[1].split()[8:10] == ["so", "far"]
    assert rows[2].split()[:3] == ["rest", "prod/later", "unknown"]
    assert "later" in rows[2].split("(", 1)[1]  # the problem, in brackets
    # Columns line up: every row's phase starts where the header's does.
    assert {
        row.index(p) for row, p in zip(rows, ("succeeded", "in_flight", "unknown"), strict=True)
    } == {header.index("PHASE")}
    assert "\x1b" not in text  # no colour


def test_to_dict_is_json_with_the_summary_and_every_service(sim):
    environment(sim, "web")
    web = deployed(sim, "web", "app:2", release_marker(RELEASE, "canary") + ": prod/web")

    data = json.loads(json.dumps(read(sim, manifest(("canary", ("web",)))).to_dict()))

    assert data["release"] == RELEASE
    assert (data["done"], data["failed"], data["next_wave"]) == (True, False, None)
    assert data["counts"] == {
        "pending": 0,
        "in_flight": 0,
        "succeeded": 1,
        "failed": 0,
        "rolling_back": 0,
        "rolled_back": 0,
        "unknown": 0,
    }
    (service,) = data["services"]
    assert service["service"] == "prod/web"
    assert (service["phase"], service["deployment_id"], service["status"]) == (
        "succeeded",
        web.id,
        "Succeeded",
    )
    created = dt.datetime.fromisoformat(service["created"])
    assert created <= dt.datetime.fromisoformat(data["read_at"])


def test_service_names_what_the_release_has_when_asked_for_another(sim):
    state = read(sim, manifest(("canary", ("web",))))

    with pytest.raises(KeyError, match=r"has no service 'prod/api' \(it has: prod/web\)"):
        state.service("prod/api")


def test_max_workers_below_one_is_refused(sim):
    with pytest.raises(bluegreen.ValidationError, match="max_workers must be at least 1"):
        read(sim, manifest(("canary", ("web",))), max_workers=0)
