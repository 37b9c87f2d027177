"""bluegreen.scaling_targets: a service's scalable targets and record tag read and written
through one ``Caller``, on the simulator (retries sleep on its virtual clock)."""

from __future__ import annotations

from typing import Any

import pytest
from deploying import Deployer

from bluegreen import RECORD_TAG, AWSError, suspend_scaling
from bluegreen.scaling_targets import RETRY_ATTEMPTS, service_scaling

RESOURCE = "service/prod/web"


def targets(d: Deployer) -> list[dict[str, Any]]:
    """DescribeScalableTargets of the service, as boto3 returns it."""
    return list(
        d.autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[RESOURCE])[
            "ScalableTargets"
        ]
    )


def tags(d: Deployer) -> dict[str, str]:
    answer = d.ecs.list_tags_for_resource(resourceArn=d.env.service_arn)
    return {t["key"]: t["value"] for t in answer["tags"]}


def suspend(sim: Any, **kwargs: Any) -> Any:
    return suspend_scaling("prod", "web", clients=sim.clients(), clock=sim.clock, **kwargs)


@pytest.mark.parametrize("fault", ["throttle", "server_error"])
def test_restore_under_throttling_and_5xx_succeeds(sim, fault):
    d = Deployer.create(sim)
    before = targets(d)
    lease = suspend(sim)
    getattr(sim.faults, fault)("RegisterScalableTarget", service="application-autoscaling", count=3)
    getattr(sim.faults, fault)("UntagResource", service="ecs", count=2)

    result = lease.restore()

    assert result.restored == (RESOURCE,)
    assert targets(d) == before
    assert RECORD_TAG not in tags(d)


def test_every_call_goes_through_the_caller_counted_per_operation(sim):
    Deployer.create(sim)
    svc = service_scaling("prod", "web", sim.clients(), None, sim.clock)

    assert svc.targets()[0].resource_id == RESOURCE
    assert svc.record() is None
    assert svc.record() is None

    assert dict(svc.caller.counts) == {
        "DescribeScalableTargets": 1,
        "DescribeServices": 1,  # the ARN and the tags in one call, the ARN read once
        "ListTagsForResource": 1,  # once the ARN is known
    }


def test_what_the_caller_read_already_is_not_read_again(sim):
    d = Deployer.create(sim)
    svc = service_scaling("prod", "web", sim.clients(), None, sim.clock, arn=d.env.service_arn)

    assert svc.record_in({"other": "tag"}) is None
    assert svc.record() is None

    assert dict(svc.caller.counts) == {"ListTagsForResource": 1}


def test_a_throttled_read_is_retried_by_the_caller_on_the_virtual_clock_not_by_botocore(sim):
    Deployer.create(sim)
    svc = service_scaling("prod", "web", sim.clients(), None, sim.clock)
    sim.faults.throttle("DescribeScalableTargets", service="application-autoscaling", count=2)
    started = sim.clock.time()

    assert len(svc.targets()) == 1

    sent = [op for _, _, op in sim.api_calls("application-autoscaling")]
    assert (
        sent.count("DescribeScalableTargets") == 3 == svc.caller.counts["DescribeScalableTargets"]
    )
    assert sim.clock.time() > started  # the pauses passed in simulated time


def test_a_call_that_keeps_failing_gives_up_after_the_attempts_and_names_the_operation(sim):
    Deployer.create(sim)
    svc = service_scaling("prod", "web", sim.clients(), None, sim.clock)
    sim.faults.server_error("DescribeScalableTargets", service="application-autoscaling")

    with pytest.raises(AWSError) as caught:
        svc.targets()

    assert caught.value.operation == "DescribeScalableTargets"
    assert svc.caller.counts["DescribeScalableTargets"] <= RETRY_ATTEMPTS
