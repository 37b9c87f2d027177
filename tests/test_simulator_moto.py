"""moto's gaps filled (``_moto``, contract 6.1): a CODE_DEPLOY service starts with its
PRIMARY task set, read back with DescribeServices."""

from deploying import Deployer

# -- 6.1 the ECS side ----------------------------------------------------------------


def test_6_1_code_deploy_service_starts_with_one_primary_task_set_and_no_deployments(sim):
    d = Deployer.create(sim)

    [service] = d.ecs.describe_services(cluster=d.env.cluster, services=[d.env.service])["services"]
    assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert service["deployments"] == []
    [blue] = service["taskSets"]
    assert blue["status"] == "PRIMARY"
    assert blue["scale"] == {"value": 100.0, "unit": "PERCENT"}
    assert blue["computedDesiredCount"] == blue["runningCount"] == service["desiredCount"] == 2
    assert blue["stabilityStatus"] == "STEADY_STATE"
    assert "externalId" not in blue
    assert "startedBy" not in blue
    assert blue["taskDefinition"] == service["taskDefinition"] == d.env.task_definition_arn
    assert blue["loadBalancers"][0]["targetGroupArn"] == d.env.target_group_arns[0]
