"""An ECS-native service beside the sample environment, made with plain boto3: production and
test listener rules forwarding to both target groups (100/0), and a service with the ECS
controller, a BLUE_GREEN/LINEAR/CANARY strategy and ``advancedConfiguration``. Shared by the
``test_sim_native*`` tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import botocore.session

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
HOOK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsLambdaInvokeRole"
FORWARD_STAGES = (
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
)


def lambda_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def lambda_hook(name: str, *stages: str, **extra: Any) -> dict[str, Any]:
    return {
        "hookTargetArn": lambda_arn(name),
        "roleArn": HOOK_ROLE,
        "lifecycleStages": list(stages),
        **extra,
    }


def pause_hook(*stages: str, **extra: Any) -> dict[str, Any]:
    return {"targetType": "PAUSE", "lifecycleStages": list(stages), **extra}


class NativeService:
    """A native service named ``name`` in the environment's cluster, seen through boto3."""

    def __init__(
        self,
        sim: Any,
        env: Any,
        config: Mapping[str, Any],
        *,
        name: str = "native",
        test_rule: bool = True,
        ecs: Any = None,
        elbv2: Any = None,
    ) -> None:
        session = sim.clients().session
        self.sim, self.env, self.name = sim, env, name
        self.ecs = ecs or session.client("ecs")
        self.elbv2 = elbv2 or session.client("elbv2")
        self.blue_tg, self.green_tg = env.target_group_arns
        self.last_task_definition = str(env.task_definition_arn)
        self.rule = self._rule(env.production_listener_arn)
        self.test_rule = self._rule(env.test_listener_arn) if test_rule else None
        advanced = {
            "alternateTargetGroupArn": self.green_tg,
            "productionListenerRule": self.rule,
            "roleArn": ROLE,
        }
        if self.test_rule:
            advanced["testListenerRule"] = self.test_rule
        self.create_answer = self.ecs.create_service(**self.create_args(config, advanced))
        self.service_arn = self.create_answer["service"]["serviceArn"]

    def create_args(self, config: Mapping[str, Any], advanced: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "cluster": self.env.cluster,
            "serviceName": self.name,
            "taskDefinition": self.env.task_definition_arn,
            "desiredCount": 2,
            "launchType": "FARGATE",
            "deploymentController": {"type": "ECS"},
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": list(self.env.subnets),
                    "securityGroups": [self.env.security_group],
                }
            },
            "loadBalancers": [
                {
                    "targetGroupArn": self.blue_tg,
                    "containerName": self.env.container_name,
                    "containerPort": self.env.container_port,
                    "advancedConfiguration": dict(advanced),
                }
            ],
            "deploymentConfiguration": dict(config),
        }

    def _rule(self, listener: str) -> str:
        return str(
            self.elbv2.create_rule(
                ListenerArn=listener,
                Priority=10,
                Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                Actions=[
                    {
                        "Type": "forward",
                        "ForwardConfig": {
                            "TargetGroups": [
                                {"TargetGroupArn": self.blue_tg, "Weight": 100},
                                {"TargetGroupArn": self.green_tg, "Weight": 0},
                            ]
                        },
                    }
                ],
            )["Rules"][0]["RuleArn"]
        )

    # -- deploying ----------------------------------------------------------------------

    def register(self, image: str = "nginx:1.28") -> str:
        return str(
            self.ecs.register_task_definition(
                family=self.env.family,
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[
                    {
                        "name": self.env.container_name,
                        "image": image,
                        "essential": True,
                        "portMappings": [{"containerPort": self.env.container_port}],
                    }
                ],
            )["taskDefinition"]["taskDefinitionArn"]
        )

    def deploy(self, image: str = "nginx:1.28", **update: Any) -> str:
        """UpdateService to a new task definition; the new service deployment's ARN."""
        self.last_task_definition = self.register(image)
        self.ecs.update_service(
            cluster=self.env.cluster,
            service=self.name,
            taskDefinition=self.last_task_definition,
            **update,
        )
        return self.latest()

    def latest(self) -> str:
        listed = self.ecs.list_service_deployments(cluster=self.env.cluster, service=self.name)
        return str(listed["serviceDeployments"][0]["serviceDeploymentArn"])

    def describe(self, arn: str) -> dict[str, Any]:
        answer = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
        conforms(answer, "DescribeServiceDeployments")
        return dict(answer["serviceDeployments"][0])

    def green_percent(self, rule: str | None = None) -> float:
        """The share of the rule's weight on the green (alternate) target group."""
        actions = self.elbv2.describe_rules(RuleArns=[rule or self.rule])["Rules"][0]["Actions"]
        groups = {
            g["TargetGroupArn"]: g["Weight"] for g in actions[0]["ForwardConfig"]["TargetGroups"]
        }
        total = sum(groups.values())
        return 100.0 * groups[self.green_tg] / total

    def service(self) -> dict[str, Any]:
        return dict(
            self.ecs.describe_services(cluster=self.env.cluster, services=[self.name])["services"][
                0
            ]
        )


def stages(sim: Any, arn: str) -> list[str]:
    """The stages the deployment entered, in order, each once in a row."""
    out: list[str] = []
    for _, stage in sim.service_deployment(arn).stage_log:
        if not out or out[-1] != stage:
            out.append(stage)
    return out


# -- conformance with botocore's ECS model ------------------------------------------------

_MODEL = botocore.session.get_session().get_service_model("ecs")


def conforms(answer: Mapping[str, Any], operation: str) -> None:
    """Every field of a parsed answer is a member of the operation's output shape, with the
    shape's type and, for enums, one of its values."""
    shape = _MODEL.operation_model(operation).output_shape
    _walk({k: v for k, v in answer.items() if k != "ResponseMetadata"}, shape, operation)


def _walk(value: Any, shape: Any, path: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: {value!r} is not a structure"
        if shape.members == {} and shape.name == "HookDetails":
            return  # a document
        for key, item in value.items():
            assert key in shape.members, f"{path}.{key} is not in {shape.name}"
            _walk(item, shape.members[key], f"{path}.{key}")
        for key in shape.required_members:
            assert key in value, f"{path}.{key} is required by {shape.name}"
    elif kind == "list":
        assert isinstance(value, list), f"{path}: {value!r} is not a list"
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: {value!r} is not a map"
        for key, item in value.items():
            _walk(key, shape.key, f"{path} key")
            _walk(item, shape.value, f"{path}[{key}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: {value!r} is not a string"
        enum: Sequence[str] = shape.enum
        assert not enum or value in enum, f"{path}: {value!r} is not one of {list(enum)}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int), f"{path}: {value!r} is not an integer"
        assert not isinstance(value, bool), f"{path}: {value!r} is a boolean"
    elif kind in ("double", "float"):
        assert isinstance(value, (int, float)), f"{path}: {value!r} is not a number"
        assert not isinstance(value, bool), f"{path}: {value!r} is a boolean"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: {value!r} is not a boolean"
    elif kind == "timestamp":
        import datetime as dt

        assert isinstance(value, dt.datetime), f"{path}: {value!r} is not a timestamp"
