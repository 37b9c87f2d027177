"""Where traffic goes: the target groups, the target-group pair a deployment group alternates
between, and the production and test listeners with the weights of their forward actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = [
    "NETWORK_PROTOCOLS",
    "ListenerRoute",
    "ListenerRule",
    "TargetGroup",
    "TargetGroupPair",
    "WeightedTargetGroup",
    "forward_targets",
    "name_from_arn",
]

NETWORK_PROTOCOLS = frozenset({"TCP", "TLS", "UDP", "TCP_UDP"})


def name_from_arn(arn: str) -> str:
    """``web-blue`` from ``arn:aws:elasticloadbalancing:...:targetgroup/web-blue/0123``."""
    parts = arn.split("/")
    return parts[1] if len(parts) >= 3 else parts[-1]


@attrs.frozen(kw_only=True)
class TargetGroup:
    """An ELBv2 target group."""

    arn: str
    name: str
    port: int | None = None
    protocol: str | None = None
    target_type: str | None = None
    load_balancer_arns: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, tg: Mapping[str, Any]) -> TargetGroup:
        return cls(
            arn=tg["TargetGroupArn"],
            name=tg["TargetGroupName"],
            port=tg.get("Port"),
            protocol=tg.get("Protocol"),
            target_type=tg.get("TargetType"),
            load_balancer_arns=tuple(tg.get("LoadBalancerArns", ())),
        )


@attrs.frozen(kw_only=True)
class TargetGroupPair:
    """The two target groups a deployment group alternates between."""

    first: TargetGroup
    second: TargetGroup

    def __iter__(self) -> Any:
        return iter((self.first, self.second))

    def other(self, arn: str | None) -> TargetGroup | None:
        """The member that is not ``arn`` (the one green will use), or None if not a member."""
        if arn == self.first.arn:
            return self.second
        if arn == self.second.arn:
            return self.first
        return None

    def by_arn(self, arn: str | None) -> TargetGroup | None:
        return next((tg for tg in self if tg.arn == arn), None)

    @property
    def arns(self) -> tuple[str, str]:
        return (self.first.arn, self.second.arn)


@attrs.frozen
class WeightedTargetGroup:
    """A target group in a forward action, with its ELBv2 weight (0-999)."""

    arn: str
    weight: int

    @property
    def name(self) -> str:
        return name_from_arn(self.arn)


def forward_targets(actions: Sequence[Mapping[str, Any]]) -> tuple[WeightedTargetGroup, ...]:
    """The target groups of the first forward action among ``actions`` (a rule's, or a
    listener's default actions), with their weights; a plain forward weighs 1."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        config = action.get("ForwardConfig") or {}
        groups = config.get("TargetGroups") or []
        if groups:
            return tuple(
                WeightedTargetGroup(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups
            )
        if action.get("TargetGroupArn"):
            return (WeightedTargetGroup(action["TargetGroupArn"], 1),)
    return ()


@attrs.frozen(kw_only=True)
class ListenerRule:
    """A non-default listener rule that forwards to target groups."""

    arn: str
    priority: str
    targets: tuple[WeightedTargetGroup, ...]


@attrs.frozen(kw_only=True)
class ListenerRoute:
    """A production or test listener and where its forward actions send traffic."""

    arn: str
    port: int | None
    protocol: str | None
    load_balancer_arn: str | None
    targets: tuple[WeightedTargetGroup, ...]
    rules: tuple[ListenerRule, ...] = ()

    @classmethod
    def from_api(
        cls, listener: Mapping[str, Any], rules: Sequence[Mapping[str, Any]] = ()
    ) -> ListenerRoute:
        parsed_rules = tuple(
            ListenerRule(
                arn=r["RuleArn"],
                priority=str(r.get("Priority")),
                targets=forward_targets(r.get("Actions", ())),
            )
            for r in rules
            if not r.get("IsDefault") and forward_targets(r.get("Actions", ()))
        )
        return cls(
            arn=listener["ListenerArn"],
            port=listener.get("Port"),
            protocol=listener.get("Protocol"),
            load_balancer_arn=listener.get("LoadBalancerArn"),
            targets=forward_targets(listener.get("DefaultActions", ())),
            rules=parsed_rules,
        )

    @property
    def is_network(self) -> bool:
        """True for a Network Load Balancer listener (TCP/TLS/UDP)."""
        return (self.protocol or "") in NETWORK_PROTOCOLS

    def percent(self, target_group_arn: str | None) -> float:
        """The share of this listener's default traffic going to ``target_group_arn``."""
        total = sum(t.weight for t in self.targets)
        if not total:
            return 0.0
        return 100.0 * sum(t.weight for t in self.targets if t.arn == target_group_arn) / total

    def serving(self) -> tuple[str, ...]:
        """ARNs of the target groups with a non-zero weight."""
        return tuple(t.arn for t in self.targets if t.weight > 0)

    def describe(self, pair: TargetGroupPair | None = None) -> str:
        names = {tg.arn: tg.name for tg in pair} if pair else {}
        parts = [f"{names.get(t.arn, t.name)} {self.percent(t.arn):g}%" for t in self.targets]
        return f":{self.port} {self.protocol}  " + (" | ".join(parts) or "no forward action")
