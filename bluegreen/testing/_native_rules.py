"""The listener rules an ECS-native deployment shifts traffic with, on moto's ELBv2 backend.

For an ALB, ``productionListenerRule`` and ``testListenerRule`` are listener-rule ARNs whose
forward action lists both target groups; ECS rewrites their weights. For an NLB they are
listener ARNs, and the listener's default action is rewritten (``MotoState``). Every change is
recorded in the simulator's ``WeightLog`` keyed by the rule's (or listener's) ARN, so the
traffic can follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bluegreen.testing._moto import MotoState, forward_weights

__all__ = ["find_rule", "rule_weights", "set_green_percent"]


def find_rule(moto: MotoState, arn: str) -> Any | None:
    """moto's rule object for a listener-rule ARN, or None."""
    for lb in moto.elbv2.load_balancers.values():
        for listener in lb.listeners.values():
            rule = getattr(listener, "_non_default_rules", {}).get(arn)
            if rule is not None:
                return rule
    return None


def rule_weights(moto: MotoState, arn: str) -> list[tuple[str, int]]:
    """``[(target group ARN, weight), ...]`` of a rule's (or NLB listener's) forward action."""
    rule = find_rule(moto, arn)
    if rule is None:
        return moto.listener_weights(arn)
    return forward_weights(rule.actions)


def _weights(percent: float) -> tuple[int, int]:
    """(green, blue) ELB weights for ``percent`` to green: whole percentages as they are,
    fractional ones in tenths (ELB weights are whole numbers up to 999)."""
    if float(percent).is_integer():
        return int(percent), 100 - int(percent)
    tenths = round(percent * 10)
    return tenths, 1000 - tenths


def set_green_percent(
    moto: MotoState, arn: str, *, green_tg: str, blue_tg: str, percent: float, when: float
) -> bool:
    """Send ``percent`` of the rule's traffic to ``green_tg``, the rest to ``blue_tg``.

    Returns:
        False when the rule does not forward to both target groups (ECS rolls back: "Both
        targetGroup and alternateTargetGroup must be associated with the
        productionListenerRule or testListenerRule").
    """
    from moto.elbv2.models import FakeAction

    current = rule_weights(moto, arn)
    if {green_tg, blue_tg} - {tg for tg, _ in current}:
        return False
    green, blue = _weights(percent)
    weights: Sequence[tuple[str, int]] = [
        (tg, green if tg == green_tg else blue) for tg, _ in current
    ]
    rule = find_rule(moto, arn)
    if rule is None:  # an NLB listener
        moto.set_listener_weights(arn, weights)
        return True
    moto.weight_log.before_change(arn, current)
    kept = [a for a in rule.actions if a.data.get("Type") != "forward"]
    forward = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg, "Weight": int(w)} for tg, w in weights],
            "TargetGroupStickinessConfig": {"Enabled": False},
        },
    }
    rule.actions = [*kept, FakeAction(forward)]
    moto.weight_log.changed(arn, when, weights)
    return True
