"""bluegreen.deployment_group: a CodeDeploy deployment group's settings."""

from bluegreen import DeploymentGroup, DeploymentStatus

INFO = {
    "applicationName": "AppECS-prod-web",
    "deploymentGroupName": "DgpECS-prod-web",
    "computePlatform": "ECS",
    "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
    "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
    "loadBalancerInfo": {
        "targetGroupPairInfoList": [
            {
                "targetGroups": [{"name": "web-blue"}, {"name": "web-green"}],
                "prodTrafficRoute": {"listenerArns": ["arn:prod"]},
            }
        ]
    },
    "blueGreenDeploymentConfiguration": {
        "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30},
        "terminateBlueInstancesOnDeploymentSuccess": {"terminationWaitTimeInMinutes": 5},
    },
    "autoRollbackConfiguration": {"enabled": False, "events": ["DEPLOYMENT_FAILURE"]},
    "ecsServices": [{"clusterName": "prod", "serviceName": "web"}],
    "lastAttemptedDeployment": {"deploymentId": "d-1", "status": "InProgress"},
}


def test_the_group_is_read_from_get_deployment_group():
    group = DeploymentGroup.from_api(INFO)

    assert group.is_blue_green
    assert group.target_group_names == ("web-blue", "web-green")
    assert (group.production_listener_arn, group.test_listener_arn) == ("arn:prod", None)
    assert group.waits_for_promotion
    assert group.promotion_wait_minutes == 30
    assert group.termination_wait_minutes == 5
    assert group.auto_rollback_events == ()  # not enabled
    assert group.last_attempted_status is DeploymentStatus.IN_PROGRESS
    assert group.active_deployment_id == "d-1"


def test_the_group_maps_its_service_by_name_or_arn():
    group = DeploymentGroup.from_api(INFO)

    assert group.maps("arn:aws:ecs:us-east-1:123456789012:cluster/prod", "web")
    assert not group.maps("prod", "api")
