"""The simulator runs a whole canary deployment through plain boto3 on a virtual clock."""

import boto3

from bluegreen import AppSpec, discover


def test_canary_deployment_with_a_hook_runs_to_success_and_swaps_target_groups(sim):
    env = sim.create_environment(deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    before = discover(env.cluster, env.service, clients=sim.clients())
    assert before.primary is not None
    assert before.primary.running_count == 2

    reports = []

    def verify(event, context):
        reports.append(event["DeploymentId"])
        boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )

    sim.register_hook("CodeDeployHook_verify", verify)
    ecs = boto3.client("ecs")
    new = ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "web", "image": "nginx:1.28", "portMappings": [{"containerPort": 80}]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    spec = AppSpec.for_service(
        before, new, hooks={"AfterAllowTestTraffic": "CodeDeployHook_verify"}
    )
    codedeploy = boto3.client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=env.application,
        deploymentGroupName=env.deployment_group,
        revision=spec.revision(),
    )["deploymentId"]

    assert sim.run_until_done(deployment_id) == "Succeeded"
    assert reports == [deployment_id]
    after = discover(env.cluster, env.service, clients=sim.clients())
    assert after.task_definition == new
    assert after.production.percent(env.target_group_arns[1]) == 100.0
    assert len(after.task_sets) == 1
