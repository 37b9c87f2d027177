"""The ``Plan`` value: what ``deploy`` with the same arguments would do, read from AWS
without changing it (``plan(...)`` returns one; ``bluegreen plan`` prints it).

Its text, its ``to_dict()`` and its repr never show an environment value or a secret
(``bluegreen.sensitive``): the diff says that such a value changed, not what it is, unless
``show_values=True`` asks for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen._advice import advice
from bluegreen.appspec import AppSpec, Hook
from bluegreen.native_config import NativeStrategy
from bluegreen.revision import diff, registrable, short_arn
from bluegreen.scaling import ScalableTargetState
from bluegreen.sensitive import masked
from bluegreen.state import ServiceState
from bluegreen.traffic import Schedule, TrafficConfig

__all__ = ["Plan", "native_scaling_note", "not_suspending_note", "recover_hint"]


def not_suspending_note() -> str:
    """The note for a deployment that leaves scaling alone."""
    how = advice("suspend_scaling=False", "--no-suspend-scaling")
    return (
        f"scaling is not suspended ({how}): a scaling activity during the "
        "deployment resizes blue and green, and CodeDeploy fails the deployment if they are not "
        "steady again within 5 minutes"
    )


def native_scaling_note() -> str:
    """What happens to Application Auto Scaling during an ECS-native deployment."""
    return (
        "scaling is left alone on an ECS-native service: Application Auto Scaling turns off "
        "scale-in itself while an ECS deployment runs and turns it back on at the end, while "
        "scale-out keeps meeting load (docs/native.md); bluegreen suspends nothing and writes "
        "no bluegreen:scaling record"
    )


def recover_hint(cluster: str, service: str) -> str:
    """How to restore scaling left suspended, in the reader's words."""
    return advice(
        f"bluegreen.recover({cluster!r}, {service!r})",
        f"`bluegreen recover --cluster {cluster} --service {service}`",
    )


@attrs.frozen(kw_only=True)
class Plan:
    """What ``deploy`` with the same arguments would do, read from AWS without changing it.

    Attributes:
        service: the service's blue/green state now.
        current_task_definition: the task definition the service runs (DescribeTaskDefinition's
            ``taskDefinition``); empty when it could not be read.
        new_task_definition: what will run: the RegisterTaskDefinition arguments of the new
            revision (``tags`` included), or the given task definition as described.
        new_task_definition_arn: the given ARN, or the ARN the new revision is expected to get
            (ECS numbers it at registration).
        registers_task_definition: True when ``deploy`` registers a new revision.
        task_definition_diff: one line per changed field, ``path: old -> new``; a sensitive
            value's line says only that it was added, removed or changed.
        appspec: the AppSpec that will be sent (None when it cannot be built).
        traffic_config: the deployment config that will shift traffic.
        creates_traffic_config: True when ``deploy`` will create that config first.
        schedule: the traffic steps with the group's ready and termination waits.
        hooks: the Lambda hooks, in the order they will run.
        auto_rollback_events: the events that roll the deployment back (empty: none).
        auto_rollback_overridden: True when the events come from ``auto_rollback=``, not from
            the deployment group.
        alarm_names: the CloudWatch alarms that stop the deployment.
        autoscaling: the service's scalable target(s) now.
        suspends_scaling: the kinds of scaling ``deploy`` suspends for the deployment
            (``in``, ``out``, ``scheduled``) and restores afterwards; empty: none.
        description: the deployment description that will be sent.
        notes: things worth knowing that do not stop the deployment.
        problems: every reason ``deploy`` would refuse; empty when it would go ahead.
        kind: ``"codedeploy"``, or ``"ecs"`` for an ECS-native service (no group, no
            AppSpec: ``deploy`` calls UpdateService).
        strategy: ECS-native: the deployment configuration the deployment will run with.
        changes_strategy: ECS-native: True when ``deploy`` sends that configuration (a
            ``traffic_config=`` or ``hooks=`` was given); else the service's is kept as is.
    """

    service: ServiceState
    kind: str = "codedeploy"
    strategy: NativeStrategy | None = None
    changes_strategy: bool = False
    current_task_definition: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    new_task_definition: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    new_task_definition_arn: str | None = None
    registers_task_definition: bool = False
    task_definition_diff: tuple[str, ...] = ()
    appspec: AppSpec | None = None
    traffic_config: TrafficConfig | None = None
    creates_traffic_config: bool = False
    schedule: Schedule | None = None
    hooks: tuple[Hook, ...] = ()
    auto_rollback_events: tuple[str, ...] = ()
    auto_rollback_overridden: bool = False
    alarm_names: tuple[str, ...] = ()
    autoscaling: tuple[ScalableTargetState, ...] = ()
    suspends_scaling: tuple[str, ...] = ()
    description: str | None = None
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when ``deploy`` would go ahead."""
        return not self.problems

    @property
    def current_task_definition_arn(self) -> str | None:
        arn = self.current_task_definition.get("taskDefinitionArn")
        return str(arn) if arn else self.service.task_definition

    def __str__(self) -> str:
        return self.text()

    def text(self, *, show_values: bool = False) -> str:
        """The plan as the reader sees it; ``show_values`` shows environment values and
        secrets in the task-definition changes, and says so on the first line."""
        group = self.service.deployment_group
        where = f"{self.service.cluster}/{self.service.service}"
        lines = [_values_shown()] if show_values else []
        lines.append(f"Plan: deploy to {where}")
        if self.kind == "ecs":
            lines.append("  kind              ECS-native blue/green (UpdateService)")
        else:
            lines.append(
                "  deployment group  "
                + (f"{group.application} / {group.name}" if group else "(none found)")
            )
        current = short_arn(self.current_task_definition_arn)
        new = short_arn(self.new_task_definition_arn)
        how = (
            "new revision, registered by deploy; ECS assigns the number"
            if self.registers_task_definition
            else "existing revision"
        )
        lines.append(f"  task definition   {current} -> {new} ({how})")
        if self.description:
            lines.append(f"  description       {self.description}")

        lines.append("")
        lines.append("Task-definition changes:")
        lines += [f"  {line}" for line in self.changes(show_values=show_values)] or ["  (none)"]

        lines += self._native_lines() if self.kind == "ecs" else self._codedeploy_lines()

        lines.append("")
        lines.append("Autoscaling:")
        lines += [f"  {t}" for t in self.autoscaling] or ["  no scalable target for the service"]
        if self.autoscaling:
            lines.append(f"  {self._scaling_note}")

        if self.notes:
            lines.append("")
            lines.append("Notes:")
            lines += [f"  - {n}" for n in self.notes]

        lines.append("")
        if self.problems:
            count = len(self.problems)
            lines.append(f"Problems ({count}): deploy would refuse")
            lines += [f"  - {p}" for p in self.problems]
        else:
            lines.append("No problems found: deploy would go ahead.")
        return "\n".join(lines)

    def _codedeploy_lines(self) -> list[str]:
        """The AppSpec, traffic, hooks and rollback sections of a CodeDeploy plan."""
        lines = ["", "AppSpec:"]
        if self.appspec is None:
            lines.append("  (cannot be built; see the problems)")
        else:
            lines += [f"  {line}" for line in self.appspec.to_yaml().rstrip().splitlines()]

        lines.append("")
        if self.traffic_config is None:
            lines.append("Traffic: (unknown deployment config)")
        else:
            created = " (created by deploy)" if self.creates_traffic_config else ""
            lines.append(f"Traffic: {self.traffic_config}{created}")
        if self.schedule is not None:
            lines.append("  after green is installed (Install and the test-traffic hooks):")
            lines += str(self.schedule).splitlines()

        lines.append("")
        lines.append("Hooks:")
        lines += [f"  {h.event:<22} {h.function}" for h in self.hooks] or ["  (none)"]

        lines.append("")
        lines.append("Rollback:")
        source = "this deployment" if self.auto_rollback_overridden else "the deployment group"
        if self.auto_rollback_events:
            events = ", ".join(self.auto_rollback_events)
            lines.append(f"  automatic on {events} (set by {source})")
        else:
            lines.append(f"  no automatic rollback (set by {source})")
        alarms = ", ".join(self.alarm_names) or "(none)"
        lines.append(f"  alarms that stop the deployment: {alarms}")
        return lines

    def _native_lines(self) -> list[str]:
        """The strategy, schedule, hooks and rollback sections of an ECS-native plan."""
        strategy = self.strategy
        if strategy is None:
            return ["", "Strategy: (unknown)"]
        sent = (
            "sent with UpdateService, the rest of the service's configuration kept"
            if self.changes_strategy
            else "the service's, unchanged"
        )
        lines = ["", f"Strategy: {strategy.summary} ({sent})"]
        lines += strategy.lines()
        lines += ["", "Hooks:"]
        marks = {True: " (added by deploy)", False: ""}
        lines += [f"  {h.describe()}{marks[h.added]}" for h in strategy.hooks] or ["  (none)"]
        lines += ["", "Rollback:"]
        alarms = ", ".join(strategy.alarm_names) or "(none)"
        action = "roll back" if strategy.alarms_roll_back else "do not roll back"
        lines.append(f"  alarms: {alarms} ({action}); a failed hook rolls back")
        return lines

    @property
    def _scaling_note(self) -> str:
        if self.kind == "ecs":
            return native_scaling_note()
        if not self.suspends_scaling:
            return not_suspending_note()
        kinds = ", ".join(self.suspends_scaling)
        recover = recover_hint(self.service.cluster, self.service.service)
        return (
            f"deploy suspends scaling ({kinds}) after recording the state above in tag "
            "bluegreen:scaling on the service, and restores exactly that state when the "
            f"deployment (and any rollback) ends; {recover} restores it after a crash"
        )

    def changes(self, *, show_values: bool = False) -> tuple[str, ...]:
        """``task_definition_diff``, or with ``show_values`` the same diff with the values."""
        current, new = self.current_task_definition, self.new_task_definition
        if not (show_values and current and new):
            return self.task_definition_diff
        return tuple(diff(registrable(current), registrable(new), show_values=True))

    def to_dict(self, *, show_values: bool = False) -> dict[str, Any]:
        """A JSON-ready form (for ``--output json``). Environment values and secrets in the
        task definitions and their diff are masked unless ``show_values``; the first key,
        ``values_shown``, says which."""
        config = self.traffic_config
        schedule = self.schedule
        current, new = dict(self.current_task_definition), dict(self.new_task_definition)
        document: dict[str, Any] = _jsonable(
            {
                "values_shown": show_values,
                "ok": self.ok,
                "kind": self.kind,
                "strategy": None
                if self.strategy is None
                else {**self.strategy.to_dict(), "sent_by_deploy": self.changes_strategy},
                "service": self.service.to_dict(),
                "current_task_definition": current if show_values else masked(current),
                "new_task_definition": new if show_values else masked(new),
                "new_task_definition_arn": self.new_task_definition_arn,
                "registers_task_definition": self.registers_task_definition,
                "task_definition_diff": list(self.changes(show_values=show_values)),
                "appspec": self.appspec.to_dict() if self.appspec else None,
                "traffic_config": None
                if config is None
                else {
                    "name": config.name,
                    "type": str(config.type),
                    "percentage": config.percentage,
                    "interval_minutes": config.interval_minutes,
                    "summary": config.summary,
                    "created_by_deploy": self.creates_traffic_config,
                },
                "schedule": None
                if schedule is None
                else {
                    "steps": [
                        {"minute": s.minute, "green_percent": s.green_percent}
                        for s in schedule.steps
                    ],
                    "ready_wait_minutes": schedule.ready_wait_minutes,
                    "termination_wait_minutes": schedule.termination_wait_minutes,
                    "total_minutes": schedule.total_minutes,
                },
                "hooks": [{"event": str(h.event), "function": h.function} for h in self.hooks],
                "rollback": {
                    "events": list(self.auto_rollback_events),
                    "overridden": self.auto_rollback_overridden,
                    "alarms": list(self.alarm_names),
                },
                "autoscaling": {
                    "targets": [
                        {
                            "resource_id": t.resource_id,
                            "min_capacity": t.min_capacity,
                            "max_capacity": t.max_capacity,
                            "suspended": list(t.suspended),
                        }
                        for t in self.autoscaling
                    ],
                    "suspended_by_bluegreen": bool(self.autoscaling and self.suspends_scaling),
                    "suspends": list(self.suspends_scaling) if self.autoscaling else [],
                    "note": self._scaling_note if self.autoscaling else None,
                },
                "description": self.description,
                "notes": list(self.notes),
                "problems": list(self.problems),
            }
        )
        return document


def _values_shown() -> str:
    how = advice("show_values=True", "--show-values")
    return (
        f"Values shown ({how}): environment values and secrets are printed in clear below; "
        "keep this output out of logs."
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
