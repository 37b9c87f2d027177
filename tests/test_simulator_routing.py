"""Routing (``_routing``): every answer carries a ``Date`` header in simulated time, the
clock that stamps the deployments (in-process; the served equivalents are in
``test_sim_server.py``)."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer

# -- 6. the Date header in simulated time ----------------------------------------------


def _date(response: dict[str, Any]) -> float:
    header = response["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert header.endswith(" GMT")
    assert email.utils.format_datetime(email.utils.parsedate_to_datetime(header), True) == header
    return email.utils.parsedate_to_datetime(header).timestamp()


def test_every_service_answers_with_the_simulated_date(sim):
    d = Deployer.create(sim)
    sim.advance(3 * 24 * 3600 + 7)  # three days ahead of the wall clock
    now = sim.clock.time()

    answers = [
        d.codedeploy.list_applications(),
        d.ecs.list_clusters(),  # moto, JSON
        d.elbv2.describe_load_balancers(),  # moto, query/XML
        d.cloudwatch.describe_alarms(),
        d.autoscaling.describe_scalable_targets(ServiceNamespace="ecs"),
        # answered by the simulator itself, from a moto answer that has its own date
        d.cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "requests",
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount"},
                        "Period": 60,
                        "Stat": "p99",
                    },
                }
            ],
            StartTime=now - 600,
            EndTime=now,
        ),
    ]

    assert [_date(a) for a in answers] == [int(now)] * len(answers)


def test_error_answers_carry_the_simulated_date_too(sim):
    d = Deployer.create(sim)
    sim.advance(86400)
    with pytest.raises(ClientError) as codedeploy:
        d.codedeploy.get_deployment(deploymentId="d-AAAAAAAAA")
    with pytest.raises(ClientError) as ecs:
        d.ecs.describe_task_definition(taskDefinition="missing:1")

    assert _date(codedeploy.value.response) == int(sim.clock.time())
    assert _date(ecs.value.response) == int(sim.clock.time())


def test_the_date_header_and_the_deployment_timestamps_share_one_clock(sim):
    d = Deployer.create(sim)
    sim.advance(5000)
    created = d.codedeploy.create_deployment(
        applicationName=d.env.application,
        deploymentGroupName=d.env.deployment_group,
        revision=dict(d.appspec().revision()),
    )
    deployment_id = created["deploymentId"]
    sim.advance(600)
    answer = d.codedeploy.get_deployment(deploymentId=deployment_id)

    info = answer["deploymentInfo"]
    assert _date(created) == int(info["createTime"].timestamp())
    assert _date(answer) - _date(created) == 600
    assert _date(answer) >= info["startTime"].timestamp()
