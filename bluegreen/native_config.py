"""An ECS-native blue/green service's settings as values: its strategy (``BLUE_GREEN``,
``LINEAR``, ``CANARY``) with the bake times and steps (``NativeStrategy``), its lifecycle hooks
(``NativeHook``), and the load balancer's ``advancedConfiguration`` (``AdvancedRouting``).

``NativeStrategy.from_api`` reads DescribeServices' ``deploymentConfiguration``;
``from_traffic_config`` maps a CodeDeploy-style ``TrafficConfig`` onto the native strategy
(canary -> CANARY, linear -> LINEAR, all at once -> BLUE_GREEN), so ``deploy(traffic_config=...)``
means the same on both kinds. ``problems()`` names what ECS would refuse (its documented limits:
canary 0.1-100 %, linear steps 3-100 %, bake times 0-1440 minutes, a bake time for BLUE_GREEN).
Nothing here calls AWS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from bluegreen.traffic import TrafficConfig, TrafficType

__all__ = [
    "EVENT_STAGES",
    "NATIVE_STRATEGIES",
    "AdvancedRouting",
    "NativeHook",
    "NativeRevision",
    "NativeStep",
    "NativeStrategy",
    "is_native_service",
]

NATIVE_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")
"""The ECS-controller strategies that deploy blue/green (``ROLLING`` does not)."""

EVENT_STAGES = {
    "BeforeInstall": "PRE_SCALE_UP",
    "AfterInstall": "POST_SCALE_UP",
    "AfterAllowTestTraffic": "POST_TEST_TRAFFIC_SHIFT",
    "BeforeAllowTraffic": "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "AfterAllowTraffic": "POST_PRODUCTION_TRAFFIC_SHIFT",
}
"""The AppSpec hook events and the native lifecycle stage each one becomes."""

BAKE_LIMIT_MINUTES = 1440
LAMBDA_HOOKS_LIMIT = 10


def is_native_service(raw: Mapping[str, Any]) -> bool:
    """Whether DescribeServices' ``raw`` service deploys ECS-native blue/green: the ECS
    deployment controller (or none named) and a BLUE_GREEN, LINEAR or CANARY strategy."""
    controller = (raw.get("deploymentController") or {}).get("type", "ECS")
    strategy = (raw.get("deploymentConfiguration") or {}).get("strategy")
    return controller == "ECS" and strategy in NATIVE_STRATEGIES


def _percent(value: float) -> str:
    return f"{value:g}%"


@attrs.frozen
class NativeStep:
    """One production weight change: ``minute`` minutes after the shift starts (bake times
    of the earlier steps), green gets ``green_percent`` of production traffic."""

    minute: int
    green_percent: float


@attrs.frozen(kw_only=True)
class NativeHook:
    """One ``deploymentConfiguration.lifecycleHooks`` entry."""

    target_type: str = "AWS_LAMBDA"
    target_arn: str | None = None
    role_arn: str | None = None
    stages: tuple[str, ...] = ()
    timeout_minutes: int | None = None
    timeout_action: str | None = None
    added: bool = False
    """Planned by this release (``deploy(hooks=...)``), not read from the service."""
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_api(cls, hook: Mapping[str, Any]) -> NativeHook:
        timeout = hook.get("timeoutConfiguration") or {}
        return cls(
            target_type=str(hook.get("targetType") or "AWS_LAMBDA"),
            target_arn=hook.get("hookTargetArn"),
            role_arn=hook.get("roleArn"),
            stages=tuple(hook.get("lifecycleStages") or ()),
            timeout_minutes=timeout.get("timeoutInMinutes"),
            timeout_action=timeout.get("action"),
            raw=dict(hook),
        )

    @property
    def is_lambda(self) -> bool:
        return self.target_type == "AWS_LAMBDA"

    def describe(self) -> str:
        target = self.target_arn if self.is_lambda else "pause (ContinueServiceDeployment)"
        return f"{','.join(self.stages):<30} {target}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_type": self.target_type,
            "target_arn": self.target_arn,
            "stages": list(self.stages),
            "timeout_minutes": self.timeout_minutes,
            "timeout_action": self.timeout_action,
            "added": self.added,
        }


@attrs.frozen(kw_only=True)
class NativeStrategy:
    """How an ECS-native deployment shifts production traffic, and how long blue is kept.

    ``percent`` and ``step_minutes`` are the canary's (``canaryPercent``,
    ``canaryBakeTimeInMinutes``) or the linear steps' (``stepPercent``,
    ``stepBakeTimeInMinutes``); None for BLUE_GREEN. ``bake_minutes`` is
    ``bakeTimeInMinutes``: both revisions run after production has shifted.
    """

    strategy: str
    bake_minutes: int | None = None
    percent: float | None = None
    step_minutes: int | None = None
    hooks: tuple[NativeHook, ...] = ()
    alarm_names: tuple[str, ...] = ()
    alarms_roll_back: bool = False
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """The whole ``deploymentConfiguration`` as read (kept when it is sent back)."""

    @classmethod
    def from_api(cls, configuration: Mapping[str, Any]) -> NativeStrategy:
        strategy = str(configuration.get("strategy") or "ROLLING")
        percent: float | None = None
        step: int | None = None
        if strategy == "CANARY":
            canary = configuration.get("canaryConfiguration") or {}
            percent = float(canary.get("canaryPercent", 5.0))
            step = int(canary.get("canaryBakeTimeInMinutes", 10))
        elif strategy == "LINEAR":
            linear = configuration.get("linearConfiguration") or {}
            percent = float(linear.get("stepPercent", 10.0))
            step = int(linear.get("stepBakeTimeInMinutes", 6))
        alarms = configuration.get("alarms") or {}
        bake = configuration.get("bakeTimeInMinutes")
        return cls(
            strategy=strategy,
            bake_minutes=None if bake is None else int(bake),
            percent=percent,
            step_minutes=step,
            hooks=tuple(NativeHook.from_api(h) for h in configuration.get("lifecycleHooks") or ()),
            alarm_names=tuple(alarms.get("alarmNames") or ()) if alarms.get("enable") else (),
            alarms_roll_back=bool(alarms.get("enable") and alarms.get("rollback")),
            raw=dict(configuration),
        )

    def with_traffic_config(self, config: TrafficConfig) -> NativeStrategy:
        """This strategy with ``config``'s shift (canary -> CANARY, linear -> LINEAR, all at
        once -> BLUE_GREEN); the bake time, hooks and alarms stay."""
        if config.type is TrafficType.CANARY:
            strategy = "CANARY"
        elif config.type is TrafficType.LINEAR:
            strategy = "LINEAR"
        else:
            strategy = "BLUE_GREEN"
        percent = None if config.percentage is None else float(config.percentage)
        return attrs.evolve(
            self,
            strategy=strategy,
            percent=percent if strategy != "BLUE_GREEN" else None,
            step_minutes=config.interval_minutes if strategy != "BLUE_GREEN" else None,
        )

    def with_hooks(self, hooks: Sequence[NativeHook]) -> NativeStrategy:
        return attrs.evolve(self, hooks=(*self.hooks, *hooks))

    def to_api(self) -> dict[str, Any]:
        """The whole ``deploymentConfiguration`` to send to UpdateService: what was read,
        with the strategy, its settings and the hooks as they are here (UpdateService takes
        the structure whole, so nothing the service had is left out)."""
        configuration = {
            k: v
            for k, v in self.raw.items()
            if k not in ("canaryConfiguration", "linearConfiguration", "lifecycleHooks")
        }
        configuration["strategy"] = self.strategy
        if self.bake_minutes is not None:
            configuration["bakeTimeInMinutes"] = self.bake_minutes
        if self.strategy == "CANARY":
            configuration["canaryConfiguration"] = {
                "canaryPercent": self.percent,
                "canaryBakeTimeInMinutes": self.step_minutes,
            }
        elif self.strategy == "LINEAR":
            configuration["linearConfiguration"] = {
                "stepPercent": self.percent,
                "stepBakeTimeInMinutes": self.step_minutes,
            }
        if self.hooks:
            configuration["lifecycleHooks"] = [_hook_to_api(h) for h in self.hooks]
        return configuration

    def problems(self) -> list[str]:
        """What ECS would refuse in these settings, each named."""
        found: list[str] = []
        if self.strategy not in NATIVE_STRATEGIES:
            found.append(
                f"strategy {self.strategy} is not an ECS-native blue/green strategy "
                f"({', '.join(NATIVE_STRATEGIES)})"
            )
        if self.strategy == "BLUE_GREEN" and self.bake_minutes is None:
            found.append("a BLUE_GREEN strategy needs bakeTimeInMinutes")
        for name, minutes in (("bake time", self.bake_minutes), ("step bake", self.step_minutes)):
            if minutes is not None and not 0 <= minutes <= BAKE_LIMIT_MINUTES:
                found.append(f"{name} {minutes} min: ECS takes 0 to {BAKE_LIMIT_MINUTES} minutes")
        if self.percent is not None:
            low = 0.1 if self.strategy == "CANARY" else 3.0
            what = "canary percent" if self.strategy == "CANARY" else "linear step percent"
            tenths = self.percent * 10
            if not low <= self.percent <= 100.0 or not math.isclose(tenths, round(tenths)):
                found.append(
                    f"{what} {self.percent:g}: ECS takes multiples of 0.1 from {low:g} to 100"
                )
        lambdas = [h for h in self.hooks if h.is_lambda]
        if len(lambdas) > LAMBDA_HOOKS_LIMIT:
            found.append(
                f"{len(lambdas)} Lambda lifecycle hooks: ECS takes at most {LAMBDA_HOOKS_LIMIT}"
            )
        return found

    def steps(self) -> tuple[NativeStep, ...]:
        """The production weights green gets, minute by minute from the first shift."""
        if self.strategy == "CANARY" and self.percent is not None:
            return (NativeStep(0, self.percent), NativeStep(self.step_minutes or 0, 100.0))
        if self.strategy == "LINEAR" and self.percent:
            steps, share, minute = [], 0.0, 0
            while share < 100.0:
                share = min(100.0, round(share + self.percent, 1))
                steps.append(NativeStep(minute, share))
                minute += self.step_minutes or 0
            return tuple(steps)
        return (NativeStep(0, 100.0),)

    @property
    def shift_minutes(self) -> int:
        return self.steps()[-1].minute

    @property
    def summary(self) -> str:
        if self.strategy == "CANARY":
            head = f"CANARY {_percent(self.percent or 0)}, the rest {self.step_minutes} min later"
        elif self.strategy == "LINEAR":
            head = f"LINEAR {_percent(self.percent or 0)} every {self.step_minutes} min"
        else:
            head = f"{self.strategy} all at once"
        return f"{head}; bake {self.bake_minutes if self.bake_minutes is not None else '?'} min"

    def lines(self) -> list[str]:
        """The schedule as the plan prints it."""
        lines = [
            f"  +{s.minute:>4} min  green {_percent(s.green_percent):>6}  "
            f"blue {_percent(round(100.0 - s.green_percent, 1)):>6}"
            for s in self.steps()
        ]
        lines.append(f"  bake (blue kept)     {self.bake_minutes or 0} min")
        lines.append(f"  total                {self.shift_minutes + (self.bake_minutes or 0)} min")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "bake_minutes": self.bake_minutes,
            "percent": self.percent,
            "step_minutes": self.step_minutes,
            "summary": self.summary,
            "steps": [{"minute": s.minute, "green_percent": s.green_percent} for s in self.steps()],
            "hooks": [h.to_dict() for h in self.hooks],
            "alarms": list(self.alarm_names),
            "alarms_roll_back": self.alarms_roll_back,
        }


def _hook_to_api(hook: NativeHook) -> dict[str, Any]:
    if hook.raw:
        return dict(hook.raw)
    entry: dict[str, Any] = {"targetType": hook.target_type, "lifecycleStages": list(hook.stages)}
    if hook.target_arn:
        entry["hookTargetArn"] = hook.target_arn
    if hook.role_arn:
        entry["roleArn"] = hook.role_arn
    return entry


@attrs.frozen(kw_only=True)
class AdvancedRouting:
    """A load balancer's ``advancedConfiguration``: the target group the service runs in,
    the alternate one green gets, and the listener rules (ALB) or listeners (NLB) ECS
    reweights."""

    target_group_arn: str | None
    alternate_target_group_arn: str | None
    production_listener_rule: str | None
    test_listener_rule: str | None = None
    role_arn: str | None = None
    container_name: str | None = None
    container_port: int | None = None

    @classmethod
    def from_api(cls, load_balancer: Mapping[str, Any]) -> AdvancedRouting | None:
        advanced = load_balancer.get("advancedConfiguration")
        if not advanced:
            return None
        return cls(
            target_group_arn=load_balancer.get("targetGroupArn"),
            alternate_target_group_arn=advanced.get("alternateTargetGroupArn"),
            production_listener_rule=advanced.get("productionListenerRule"),
            test_listener_rule=advanced.get("testListenerRule"),
            role_arn=advanced.get("roleArn"),
            container_name=load_balancer.get("containerName"),
            container_port=load_balancer.get("containerPort"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_group": self.target_group_arn,
            "alternate_target_group": self.alternate_target_group_arn,
            "production_listener_rule": self.production_listener_rule,
            "test_listener_rule": self.test_listener_rule,
            "role": self.role_arn,
        }


@attrs.frozen(kw_only=True)
class NativeRevision:
    """A service revision as blue or green: its task definition, its tasks, the target
    group it runs in and the share of traffic the listener rules give that group now."""

    arn: str | None
    task_definition: str | None
    target_group_arn: str | None = None
    requested: int | None = None
    running: int | None = None
    pending: int | None = None
    production_percent: float | None = None
    test_percent: float | None = None

    @property
    def revision(self) -> str:
        """``web:12`` from the task definition's ARN."""
        return str(self.task_definition or "?").rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "service_revision": self.arn,
            "task_definition": self.task_definition,
            "target_group": self.target_group_arn,
            "requested": self.requested,
            "running": self.running,
            "pending": self.pending,
            "production_percent": self.production_percent,
            "test_percent": self.test_percent,
        }
