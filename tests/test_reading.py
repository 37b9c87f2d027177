"""bluegreen.reading: what reading a deployment costs, its retries on the injected clock and
the rate budget its calls draw from.
"""

from __future__ import annotations

import pytest
from deploying import (
    Deployer,
    attach,
    without_botocore_retries,
)

from bluegreen import (
    Clients,
    Deployment,
    DeploymentStatus,
    RateBudget,
    ThrottledError,
    TrafficConfig,
)
from bluegreen.clock import DEFAULT_BUDGET

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


def test_status_before_the_start_reads_only_get_deployment(sim):
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())

    snapshot = deployment.status()

    assert snapshot.status is DeploymentStatus.CREATED
    assert snapshot.events == ()
    assert snapshot.waiting_for == "CodeDeploy to start the deployment"
    assert deployment.calls == 1


def get_deployment_calls(sim):
    return sum(1 for _, _, operation in sim.api_calls("codedeploy") if operation == "GetDeployment")


def test_throttled_get_deployment_is_retried_without_the_caller_noticing(sim):
    d = Deployer.create(sim)
    deployment = Deployment.attach(
        d.deploy(), clients=without_botocore_retries(sim), clock=sim.clock
    )
    sim.faults.throttle("GetDeployment", count=2)
    before = sim.clock.time()

    snapshot = deployment.status()

    assert snapshot.deployment_id == deployment.id
    assert get_deployment_calls(sim) == 3
    # the wait let the deployment start, so the target was read too
    assert deployment.calls == (3 if snapshot.status is DeploymentStatus.CREATED else 5)
    assert sim.clock.time() > before  # the backoff slept on the injected clock


def test_throttling_that_never_ends_raises_throttled_error_not_retry_error(sim):
    d = Deployer.create(sim)
    deployment = Deployment.attach(
        d.deploy(), clients=without_botocore_retries(sim), clock=sim.clock
    )
    sim.faults.throttle("GetDeployment")

    with pytest.raises(ThrottledError) as caught:
        deployment.status()

    assert caught.value.operation == "GetDeployment"
    assert deployment.calls == deployment.retry_attempts


def test_a_custom_deployment_config_is_read_once_per_deployment(sim):
    config = TrafficConfig.canary(20, 2, name="Canary20Percent2Minutes")
    Clients(session=sim.clients().session).codedeploy.create_deployment_config(
        deploymentConfigName=config.name,
        computePlatform="ECS",
        trafficRoutingConfig=config.to_api(),
    )
    d = Deployer.create(sim, deployment_config=config.name)
    deployment = attach(sim, d.deploy())

    end = deployment.wait()

    assert end.schedule.steps == config.steps()
    reads = [op for _, _, op in sim.api_calls("codedeploy") if op == "GetDeploymentConfig"]
    assert len(reads) == 1


def test_deployments_share_the_process_budget_unless_given_their_own(sim):
    first = attach(sim, "d-AAAAAAAAA")
    second = attach(sim, "d-BBBBBBBBB")
    own = RateBudget(rate=1)
    third = Deployment.attach("d-CCCCCCCCC", clients=sim.clients(), clock=sim.clock, budget=own)

    assert first.budget is second.budget is DEFAULT_BUDGET
    assert third.budget is own


def test_three_deployments_sharing_a_budget_of_one_call_a_second_stay_within_it(sim):
    d = Deployer.create(sim, deployment_config=LINEAR)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")
    budget = RateBudget(rate=1, burst=1)
    watchers = [
        Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock, budget=budget)
        for _ in range(3)
    ]
    start = sim.clock.time()
    before = len(list(sim.api_calls("codedeploy")))

    for _ in range(10):
        for watcher in watchers:
            watcher.status()

    calls = len(list(sim.api_calls("codedeploy"))) - before
    elapsed = sim.clock.time() - start
    assert calls == sum(w.calls for w in watchers) == 3 * 10 * 2 + 3  # + one target lookup each
    assert calls <= 1 + 1 * elapsed  # burst + rate x simulated seconds
    assert elapsed == pytest.approx(calls - 1)
