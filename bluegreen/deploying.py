"""Start a deployment: ``plan`` and ``deploy``.

``plan(...)`` reads everything a deployment depends on and changes nothing (the preflight,
``bluegreen.preflight``): the service's blue/green wiring, the task definition now and the
one that will run, the AppSpec, the traffic schedule, the hooks, the rollback triggers and
the scalable target, with every problem found (``Plan.problems``). ``deploy(...)`` makes the
same plan, refuses with one ``ServiceConfigError`` listing every problem before anything in
AWS changes (among them a hook whose Lambda function ``lambda:GetFunction`` does not find;
``check_hooks=False`` skips that look-up), then

1. creates a custom traffic config given as a ``TrafficConfig`` that does not exist yet;
2. registers the new task-definition revision (only the images differ from the current one),
   once, even when an answer is lost (``bluegreen.registration``);
3. calls CreateDeployment (``bluegreen.create``: never twice, even when an answer is lost),
   and returns the ``Deployment``.

If CreateDeployment is refused for good, the revision registered for it is deregistered
again. Every call goes through one ``Caller`` on ``clock``.

An ECS-native blue/green, linear or canary service (found by ``discover``, never named by
the caller) has no group and no AppSpec: its plan comes from ``bluegreen.native_preflight``,
and ``deploy`` registers the revision and calls UpdateService (``bluegreen.native_deploy``);
scaling is left to ECS (``docs/native.md``).

Before CreateDeployment a release makes 12 calls with the usual service (8 preflight reads,
each made once; the scaling record written and read back; the flags suspended; the revision
registered): scaling uses what the preflight read of the service and its scalable targets.
When the deployment group had to be found by a scan, one TagResource records it on the
service (``bluegreen.discovery``), so the next release finds it as a named one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen import scaling
from bluegreen._advice import advice
from bluegreen._aws import Caller, Clients, resolve_clients
from bluegreen.analysis_release import AnalysisRelease, planned
from bluegreen.analysis_run import AnalysisRun
from bluegreen.arguments import check_arguments, rollback_override
from bluegreen.clock import DEFAULT_BUDGET, MonotonicClock, RateBudget
from bluegreen.create import CreateRequest
from bluegreen.deployment import Deployment
from bluegreen.discovery import record_deployment_group
from bluegreen.errors import AWSError, ConflictError, ServiceConfigError
from bluegreen.listing import NO_ACTIVE_DEPLOYMENT, in_flight
from bluegreen.native_deploy import start_native
from bluegreen.plan import Plan, recover_hint
from bluegreen.preflight import Planner
from bluegreen.registration import Registration
from bluegreen.revision import short_arn
from bluegreen.scaling import ScalableTargetState, ScalingLease
from bluegreen.traffic import TrafficConfig, ensure_deployment_config

if TYPE_CHECKING:
    import boto3

    from bluegreen.analysis import Analysis
    from bluegreen.clock import Clock
    from bluegreen.state import DeploymentGroup, ServiceState

__all__ = [
    "Plan",
    "ScalableTargetState",
    "deploy",
    "plan",
]  # Plan: bluegreen.plan; ScalableTargetState: bluegreen.scaling


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
    hook_role: str | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    analysis: Analysis | None = None,
    budget: RateBudget | None = None,
) -> Plan:
    """What ``deploy`` with these arguments would do; nothing in AWS changes.

    Takes ``deploy``'s arguments (``clock``: where a throttled read waits before it is
    retried; ``budget``: the ``RateBudget`` the reads draw from; ``analysis``: what the
    release would create for it is noted, and what would stop it is a problem). Problems
    do not raise: they are listed in ``Plan.problems``.

    Raises:
        ValidationError: the arguments contradict each other (both or neither of ``image``
            and ``task_definition``; ``application`` without ``deployment_group``), an image
            is not a valid image reference, or an argument has the wrong type.
        ResourceNotFoundError: the service does not exist.
        ServiceConfigError: no deployment group could be found for the service, so there is
            nothing to plan against.
    """
    check_arguments(
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
        clients=clients,
        session=session,
        clock=clock,
        analysis=analysis,
        budget=budget,
        hook_role=hook_role,
    )
    aws = resolve_clients(clients, session)
    the_plan = Planner(
        aws,
        Caller(
            clock=clock if clock is not None else MonotonicClock(),
            budget=budget if budget is not None else DEFAULT_BUDGET,
        ),
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
        hook_role=hook_role,
    ).plan()
    if the_plan.kind == "ecs":
        return _native_checked(the_plan, analysis)
    return the_plan if analysis is None else planned(the_plan, analysis, auto_rollback)


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
    hook_role: str | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    analysis: Analysis | None = None,
    budget: RateBudget | None = None,
) -> Deployment:
    """Deploy a new image (or task definition) to a blue/green ECS service: CodeDeploy's,
    or ECS-native (BLUE_GREEN, LINEAR, CANARY; ``docs/native.md``), whichever it is.

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
            CodeDeploy if missing); default: the deployment group's. On an ECS-native
            service a ``TrafficConfig`` becomes its strategy (canary -> CANARY, ...).
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
            leave it alone) and restore exactly the recorded state when it ends. No effect
            on an ECS-native service: Application Auto Scaling holds scale-in itself there.
        check_hooks: look up every hook's Lambda function with ``lambda:GetFunction`` before
            anything changes (default). A function that does not exist is a problem, and so
            is a refused GetFunction (AccessDenied): grant ``lambda:GetFunction`` on the hook
            functions, or pass ``check_hooks=False`` (``--no-check-hooks``) to skip the check.
        hook_role: ECS-native services: the role ECS assumes to invoke the ``hooks=``
            functions (default: the role of the service's own Lambda hooks).
        clients: ready ``bluegreen.Clients``; or
        session: the ``boto3.Session`` to use (region and profile).
        clock: ``time()`` and ``sleep()`` for the retries of every call (CreateDeployment's
            included) and for the returned ``Deployment`` (default: the real monotonic
            clock).
        budget: the ``RateBudget`` every call draws from, the returned deployment's too
            (default: ``DEFAULT_BUDGET``, shared by the whole process); a release of many
            services shares one per account and region.
        analysis: judge green against blue from CloudWatch while green serves production
            traffic (``bluegreen.Analysis``; ``DEFAULT_ANALYSIS`` suits any ALB service):
            the returned deployment's ``wait()`` runs it and stops the deployment, with
            rollback, when it fails. The service must sit behind an Application Load
            Balancer (checked before anything changes).

    CreateDeployment is retried by bluegreen only, after checking the deployment was not
    created (``bluegreen.create``).

    Returns:
        The new deployment (``Deployment.attach`` of its id).

    Raises:
        ValidationError: contradictory arguments, an image that is not a valid image
            reference (``bluegreen.image_reference``), or an argument of the wrong type;
            every problem is listed, before any call.
        ServiceConfigError: preflight found problems; lists every one. Nothing was changed.
        ConflictError: a custom ``TrafficConfig`` exists with other settings (found by the
            preflight as well, unless it was created in between); or another release of the
            service created its deployment first (CodeDeploy runs one per group): the
            message names that deployment and how to follow it, and this release's revision
            and scaling record were given back.
        AWSError: an AWS call failed. If CreateDeployment was refused, the revision registered
            for it has been deregistered; if it is unknown whether the deployment was
            created (AWS kept failing and bluegreen could not look), the revision is kept
            and the message says so.
    """
    check_arguments(
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
        clients=clients,
        session=session,
        clock=clock,
        analysis=analysis,
        budget=budget,
        hook_role=hook_role,
    )
    aws = resolve_clients(clients, session)
    the_clock: Clock = clock if clock is not None else MonotonicClock()
    the_budget = budget if budget is not None else DEFAULT_BUDGET
    call = Caller(clock=the_clock, budget=the_budget)
    planner = Planner(
        aws,
        call,
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
        forecast=False,  # RegisterTaskDefinition tells the number
        hook_role=hook_role,
    )
    the_plan = planner.plan()
    if the_plan.kind == "ecs":  # ECS-native: UpdateService, no group (bluegreen.native_deploy)
        the_plan = _native_checked(the_plan, analysis)
        if the_plan.problems:
            raise ServiceConfigError(the_plan.problems)
        arn = start_native(aws, call, the_plan)
        native = Deployment.attach(arn, clients=aws, clock=the_clock, budget=the_budget)
        if analysis is not None:
            native.analysis = AnalysisRun(analysis)
        return native
    if the_plan.problems:
        raise ServiceConfigError(the_plan.problems)
    group = the_plan.service.deployment_group
    appspec = the_plan.appspec
    config = the_plan.traffic_config
    # A plan without problems has all three.
    assert group is not None
    assert appspec is not None
    assert config is not None

    state = the_plan.service
    judged: AnalysisRelease | None = None
    if analysis is not None:
        judged = AnalysisRelease.prepare(analysis, state, group, auto_rollback)
    if planner.group_tag is not None and state.service_arn:
        # A scan found the group: record it, so the next release reads it as a named one.
        record_deployment_group(call, aws, state.service_arn, planner.group_tag)

    lease: ScalingLease | None = None
    if the_plan.suspends_scaling:
        # The preflight read the service's tags (the scaling records) before its scalable
        # targets (the flags), as learning the original state needs; neither is read again.
        # This release's own record is written, the records read back, then it suspends.
        lease = scaling.suspend_scaling(
            state.cluster,
            state.service,
            suspend=the_plan.suspends_scaling,
            clients=aws,
            clock=the_clock,
            service_arn=state.service_arn or None,
            tags=state.tags,
            targets=the_plan.autoscaling,
            budget=the_budget,
        )
    request: CreateRequest | None = None
    try:
        if the_plan.creates_traffic_config:
            ensure_deployment_config(config, clients=aws, caller=call)

        registration: Registration | None = None
        if the_plan.registers_task_definition:
            # Registered once, even when an answer is lost (bluegreen.registration).
            registration = Registration(aws, call, the_plan.new_task_definition)
            appspec = appspec.with_task_definition(registration.register())

        overrides: dict[str, Any] = {}
        if judged is not None:
            judged.create_net(call, aws, state.cluster, state.service)
            overrides = judged.overrides()
        request = CreateRequest(
            aws=aws,
            call=call,
            application=group.application,
            deployment_group=group.name,
            appspec=appspec,
            deployment_config=config.name if traffic_config is not None else None,
            auto_rollback=overrides.get("auto_rollback", rollback_override(auto_rollback)),
            override_alarms=overrides.get("override_alarms"),
            description=description
            if description is not None
            else f"bluegreen deploy of {short_arn(appspec.task_definition)}",
        )
        try:
            deployment_id = request.create()
        except AWSError as exc:
            if registration is not None:
                registration.undo(exc, keep=request.may_exist)
            raise
    except BaseException as exc:
        if judged is not None:
            judged.give_back(exc, may_exist=request is not None and request.may_exist)
        if lease is not None:
            _give_back(
                lease,
                exc,
                may_exist=request is not None and request.may_exist,
                state=the_plan.service,
            )
        lost = _lost_race(exc, call, aws, group, the_plan.service)
        if lost is not None:
            raise lost from exc
        raise
    if lease is not None:
        try:
            lease.attach(deployment_id)
        except AWSError as exc:
            recover = recover_hint(the_plan.service.cluster, the_plan.service.service)
            exc.add_note(
                f"deployment {deployment_id} was created and runs with scaling suspended; "
                f"{recover} restores the scaling once it has ended (a record that did not "
                "get the deployment id waits until the group has no deployment in flight)"
            )
            raise
    deployment = Deployment.attach(deployment_id, clients=aws, clock=the_clock, budget=the_budget)
    if judged is not None:
        deployment.analysis = AnalysisRun(judged.analysis, targets=judged.targets)
        try:
            judged.attach(deployment_id)
        except AWSError as exc:
            exc.add_note(
                f"deployment {deployment_id} was created and runs with the analysis's alarm "
                f"net; {recover_hint(state.cluster, state.service)} deletes the net once the "
                "group has no deployment in flight"
            )
            raise
    return deployment


def _native_checked(the_plan: Plan, analysis: Analysis | None) -> Plan:
    """An ECS-native plan, with what ``analysis=`` does there in its notes: the release
    process judges green while it serves production and rolls the deployment back
    (StopServiceDeployment ROLLBACK); no alarm net (that is CodeDeploy's override), and the
    per-step gate inside ECS is the ready-made ``analysis_gate`` hook."""
    if analysis is None:
        return the_plan
    note = (
        "analysis: the release process judges green against blue from CloudWatch while green "
        "serves production and rolls the deployment back (StopServiceDeployment ROLLBACK) on a "
        "failed verdict; it needs the wait to run. To gate every step inside ECS itself, "
        "attach the ready-made analysis_gate hook at PRE_PRODUCTION_TRAFFIC_SHIFT "
        "(docs/analysis.md, 'Per-step gate on ECS-native deployments')"
    )
    return attrs.evolve(the_plan, notes=(*the_plan.notes, note))


def _lost_race(
    cause: BaseException, call: Caller, aws: Clients, group: DeploymentGroup, state: ServiceState
) -> ConflictError | None:
    """The error for a release that CodeDeploy refused because the group has a deployment in
    flight (another release won): it names that deployment and how to follow it."""
    if not isinstance(cause, AWSError) or cause.code != "DeploymentLimitExceededException":
        return None
    where = f"{state.cluster}/{state.service}"
    winner: str | None = None
    try:
        winner = in_flight(call, aws, group, where)
    except AWSError as exc:
        ended = exc.code == NO_ACTIVE_DEPLOYMENT
        message = (
            f"another deployment of {where} was in flight in {group.application}/{group.name} "
            "(CodeDeploy runs one deployment per group at a time)"
            + (
                " and has ended since: deploy again"
                if ended
                else f"; it could not be named ({exc}): "
                + advice("bluegreen.Deployment.current(cluster, service)", "`bluegreen status`")
                + " shows it"
            )
        )
    else:
        follow = advice(
            f'bluegreen.Deployment.attach("{winner}").wait()',
            f"`bluegreen wait --deployment-id {winner}`",
        )
        message = (
            f"another release of {where} won: deployment {winner} is in flight in "
            f"{group.application}/{group.name}, and CodeDeploy runs one deployment per group "
            f"at a time; follow it with {follow}, and deploy again once it has ended"
        )
    conflict = ConflictError(message, deployment_id=winner)
    for note in getattr(cause, "__notes__", ()):
        conflict.add_note(note)
    return conflict


def _give_back(
    lease: ScalingLease, cause: BaseException, *, may_exist: bool, state: ServiceState
) -> None:
    """Give back this release's scaling record after deploy failed before a deployment was
    known to exist: the flags come back unless another release's record is in force."""
    if may_exist:
        recover = recover_hint(state.cluster, state.service)
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
