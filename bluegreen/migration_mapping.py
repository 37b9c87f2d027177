"""How each CodeDeploy setting becomes an ECS-native one: pure, no AWS call.

================================  =============================================================
CodeDeploy                        ECS-native (``deploymentConfiguration``)
================================  =============================================================
ECSAllAtOnce / AllAtOnce          strategy BLUE_GREEN
ECSCanary* / TimeBasedCanary      CANARY: canaryPercent, canaryBakeTimeInMinutes
ECSLinear* / TimeBasedLinear      LINEAR: stepPercent, stepBakeTimeInMinutes
terminationWaitTimeInMinutes      bakeTimeInMinutes
ready wait (STOP_DEPLOYMENT, W)   a PAUSE hook at POST_TEST_TRAFFIC_SHIFT, W minutes, ROLLBACK
AppSpec hooks                     AWS_LAMBDA lifecycle hooks (``native_config.EVENT_STAGES``)
alarmConfiguration                alarms (rollback: DEPLOYMENT_STOP_ON_ALARM among the
                                  auto-rollback events)
listener default action           a listener rule (ALB) mirroring it, the other target group
                                  at weight 0; an NLB: the listener itself
================================  =============================================================

Each function returns its part and the words a plan prints: ``MigrationItem`` rows, and the
differences (behaviour that changes) a migration must have accepted. ECS's limits are
``NativeStrategy.problems()``'s (``bluegreen.native_config``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from bluegreen.deployment_group import DeploymentGroup
from bluegreen.hooks.handlers import READY_MADE
from bluegreen.migration_facts import HookFacts, ListenerFacts
from bluegreen.migration_model import HookPlan, MigrationItem, RulePlan
from bluegreen.native_config import EVENT_STAGES, NativeHook, NativeStrategy
from bluegreen.traffic import TrafficConfig, TrafficType

__all__ = [
    "PAUSE_STAGE",
    "Mapped",
    "alarms_for",
    "answers_native",
    "hook_plan",
    "native_strategy",
    "pause_hook",
    "rollback_differences",
    "rule_plan",
]

PAUSE_STAGE = "POST_TEST_TRAFFIC_SHIFT"
"""Where CodeDeploy's ready wait falls natively: after test traffic, before production."""

HOOKS_DOC = "docs/hooks-native.md"
READY_MADE_PACKAGE = "bluegreen.hooks.handlers"


@attrs.frozen(kw_only=True)
class Mapped:
    """One setting's mapping: what it becomes, its table rows, and what changes."""

    value: Any = None
    items: tuple[MigrationItem, ...] = ()
    differences: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# -- the strategy ---------------------------------------------------------------------------


def native_strategy(
    traffic: TrafficConfig, *, bake_minutes: int, keep: Mapping[str, Any] | None = None
) -> Mapped:
    """The native strategy of a deployment config, with ``bake_minutes`` (the group's
    termination wait) as ``bakeTimeInMinutes``; ``keep``: fields of ``deploymentConfiguration``
    sent as they are (the service's minimum/maximum percent, the alarms).

    ``Mapped.value`` is a ``NativeStrategy``; its ``problems()`` are ECS's limits."""
    base = NativeStrategy(strategy="BLUE_GREEN", bake_minutes=bake_minutes, raw=dict(keep or {}))
    strategy = base.with_traffic_config(traffic)
    if traffic.type is TrafficType.CANARY:
        native = (
            f"CANARY canaryPercent {traffic.percentage}, canaryBakeTimeInMinutes "
            f"{traffic.interval_minutes}"
        )
    elif traffic.type is TrafficType.LINEAR:
        native = (
            f"LINEAR stepPercent {traffic.percentage}, stepBakeTimeInMinutes "
            f"{traffic.interval_minutes}"
        )
    else:
        native = "BLUE_GREEN (all at once)"
    items = (
        MigrationItem(
            subject="strategy", codedeploy=f"{traffic.name}: {traffic.summary}", native=native
        ),
        MigrationItem(
            subject="bake time",
            codedeploy=f"blue terminated {bake_minutes} min after success",
            native=f"bakeTimeInMinutes {bake_minutes}",
            note="both revisions run this long after production traffic moved",
        ),
    )
    return Mapped(value=strategy, items=items)


def strategy_problems(strategy: NativeStrategy, traffic: TrafficConfig) -> list[str]:
    """ECS's limits on the mapped strategy, each naming the CodeDeploy setting it comes from."""
    found = []
    for problem in strategy.problems():
        if problem.startswith("bake time"):
            source = "the group's terminationWaitTimeInMinutes"
        elif "hooks" in problem:
            source = "the AppSpec's hooks and the ready wait"
        else:
            source = f"deployment config {traffic.name}"
        found.append(f"{source} cannot be mapped: {problem}")
    return found


# -- the ready wait -------------------------------------------------------------------------


def pause_hook(group: DeploymentGroup) -> Mapped:
    """CodeDeploy's ready wait as a PAUSE hook: ``STOP_DEPLOYMENT`` with W > 0 minutes waits
    at POST_TEST_TRAFFIC_SHIFT for ``promote()`` (ContinueServiceDeployment) and rolls back
    after W minutes, as CodeDeploy stops the deployment; otherwise no hook.

    ``Mapped.value`` is the ``lifecycleHooks`` entry, or None."""
    minutes = group.ready_wait_minutes
    if group.ready_action != "STOP_DEPLOYMENT" or minutes <= 0:
        item = MigrationItem(
            subject="ready wait",
            codedeploy=f"reroute as soon as green is ready ({group.ready_action})",
            native="no pause hook",
        )
        return Mapped(value=None, items=(item,))
    hook = {
        "targetType": "PAUSE",
        "lifecycleStages": [PAUSE_STAGE],
        "timeoutConfiguration": {"timeoutInMinutes": minutes, "action": "ROLLBACK"},
    }
    item = MigrationItem(
        subject="ready wait",
        codedeploy=f"wait up to {minutes} min for a promotion (STOP_DEPLOYMENT), then stop",
        native=f"PAUSE hook at {PAUSE_STAGE}, timeout {minutes} min, then ROLLBACK",
        note="promote() (ContinueServiceDeployment CONTINUE) lets it go on, as before",
    )
    return Mapped(value=hook, items=(item,))


# -- alarms and rollback --------------------------------------------------------------------


def alarms_for(group: DeploymentGroup) -> Mapped:
    """The group's alarms as ``deploymentConfiguration.alarms`` (rollback when
    DEPLOYMENT_STOP_ON_ALARM is an auto-rollback event); ``Mapped.value`` is None without
    alarms. ``ignorePollAlarmFailure`` has no native equivalent: a difference."""
    differences: list[str] = []
    if not group.alarm_names:
        item = MigrationItem(subject="alarms", codedeploy="none", native="none")
        return Mapped(value=None, items=(item,))
    rollback = "DEPLOYMENT_STOP_ON_ALARM" in group.auto_rollback_events
    value = {"alarmNames": list(group.alarm_names), "enable": True, "rollback": rollback}
    names = ", ".join(group.alarm_names)
    item = MigrationItem(
        subject="alarms",
        codedeploy=f"{names}; {'roll back' if rollback else 'stop without rollback'} on alarm",
        native=f"alarms {names}, enable, rollback {str(rollback).lower()}",
    )
    if not rollback:
        differences.append(
            "alarms without DEPLOYMENT_STOP_ON_ALARM rollback: CodeDeploy stops the deployment "
            "where it is; ECS (alarms.rollback false) marks it failed and leaves both "
            "revisions as they are [inferred]"
        )
    if group.ignore_poll_alarm_failure:
        differences.append(
            "ignorePollAlarmFailure is on: CodeDeploy goes on when the alarms cannot be read; "
            "ECS has no such setting"
        )
    return Mapped(value=value, items=(item,), differences=tuple(differences))


def rollback_differences(group: DeploymentGroup, triggers: Sequence[str]) -> Mapped:
    """The auto-rollback events and triggers, which ECS-native has no setting for."""
    events = group.auto_rollback_events
    differences: list[str] = []
    if "DEPLOYMENT_FAILURE" not in events:
        differences.append(
            "auto-rollback on DEPLOYMENT_FAILURE is off: ECS always rolls a failed deployment "
            "back (production traffic returns to blue)"
        )
    if "DEPLOYMENT_STOP_ON_REQUEST" not in events:
        differences.append(
            "auto-rollback on DEPLOYMENT_STOP_ON_REQUEST is off: a stopped CodeDeploy "
            "deployment keeps its traffic where it is; abort() on an ECS-native deployment "
            "always rolls back"
        )
    items = [
        MigrationItem(
            subject="auto-rollback",
            codedeploy=", ".join(events) if events else "off",
            native="a failed deployment always rolls back; alarms as above",
        )
    ]
    if triggers:
        differences.append(
            f"the group's triggers ({', '.join(triggers)}) are not carried: ECS sends service "
            "deployment state changes to EventBridge instead (subscribe there)"
        )
        items.append(
            MigrationItem(
                subject="triggers",
                codedeploy=", ".join(triggers),
                native="none (EventBridge: ECS Service Deployment State Change)",
            )
        )
    return Mapped(items=tuple(items), differences=tuple(differences))


# -- hooks ----------------------------------------------------------------------------------


def answers_native(handler: str | None) -> bool | None:
    """True when a Lambda ``Handler`` names a ready-made bluegreen hook (``module.function``
    with the module ``verify_test_listener`` or ``bluegreen.hooks.handlers.verify_...``),
    which answers ECS already; None when it cannot be told."""
    if not handler or "." not in handler:
        return None
    module, _, function = handler.rpartition(".")
    name = module.rpartition(".")[2]
    if module not in (name, f"{READY_MADE_PACKAGE}.{name}"):
        return None
    return True if function in READY_MADE.get(name, ()) else None


def hook_plan(hook: HookFacts, *, role_arn: str | None, strategy: str) -> Mapped:
    """One AppSpec hook as an AWS_LAMBDA lifecycle hook on ``EVENT_STAGES[event]``.

    ``Mapped.value`` is ``(HookPlan, lifecycleHooks entry)``; a function that is not a
    ready-made hook must answer ECS's way (a difference), and a BeforeAllowTraffic hook of
    a LINEAR or CANARY strategy runs before every step (a difference)."""
    stage = EVENT_STAGES[hook.event]
    ready = answers_native(hook.handler)
    differences: list[str] = []
    if ready:
        change = f"none: {hook.handler} is a ready-made bluegreen hook, it answers ECS already"
    else:
        change = (
            "if it is built with bluegreen.hooks it answers ECS as it is; otherwise it must "
            "return {'hookStatus': 'SUCCEEDED'|'FAILED'|'IN_PROGRESS'} instead of calling "
            f"PutLifecycleEventHookExecutionStatus ({HOOKS_DOC})"
        )
        differences.append(f"hook {hook.event} ({hook.function}): {change}")
    if hook.event == "BeforeAllowTraffic" and strategy in ("LINEAR", "CANARY"):
        every = (
            f"it runs before EVERY {strategy.lower()} traffic step at {stage}, not once before "
            "production traffic moves"
        )
        change = f"{change}; {every}"
        differences.append(f"hook BeforeAllowTraffic ({hook.function}): {every}")
    entry: dict[str, Any] = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": hook.function_arn,
        "lifecycleStages": [stage],
    }
    if role_arn:
        entry["roleArn"] = role_arn
    plan = HookPlan(
        event=hook.event,
        stage=stage,
        function=hook.function,
        function_arn=hook.function_arn,
        answers_native=ready,
        change=change,
    )
    item = MigrationItem(
        subject=f"hook {hook.event}",
        codedeploy=hook.function,
        native=f"AWS_LAMBDA at {stage}: {hook.function_arn}",
    )
    return Mapped(value=(plan, entry), items=(item,), differences=tuple(differences))


def native_hooks(entries: Sequence[Mapping[str, Any]]) -> tuple[NativeHook, ...]:
    """``lifecycleHooks`` entries as ``NativeHook`` values (sent back exactly as given)."""
    return tuple(NativeHook.from_api(entry) for entry in entries)


# -- listener rules -------------------------------------------------------------------------


def rule_plan(listener: ListenerFacts, *, production: str, alternate: str) -> Mapped:
    """The rule ECS will shift ``listener``'s traffic with: an ALB gets a new rule at the
    highest free priority, path ``*``, forwarding as the default action does now plus the
    missing target group of the pair at weight 0 (traffic-neutral); an NLB's listener is
    itself the rule (its default action gains the missing target group at weight 0).

    ``Mapped.value`` is the ``RulePlan``."""
    pair = (production, alternate)
    forward = listener.forward + tuple((tg, 0) for tg in pair if tg not in dict(listener.forward))
    missing_alternate = alternate not in dict(listener.forward)
    if listener.network:
        plan = RulePlan(
            role=listener.role,
            listener_arn=listener.arn,
            rule_arn=listener.arn,
            priority=None,
            forward=forward,
            modify_listener=missing_alternate,
        )
        native = "the NLB listener itself"
        if missing_alternate:
            native += " (its default action gains the alternate target group at weight 0)"
    else:
        plan = RulePlan(
            role=listener.role,
            listener_arn=listener.arn,
            rule_arn=None,
            priority=listener.free_priority,
            forward=forward,
        )
        native = f"a new rule at priority {listener.free_priority}, path *, same forward"
    shown = ", ".join(f"{_tg_name(tg)} {weight}" for tg, weight in listener.forward) or "nothing"
    item = MigrationItem(
        subject=f"{listener.role} route",
        codedeploy=f"listener default action: forward {shown}",
        native=native,
        note="other rules on the listener keep winning; traffic does not move",
    )
    return Mapped(value=plan, items=(item,))


def _tg_name(arn: str) -> str:
    """``web-blue`` of ``arn:...:targetgroup/web-blue/0123``."""
    parts = arn.split("/")
    return parts[1] if len(parts) >= 3 else arn
