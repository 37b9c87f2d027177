"""bluegreen.task_set: a task set and the container a target group routes to."""

from bluegreen import LoadBalancerBinding, TaskSet, TaskSetStatus


def test_a_task_set_is_read_from_describe_services():
    task_set = TaskSet.from_api(
        {
            "id": "ecs-svc/1",
            "status": "ACTIVE",
            "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:12",
            "computedDesiredCount": 2,
            "runningCount": 2,
            "scale": {"value": 100.0},
            "stabilityStatus": "STEADY_STATE",
            "loadBalancers": [{"targetGroupArn": "arn:tg/web-green", "containerName": "web"}],
            "externalId": "d-1",
        }
    )

    assert task_set.status is TaskSetStatus.ACTIVE
    assert task_set.revision == "web:12"
    assert task_set.is_steady
    assert (task_set.target_group_arn, task_set.external_id) == ("arn:tg/web-green", "d-1")


def test_a_binding_names_the_container_and_port():
    binding = LoadBalancerBinding.from_api(
        {"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 8080}
    )

    assert (binding.container_name, binding.container_port) == ("web", 8080)
