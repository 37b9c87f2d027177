"""The event ECS sends an ECS-native lifecycle hook, read, and what the hook answers.

ECS invokes an ``AWS_LAMBDA`` hook of a service deployment (BLUE_GREEN, LINEAR, CANARY) with::

    {"executionId": "...", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
     "resourceArn": "arn:aws:ecs:...:service-deployment/<cluster>/<service>/<id>",
     "executionDetails": {"serviceArn": "...", "targetServiceRevisionArn": "...",
                          "testTrafficWeights": {...}, "productionTrafficWeights": {...}},
     "hookDetails": {...}}

(AWS's lambda-lifecycle-hooks page; ``hookDetails`` only when the hook configures some or the
previous invocation returned some). The older deployment-lifecycle-hooks page shows the four
``executionDetails`` fields at the top level without the envelope: that shape is read too.
The function answers ``{"hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}``, with
``callBackDelay`` (seconds, 30 by default) and ``hookDetails`` (passed back on the next
invocation) for IN_PROGRESS. The kit keeps its own resume state in ``hookDetails`` under
``RESUME_KEY`` and passes the rest back untouched, so the hook's configured values survive
whether ECS merges the returned ``hookDetails`` (its docs) or replaces them with it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = [
    "CODEDEPLOY_KEYS",
    "RESUME_KEY",
    "STAGES",
    "NativeInvocation",
    "Resume",
    "answer",
    "looks_native",
    "parse_native",
    "rolling_back",
]

RESUME_KEY = "bluegreen"
"""The ``hookDetails`` key holding the kit's state between invocations."""

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
"""The lifecycle stages a Lambda hook can run at (botocore's ECS model), in AWS's order."""

CODEDEPLOY_KEYS = ("DeploymentId", "LifecycleEventHookExecutionId")
_ENVELOPE_KEYS = ("executionDetails", "lifecycleStage", "resourceArn", "executionId")
_FLAT_KEYS = ("serviceArn", "targetServiceRevisionArn")
_SERVICE_ARN = re.compile(
    r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/"
    r"(?:(?P<cluster>[A-Za-z0-9_-]{1,255})/)?(?P<service>[A-Za-z0-9_-]{1,255})"
)


class Resume(NamedTuple):
    """The kit's own state carried in ``hookDetails`` from one invocation to the next."""

    started: float | None
    """When the first invocation of this hook execution began (epoch seconds)."""
    invocations: int
    """How many invocations came before this one."""
    state: dict[str, Any]
    """``HookEvent.state`` as the previous invocation left it."""
    waiting: str | None
    """What the previous invocation was waiting for (the ``RetryLater`` reason)."""


class NativeInvocation(NamedTuple):
    """What an ECS-native hook event says."""

    execution_id: str | None
    stage: str | None
    deployment_arn: str | None
    service_arn: str
    cluster: str
    service: str
    target_revision_arn: str
    test_weights: dict[str, float]
    production_weights: dict[str, float]
    hook_details: dict[str, Any]
    """The event's ``hookDetails`` without the kit's own key."""
    resume: Resume


def looks_native(raw: Any) -> bool:
    """True when ``raw`` is (or is meant to be) an ECS-native hook event rather than
    CodeDeploy's: it has the envelope's keys or the flat shape's, and no CodeDeploy id."""
    if isinstance(raw, str | bytes | bytearray):
        try:
            raw = json.loads(raw)
        except ValueError:
            return False
    if not isinstance(raw, Mapping) or any(k in raw for k in CODEDEPLOY_KEYS):
        return False
    return any(k in raw for k in _ENVELOPE_KEYS) or all(k in raw for k in _FLAT_KEYS)


def decoded(raw: Any) -> tuple[Any, list[str]]:
    """The event, decoded when Lambda was given a JSON string (a problem, named), as both
    kinds of event are read."""
    problems: list[str] = []
    event = raw
    if isinstance(raw, str | bytes | bytearray):
        try:
            event = json.loads(raw)
        except ValueError:
            event = None
        if isinstance(event, Mapping):
            problems.append("the event is a JSON string, not an object")
    return event, problems


def parse_native(raw: Any) -> tuple[NativeInvocation | None, tuple[str, ...]]:
    """The native event read, or None and what is wrong with it (every problem named)."""
    event, problems = decoded(raw)
    if not isinstance(event, Mapping):
        return None, (f"the event is a {type(raw).__name__}, not an object",)
    details = event.get("executionDetails", event)
    if not isinstance(details, Mapping):
        return None, (f"executionDetails is a {type(details).__name__}, not an object",)
    texts = {}
    for where, key in (
        (event, "executionId"),
        (event, "lifecycleStage"),
        (event, "resourceArn"),
        (details, "serviceArn"),
        (details, "targetServiceRevisionArn"),
    ):
        value = where.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"{key} is a {type(value).__name__}, not a string")
            value = None
        texts[key] = value.strip() if isinstance(value, str) and value.strip() else None
    stage = texts["lifecycleStage"]
    # A stage not in STAGES (one AWS adds later) is kept as it is: refusing it would fail
    # every hook at that stage; the handlers that care about stages say what they expect.
    service_arn = texts["serviceArn"]
    match = _SERVICE_ARN.fullmatch(service_arn) if service_arn else None
    if service_arn is None:
        problems.append("executionDetails.serviceArn is missing")
    elif match is None:
        problems.append(f"serviceArn {service_arn!r} is not an ECS service ARN")
    if texts["targetServiceRevisionArn"] is None:
        problems.append("executionDetails.targetServiceRevisionArn is missing")
    weights = {}
    for key in ("testTrafficWeights", "productionTrafficWeights"):
        found = details.get(key) or {}
        if not isinstance(found, Mapping) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in found.values()
        ):
            problems.append(f"{key} is not a map of revision ARNs to percentages")
            found = {}
        weights[key] = {str(k): float(v) for k, v in found.items()}
    hook_details = event.get("hookDetails")
    if hook_details is not None and not isinstance(hook_details, Mapping):
        problems.append(f"hookDetails is a {type(hook_details).__name__}, not an object")
        hook_details = None
    passed = dict(hook_details or {})
    resume = _resume(passed.pop(RESUME_KEY, None))
    if problems or match is None:
        return None, tuple(problems)
    assert service_arn is not None
    assert texts["targetServiceRevisionArn"] is not None
    return (
        NativeInvocation(
            execution_id=texts["executionId"],
            stage=stage,
            deployment_arn=texts["resourceArn"],
            service_arn=service_arn,
            cluster=match["cluster"] or "default",
            service=match["service"],
            target_revision_arn=texts["targetServiceRevisionArn"],
            test_weights=weights["testTrafficWeights"],
            production_weights=weights["productionTrafficWeights"],
            hook_details=passed,
            resume=resume,
        ),
        (),
    )


def _resume(found: Any) -> Resume:
    """The kit's state from ``hookDetails`` (a fresh one when absent or not ours)."""
    if not isinstance(found, Mapping):
        return Resume(None, 0, {}, None)
    started = found.get("started")
    invocations = found.get("invocations")
    state = found.get("state")
    return Resume(
        started=float(started)
        if isinstance(started, int | float)
        and not isinstance(started, bool)
        and math.isfinite(started)
        else None,
        invocations=invocations if isinstance(invocations, int) and invocations >= 0 else 0,
        state=dict(state) if isinstance(state, Mapping) else {},
        waiting=str(found["waiting"]) if isinstance(found.get("waiting"), str) else None,
    )


def rolling_back(invocation: NativeInvocation) -> bool:
    """True when the event is a rollback's re-run of a TEST_TRAFFIC_SHIFT or
    PRODUCTION_TRAFFIC_SHIFT hook: the weights send everything away from the target revision
    (AWS: ``targetServiceRevisionArn`` stays the green revision during a rollback)."""
    weights = {
        "TEST_TRAFFIC_SHIFT": invocation.test_weights,
        "PRODUCTION_TRAFFIC_SHIFT": invocation.production_weights,
    }.get(invocation.stage or "")
    if not weights or invocation.target_revision_arn not in weights:
        return False
    others = [w for arn, w in weights.items() if arn != invocation.target_revision_arn]
    return weights[invocation.target_revision_arn] == 0 and any(w > 0 for w in others)


def answer(
    status: str,
    *,
    delay: float | None = None,
    hook_details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the handler returns to ECS: ``hookStatus``, and for IN_PROGRESS ``callBackDelay``
    (whole seconds, at least 1) and ``hookDetails``. SUCCEEDED carries nothing else: a field
    ECS would not accept must never turn a pass into a rollback."""
    out: dict[str, Any] = {"hookStatus": status}
    if status == "IN_PROGRESS" and delay is not None:
        out["callBackDelay"] = max(1, math.ceil(delay))
    if status != "SUCCEEDED" and hook_details is not None:
        out["hookDetails"] = dict(hook_details)
    return out
