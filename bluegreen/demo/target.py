"""Which service the demo releases, and the words its story uses: the sample's CodeDeploy
service (``bluegreen demo``), or its ECS-native one (``bluegreen demo --native``: the same
story, told in ECS's words: a service deployment, its lifecycle stages, a listener rule,
ECS's rollback).

Both are made by the simulator's sample environment with the same canary (10 % for 5
minutes, then 100 %) and the same test-listener hook: the CodeDeploy one as a deployment
group with ``CodeDeployDefault.ECSCanary10Percent5Minutes`` and the hook in each release's
AppSpec; the native one with ``strategy`` CANARY and the hook on the service, an
``AWS_LAMBDA`` lifecycle hook at ``POST_TEST_TRAFFIC_SHIFT`` (ECS-native hooks are part of
the service, not of a release).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from bluegreen.testing import Environment, Simulator

__all__ = ["CANARY_CONFIG", "HOOK_EVENT", "HOOK_FUNCTION", "DemoTarget", "create_target"]

CANARY_CONFIG = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK_FUNCTION = "CodeDeployHook_verify_test_listener"
HOOK_EVENT = "AfterAllowTestTraffic"
"""The hook's lifecycle event, as a deployment's events name it (an ECS-native deployment's
POST_TEST_TRAFFIC_SHIFT reads as this event too)."""
NATIVE_HOOK_STAGE = "POST_TEST_TRAFFIC_SHIFT"
IMAGE_REPOSITORY = "registry.example.com/web"
_ACCOUNT = "123456789012"
_HOOK_ROLE = f"arn:aws:iam::{_ACCOUNT}:role/ecsLambdaHookRole"


@attrs.frozen(kw_only=True)
class DemoTarget:
    """The service the demo releases and the routes its traffic takes."""

    native: bool
    cluster: str
    service: str
    production_arn: str
    """The production listener (CodeDeploy) or listener rule (ECS-native)."""
    test_arn: str
    """The test listener or listener rule: the hook checks green through it."""
    hooks: Mapping[str, str] | None
    """What each release passes to ``deploy(hooks=...)``: none for an ECS-native service,
    whose hook is on the service."""

    @property
    def deployer(self) -> str:
        """Who shifts the traffic and rolls back."""
        return "ECS" if self.native else "CodeDeploy"

    @property
    def hook_stage(self) -> str:
        """The hook's stage in the deployer's own words."""
        return NATIVE_HOOK_STAGE if self.native else HOOK_EVENT

    @property
    def route(self) -> str:
        return "listener rule" if self.native else "listener"

    @property
    def stop_call(self) -> str:
        """The call that stops a deployment with rollback."""
        return "StopServiceDeployment" if self.native else "StopDeployment"

    def describe(self) -> str:
        """One line: what is released, and how."""
        if self.native:
            return (
                f"releasing the ECS-native service {self.service}: ECS shifts its production "
                f"listener rule 10% then 100%; the hook runs at {NATIVE_HOOK_STAGE}"
            )
        return (
            f"releasing the CodeDeploy service {self.service}: CodeDeploy shifts its "
            f"production listener 10% then 100%; the hook runs at {HOOK_EVENT}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "ecs" if self.native else "codedeploy",
            "cluster": self.cluster,
            "service": self.service,
            "production": self.production_arn,
            "test": self.test_arn,
        }


def create_target(sim: Simulator, *, native: bool) -> tuple[Environment, DemoTarget]:
    """The sample environment (with the ECS-native service when ``native``), and the
    service the demo releases in it."""
    options: dict[str, Any] = {
        "deployment_config": CANARY_CONFIG,
        "termination_wait_minutes": 1,
        "image": f"{IMAGE_REPOSITORY}:v1",
    }
    if native:
        hook = {
            "targetType": "AWS_LAMBDA",
            "hookTargetArn": f"arn:aws:lambda:{sim.region}:{_ACCOUNT}:function:{HOOK_FUNCTION}",
            "roleArn": _HOOK_ROLE,
            "lifecycleStages": [NATIVE_HOOK_STAGE],
        }
        options.update(
            native=True,
            native_strategy="CANARY",
            native_percent=10.0,
            native_step_minutes=5,
            native_hooks=[hook],
        )
    environment = sim.create_environment(**options)
    if environment.native is not None:
        native_service = environment.native
        assert native_service.test_rule_arn is not None
        return environment, DemoTarget(
            native=True,
            cluster=environment.cluster,
            service=native_service.service,
            production_arn=native_service.production_rule_arn,
            test_arn=native_service.test_rule_arn,
            hooks=None,
        )
    assert environment.test_listener_arn is not None
    return environment, DemoTarget(
        native=False,
        cluster=environment.cluster,
        service=environment.service,
        production_arn=environment.production_listener_arn,
        test_arn=environment.test_listener_arn,
        hooks={HOOK_EVENT: HOOK_FUNCTION},
    )
