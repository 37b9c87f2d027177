"""The checks ECS makes of a native service's ``deploymentConfiguration`` and
``loadBalancers[].advancedConfiguration`` in CreateService and UpdateService, raising
``InvalidParameterException`` with AWS-like messages before anything changes.

Sources: botocore's ECS model (ranges and enums), the API reference's notes
(``bakeTimeInMinutes`` "You must provide this parameter when you use the BLUE_GREEN deployment
strategy"; PAUSE hooks "cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT"),
and the live troubleshooting page (contract 9.2) for the listener-rule message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bluegreen.testing._native_records import NATIVE_STRATEGIES
from bluegreen.testing._wire import ApiError

__all__ = ["check_configuration", "is_native", "merged", "with_defaults"]

_STRATEGIES = ("ROLLING", *NATIVE_STRATEGIES)
_HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
_NO_PAUSE = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
_RULE_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[^:]+:\d{12}:listener-rule/app/")
_NLB_LISTENER_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[^:]+:\d{12}:listener/net/")
_MAX_HOOKS = 10


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message)


def is_native(controller: Mapping[str, Any] | None, config: Mapping[str, Any] | None) -> bool:
    """A service ECS deploys blue/green, linear or canary itself."""
    kind = (controller or {}).get("type") or "ECS"
    return kind == "ECS" and (config or {}).get("strategy") in NATIVE_STRATEGIES


def merged(before: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """UpdateService's ``deploymentConfiguration``: the fields given replace the service's, the
    rest are kept [I]."""
    out = dict(before)
    out.update(given or {})
    return out


def with_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as DescribeServices shows it: ECS's defaults filled in."""
    out = dict(config)
    out.setdefault("maximumPercent", 200)
    out.setdefault("minimumHealthyPercent", 100)
    if out.get("strategy") == "LINEAR":
        linear = dict(out.get("linearConfiguration") or {})
        linear.setdefault("stepPercent", 10.0)
        linear.setdefault("stepBakeTimeInMinutes", 6)
        out["linearConfiguration"] = linear
    if out.get("strategy") == "CANARY":
        canary = dict(out.get("canaryConfiguration") or {})
        canary.setdefault("canaryPercent", 5.0)
        canary.setdefault("canaryBakeTimeInMinutes", 10)
        out["canaryConfiguration"] = canary
    hooks = []
    for given in out.get("lifecycleHooks") or ():
        hook = dict(given)
        hook.setdefault("targetType", "AWS_LAMBDA")
        hooks.append(hook)
    if hooks:
        out["lifecycleHooks"] = hooks
    return out


def check_configuration(
    controller: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    load_balancers: Sequence[Mapping[str, Any]],
) -> None:
    """Raise ``InvalidParameterException`` for what ECS refuses.

    Raises:
        ApiError: the first problem found, in AWS's words where known.
    """
    strategy = config.get("strategy")
    if strategy is not None and strategy not in _STRATEGIES:
        raise _invalid(
            f"Invalid deployment strategy: {strategy}. Valid values are {', '.join(_STRATEGIES)}."
        )
    if strategy not in NATIVE_STRATEGIES:
        return
    kind = (controller or {}).get("type") or "ECS"
    if kind != "ECS":
        raise _invalid(
            f"The {strategy} deployment strategy is only supported with the ECS deployment "
            f"controller, not {kind}."
        )
    if strategy == "BLUE_GREEN" and config.get("bakeTimeInMinutes") is None:
        raise _invalid("bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN.")
    _minutes(config.get("bakeTimeInMinutes"), "bakeTimeInMinutes")
    if strategy == "LINEAR":
        linear = config.get("linearConfiguration") or {}
        _percent(linear.get("stepPercent"), "linearConfiguration.stepPercent", 3.0)
        _minutes(linear.get("stepBakeTimeInMinutes"), "linearConfiguration.stepBakeTimeInMinutes")
    if strategy == "CANARY":
        canary = config.get("canaryConfiguration") or {}
        _percent(canary.get("canaryPercent"), "canaryConfiguration.canaryPercent", 0.1)
        _minutes(
            canary.get("canaryBakeTimeInMinutes"), "canaryConfiguration.canaryBakeTimeInMinutes"
        )
    _check_hooks(config.get("lifecycleHooks") or ())
    for lb in load_balancers:
        _check_advanced(lb)


def _minutes(value: Any, name: str) -> None:
    if value is None:
        return
    if not isinstance(value, int) or not 0 <= value <= 1440:
        raise _invalid(f"{name} must be between 0 and 1440 minutes, not {value}.")


def _percent(value: Any, name: str, low: float) -> None:
    if value is None:
        return
    number = float(value)
    tenths = number * 10
    if not low <= number <= 100.0 or not math.isclose(tenths, round(tenths), abs_tol=1e-6):
        raise _invalid(
            f"{name} must be a multiple of 0.1 between {low:g} and 100.0, not {value:g}."
        )


def _check_hooks(hooks: Sequence[Mapping[str, Any]]) -> None:
    counts = {"AWS_LAMBDA": 0, "PAUSE": 0}
    for hook in hooks:
        target_type = hook.get("targetType") or "AWS_LAMBDA"
        if target_type not in counts:
            raise _invalid(
                f"Invalid lifecycle hook targetType: {target_type}. "
                "Valid values are AWS_LAMBDA, PAUSE."
            )
        counts[target_type] += 1
        stages = list(hook.get("lifecycleStages") or ())
        if not stages:
            raise _invalid("lifecycleStages must contain at least one lifecycle stage.")
        for stage in stages:
            if stage not in _HOOK_STAGES:
                raise _invalid(
                    f"Invalid lifecycle stage: {stage}. Valid values are {', '.join(_HOOK_STAGES)}."
                )
            if target_type == "PAUSE" and stage in _NO_PAUSE:
                raise _invalid(
                    f"PAUSE hooks cannot be configured at the {stage} lifecycle stage. "
                    "TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT are only valid for "
                    "AWS_LAMBDA hooks."
                )
        if target_type == "AWS_LAMBDA" and not hook.get("hookTargetArn"):
            raise _invalid("hookTargetArn is required for an AWS_LAMBDA lifecycle hook.")
        if target_type == "PAUSE" and hook.get("hookTargetArn"):
            raise _invalid("hookTargetArn is not applicable for a PAUSE lifecycle hook.")
        timeout = hook.get("timeoutConfiguration") or {}
        minutes = timeout.get("timeoutInMinutes")
        if minutes is not None and not 1 <= int(minutes) <= 20160:
            raise _invalid(f"timeoutInMinutes must be between 1 and 20160, not {minutes}.")
        if timeout.get("action") not in (None, "ROLLBACK", "CONTINUE"):
            raise _invalid(
                f"Invalid timeout action: {timeout['action']}. Valid values are ROLLBACK, CONTINUE."
            )
    for kind, count in counts.items():
        if count > _MAX_HOOKS:
            raise _invalid(
                f"A service can have at most {_MAX_HOOKS} {kind} lifecycle hooks, not {count}."
            )


def _check_advanced(lb: Mapping[str, Any]) -> None:
    advanced = lb.get("advancedConfiguration")
    if not advanced:
        raise _invalid(
            "advancedConfiguration is required for each load balancer of a service that uses "
            "the BLUE_GREEN, LINEAR or CANARY deployment strategy."
        )
    for key in ("alternateTargetGroupArn", "productionListenerRule", "roleArn"):
        if not advanced.get(key):
            raise _invalid(f"advancedConfiguration.{key} is required.")
    if advanced["alternateTargetGroupArn"] == lb.get("targetGroupArn"):
        raise _invalid("alternateTargetGroupArn must differ from targetGroupArn.")
    for key in ("productionListenerRule", "testListenerRule"):
        arn = advanced.get(key)
        if arn and not (_RULE_ARN.match(arn) or _NLB_LISTENER_ARN.match(arn)):
            raise _invalid(
                f"{key} has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB."
            )
