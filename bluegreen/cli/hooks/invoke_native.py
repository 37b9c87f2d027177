"""``bluegreen hooks invoke`` for an ECS-native hook: the event ECS sends a Lambda hook of a
service deployment (AWS's lambda-lifecycle-hooks page: ``executionId``, ``lifecycleStage``,
``resourceArn``, ``executionDetails``, ``hookDetails``), and ECS's side of the conversation:
an ``IN_PROGRESS`` answer is followed, after its ``callBackDelay``, by another invocation with
the ``hookDetails`` it returned, until the hook answers ``SUCCEEDED`` or ``FAILED`` (or once,
with ``--once``). Nothing is reported anywhere: an ECS-native hook only returns its answer.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from bluegreen.errors import ValidationError

__all__ = [
    "DEFAULT_STAGES",
    "STAGES",
    "native_event",
    "native_problems",
    "run_native_invocations",
]

STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
DEFAULT_STAGES = {
    "analysis_gate": "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "verify_test_listener": "POST_TEST_TRAFFIC_SHIFT",
    "verify_production": "POST_PRODUCTION_TRAFFIC_SHIFT",
    "restore_scaling": "POST_PRODUCTION_TRAFFIC_SHIFT",
}
"""The stage each ready-made handler is meant for; a handler file defaults to
POST_TEST_TRAFFIC_SHIFT."""
_DEPLOYMENT_ARN = re.compile(
    r"(?P<head>arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}):service-deployment/"
    r"(?P<cluster>[^/]+)/(?P<service>[^/]+)/(?P<id>[^/]+)"
)


def native_problems(deployment_id: str, stage: str | None, hook_details: str | None) -> list[str]:
    """What is wrong with the native options (empty when nothing)."""
    problems = []
    if _DEPLOYMENT_ARN.fullmatch(deployment_id) is None:
        problems.append(
            f"--native needs --deployment-id to be an ECS service deployment ARN "
            f"(arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>), "
            f"got {deployment_id!r}"
        )
    if stage is not None and stage not in STAGES:
        problems.append(f"--stage {stage!r} is none of {', '.join(STAGES)}")
    if hook_details is not None:
        try:
            parsed = json.loads(hook_details)
        except ValueError as exc:
            problems.append(f"--hook-details is not JSON: {exc}")
        else:
            if not isinstance(parsed, dict):
                problems.append("--hook-details must be a JSON object, e.g. '{\"name\": 1}'")
    return problems


def native_event(
    deployment_arn: str,
    stage: str,
    target_revision_arn: str,
    *,
    hook_details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event ECS sends a Lambda hook of the service deployment ``deployment_arn`` at
    ``stage``, with the weights AWS documents for that stage (the target revision's
    ``100`` at TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT, ``0`` at
    PRE_PRODUCTION_TRAFFIC_SHIFT, empty elsewhere)."""
    match = _DEPLOYMENT_ARN.fullmatch(deployment_arn)
    if match is None:
        raise ValidationError([f"{deployment_arn!r} is not a service deployment ARN"])
    service_arn = f"{match['head']}:service/{match['cluster']}/{match['service']}"
    weight = {"TEST_TRAFFIC_SHIFT": 100, "PRODUCTION_TRAFFIC_SHIFT": 100}.get(stage)
    if stage == "PRE_PRODUCTION_TRAFFIC_SHIFT":
        weight = 0
    weights = {} if weight is None else {target_revision_arn: weight}
    event: dict[str, Any] = {
        "executionId": str(uuid.uuid4()),
        "lifecycleStage": stage,
        "resourceArn": deployment_arn,
        "executionDetails": {
            "serviceArn": service_arn,
            "targetServiceRevisionArn": target_revision_arn,
            "testTrafficWeights": weights if stage == "TEST_TRAFFIC_SHIFT" else {},
            "productionTrafficWeights": weights if stage != "TEST_TRAFFIC_SHIFT" else {},
        },
    }
    if hook_details:
        event["hookDetails"] = dict(hook_details)
    return event


def target_revision(deployment_arn: str, ecs: Any) -> tuple[str, str | None]:
    """The service deployment's target revision (DescribeServiceDeployments, through the
    hooks' ``Caller``), or a made-up one and why, when it cannot be read."""
    match = _DEPLOYMENT_ARN.fullmatch(deployment_arn)
    assert match is not None
    made_up = f"{match['head']}:service-revision/{match['cluster']}/{match['service']}/local"
    from bluegreen.hooks._clients import aws_call

    try:
        found = aws_call(
            "DescribeServiceDeployments",
            lambda: ecs.describe_service_deployments(serviceDeploymentArns=[deployment_arn]),
        )
        arn = ((found.get("serviceDeployments") or [{}])[0].get("targetServiceRevision") or {})[
            "arn"
        ]
    except Exception as exc:
        return made_up, f"DescribeServiceDeployments did not name the target revision ({exc})"
    return str(arn), None


def run_native_invocations(
    handler: Callable[[dict[str, Any], Any], Any],
    event: dict[str, Any],
    make_context: Callable[[], Any],
    *,
    once: bool,
    sleep: Callable[[float], None],
    show: Callable[[dict[str, Any]], None],
    max_invocations: int = 1000,
) -> dict[str, Any]:
    """Invoke ``handler`` as ECS does: again after each IN_PROGRESS (its ``callBackDelay``,
    30 s by default) with the ``hookDetails`` it returned, until another answer (or once).
    Each answer goes to ``show``; the last is returned."""
    answer: dict[str, Any] = {}
    for _ in range(max_invocations):
        returned = handler(event, make_context())
        answer = returned if isinstance(returned, dict) else {"returned": repr(returned)}
        show(answer)
        if once or answer.get("hookStatus") != "IN_PROGRESS":
            return answer
        if isinstance(answer.get("hookDetails"), dict):
            event = {**event, "hookDetails": answer["hookDetails"]}
        delay = answer.get("callBackDelay")
        sleep(float(delay) if isinstance(delay, int | float) else 30.0)
    return answer
