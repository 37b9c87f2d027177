"""Where a service's tasks run: the awsvpc network and the capacity-provider strategy.

The live state (``ServiceState``) and the AppSpec both carry these two values; they live here
so that neither of those modules has to import the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["AwsVpcConfiguration", "CapacityProviderStrategyItem", "strategy_problems"]

_PUBLIC_IP = ("ENABLED", "DISABLED")


@attrs.frozen(kw_only=True)
class AwsVpcConfiguration:
    """Subnets, security groups and public-IP setting for awsvpc tasks (all three or none)."""

    subnets: tuple[str, ...] = attrs.field(converter=tuple)
    security_groups: tuple[str, ...] = attrs.field(converter=tuple)
    assign_public_ip: str = "DISABLED"

    @classmethod
    def from_ecs(cls, awsvpc: Mapping[str, Any]) -> AwsVpcConfiguration:
        """From ECS's ``networkConfiguration.awsvpcConfiguration`` (camelCase)."""
        return cls(
            subnets=awsvpc.get("subnets", ()),
            security_groups=awsvpc.get("securityGroups", ()),
            assign_public_ip=awsvpc.get("assignPublicIp", "DISABLED"),
        )

    def to_appspec(self) -> dict[str, Any]:
        return {
            "Subnets": list(self.subnets),
            "SecurityGroups": list(self.security_groups),
            "AssignPublicIp": self.assign_public_ip,
        }

    def problems(self) -> list[str]:
        problems = []
        if not self.subnets:
            problems.append("NetworkConfiguration.AwsvpcConfiguration.Subnets must list a subnet")
        if any(not s for s in self.subnets):
            problems.append("NetworkConfiguration.AwsvpcConfiguration.Subnets has an empty entry")
        if any(not s for s in self.security_groups):
            problems.append(
                "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups has an empty entry"
            )
        if self.assign_public_ip not in _PUBLIC_IP:
            problems.append(
                "NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp must be ENABLED or "
                f"DISABLED, got {self.assign_public_ip!r}"
            )
        return problems


@attrs.frozen(kw_only=True)
class CapacityProviderStrategyItem:
    """One capacity provider with its base and weight."""

    capacity_provider: str
    base: int = 0
    weight: int = 0

    @classmethod
    def from_ecs(cls, item: Mapping[str, Any]) -> CapacityProviderStrategyItem:
        return cls(
            capacity_provider=item["capacityProvider"],
            base=item.get("base", 0),
            weight=item.get("weight", 0),
        )

    def to_appspec(self) -> dict[str, Any]:
        return {
            "Base": self.base,
            "CapacityProvider": self.capacity_provider,
            "Weight": self.weight,
        }


def strategy_problems(strategy: Sequence[CapacityProviderStrategyItem]) -> list[str]:
    """Why CodeDeploy would reject this ``CapacityProviderStrategy`` (empty list: it would not)."""
    problems = []
    if not strategy:
        problems.append("CapacityProviderStrategy is empty: omit it or list a provider")
        return problems
    names = [item.capacity_provider for item in strategy]
    if any(not n for n in names):
        problems.append("CapacityProviderStrategy has an item without a CapacityProvider")
    if len(set(names)) != len(names):
        problems.append("CapacityProviderStrategy lists a capacity provider more than once")
    for item in strategy:
        if not isinstance(item.base, int) or not 0 <= item.base <= 100000:
            problems.append(
                f"CapacityProviderStrategy {item.capacity_provider}: Base must be 0-100000"
            )
        if not isinstance(item.weight, int) or not 0 <= item.weight <= 1000:
            problems.append(
                f"CapacityProviderStrategy {item.capacity_provider}: Weight must be 0-1000"
            )
    if sum(1 for item in strategy if item.base) > 1:
        problems.append("CapacityProviderStrategy: only one capacity provider may set a Base")
    if not any(item.weight for item in strategy if isinstance(item.weight, int)):
        problems.append(
            "CapacityProviderStrategy: at least one provider needs Weight > 0, or no task "
            "is placed beyond the base"
        )
    return problems
