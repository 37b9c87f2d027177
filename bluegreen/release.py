"""Start a deployment: a new task-definition revision, a preflight, a plan, CreateDeployment.

``plan(...)`` reads everything a deployment depends on and changes nothing: the service's
blue/green wiring, the task definition now and the one that will run, the AppSpec, the
traffic schedule, the hooks, the rollback triggers and the scalable target, with every
problem found (``Plan.problems``). ``deploy(...)`` makes the same plan, refuses with one
``ServiceConfigError`` listing every problem before anything in AWS changes (among them a
hook whose Lambda function ``lambda:GetFunction`` does not find; ``check_hooks=False`` skips
that look-up), then

1. creates a custom traffic config given as a ``TrafficConfig`` that does not exist yet;
2. registers the new task-definition revision (only the images differ from the current one);
3. calls CreateDeployment, and returns the ``Deployment``.

CreateDeployment has no client token, so a retried call can start a second deployment. It is
sent with botocore's retries off and retried here instead: after an answer that leaves it
open whether the deployment was created (5xx, timeout, dropped connection), bluegreen looks
for it first. Each request's AppSpec starts with a comment holding a request id, which makes
its sha256 (which GetDeployment returns) unique to the request, so a deployment found with
that sha256 is ours. If CreateDeployment is refused for good, the revision registered for it
is deregistered again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import tenacity

from bluegreen import scaling
from bluegreen._advice import advice
from bluegreen._aws import Clients, resolve_clients, translate_errors
from bluegreen.appspec import AppSpec, Hook
from bluegreen.clock import MonotonicClock
from bluegreen.deployment import Deployment
from bluegreen.discovery import discover
from bluegreen.errors import (
    AccessDeniedError,
    AppSpecError,
    AWSError,
    ResourceNotFoundError,
    ServiceConfigError,
    ServiceUnavailableError,
    ThrottledError,
    TrafficConfigError,
    ValidationError,
)
from bluegreen.scaling import FLAGS, ScalableTargetState, ScalingLease
from bluegreen.status import DeploymentStatus
from bluegreen.traffic import (
    PREDEFINED_CONFIGS,
    Schedule,
    TrafficConfig,
    TrafficType,
    ensure_deployment_config,
    get_deployment_config,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_codedeploy import CodeDeployClient

    from bluegreen.clock import Clock
    from bluegreen.state import ServiceState

__all__ = [
    "Plan",
    "ScalableTargetState",
    "deploy",
    "plan",
]  # ScalableTargetState: bluegreen.scaling

READ_ONLY_TASK_DEFINITION_FIELDS = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)
"""Fields DescribeTaskDefinition returns that RegisterTaskDefinition does not take."""

ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
"""What ``auto_rollback=True`` turns on: roll back on failure, on alarm and on request."""

_ACTIVE_STATUSES = [str(s) for s in DeploymentStatus if s.is_active]
_DESCRIPTION_LIMIT = 256
# SigV4 refuses requests signed more than 15 minutes off AWS's clock, so any client that can
# call CreateDeployment at all is within this much of the createTime AWS records.
_CLOCK_SKEW = dt.timedelta(minutes=15)
_CREATE_ATTEMPTS = 5
_CREATE_BUDGET = 120.0


def _not_suspending_note() -> str:
    how = advice("suspend_scaling=False", "--no-suspend-scaling")
    return (
        f"scaling is not suspended ({how}): a scaling activity during the "
        "deployment resizes blue and green, and CodeDeploy fails the deployment if they are not "
        "steady again within 5 minutes"
    )


def _recover_hint(cluster: str, service: str) -> str:
    """How to restore scaling left suspended, in the reader's words."""
    return advice(
        f"bluegreen.recover({cluster!r}, {service!r})",
        f"`bluegreen recover --cluster {cluster} --service {service}`",
    )


# -- the plan ----------------------------------------------------------------------------


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
        task_definition_diff: one line per changed field, ``path: old -> new``.
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
    """

    service: ServiceState
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
        group = self.service.deployment_group
        where = f"{self.service.cluster}/{self.service.service}"
        lines = [f"Plan: deploy to {where}"]
        lines.append(
            "  deployment group  "
            + (f"{group.application} / {group.name}" if group else "(none found)")
        )
        current = _short_arn(self.current_task_definition_arn)
        new = _short_arn(self.new_task_definition_arn)
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
        lines += [f"  {line}" for line in self.task_definition_diff] or ["  (none)"]

        lines.append("")
        lines.append("AppSpec:")
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

    @property
    def _scaling_note(self) -> str:
        if not self.suspends_scaling:
            return _not_suspending_note()
        kinds = ", ".join(self.suspends_scaling)
        recover = _recover_hint(self.service.cluster, self.service.service)
        return (
            f"deploy suspends scaling ({kinds}) after recording the state above in tag "
            "bluegreen:scaling on the service, and restores exactly that state when the "
            f"deployment (and any rollback) ends; {recover} restores it after a crash"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for ``--output json``)."""
        config = self.traffic_config
        schedule = self.schedule
        document: dict[str, Any] = _jsonable(
            {
                "ok": self.ok,
                "service": self.service.to_dict(),
                "current_task_definition": dict(self.current_task_definition),
                "new_task_definition": dict(self.new_task_definition),
                "new_task_definition_arn": self.new_task_definition_arn,
                "registers_task_definition": self.registers_task_definition,
                "task_definition_diff": list(self.task_definition_diff),
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


def plan(
    cluster: str,
    service: str,
    *,
    image: str | Mapping[str, str] | None = None,
    task_definition: str | None = None,
    hooks: Mapping[str, str] | None = None,
    traffic_config: str | TrafficConfig | None = None,
    auto_rollback: Sequence[str] | bool | None = None,
    description: str | None = None,
    application: str | None = None,
    deployment_group: str | None = None,
    allow_mutable_image_tags: bool = False,
    suspend_scaling: bool | Sequence[str] = True,
    check_hooks: bool = True,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
) -> Plan:
    """What ``deploy`` with these arguments would do; nothing in AWS changes.

    Takes ``deploy``'s arguments (without ``clock``). Problems do not raise: they are listed
    in ``Plan.problems``.

    Raises:
        ValidationError: the arguments contradict each other (both or neither of ``image``
            and ``task_definition``; ``application`` without ``deployment_group``).
        ResourceNotFoundError: the service does not exist.
        ServiceConfigError: no deployment group could be found for the service, so there is
            nothing to plan against.
    """
    _check_arguments(image, task_definition, application, deployment_group)
    aws = resolve_clients(clients, session)
    return _Planner(
        aws,
        cluster,
        service,
        image=image,
        task_definition=task_definition,
        hooks=hooks,
        traffic_config=traffic_config,
        auto_rollback=auto_rollback,
        description=description,
        application=application,
        deployment_group=deployment_group,
        allow_mutable_image_tags=allow_mutable_image_tags,
        suspend_scaling=suspend_scaling,
        check_hooks=check_hooks,
    ).plan()


def deploy(
    cluster: str,
    service: str,
    *,
    image: str | Mapping[str, str] | None = None,
    task_definition: str | None = None,
    hooks: Mapping[str, str] | None = None,
    traffic_config: str | TrafficConfig | None = None,
    auto_rollback: Sequence[str] | bool | None = None,
    description: str | None = None,
    application: str | None = None,
    deployment_group: str | None = None,
    allow_mutable_image_tags: bool = False,
    suspend_scaling: bool | Sequence[str] = True,
    check_hooks: bool = True,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> Deployment:
    """Deploy a new image (or task definition) to a CodeDeploy blue/green ECS service.

    Checks everything first and changes nothing if anything is wrong. Then creates the
    traffic config if a new ``TrafficConfig`` was given, registers the new task-definition
    revision, and creates the deployment. Returns as soon as the deployment exists; call
    ``wait()`` on the result to follow it.

    Args:
        cluster: cluster name or ARN.
        service: service name or ARN.
        image: the new image of the container the load balancer routes to, or
            ``{container: image}`` for several containers. A new revision of the service's
            current task definition is registered with only these images changed (secrets,
            environment, roles, volumes and tags are kept). Asking for the images the
            service already runs is refused: to redeploy the same revision, pass its ARN as
            ``task_definition``.
        task_definition: deploy this existing task definition (ARN) instead of ``image``.
        hooks: ``{lifecycle event: Lambda function name or ARN}``.
        traffic_config: a deployment config name, or a ``TrafficConfig`` (created in
            CodeDeploy if missing); default: the deployment group's.
        auto_rollback: None keeps the group's setting; False turns rollback off for this
            deployment; True turns on all three events; a list (or a comma-separated string)
            of ``DEPLOYMENT_FAILURE``, ``DEPLOYMENT_STOP_ON_ALARM``,
            ``DEPLOYMENT_STOP_ON_REQUEST`` turns on those.
        description: the deployment's description (at most 256 characters).
        application: the CodeDeploy application; with ``deployment_group``, skips the lookup.
        deployment_group: the CodeDeploy deployment group.
        allow_mutable_image_tags: accept images such as ``app:latest`` whose tag can move.
        suspend_scaling: suspend autoscaling for the deployment (True: scale-in, scale-out
            and scheduled scaling; or some of ``"in"``, ``"out"``, ``"scheduled"``; False:
            leave it alone) and restore exactly the recorded state when it ends.
        check_hooks: look up every hook's Lambda function with ``lambda:GetFunction`` before
            anything changes (default). A function that does not exist is a problem, and so
            is a refused GetFunction (AccessDenied): grant ``lambda:GetFunction`` on the hook
            functions, or pass ``check_hooks=False`` (``--no-check-hooks``) to skip the check.
        clients: ready ``bluegreen.Clients``; or
        session: the ``boto3.Session`` to use (region and profile).
        clock: ``time()`` and ``sleep()`` for the retries of CreateDeployment and for the
            returned ``Deployment`` (default: the real monotonic clock).

    CreateDeployment goes through its own codedeploy client, made like
    ``clients.codedeploy`` (same session, region, endpoint and config) but with botocore's
    retries off: bluegreen retries it, after checking the deployment was not created.

    Returns:
        The new deployment (``Deployment.attach`` of its id).

    Raises:
        ValidationError: contradictory arguments.
        ServiceConfigError: preflight found problems; lists every one. Nothing was changed.
        ConflictError: a custom ``TrafficConfig`` exists with other settings (found by the
            preflight as well, unless it was created in between).
        AWSError: an AWS call failed. If CreateDeployment was refused, the revision registered
            for it has been deregistered; if it is unknown whether the deployment was
            created (AWS kept failing and bluegreen could not look), the revision is kept
            and the message says so.
    """
    _check_arguments(image, task_definition, application, deployment_group)
    aws = resolve_clients(clients, session)
    the_clock: Clock = clock if clock is not None else MonotonicClock()
    planner = _Planner(
        aws,
        cluster,
        service,
        image=image,
        task_definition=task_definition,
        hooks=hooks,
        traffic_config=traffic_config,
        auto_rollback=auto_rollback,
        description=description,
        application=application,
        deployment_group=deployment_group,
        allow_mutable_image_tags=allow_mutable_image_tags,
        suspend_scaling=suspend_scaling,
        check_hooks=check_hooks,
    )
    the_plan = planner.plan()
    if the_plan.problems:
        raise ServiceConfigError(the_plan.problems)
    group = the_plan.service.deployment_group
    appspec = the_plan.appspec
    config = the_plan.traffic_config
    # A plan without problems has all three.
    assert group is not None
    assert appspec is not None
    assert config is not None

    lease: ScalingLease | None = None
    if the_plan.suspends_scaling:
        scaling._restore_ended(
            the_plan.service.cluster, the_plan.service.service, clients=aws, clock=the_clock
        )
        lease = scaling.suspend_scaling(
            the_plan.service.cluster,
            the_plan.service.service,
            suspend=the_plan.suspends_scaling,
            clients=aws,
            clock=the_clock,
        )
    request: _CreateRequest | None = None
    try:
        if the_plan.creates_traffic_config:
            ensure_deployment_config(config, clients=aws)

        registered: str | None = None
        if the_plan.registers_task_definition:
            with translate_errors("RegisterTaskDefinition"):
                answer = aws.ecs.register_task_definition(**the_plan.new_task_definition)
            registered = answer["taskDefinition"]["taskDefinitionArn"]
            appspec = appspec.with_task_definition(registered)

        request = _CreateRequest(
            aws=aws,
            clock=the_clock,
            application=group.application,
            deployment_group=group.name,
            appspec=appspec,
            deployment_config=config.name if traffic_config is not None else None,
            auto_rollback=_rollback_override(auto_rollback),
            description=description
            if description is not None
            else f"bluegreen deploy of {_short_arn(appspec.task_definition)}",
        )
        try:
            deployment_id = request.create()
        except AWSError as exc:
            if registered is not None:
                if request.may_exist:
                    exc.add_note(
                        f"task-definition revision {registered} was kept: the deployment may "
                        "have been created with it"
                    )
                else:
                    _deregister(aws, registered, exc)
            raise
    except BaseException as exc:
        if lease is not None:
            _give_back(
                lease,
                exc,
                may_exist=request is not None and request.may_exist,
                state=the_plan.service,
            )
        raise
    if lease is not None:
        try:
            lease.attach(deployment_id)
        except AWSError as exc:
            recover = _recover_hint(the_plan.service.cluster, the_plan.service.service)
            exc.add_note(
                f"deployment {deployment_id} was created and runs; its scaling record has no "
                f"deployment id, so {recover} restores it once the group has no "
                "deployment in flight"
            )
            raise
    return Deployment.attach(deployment_id, clients=aws, clock=the_clock)


# -- arguments ---------------------------------------------------------------------------


def _check_arguments(
    image: str | Mapping[str, str] | None,
    task_definition: str | None,
    application: str | None,
    deployment_group: str | None,
) -> None:
    problems = []
    if (image is None) == (task_definition is None):
        problems.append(
            "give exactly one of "
            + advice(
                "image= (a new image for the current task definition) and task_definition= "
                "(an existing task-definition ARN)",
                "--image (a new image for the current task definition) and --task-definition "
                "(an existing task-definition ARN)",
            )
        )
    if (application is None) != (deployment_group is None):
        problems.append(
            "give "
            + advice("application= and deployment_group=", "--application and --deployment-group")
            + " together, or neither"
        )
    if problems:
        raise ValidationError(problems, subject="deploy arguments")


def _rollback_events(value: Sequence[str] | bool | None) -> tuple[tuple[str, ...], list[str]]:
    """The events ``auto_rollback=`` turns on, and problems with it (None: the group's)."""
    if value is None or value is False:
        return (), []
    if value is True:
        return ROLLBACK_EVENTS, []
    items = value.split(",") if isinstance(value, str) else list(value)
    events = tuple(dict.fromkeys(e.strip() for e in items if e and e.strip()))
    problems = []
    what = advice("auto_rollback=", "--rollback-events")
    if not events:
        off = advice("False", "--no-rollback")
        problems.append(
            f"{what} lists no events: give some of {', '.join(ROLLBACK_EVENTS)}, or {off} to "
            "turn rollback off"
        )
    unknown = [e for e in events if e not in ROLLBACK_EVENTS]
    if unknown:
        problems.append(
            f"{what} names unknown event(s) {', '.join(unknown)}: use {', '.join(ROLLBACK_EVENTS)}"
        )
    return events, problems


def _rollback_override(value: Sequence[str] | bool | None) -> dict[str, Any] | None:
    """CreateDeployment's ``autoRollbackConfiguration`` for ``auto_rollback=``."""
    if value is None:
        return None
    events, _ = _rollback_events(value)
    if not events:
        return {"enabled": False}
    return {"enabled": True, "events": list(events)}


def _scaling_flags(value: bool | Sequence[str]) -> tuple[str, ...]:
    """The kinds of scaling ``suspend_scaling=`` names (True: all three; False: none)."""
    if value is True:
        return tuple(FLAGS)
    if value is False:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))


# -- building the plan -------------------------------------------------------------------


@attrs.define
class _Planner:
    """Reads what a deployment depends on and notes every problem; writes nothing."""

    aws: Clients
    cluster: str
    service: str
    image: str | Mapping[str, str] | None
    task_definition: str | None
    hooks: Mapping[str, str] | None
    traffic_config: str | TrafficConfig | None
    auto_rollback: Sequence[str] | bool | None
    description: str | None
    application: str | None
    deployment_group: str | None
    allow_mutable_image_tags: bool
    suspend_scaling: bool | Sequence[str] = True
    check_hooks: bool = True
    problems: list[str] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)

    def plan(self) -> Plan:
        state = self._discover()
        group = state.deployment_group
        self._check_service(state)

        current = self._current_task_definition(state)
        if self.image is not None:
            new, new_arn, registers = self._new_revision(state, current)
        else:
            new, new_arn, registers = self._given_task_definition(current)
        diff = tuple(_diff(_registrable(current), _registrable(new))) if current and new else ()

        hooks = self._valid_hooks()
        appspec = self._appspec(state, new_arn, new, hooks)
        self._check_hook_functions(hooks)
        config, creates = self._traffic_config(state)
        schedule = None
        if config is not None and group is not None:
            schedule = config.schedule(
                ready_wait_minutes=group.promotion_wait_minutes,
                termination_wait_minutes=group.termination_wait_minutes,
            )

        events, problems = _rollback_events(self.auto_rollback)
        self.problems += problems
        events = tuple(e for e in events if e in ROLLBACK_EVENTS)
        overridden = self.auto_rollback is not None
        if not overridden and group is not None:
            events = group.auto_rollback_events
        alarm_names = group.alarm_names if group is not None else ()
        if group is not None:
            self._check_alarms(group.alarm_names, f"{group.application}/{group.name}")
            self._check_active_deployment(group.application, group.name)

        description = self.description
        if description is None and new_arn:
            description = f"bluegreen deploy of {_short_arn(new_arn)}"
        if description is not None and len(description) > _DESCRIPTION_LIMIT:
            self.problems.append(
                f"description is {len(description)} characters; CodeDeploy takes at most "
                f"{_DESCRIPTION_LIMIT}"
            )

        autoscaling = self._autoscaling(state)
        return Plan(
            service=state,
            current_task_definition=current,
            new_task_definition=new,
            new_task_definition_arn=new_arn,
            registers_task_definition=registers,
            task_definition_diff=diff,
            appspec=appspec,
            traffic_config=config,
            creates_traffic_config=creates,
            schedule=schedule,
            hooks=tuple(sorted(appspec.hooks, key=lambda h: h.event.position)) if appspec else (),
            auto_rollback_events=events,
            auto_rollback_overridden=overridden,
            alarm_names=alarm_names,
            autoscaling=autoscaling,
            suspends_scaling=self._scaling_flags() if autoscaling else (),
            description=description,
            notes=tuple(dict.fromkeys(self.notes)),
            problems=tuple(dict.fromkeys(self.problems)),
        )

    def _scaling_flags(self) -> tuple[str, ...]:
        """The kinds of scaling ``suspend_scaling=`` asks for; a bad one is a problem."""
        flags = _scaling_flags(self.suspend_scaling)
        unknown = [f for f in flags if f not in FLAGS]
        if unknown or (self.suspend_scaling is not False and not flags):
            self.problems.append(
                advice(
                    f"suspend_scaling= takes True, False or some of {', '.join(FLAGS)}; "
                    f"got {self.suspend_scaling!r}",
                    f"--suspend-scaling takes a comma-separated list of {', '.join(FLAGS)} "
                    "(or give --no-suspend-scaling)",
                )
            )
            return ()
        return flags

    # -- the service and its group -----------------------------------------------------

    def _discover(self) -> ServiceState:
        """The service's state; a group that is missing or deploys another service is a
        problem, and the state is then read without it."""
        try:
            return discover(
                self.cluster,
                self.service,
                application=self.application,
                deployment_group=self.deployment_group,
                clients=self.aws,
            )
        except ServiceConfigError as exc:  # the named group deploys another service
            self.problems += exc.problems
        except ResourceNotFoundError as exc:
            if exc.operation == "DescribeServices":
                raise
            self.problems.append(f"{exc.message.rstrip('.')}")
        if self.application is None:
            raise ServiceConfigError(self.problems)
        try:
            state = discover(self.cluster, self.service, clients=self.aws)
        except ResourceNotFoundError as exc:
            self.problems.append(exc.message)
            raise ServiceConfigError(dict.fromkeys(self.problems)) from exc
        if state.deployment_group is not None:
            g = state.deployment_group
            self.problems.append(
                f"the deployment group that deploys {state.cluster}/{state.service} is "
                f"{g.application}/{g.name}: name that one, or leave "
                + advice(
                    "application= and deployment_group=", "--application and --deployment-group"
                )
                + " out"
            )
        return state

    def _check_service(self, state: ServiceState) -> None:
        where = f"service {state.cluster}/{state.service}"
        if not state.is_code_deploy:
            self.problems.append(
                f"{where} uses the {state.deployment_controller} deployment controller; "
                "CodeDeploy blue/green needs a service created with deploymentController "
                "CODE_DEPLOY"
            )
        group = state.deployment_group
        if group is None:
            self.problems.append(
                f"no CodeDeploy deployment group deploys {where}: create one, or "
                + advice(
                    "pass application= and deployment_group=",
                    "give --application and --deployment-group",
                )
            )
            return
        where_group = f"deployment group {group.application}/{group.name}"
        if group.production_listener_arn and state.production is None:
            self.problems.append(
                f"the production listener {group.production_listener_arn} of {where_group} "
                "was not found"
            )
        if group.test_listener_arn and state.test is None:
            self.problems.append(
                f"the test listener {group.test_listener_arn} of {where_group} was not found"
            )
        production, test = state.production, state.test
        if (
            production is not None
            and test is not None
            and production.load_balancer_arn != test.load_balancer_arn
        ):
            self.problems.append(
                f"{where_group}: the production listener (:{production.port}) and the test "
                f"listener (:{test.port}) are on different load balancers; CodeDeploy needs "
                "both on the service's load balancer"
            )
        if group.target_group_names is not None and state.target_groups is None:
            names = " and ".join(group.target_group_names)
            self.problems.append(f"{where_group}: target groups {names} were not both found")
        service_tgs = [lb.target_group_arn for lb in state.load_balancers if lb.target_group_arn]
        pair = state.target_groups
        if pair is not None and service_tgs and not set(service_tgs) & set(pair.arns):
            used = ", ".join(_tg_name(a) for a in service_tgs)
            self.problems.append(
                f"{where_group}: its target-group pair ({pair.first.name} and "
                f"{pair.second.name}) does not contain the target group the service uses "
                f"({used}); CodeDeploy would route to groups the service's tasks are not "
                "registered in"
            )

    # -- task definitions ------------------------------------------------------------------

    def _describe(self, task_definition: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        with translate_errors("DescribeTaskDefinition"):
            answer = self.aws.ecs.describe_task_definition(
                taskDefinition=task_definition, include=["TAGS"]
            )
        tags = [
            {"key": t.get("key", ""), "value": t.get("value", "")} for t in answer.get("tags") or ()
        ]
        return dict(answer["taskDefinition"]), tags

    def _current_task_definition(self, state: ServiceState) -> dict[str, Any]:
        arn = state.primary.task_definition if state.primary else state.task_definition
        if not arn:
            self.problems.append(f"service {state.service} has no task definition to start from")
            return {}
        try:
            described, tags = self._describe(arn)
        except AWSError as exc:
            if isinstance(exc, AccessDeniedError | ThrottledError | ServiceUnavailableError):
                raise
            self.problems.append(f"the service's task definition {arn} cannot be read: {exc}")
            return {}
        if tags:
            described["tags"] = tags
        return described

    def _new_revision(
        self, state: ServiceState, current: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None, bool]:
        """The RegisterTaskDefinition arguments of the new revision and its expected ARN."""
        if not current:
            return {}, None, True
        images = self._images(state, current)
        if images is None:
            return {}, None, True
        new = self._registration_arguments(current)
        containers = {c["name"]: c for c in new.get("containerDefinitions", ())}
        changed = False
        for name, uri in images.items():
            if containers[name].get("image") != uri:
                containers[name]["image"] = uri
                changed = True
        asked = 1 if isinstance(self.image, str) else len(self.image or {})
        if not changed and len(images) == asked:  # (a bad entry is reported already)
            running = ", ".join(f"{n}={u}" for n, u in images.items())
            arn = str(current.get("taskDefinitionArn"))
            again = advice(f"pass task_definition={arn!r}", f"give --task-definition {arn}")
            self.problems.append(
                f"task definition {_short_arn(arn)} already runs {running}: nothing to deploy. "
                "To start the same revision again (to pick up new secret values, say), "
                f"{again} instead"
            )
        return new, self._expected_arn(current), True

    def _images(self, state: ServiceState, current: Mapping[str, Any]) -> dict[str, str] | None:
        """``{container: image}`` to set; containers the task definition lacks, and images
        that are not strings, are problems and left out, so the rest can still be checked."""
        names = [str(c.get("name")) for c in current.get("containerDefinitions", ())]
        known = ", ".join(repr(n) for n in names) or "none"
        revision = _short_arn(current.get("taskDefinitionArn"))
        if isinstance(self.image, str):
            try:
                container = state.load_balancer_binding().container_name
            except ServiceConfigError as exc:
                self.problems += exc.problems
                return None
            wanted = {container: self.image}
        else:
            assert self.image is not None
            wanted = dict(self.image)
            if not wanted:
                self.problems.append(
                    advice("image= is an empty mapping", "--image names no container")
                    + ": name a container and image"
                )
                return None
        images = {}
        for container, uri in wanted.items():
            if container not in names:
                self.problems.append(
                    f"container {container!r} is not in task definition {revision} "
                    f"(containers: {known})"
                )
            elif not isinstance(uri, str) or not uri.strip() or uri != uri.strip():
                self.problems.append(f"image {uri!r} for container {container!r} is not an image")
            else:
                images[container] = uri
        return images or None

    def _registration_arguments(self, current: Mapping[str, Any]) -> dict[str, Any]:
        model = self.aws.ecs.meta.service_model.operation_model("RegisterTaskDefinition")
        shape = model.input_shape
        accepted = set(shape.members) if shape is not None else set(current)
        arguments = {}
        for key, value in current.items():
            if key in READ_ONLY_TASK_DEFINITION_FIELDS:
                continue
            if key not in accepted:
                self.notes.append(
                    f"the current task definition's field {key!r} is not a "
                    "RegisterTaskDefinition argument and is left out of the new revision"
                )
                continue
            arguments[key] = json.loads(json.dumps(value, default=str))  # a deep copy
        return arguments

    def _expected_arn(self, current: Mapping[str, Any]) -> str | None:
        arn = str(current.get("taskDefinitionArn") or "")
        family = current.get("family")
        if not arn or not family:
            return None
        latest = int(current.get("revision") or 0)
        try:
            with translate_errors("DescribeTaskDefinition"):
                newest = self.aws.ecs.describe_task_definition(taskDefinition=str(family))
            latest = max(latest, int(newest["taskDefinition"].get("revision") or 0))
        except AWSError:
            pass  # the number is only a forecast; the current revision's is good enough
        return f"{arn.rsplit(':', 1)[0]}:{latest + 1}"

    def _given_task_definition(
        self, current: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None, bool]:
        assert self.task_definition is not None
        try:
            described, tags = self._describe(self.task_definition)
        except AWSError as exc:
            if isinstance(exc, AccessDeniedError | ThrottledError | ServiceUnavailableError):
                raise
            self.problems.append(
                f"task definition {self.task_definition!r} cannot be read ({exc.message}): "
                "give the ARN of a registered revision"
            )
            return {}, None, False
        if tags:
            described["tags"] = tags
        arn = str(described["taskDefinitionArn"])
        if described.get("status") not in (None, "ACTIVE"):
            self.problems.append(
                f"task definition {_short_arn(arn)} is {described.get('status')}; register it "
                "again or deploy an ACTIVE revision"
            )
        if current and arn == current.get("taskDefinitionArn"):
            self.notes.append(
                f"{_short_arn(arn)} is the revision the service runs now: the deployment "
                "replaces its tasks with new ones of the same revision"
            )
        return described, arn, False

    # -- AppSpec and traffic ------------------------------------------------------------

    def _appspec(
        self,
        state: ServiceState,
        arn: str | None,
        task_definition: Mapping[str, Any],
        hooks: Sequence[Hook],
    ) -> AppSpec | None:
        """The AppSpec to send. A hook that is wrong is a problem and is left out, so the
        rest of the AppSpec is still checked."""
        if arn is None:
            return None
        try:
            appspec = AppSpec.for_service(state, arn, hooks=hooks)
        except ValidationError as exc:
            self.problems += exc.problems
            if not hooks:
                return None
            try:  # check the rest without the hooks
                appspec = AppSpec.for_service(state, arn)
            except ValidationError:
                return None
        self._appspec_problems(appspec, state, task_definition)
        return appspec

    def _valid_hooks(self) -> list[Hook]:
        """The hooks given, in run order; a wrong one is a problem (noted once) and left out."""
        hooks = []
        for event, function in (self.hooks or {}).items():
            try:
                hooks.append(Hook(event, function))
            except AppSpecError as exc:
                self.problems += exc.problems
        return sorted(hooks, key=lambda h: h.event.position)

    def _check_hook_functions(self, hooks: Sequence[Hook]) -> None:
        """Every hook's Lambda function exists (``lambda:GetFunction``), so a typo is found
        now and not at the hook's lifecycle event, half an hour into the deployment."""
        if not hooks:
            return
        if not self.check_hooks:
            skipped = advice("check_hooks=False", "--no-check-hooks")
            self.notes.append(f"the hooks' Lambda functions were not looked up ({skipped})")
            return
        client = self.aws.client("lambda")
        default_region = str(client.meta.region_name)
        skip = advice("pass check_hooks=False", "add --no-check-hooks")
        fix = advice("fix the function in hooks=", "fix the function in --hook")
        for hook in hooks:
            function = hook.function
            region = _lambda_region(function) or default_region
            where = f"hook {hook.event}: Lambda function {function!r} in {region}"
            try:
                with translate_errors("GetFunction"):
                    client.get_function(FunctionName=function)
            except ResourceNotFoundError:
                self.problems.append(
                    f"{where} does not exist; CodeDeploy would fail the deployment at "
                    f"{hook.event} and roll it back: create (deploy) the function in {region}, "
                    f"or {fix}"
                )
            except AccessDeniedError as exc:
                self.problems.append(
                    f"{where} cannot be looked up: lambda:GetFunction was refused ({exc.message}); "
                    "grant lambda:GetFunction on the hook functions to the identity that "
                    f"deploys, or {skip} to skip this check"
                )
            except (ThrottledError, ServiceUnavailableError):
                raise
            except AWSError as exc:
                self.problems.append(
                    f"{where} cannot be looked up ({exc.message}): give the function's name or "
                    f"ARN, or {skip} to skip this check"
                )

    def _appspec_problems(
        self, appspec: AppSpec, state: ServiceState, task_definition: Mapping[str, Any]
    ) -> None:
        self.problems += appspec.problems(
            task_definition=task_definition or None,
            deployment_group=state.deployment_group,
            allow_mutable_image_tags=self.allow_mutable_image_tags,
        )

    def _traffic_config(self, state: ServiceState) -> tuple[TrafficConfig | None, bool]:
        """The config that will shift traffic, and whether deploy creates it."""
        group = state.deployment_group
        wanted = self.traffic_config
        config: TrafficConfig | None = None
        creates = False
        if isinstance(wanted, TrafficConfig):
            config, creates = self._ensure_plan(wanted)
        else:
            name = wanted
            if name is None and group is not None:
                name = group.deployment_config_name
            if name is None:
                if group is not None:
                    self.problems.append(
                        f"deployment group {group.application}/{group.name} names no deployment "
                        "config: "
                        + advice(
                            "pass traffic_config=",
                            "give --config NAME, --canary PERCENT/MINUTES or "
                            "--linear PERCENT/MINUTES",
                        )
                    )
                return None, False
            config = self._read_config(name)
        production = state.production
        if (
            config is not None
            and production is not None
            and production.is_network
            and config.type is not TrafficType.ALL_AT_ONCE
        ):
            self.problems.append(
                f"{config.name} shifts traffic in steps, but the production listener is "
                f"{production.protocol} on a Network Load Balancer, which CodeDeploy shifts "
                "all at once only: use CodeDeployDefault.ECSAllAtOnce"
            )
        return config, creates

    def _read_config(self, name: str) -> TrafficConfig | None:
        if name in PREDEFINED_CONFIGS:
            return PREDEFINED_CONFIGS[name]
        try:
            return get_deployment_config(name, clients=self.aws)
        except ResourceNotFoundError:
            fix = advice(
                "create it (pass a TrafficConfig to have deploy create it) or use a "
                "CodeDeployDefault.ECS* config",
                "create it, give --canary PERCENT/MINUTES or --linear PERCENT/MINUTES to have "
                "deploy create one, or give --config CodeDeployDefault.ECS*",
            )
            self.problems.append(f"deployment config {name!r} does not exist in CodeDeploy: {fix}")
        except TrafficConfigError as exc:
            self.problems += exc.problems
        return None

    def _ensure_plan(self, config: TrafficConfig) -> tuple[TrafficConfig, bool]:
        if config.is_predefined:
            return config, False
        try:
            existing = get_deployment_config(config.name, clients=self.aws)
        except ResourceNotFoundError:
            self.notes.append(f"deployment config {config.name} ({config.summary}) will be created")
            return config, True
        except TrafficConfigError as exc:
            self.problems += exc.problems
            return config, False
        if existing != config:
            self.problems.append(
                f"deployment config {config.name!r} already exists as {existing.summary}, "
                f"not {config.summary}; CodeDeploy configs cannot be changed: give yours "
                "another name"
            )
        return config, False

    # -- what is going on in the group ------------------------------------------------------

    def _check_alarms(self, names: Sequence[str], group: str) -> None:
        if not names:
            return
        try:
            with translate_errors("DescribeAlarms"):
                found = self.aws.cloudwatch.describe_alarms(AlarmNames=list(names))
        except AccessDeniedError as exc:
            self.notes.append(f"the group's alarms could not be checked: {exc}")
            return
        states = {a["AlarmName"]: a.get("StateValue") for a in found.get("MetricAlarms", ())}
        states.update(
            {a["AlarmName"]: a.get("StateValue") for a in found.get("CompositeAlarms", ())}
        )
        for name in names:
            if name not in states:
                self.problems.append(
                    f"alarm {name!r} of deployment group {group} does not exist in CloudWatch: "
                    "create it or remove it from the group"
                )
            elif states[name] == "ALARM":
                self.problems.append(
                    f"alarm {name!r} of deployment group {group} is in ALARM already; "
                    "CodeDeploy would stop the deployment during Install (ALARM_ACTIVE): "
                    "wait until it is OK"
                )

    def _check_active_deployment(self, application: str, group: str) -> None:
        codedeploy = self.aws.codedeploy
        with translate_errors("ListDeployments"):
            ids = codedeploy.list_deployments(
                applicationName=application,
                deploymentGroupName=group,
                includeOnlyStatuses=_ACTIVE_STATUSES,  # type: ignore[arg-type]
            ).get("deployments", [])
        for deployment_id in ids[:3]:
            with translate_errors("GetDeployment"):
                info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            status = info.get("status", "?")
            rollback = (info.get("rollbackInfo") or {}).get("rollbackTriggeringDeploymentId")
            what = f" (rolling back {rollback})" if rollback else ""
            follow = advice(
                f'bluegreen.Deployment.attach("{deployment_id}").wait()',
                f"`bluegreen wait --deployment-id {deployment_id}`",
            )
            stop = advice(
                f'bluegreen.Deployment.attach("{deployment_id}").abort()',
                f"`bluegreen abort --deployment-id {deployment_id}`",
            )
            self.problems.append(
                f"deployment {deployment_id} is already active ({status}){what} in deployment "
                f"group {application}/{group}, and CodeDeploy runs one at a time: follow it "
                f"with {follow}, or stop it first with {stop}"
            )

    def _autoscaling(self, state: ServiceState) -> tuple[ScalableTargetState, ...]:
        resource = f"service/{state.cluster}/{state.service}"
        try:
            with translate_errors("DescribeScalableTargets"):
                answer = self.aws.autoscaling.describe_scalable_targets(
                    ServiceNamespace="ecs",
                    ResourceIds=[resource],
                    ScalableDimension="ecs:service:DesiredCount",
                )
        except AccessDeniedError as exc:
            self.notes.append(f"the scalable target could not be read: {exc}")
            return ()
        return tuple(ScalableTargetState.from_api(t) for t in answer.get("ScalableTargets", ()))


# -- CreateDeployment, exactly once ----------------------------------------------------


_RETRYABLE = (ThrottledError, ServiceUnavailableError)


@attrs.define
class _CreateRequest:
    """One CreateDeployment request, retried without ever starting two deployments.

    ``may_exist`` is True while it is unknown whether AWS created the deployment: after an
    ambiguous failure that could not be cleared up by looking.
    """

    aws: Clients
    clock: Clock
    application: str
    deployment_group: str
    appspec: AppSpec
    deployment_config: str | None
    auto_rollback: dict[str, Any] | None
    description: str | None
    request_id: str = attrs.Factory(lambda: uuid.uuid4().hex)
    may_exist: bool = False
    _content: str = attrs.field(init=False)
    _sha256: str = attrs.field(init=False)
    _since: dt.datetime = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # The comment changes nothing CodeDeploy reads but makes the sha256 ours alone.
        self._content = f"# bluegreen request {self.request_id}\n" + self.appspec.to_yaml()
        self._sha256 = hashlib.sha256(self._content.encode("utf-8")).hexdigest()
        self._since = dt.datetime.now(dt.UTC) - _CLOCK_SKEW

    def _arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "applicationName": self.application,
            "deploymentGroupName": self.deployment_group,
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": self._content, "sha256": self._sha256},
            },
        }
        if self.deployment_config is not None:
            arguments["deploymentConfigName"] = self.deployment_config
        if self.auto_rollback is not None:
            arguments["autoRollbackConfiguration"] = self.auto_rollback
        if self.description is not None:
            arguments["description"] = self.description
        return arguments

    def create(self) -> str:
        """The id of the deployment this request created (or had created already)."""
        client = _client_without_retries(self.aws)
        started = self.clock.time()

        def stop(state: tenacity.RetryCallState) -> bool:
            return (
                state.attempt_number >= _CREATE_ATTEMPTS
                or self.clock.time() - started >= _CREATE_BUDGET
            )

        retrying = tenacity.Retrying(
            sleep=self.clock.sleep,
            stop=stop,
            wait=tenacity.wait_exponential_jitter(initial=1.0, max=20.0, jitter=1.0),
            # Never again once it is unknown whether an earlier attempt created it.
            retry=tenacity.retry_if_exception(
                lambda exc: isinstance(exc, _RETRYABLE) and not self.may_exist
            ),
            reraise=True,
        )
        return retrying(self._attempt, client)

    def _attempt(self, client: CodeDeployClient) -> str:
        try:
            with translate_errors("CreateDeployment"):
                return client.create_deployment(**self._arguments())["deploymentId"]
        except ThrottledError:
            raise  # refused before anything happened: try again
        except ServiceUnavailableError:
            # The request may have been carried out with the answer lost.
            found = self._look_for_ours(lambda: self._search(recent=True))
            if found is not None:
                return found
            raise
        except AWSError as exc:
            if exc.code != "DeploymentLimitExceededException":
                raise
            # A deployment is active although the preflight saw none: ours, if an earlier
            # attempt went through and ListDeployments did not show it yet.
            found = self._look_for_ours(lambda: self._search(recent=False))
            if found is not None:
                return found
            raise

    def _look_for_ours(self, search: Callable[[], str | None]) -> str | None:
        self.may_exist = True
        try:
            found = search()
        except AWSError as exc:
            raise ServiceUnavailableError(
                f"CreateDeployment may have created a deployment, and looking for it failed "
                f"({exc}); not trying again, to avoid a second deployment. Look for a "
                f"deployment of revision sha256 {self._sha256} in {self.application}/"
                f"{self.deployment_group} before deploying again",
                operation="CreateDeployment",
                code=exc.code,
            ) from exc
        self.may_exist = False
        return found

    def _search(self, *, recent: bool) -> str | None:
        """Our deployment's id if it exists: the one whose revision has our sha256."""
        for info in self._deployments(recent=recent):
            sha = ((info.get("revision") or {}).get("appSpecContent") or {}).get("sha256")
            if sha == self._sha256:
                return str(info["deploymentId"])
        return None

    def _deployments(self, *, recent: bool) -> Iterator[Mapping[str, Any]]:
        codedeploy = self.aws.codedeploy
        arguments: dict[str, Any] = {
            "applicationName": self.application,
            "deploymentGroupName": self.deployment_group,
        }
        if recent:
            arguments["createTimeRange"] = {"start": self._since}
        else:
            arguments["includeOnlyStatuses"] = _ACTIVE_STATUSES
        ids: list[str] = []
        token: str | None = None
        while True:
            with translate_errors("ListDeployments"):
                page = codedeploy.list_deployments(
                    **arguments,
                    **({"nextToken": token} if token else {}),  # type: ignore[arg-type]
                )
            ids += page.get("deployments", [])
            token = page.get("nextToken")
            if not token:
                break
        for start in range(0, len(ids), 25):
            with translate_errors("BatchGetDeployments"):
                infos = codedeploy.batch_get_deployments(deploymentIds=ids[start : start + 25])
            yield from infos.get("deploymentsInfo", [])


def _client_without_retries(aws: Clients) -> CodeDeployClient:
    """A codedeploy client like ``aws.codedeploy`` with botocore's retries off, so that only
    bluegreen, which looks before it retries, retries CreateDeployment."""
    from botocore.config import Config

    base = aws.codedeploy
    if aws.session is None:
        import boto3

        aws.session = boto3.Session()
    config = base.meta.config.merge(Config(retries={"total_max_attempts": 1}))
    client: CodeDeployClient = aws.session.client(
        "codedeploy",
        region_name=base.meta.region_name,
        endpoint_url=base.meta.endpoint_url,
        config=config,
    )
    return client


def _give_back(
    lease: ScalingLease, cause: BaseException, *, may_exist: bool, state: ServiceState
) -> None:
    """Restore scaling after deploy failed before a deployment was known to exist."""
    if may_exist:
        recover = _recover_hint(state.cluster, state.service)
        cause.add_note(
            "scaling stays suspended, since the deployment may have been created: "
            f"{recover} restores it once the group has no deployment in flight"
        )
        return
    try:
        result = lease.restore()
    except AWSError as exc:
        cause.add_note(str(exc))
        cause.add_note(" ".join(getattr(exc, "__notes__", ())))
    else:
        cause.add_note(str(result))


def _deregister(aws: Clients, arn: str, cause: Exception) -> None:
    """Deregister the revision made for a deployment that was never created."""
    try:
        with translate_errors("DeregisterTaskDefinition"):
            aws.ecs.deregister_task_definition(taskDefinition=arn)
    except AWSError as exc:
        cause.add_note(f"task-definition revision {arn} could not be deregistered: {exc}")
    else:
        cause.add_note(f"task-definition revision {arn} was deregistered again")


# -- text ------------------------------------------------------------------------------


def _short_arn(arn: object) -> str:
    """``web:12`` from a task-definition ARN."""
    return str(arn).rsplit("/", 1)[-1] if arn else "?"


def _lambda_region(function: str) -> str | None:
    """The region of a Lambda function ARN (``arn:aws:lambda:REGION:...``), else None."""
    parts = function.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[3]:
        return parts[3]
    return None


def _tg_name(arn: str) -> str:
    parts = arn.split("/")
    return parts[1] if len(parts) >= 3 else arn


def _registrable(task_definition: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task_definition.items() if k not in READ_ONLY_TASK_DEFINITION_FIELDS}


def _keyed(items: Sequence[Any]) -> dict[str, Any] | None:
    """A list of named entries (containers, variables, tags) as a dict, or None."""
    for key in ("name", "key"):
        if items and all(isinstance(i, Mapping) and isinstance(i.get(key), str) for i in items):
            names = [i[key] for i in items]
            if len(set(names)) == len(names):
                return {i[key]: {k: v for k, v in i.items() if k != key} for i in items}
    return None


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


_ABSENT = object()


def _diff(old: Any, new: Any, path: str = "") -> Iterator[str]:
    """``path: old -> new`` for every difference, keyed by name inside named lists."""
    if old == new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            yield from _diff(old.get(key, _ABSENT), new.get(key, _ABSENT), sub)
        return
    if isinstance(old, list) and isinstance(new, list):
        old_keyed, new_keyed = _keyed(old), _keyed(new)
        if old_keyed is not None and new_keyed is not None:
            for key in [*old_keyed, *(k for k in new_keyed if k not in old_keyed)]:
                yield from _diff(
                    old_keyed.get(key, _ABSENT), new_keyed.get(key, _ABSENT), f"{path}[{key}]"
                )
            return
        if len(old) == len(new):
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                yield from _diff(a, b, f"{path}[{i}]")
            return
    yield f"{path}: {_show(old)} -> {_show(new)}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
