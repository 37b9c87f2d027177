"""A pristine simulator gets a copy of the sample environment made before with the same
options: the same resources, its own state, and the simulator's behaviour unchanged."""

import datetime as dt

from bluegreen.testing import Simulator, Traffic

START = 1_796_000_000.0


def _routed(sim: Simulator) -> list[str]:
    return [op for _, _, op in sim.api_calls()]


def _deploy_and_finish(sim: Simulator, env) -> str:
    from bluegreen import deploy

    deployment = deploy(
        env.cluster, env.service, image="nginx:1.29", clients=sim.clients(), clock=sim.clock
    )
    sim.run_until_done(deployment.id)
    return deployment.id


def test_a_copy_is_the_same_environment_and_what_one_test_did_stays_in_it() -> None:
    with Simulator(start_time=START) as first:
        env = first.create_environment(termination_wait_minutes=0)
        made = _routed(first)
        deployment_id = _deploy_and_finish(first, env)
        assert first.deployment(deployment_id).status == "Succeeded"

    with Simulator(start_time=START + 60) as second:
        copied = second.create_environment(termination_wait_minutes=0)
        assert copied == env
        assert _routed(second) == made  # as if made here: the record of calls too
        codedeploy = second.clients().codedeploy
        assert codedeploy.list_deployments()["deployments"] == []
        ecs = second.clients().ecs
        [service] = ecs.describe_services(cluster=env.cluster, services=[env.service])["services"]
        [task_set] = service["taskSets"]
        assert task_set["taskDefinition"].endswith(":1")  # the first release never happened
        assert _deploy_and_finish(second, copied) != deployment_id


def test_a_copy_reads_its_own_metrics_not_the_first_ones() -> None:
    for start in (START, START + 3600):
        with Simulator(start_time=start, traffic=Traffic(requests_per_minute=60)) as sim:
            env = sim.create_environment()
            _deploy_and_finish(sim, env)
            cloudwatch = sim.clients().cloudwatch
            now = dt.datetime.fromtimestamp(sim.clock.time(), dt.UTC)
            answer = cloudwatch.get_metric_data(
                MetricDataQueries=[
                    {
                        "Id": "requests",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/ApplicationELB",
                                "MetricName": "RequestCount",
                                "Dimensions": [{"Name": "LoadBalancer", "Value": _dimension(env)}],
                            },
                            "Period": 60,
                            "Stat": "Sum",
                        },
                    }
                ],
                StartTime=now - dt.timedelta(hours=1),
                EndTime=now,
            )
            [result] = answer["MetricDataResults"]
            assert sum(result["Values"]) > 0, start  # the copy's own traffic, not the first's


def _dimension(env) -> str:
    return env.load_balancer_arn.split(":loadbalancer/", 1)[1]


def test_only_a_pristine_simulator_gets_a_copy() -> None:
    with Simulator(start_time=START) as sim:
        sim.create_environment(name="copied")
    with Simulator(start_time=START) as sim:
        sim.clients().ecs.create_cluster(clusterName="theirs")  # something made already
        sim.create_environment(name="copied")
        assert _routed(sim).count("CreateCluster") == 2  # made through the API, not copied
    with Simulator(start_time=START - 600) as sim:  # before the copy was made
        sim.create_environment(name="copied")
        [(when, _, _)] = [c for c in sim.api_calls() if c[2] == "CreateCluster"]
        assert when == START - 600
