"""The preflight: read everything a deployment depends on, note every problem, change
nothing. ``Planner.plan()`` makes the ``Plan`` that ``plan`` returns and ``deploy`` refuses
to go on with when it lists problems.

It checks the service's blue/green wiring (group, listeners, target groups, no migration
half-done), the revision (``bluegreen.revision``), the AppSpec, the hooks' functions, the
traffic config, rollback and alarms, a deployment in flight and the scalable target. Every
read goes through one ``Caller``: a throttled read is retried on the injected clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen.appspec import AppSpec, Hook
from bluegreen.arguments import ROLLBACK_EVENTS, rollback_events, scaling_flags
from bluegreen.discovery import discover, discover_recordable
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
from bluegreen.listing import ACTIVE_STATUSES, list_deployments
from bluegreen.migration_record import unfinished
from bluegreen.native_preflight import NativePlanner
from bluegreen.plan import Plan
from bluegreen.revision import Revisions, diff, registrable, short_arn
from bluegreen.routing import name_from_arn
from bluegreen.scaling import FLAGS, ScalableTargetState
from bluegreen.traffic import (
    PREDEFINED_CONFIGS,
    TrafficConfig,
    TrafficType,
    get_deployment_config,
)

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.state import ServiceState

__all__ = ["Planner"]

DESCRIPTION_LIMIT = 256  # the most characters CodeDeploy takes in a deployment's description


@attrs.define
class Planner:
    """Reads what a deployment depends on and notes every problem; writes nothing."""

    aws: Clients
    call: Caller
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
    forecast: bool = True
    """Forecast the new revision's number (one DescribeTaskDefinition more); see
    ``Revisions.forecast``."""
    hook_role: str | None = None  # ECS-native: the role ECS invokes the hooks' Lambdas with
    problems: list[str] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)
    group_tag: str | None = None

    def plan(self) -> Plan:
        state = self._discover()
        if state.kind == "ecs":  # no group, no AppSpec: bluegreen.native_preflight
            return NativePlanner.sharing(self).plan(state)
        group = state.deployment_group
        self._check_service(state)

        revisions = Revisions(
            self.aws,
            self.call,
            self.image,
            self.task_definition,
            problems=self.problems,
            notes=self.notes,
            forecast=self.forecast,
        )
        current = revisions.current(state)
        new, new_arn, registers = revisions.new(state, current)
        changes = tuple(diff(registrable(current), registrable(new))) if current and new else ()

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

        events, problems = rollback_events(self.auto_rollback)
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
            description = f"bluegreen deploy of {short_arn(new_arn)}"
        if description is not None and len(description) > DESCRIPTION_LIMIT:
            self.problems.append(
                f"description is {len(description)} characters; CodeDeploy takes at most "
                f"{DESCRIPTION_LIMIT}"
            )

        autoscaling = self._autoscaling(state)
        return Plan(
            service=state,
            current_task_definition=current,
            new_task_definition=new,
            new_task_definition_arn=new_arn,
            registers_task_definition=registers,
            task_definition_diff=changes,
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
        flags = scaling_flags(self.suspend_scaling)
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
        try:  # group_tag: what deploy records on the service when a scan found the group
            state, self.group_tag = discover_recordable(
                self.call,
                self.aws,
                self.cluster,
                self.service,
                application=self.application,
                deployment_group=self.deployment_group,
            )
            return state
        except ServiceConfigError as exc:  # the named group deploys another service
            self.problems += exc.problems
        except ResourceNotFoundError as exc:
            if exc.operation == "DescribeServices":
                raise
            self.problems.append(f"{exc.message.rstrip('.')}")
        if self.application is None:
            raise ServiceConfigError(self.problems)
        try:
            state = discover(self.cluster, self.service, clients=self.aws, caller=self.call)
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
        if (migrating := unfinished(state.tags, where)) is not None:
            self.problems.append(migrating)
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
            used = ", ".join(name_from_arn(a) for a in service_tgs)
            self.problems.append(
                f"{where_group}: its target-group pair ({pair.first.name} and "
                f"{pair.second.name}) does not contain the target group the service uses "
                f"({used}); CodeDeploy would route to groups the service's tasks are not "
                "registered in"
            )

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
                self.call("GetFunction", client.get_function, FunctionName=function)
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
            return get_deployment_config(name, clients=self.aws, caller=self.call)
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
            existing = get_deployment_config(config.name, clients=self.aws, caller=self.call)
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
            found = self.call(
                "DescribeAlarms", self.aws.cloudwatch.describe_alarms, AlarmNames=list(names)
            )
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
        ids = list_deployments(self.call, self.aws, application, group, ACTIVE_STATUSES)
        for deployment_id in ids[:3]:
            info = self.call(
                "GetDeployment", self.aws.codedeploy.get_deployment, deploymentId=deployment_id
            )["deploymentInfo"]
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
            answer = self.call(
                "DescribeScalableTargets",
                self.aws.autoscaling.describe_scalable_targets,
                ServiceNamespace="ecs",
                ResourceIds=[resource],
                ScalableDimension="ecs:service:DesiredCount",
            )
        except AccessDeniedError as exc:
            self.notes.append(f"the scalable target could not be read: {exc}")
            return ()
        return tuple(ScalableTargetState.from_api(t) for t in answer.get("ScalableTargets", ()))


def _lambda_region(function: str) -> str | None:
    """The region of a Lambda function ARN (``arn:aws:lambda:REGION:...``), else None."""
    parts = function.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[3]:
        return parts[3]
    return None
