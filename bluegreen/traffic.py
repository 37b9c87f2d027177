"""Traffic-shifting configurations: the five ``CodeDeployDefault.ECS*`` ones and custom ones.

A ``TrafficConfig`` knows the production weights it will produce (``schedule()``) and how
long a deployment using it takes with a deployment group's ready and termination waits.
``ensure_deployment_config`` makes sure a custom one exists in CodeDeploy with the same
settings.
"""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

import attrs

from bluegreen._advice import advice
from bluegreen._aws import Caller, resolve_clients
from bluegreen.errors import (
    AWSError,
    ConflictError,
    ResourceNotFoundError,
    TrafficConfigError,
    ValidationError,
)

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients

__all__ = [
    "PREDEFINED_CONFIGS",
    "Schedule",
    "TrafficConfig",
    "TrafficStep",
    "TrafficType",
    "ensure_deployment_config",
    "get_deployment_config",
]

PREDEFINED_PREFIX = "CodeDeployDefault."
WAIT_LIMIT_MINUTES = 2880  # CodeDeploy's longest ready wait and termination wait: two days
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,100}$")


class TrafficType(enum.StrEnum):
    """``trafficRoutingConfig.type``."""

    ALL_AT_ONCE = "AllAtOnce"
    CANARY = "TimeBasedCanary"
    LINEAR = "TimeBasedLinear"


@attrs.frozen
class TrafficStep:
    """One production weight change: at ``minute`` after AllowTraffic starts, green gets
    ``green_percent`` of production traffic."""

    minute: int
    green_percent: int

    @property
    def blue_percent(self) -> int:
        return 100 - self.green_percent


@attrs.frozen(kw_only=True)
class Schedule:
    """What a deployment with one config and one deployment group's waits will do.

    Attributes:
        steps: production weight changes, minute offsets from the start of AllowTraffic.
        ready_wait_minutes: the longest the deployment waits in ``Ready`` for a promotion
            (0 when the group reroutes as soon as green is ready).
        termination_wait_minutes: how long blue is kept after all traffic has moved.
    """

    steps: tuple[TrafficStep, ...]
    ready_wait_minutes: int = 0
    termination_wait_minutes: int = 0

    @property
    def shift_minutes(self) -> int:
        """Minutes from the first production shift to 100 % green."""
        return self.steps[-1].minute if self.steps else 0

    @property
    def total_minutes(self) -> int:
        """The longest the deployment takes after green is installed, waits included."""
        return self.ready_wait_minutes + self.shift_minutes + self.termination_wait_minutes

    def green_percent_at(self, minute: float) -> int:
        """Green's share of production ``minute`` minutes after AllowTraffic started."""
        percent = 0
        for step in self.steps:
            if step.minute <= minute:
                percent = step.green_percent
        return percent

    def __str__(self) -> str:
        lines = []
        if self.ready_wait_minutes:
            lines.append(f"  wait for promotion   up to {self.ready_wait_minutes} min")
        for step in self.steps:
            bar = "#" * (step.green_percent // 10)
            lines.append(
                f"  +{step.minute:>4} min  green {step.green_percent:>3}%  "
                f"blue {step.blue_percent:>3}%  {bar}"
            )
        lines.append(f"  keep blue            {self.termination_wait_minutes} min")
        lines.append(f"  total                up to {self.total_minutes} min")
        return "\n".join(lines)


def _to_type(value: object) -> Any:
    """A ``TrafficType`` from its value; anything else is kept for ``problems()`` to name."""
    return next((t for t in TrafficType if isinstance(value, str) and t.value == value), value)


@attrs.frozen(kw_only=True)
class TrafficConfig:
    """A CodeDeploy ECS deployment configuration.

    Build custom ones with ``TrafficConfig.canary``, ``.linear`` or ``.all_at_once``; the
    predefined ones are ``TrafficConfig.named("CodeDeployDefault.ECS...")``. Construction
    checks every setting and raises ``TrafficConfigError`` listing all problems.
    """

    name: str
    type: TrafficType = attrs.field(converter=_to_type)
    percentage: int | None = None
    interval_minutes: int | None = None

    def __attrs_post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise TrafficConfigError(problems)

    @classmethod
    def canary(
        cls, percentage: int, interval_minutes: int, *, name: str | None = None
    ) -> TrafficConfig:
        """``percentage`` % of production first, the rest ``interval_minutes`` later."""
        auto = f"Canary{percentage}Percent{interval_minutes}Minutes"
        return cls(
            name=auto if name is None else name,
            type=TrafficType.CANARY,
            percentage=percentage,
            interval_minutes=interval_minutes,
        )

    @classmethod
    def linear(
        cls, percentage: int, interval_minutes: int, *, name: str | None = None
    ) -> TrafficConfig:
        """``percentage`` % more of production every ``interval_minutes`` until 100 %."""
        auto = f"Linear{percentage}PercentEvery{interval_minutes}Minutes"
        return cls(
            name=auto if name is None else name,
            type=TrafficType.LINEAR,
            percentage=percentage,
            interval_minutes=interval_minutes,
        )

    @classmethod
    def all_at_once(cls, *, name: str = "CodeDeployDefault.ECSAllAtOnce") -> TrafficConfig:
        """All production traffic in one shift."""
        return cls(name=name, type=TrafficType.ALL_AT_ONCE)

    @classmethod
    def named(cls, name: str) -> TrafficConfig:
        """A predefined ``CodeDeployDefault.ECS*`` config by name.

        Raises:
            TrafficConfigError: the name is not one of the five ECS configs; custom configs
                live in CodeDeploy, read them with ``get_deployment_config``.
        """
        if not isinstance(name, str):
            raise TrafficConfigError([f"name must be a string, got {_shown(name)}"])
        try:
            return PREDEFINED_CONFIGS[name]
        except KeyError:
            known = ", ".join(PREDEFINED_CONFIGS)
            raise TrafficConfigError(
                [
                    f"{name!r} is not a predefined ECS config (known: {known}); for a custom "
                    "config "
                    + advice(
                        "use get_deployment_config(name) to read it from CodeDeploy",
                        "give --canary PERCENT/MINUTES or --linear PERCENT/MINUTES",
                    )
                ]
            ) from None

    @classmethod
    def from_api(cls, name: str, traffic_routing_config: dict[str, Any]) -> TrafficConfig:
        """Build from the ``trafficRoutingConfig`` of a GetDeploymentConfig answer."""
        kind = _to_type(traffic_routing_config.get("type", "AllAtOnce"))
        if kind is TrafficType.CANARY:
            body = traffic_routing_config.get("timeBasedCanary") or {}
            return cls(
                name=name,
                type=kind,
                percentage=body.get("canaryPercentage"),
                interval_minutes=body.get("canaryInterval"),
            )
        if kind is TrafficType.LINEAR:
            body = traffic_routing_config.get("timeBasedLinear") or {}
            return cls(
                name=name,
                type=kind,
                percentage=body.get("linearPercentage"),
                interval_minutes=body.get("linearInterval"),
            )
        return cls(name=name, type=kind)

    @property
    def is_predefined(self) -> bool:
        return self.name.startswith(PREDEFINED_PREFIX)

    def to_api(self) -> dict[str, Any]:
        """The ``trafficRoutingConfig`` for CreateDeploymentConfig."""
        if self.type is TrafficType.CANARY:
            return {
                "type": str(self.type),
                "timeBasedCanary": {
                    "canaryPercentage": self.percentage,
                    "canaryInterval": self.interval_minutes,
                },
            }
        if self.type is TrafficType.LINEAR:
            return {
                "type": str(self.type),
                "timeBasedLinear": {
                    "linearPercentage": self.percentage,
                    "linearInterval": self.interval_minutes,
                },
            }
        return {"type": str(self.type)}

    def problems(
        self, *, load_balancer: Literal["application", "network"] | None = None
    ) -> list[str]:
        """Every reason CodeDeploy would reject this config, as sentences.

        Args:
            load_balancer: ``"network"`` also checks that the config shifts all at once,
                the only kind a Network Load Balancer supports.
        """
        problems: list[str] = []
        if not isinstance(self.type, TrafficType):
            kinds = ", ".join(TrafficType)
            return [f"type must be a TrafficType ({kinds}), got {_shown(self.type)}"]
        if not isinstance(self.name, str) or not _NAME_PATTERN.match(self.name):
            problems.append(
                f"name {self.name!r:.60} must be 1-100 characters from A-Z a-z 0-9 + = , . @ _ -"
            )
        if isinstance(self.name, str) and self.name.startswith(PREDEFINED_PREFIX):
            known = _PREDEFINED_SETTINGS.get(self.name)
            mine = (self.type, self.percentage, self.interval_minutes)
            if known is None:
                problems.append(
                    f"name {self.name!r}: names starting with {PREDEFINED_PREFIX!r} are reserved "
                    "for AWS's predefined configs; choose another name"
                )
            elif known != mine:
                problems.append(
                    f"{self.name} is predefined as {_describe(*known)}, not {_describe(*mine)}; "
                    "give a custom config its own name"
                )
        if self.type is TrafficType.ALL_AT_ONCE:
            if self.percentage is not None or self.interval_minutes is not None:
                problems.append("an AllAtOnce config takes no percentage or interval")
        else:
            low, high = (1, 99) if self.type is TrafficType.CANARY else (1, 100)
            what = "canary" if self.type is TrafficType.CANARY else "linear"
            if not _whole(self.percentage) or not low <= self.percentage <= high:
                problems.append(
                    f"{what} percentage must be a whole number from {low} to {high}, "
                    f"got {_shown(self.percentage)}"
                )
            if not _whole(self.interval_minutes) or self.interval_minutes < 1:
                problems.append(
                    f"{what} interval must be a whole number of minutes, at least 1, "
                    f"got {_shown(self.interval_minutes)}"
                )
        if load_balancer == "network" and self.type is not TrafficType.ALL_AT_ONCE:
            problems.append(
                f"{self.name} shifts traffic in steps, but a Network Load Balancer supports "
                "only all-at-once: use CodeDeployDefault.ECSAllAtOnce"
            )
        return problems

    def validate(self, *, load_balancer: Literal["application", "network"] | None = None) -> None:
        """Raise ``TrafficConfigError`` if ``problems()`` finds any."""
        problems = self.problems(load_balancer=load_balancer)
        if problems:
            raise TrafficConfigError(problems)

    def steps(self) -> tuple[TrafficStep, ...]:
        """The production weight changes, minute offsets from the start of AllowTraffic."""
        if self.type is TrafficType.ALL_AT_ONCE:
            return (TrafficStep(0, 100),)
        assert self.percentage is not None
        assert self.interval_minutes is not None
        if self.type is TrafficType.CANARY:
            return (TrafficStep(0, self.percentage), TrafficStep(self.interval_minutes, 100))
        steps = []
        percent, minute = self.percentage, 0
        while percent < 100:
            steps.append(TrafficStep(minute, percent))
            percent += self.percentage
            minute += self.interval_minutes
        steps.append(TrafficStep(minute, 100))
        return tuple(steps)

    def schedule(
        self, *, ready_wait_minutes: int = 0, termination_wait_minutes: int = 0
    ) -> Schedule:
        """The timeline this config produces with a deployment group's waits.

        Args:
            ready_wait_minutes: the group's ``waitTimeInMinutes`` when it waits for a
                promotion (``STOP_DEPLOYMENT``), else 0.
            termination_wait_minutes: the group's ``terminationWaitTimeInMinutes``.

        Raises:
            ValidationError: a wait is not a whole number of minutes from 0 to 2880 (two
                days, CodeDeploy's longest).
        """
        problems = [
            f"{name} must be a whole number of minutes from 0 to {WAIT_LIMIT_MINUTES}, "
            f"got {_shown(value)}"
            for name, value in (
                ("ready_wait_minutes", ready_wait_minutes),
                ("termination_wait_minutes", termination_wait_minutes),
            )
            if not _whole(value) or not 0 <= value <= WAIT_LIMIT_MINUTES
        ]
        if problems:
            raise ValidationError(problems, subject="schedule arguments")
        return Schedule(
            steps=self.steps(),
            ready_wait_minutes=ready_wait_minutes,
            termination_wait_minutes=termination_wait_minutes,
        )

    @property
    def summary(self) -> str:
        """What the config does, e.g. ``canary 10% then the rest after 5 min``."""
        return _describe(self.type, self.percentage, self.interval_minutes)

    def __str__(self) -> str:
        return f"{self.name} ({self.summary})"


def _whole(value: object) -> TypeGuard[int]:
    """An ``int`` that is not a ``bool`` (``True`` is 1 to Python, not to CodeDeploy)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: object) -> str:
    """``True (a bool)``, ``'5' (a str)``: a value, with its type when that is wrong."""
    wrong = value is not None and not _whole(value)
    return f"{value!r:.40} (a {type(value).__name__})" if wrong else repr(value)


def _describe(kind: TrafficType, percentage: int | None, interval: int | None) -> str:
    if kind is TrafficType.CANARY:
        return f"canary {percentage}% then the rest after {interval} min"
    if kind is TrafficType.LINEAR:
        return f"linear +{percentage}% every {interval} min"
    return "all at once"


_PREDEFINED_SETTINGS: dict[str, tuple[TrafficType, int | None, int | None]] = {
    "CodeDeployDefault.ECSAllAtOnce": (TrafficType.ALL_AT_ONCE, None, None),
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": (TrafficType.LINEAR, 10, 1),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": (TrafficType.LINEAR, 10, 3),
    "CodeDeployDefault.ECSCanary10Percent5Minutes": (TrafficType.CANARY, 10, 5),
    "CodeDeployDefault.ECSCanary10Percent15Minutes": (TrafficType.CANARY, 10, 15),
}

PREDEFINED_CONFIGS: dict[str, TrafficConfig] = {
    name: TrafficConfig(name=name, type=kind, percentage=pct, interval_minutes=interval)
    for name, (kind, pct, interval) in _PREDEFINED_SETTINGS.items()
}
"""The five predefined ECS configs, by name, in the order AWS lists them."""


def get_deployment_config(
    name: str,
    *,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    caller: Caller | None = None,
) -> TrafficConfig:
    """Read a deployment config from CodeDeploy (predefined names need no call).

    Args:
        caller: the ``bluegreen._aws.Caller`` that makes the call (its clock, rate budget and
            counts); by default a new one, which retries throttling and 5xx.

    Raises:
        ResourceNotFoundError: no config of that name exists.
        TrafficConfigError: the config is not an ECS config, or ``name`` is not a name.
    """
    if not isinstance(name, str) or not name:
        raise TrafficConfigError([f"name must be a deployment config name, got {_shown(name)}"])
    if name in PREDEFINED_CONFIGS:
        return PREDEFINED_CONFIGS[name]
    aws = resolve_clients(clients, session)
    call = caller if caller is not None else Caller()
    info = call(
        "GetDeploymentConfig", aws.codedeploy.get_deployment_config, deploymentConfigName=name
    )["deploymentConfigInfo"]
    if info.get("computePlatform") != "ECS":
        raise TrafficConfigError(
            [
                f"deployment config {name!r} is for the {info.get('computePlatform')} compute "
                "platform; ECS deployments need a config created with computePlatform=ECS"
            ]
        )
    return TrafficConfig.from_api(name, dict(info.get("trafficRoutingConfig") or {}))


EnsureOutcome = Literal["predefined", "exists", "created"]


def ensure_deployment_config(
    config: TrafficConfig,
    *,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    caller: Caller | None = None,
) -> EnsureOutcome:
    """Make sure ``config`` exists in CodeDeploy with exactly these settings.

    Creates it when missing. Safe to call from several processes at once.

    Args:
        caller: the ``bluegreen._aws.Caller`` that makes the calls (its clock, rate budget
            and counts); by default a new one, which retries throttling and 5xx.

    Returns:
        ``"predefined"`` (nothing to do), ``"exists"`` or ``"created"``.

    Raises:
        ConflictError: a config of that name exists with other settings, or for another
            compute platform; CodeDeploy configs cannot be changed, so pick a new name (or
            delete the old one).
        TrafficConfigError: ``config`` is not a ``TrafficConfig``.
    """
    if not isinstance(config, TrafficConfig):
        raise TrafficConfigError([f"config must be a TrafficConfig, got {_shown(config)}"])
    if config.is_predefined:
        return "predefined"
    aws = resolve_clients(clients, session)
    call = caller if caller is not None else Caller()
    existing = _existing_config(config.name, aws, call)
    if existing is None:
        try:
            # A retried create that had succeeded answers AlreadyExists: compared below.
            call(
                "CreateDeploymentConfig",
                aws.codedeploy.create_deployment_config,
                deploymentConfigName=config.name,
                computePlatform="ECS",
                trafficRoutingConfig=config.to_api(),
            )
        except AWSError as exc:
            if exc.code != "DeploymentConfigAlreadyExistsException":
                raise
            # Another process created it between our read and our create: compare theirs.
            existing = _existing_config(config.name, aws, call)
            if existing is None:
                raise
        else:
            return "created"
    if existing != config:
        raise ConflictError(
            f"deployment config {config.name!r} already exists as {existing.summary}, "
            f"not {config.summary}. "
            "CodeDeploy configs cannot be modified: use a new name, or delete the old config "
            "once no deployment group uses it"
        )
    return "exists"


def _existing_config(name: str, aws: Clients, caller: Caller) -> TrafficConfig | None:
    """The ECS config called ``name``, or None; a config for another platform conflicts."""
    try:
        return get_deployment_config(name, clients=aws, caller=caller)
    except ResourceNotFoundError:
        return None
    except TrafficConfigError as exc:
        raise ConflictError(
            f"deployment config {name!r} exists but is not an ECS config: {exc.problems[0]}"
        ) from exc
