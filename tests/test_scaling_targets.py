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


def record_keys(d: Deployer) -> list[str]:
    answer = d.ecs.list_tags_for_resource(resourceArn=d.env.service_arn)
    keys = [t["key"] for t in answer["tags"]]
    return [k for k in keys if k == RECORD_TAG or k.startswith(RECORD_TAG + ":")]


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
    assert record_keys(d) == []


def test_every_call_goes_through_the_caller_counted_per_operation(sim):
    Deployer.create(sim)
    svc = service_scaling("prod", "web", sim.clients(), None, sim.clock)

    assert svc.targets()[0].resource_id == RESOURCE
    assert svc.records() == ()
    assert svc.records() == ()

    assert dict(svc.caller.counts) == {
        "DescribeScalableTargets": 1,
        "DescribeServices": 1,  # the ARN and the tags in one call, the ARN read once
        "ListTagsForResource": 1,  # once the ARN is known
    }


def test_what_the_caller_read_already_is_not_read_again(sim):
    d = Deployer.create(sim)
    svc = service_scaling("prod", "web", sim.clients(), None, sim.clock, arn=d.env.service_arn)

    assert svc.records_in({"other": "tag"}) == ()
    assert svc.records() == ()

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


def test_records_are_read_under_their_own_keys_and_the_legacy_one_oldest_first(sim):
    d = Deployer.create(sim)
    svc = service_scaling("prod", "web", sim.clients(), None, sim.clock)
    legacy = "v=2 r=0123abcd d=d-OLD o=ci t=2025-01-01T00:00:00Z s=in g=1:10:000@"
    newer = "v=2 r=5e5e5e5e5e5e d=- o=ci t=2026-01-01T00:00:00Z s=out g=1:10:000@"
    d.ecs.tag_resource(
        resourceArn=d.env.service_arn,
        tags=[
            {"key": f"{RECORD_TAG}:5e5e5e5e5e5e", "value": newer},
            {"key": RECORD_TAG, "value": legacy},
            {"key": "bluegreen:scalingx", "value": "not a record"},
        ],
    )

    found = svc.records()

    assert [(r.key, r.is_legacy) for r in found] == [
        (RECORD_TAG, True),
        (f"{RECORD_TAG}:5e5e5e5e5e5e", False),
    ]
    assert found[0].targets[0].resource_id == RESOURCE  # left out to fit: the service's own
    svc.remove(found[:1])
    assert record_keys(d) == [f"{RECORD_TAG}:5e5e5e5e5e5e"]
