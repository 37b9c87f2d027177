"""The preflight of an ECS-native blue/green service: every problem at once, nothing changed.

``preflight.Planner`` hands an ECS-native service (``ServiceState.kind == "ecs"``) to
``NativePlanner``: there is no deployment group and no AppSpec. It checks

- the load balancer's ``advancedConfiguration``: present, its production listener rule an
  ALB rule ARN (or an NLB listener ARN) that exists, and its forward action (and the test
  rule's) listing both the service's target group and the alternate one: ECS rolls the
  deployment back otherwise ("Both targetGroup and alternateTargetGroup must be associated
  with the productionListenerRule or testListenerRule");
- the task-definition revision to run (``bluegreen.revision``);
- the strategy's settings (``NativeStrategy.problems``), with ``traffic_config=`` mapped on it;
- the hooks: ``hooks=`` events mapped onto native stages (BeforeInstall -> PRE_SCALE_UP, ...),
  a role for ECS to invoke Lambda (the service's hooks' or ``hook_role=``), every Lambda
  function found (``lambda:GetFunction``, which also gives the ARN ECS needs);
- a service deployment in flight (ECS would start another on top of it: refused here).

Application Auto Scaling is read and shown, never suspended: see ``docs/native.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from bluegreen._advice import advice
from bluegreen.appspec_checks import mutable_image_tags
from bluegreen.errors import (
    AccessDeniedError,
    AWSError,
    ResourceNotFoundError,
    ServiceUnavailableError,
    ThrottledError,
)
from bluegreen.native_config import EVENT_STAGES, NativeHook, NativeStrategy
from bluegreen.native_discovery import is_rule_arn
from bluegreen.plan import Plan
from bluegreen.revision import Revisions, diff, registrable
from bluegreen.routing import name_from_arn
from bluegreen.scaling import ScalableTargetState
from bluegreen.traffic import PREDEFINED_CONFIGS, TrafficConfig

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.routing import ListenerRoute
    from bluegreen.state import ServiceState

__all__ = ["NativePlanner"]


@attrs.define
class NativePlanner:
    """``Planner``'s reads and checks for an ECS-native service (same fields, same lists)."""

    aws: Clients
    call: Caller
    image: str | Mapping[str, str] | None
    task_definition: str | None
    hooks: Mapping[str, str] | None
    traffic_config: str | TrafficConfig | None
    auto_rollback: Sequence[str] | bool | None
    description: str | None
    allow_mutable_image_tags: bool
    check_hooks: bool = True
    forecast: bool = True
    hook_role: str | None = None
    problems: list[str] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)

    @classmethod
    def sharing(cls, planner: object) -> NativePlanner:
        """A native planner with ``planner``'s arguments and its problem and note lists."""
        return cls(**{f.name: getattr(planner, f.name) for f in attrs.fields(cls)})

    def plan(self, state: ServiceState) -> Plan:
        assert state.strategy is not None
        self._check_routing(state)
        self._check_in_flight(state)
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
        if new and not self.allow_mutable_image_tags:
            for container, image in mutable_image_tags(new):
                self.problems.append(
                    f"container {container!r} would run {image}, whose tag can move: pin a "
                    "tag or digest, or "
                    + advice("pass allow_mutable_image_tags=True", "add --allow-mutable-image-tags")
                )

        strategy = state.strategy
        config = self._traffic_config()
        if config is not None:
            strategy = strategy.with_traffic_config(config)
        new_hooks = self._hooks(state.strategy)
        arns = self._check_functions([*state.strategy.hooks, *new_hooks])
        resolved = [
            attrs.evolve(h, target_arn=arns.get(h.target_arn or "", h.target_arn))
            for h in new_hooks
        ]
        running = {(h.target_arn, stage) for h in state.strategy.hooks for stage in h.stages}
        strategy = strategy.with_hooks(
            [h for h in resolved if (h.target_arn, h.stages[0]) not in running]
        )
        changed = strategy.to_api() != state.strategy.to_api()  # else nothing is sent
        self.problems += [f"deployment configuration: {p}" for p in strategy.problems()]
        self._check_alarms(strategy.alarm_names, f"{state.cluster}/{state.service}")
        if self.auto_rollback is not None:
            self.problems.append(
                advice("auto_rollback=", "--rollback-events/--no-rollback")
                + " is CodeDeploy's: an ECS-native service rolls back on its "
                "deploymentConfiguration alarms (rollback) and on a failed hook; leave it out"
            )
        if self.description is not None:
            self.notes.append(
                "ECS service deployments carry no description: deploy keeps it in a tag on "
                "the service, keyed by the revision (bluegreen.native_description)"
            )
        autoscaling = self._autoscaling(state)  # shown, never suspended (Plan._scaling_note)
        return Plan(
            service=state,
            kind="ecs",
            current_task_definition=current,
            new_task_definition=new,
            new_task_definition_arn=new_arn,
            registers_task_definition=registers,
            task_definition_diff=changes,
            strategy=strategy,
            changes_strategy=changed,
            alarm_names=strategy.alarm_names,
            autoscaling=autoscaling,
            description=self.description,
            notes=tuple(dict.fromkeys(self.notes)),
            problems=tuple(dict.fromkeys(self.problems)),
        )

    # -- the service's wiring ---------------------------------------------------------------

    def _check_routing(self, state: ServiceState) -> None:
        where = f"service {state.cluster}/{state.service}"
        routing = state.advanced_routing
        if routing is None:
            self.problems.append(
                f"{where} deploys {state.strategy.strategy if state.strategy else '?'} but no "
                "load balancer of it has an advancedConfiguration (alternate target group, "
                "production listener rule, role): ECS cannot shift traffic; set "
                "loadBalancers[].advancedConfiguration with UpdateService"
            )
            return
        if not routing.alternate_target_group_arn:
            self.problems.append(f"{where}: advancedConfiguration names no alternate target group")
        if state.target_groups is None and routing.alternate_target_group_arn:
            self.problems.append(
                f"{where}: target groups {name_from_arn(routing.target_group_arn or '?')} and "
                f"{name_from_arn(routing.alternate_target_group_arn)} were not both found"
            )
        wanted = {a for a in (routing.target_group_arn, routing.alternate_target_group_arn) if a}
        for label, arn, route in (
            ("production", routing.production_listener_rule, state.production),
            ("test", routing.test_listener_rule, state.test),
        ):
            if arn is None:
                if label == "production":
                    self.problems.append(
                        f"{where}: advancedConfiguration names no productionListenerRule"
                    )
                continue
            if ":listener/app/" in arn:
                self.problems.append(
                    f"{where}: the {label}ListenerRule {arn} is an Application Load Balancer "
                    "listener; ECS takes a listener RULE's ARN for an ALB (a listener's for an "
                    "NLB): create a rule forwarding to both target groups (weights 1 and 0) "
                    "and name it"
                )
                continue
            if route is None:
                self.problems.append(f"{where}: the {label} listener rule {arn} was not found")
                continue
            self._check_forward(where, label, arn, route, wanted)

    def _check_forward(
        self, where: str, label: str, arn: str, route: ListenerRoute, wanted: set[str]
    ) -> None:
        listed = {t.arn for t in route.targets}
        missing = sorted(wanted - listed)
        if missing:
            what = "rule" if is_rule_arn(arn) else "listener"
            names = " and ".join(name_from_arn(a) for a in missing)
            self.problems.append(
                f"{where}: the {label} listener {what} {arn} does not forward to {names}; ECS "
                "rolls the deployment back unless the forward action lists both the target "
                "group and the alternate one (weights 1 and 0): add them to its forward action"
            )

    def _check_in_flight(self, state: ServiceState) -> None:
        arn = state.deployment_id
        if not arn:
            return
        follow = advice(
            f'bluegreen.Deployment.attach("{arn}").wait()',
            f"`bluegreen wait --deployment-id {arn}`",
        )
        stop = advice(
            f'bluegreen.Deployment.attach("{arn}").abort()',
            f"`bluegreen abort --deployment-id {arn}`",
        )
        self.problems.append(
            f"service deployment {arn} of {state.cluster}/{state.service} is in flight; a new "
            f"one would replace it midway: follow it with {follow}, or stop it first with {stop}"
        )

    # -- what changes -----------------------------------------------------------------------

    def _traffic_config(self) -> TrafficConfig | None:
        wanted = self.traffic_config
        if wanted is None or isinstance(wanted, TrafficConfig):
            return wanted
        if wanted in PREDEFINED_CONFIGS:
            return PREDEFINED_CONFIGS[wanted]
        self.problems.append(
            f"traffic config {wanted!r} is a CodeDeploy deployment config name, which an "
            "ECS-native service does not read: "
            + advice(
                "pass TrafficConfig.canary(...), .linear(...) or .all_at_once()",
                "give --canary PERCENT/MINUTES or --linear PERCENT/MINUTES",
            )
        )
        return None

    def _hooks(self, strategy: NativeStrategy) -> list[NativeHook]:
        """``hooks=`` as native Lambda hooks (the ARN is filled in by ``_check_functions``)."""
        if not self.hooks:
            return []
        role = self.hook_role or next(
            (h.role_arn for h in strategy.hooks if h.is_lambda and h.role_arn), None
        )
        if role is None:
            self.problems.append(
                "a Lambda hook needs a role ECS assumes to invoke it, and the service's hooks "
                "name none: "
                + advice("pass hook_role=", "give --hook-role")
                + " with the ARN of a role that may call lambda:InvokeFunction"
            )
        hooks = []
        for event, function in self.hooks.items():
            stage = EVENT_STAGES.get(event)
            if stage is None:
                self.problems.append(
                    f"hook event {event!r} has no ECS-native stage; use one of "
                    f"{', '.join(EVENT_STAGES)}"
                )
                continue
            hooks.append(
                NativeHook(target_arn=function, role_arn=role, stages=(stage,), added=True)
            )
        return hooks

    def _check_functions(self, hooks: Sequence[NativeHook]) -> dict[str, str]:
        """Every Lambda hook's function exists; ``{name or ARN given: function ARN}``."""
        arns: dict[str, str] = {}
        lambdas = [h for h in hooks if h.is_lambda and h.target_arn]
        if not lambdas:
            return arns
        if not self.check_hooks:
            skipped = advice("check_hooks=False", "--no-check-hooks")
            self.notes.append(f"the hooks' Lambda functions were not looked up ({skipped})")
            for hook in lambdas:
                if hook.added and not str(hook.target_arn).startswith("arn:"):
                    self.problems.append(
                        f"hook {','.join(hook.stages)}: ECS needs the function's ARN, not "
                        f"{hook.target_arn!r} (or let bluegreen look it up)"
                    )
            return arns
        client = self.aws.client("lambda")
        for hook in lambdas:
            where = f"hook {','.join(hook.stages)}: Lambda function {hook.target_arn!r}"
            try:
                answer = self.call("GetFunction", client.get_function, FunctionName=hook.target_arn)
            except ResourceNotFoundError:
                self.problems.append(
                    f"{where} does not exist; ECS would roll the deployment back at that stage: "
                    "create the function, or name another"
                )
                continue
            except AccessDeniedError as exc:
                self.problems.append(
                    f"{where} cannot be looked up: lambda:GetFunction was refused "
                    f"({exc.message}); grant it, or "
                    + advice("pass check_hooks=False", "add --no-check-hooks")
                )
                continue
            except (ThrottledError, ServiceUnavailableError):
                raise
            except AWSError as exc:
                self.problems.append(f"{where} cannot be looked up ({exc.message})")
                continue
            arn = (answer.get("Configuration") or {}).get("FunctionArn")
            if arn:
                arns[str(hook.target_arn)] = str(arn)
        return arns

    def _check_alarms(self, names: Sequence[str], where: str) -> None:
        """The rollback alarms exist (one that does not could never roll back)."""
        if not names:
            return
        try:
            found = self.call(
                "DescribeAlarms", self.aws.cloudwatch.describe_alarms, AlarmNames=list(names)
            )
        except AccessDeniedError as exc:
            self.notes.append(f"the service's alarms could not be checked: {exc}")
            return
        known = {a["AlarmName"] for a in found.get("MetricAlarms", ())}
        known |= {a["AlarmName"] for a in found.get("CompositeAlarms", ())}
        for name in names:
            if name not in known:
                self.problems.append(
                    f"alarm {name!r} of {where}'s deploymentConfiguration does not exist in "
                    "CloudWatch, so it can never roll a deployment back: create it or remove it"
                )

    def _autoscaling(self, state: ServiceState) -> tuple[ScalableTargetState, ...]:
        try:
            answer = self.call(
                "DescribeScalableTargets",
                self.aws.autoscaling.describe_scalable_targets,
                ServiceNamespace="ecs",
                ResourceIds=[f"service/{state.cluster}/{state.service}"],
                ScalableDimension="ecs:service:DesiredCount",
            )
        except AccessDeniedError as exc:
            self.notes.append(f"the scalable target could not be read: {exc}")
            return ()
        return tuple(ScalableTargetState.from_api(t) for t in answer.get("ScalableTargets", ()))
