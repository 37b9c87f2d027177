"""Migrating a service from CodeDeploy to ECS-native blue/green, in the safe order of the
plan, undone in reverse when any step fails.

``apply_migration`` refuses a plan with problems or unaccepted differences (all listed,
before any call), then checks afresh that nothing is in flight: no CodeDeploy deployment of
the group, no other migration (a record on the service), the service as the plan saw it.
Then, each step only after the one before:

1. the migration record on the service (``migration_record``), state ``applying``;
2. the infrastructure role, when the plan creates one (CreateRole trusted by ECS, its
   permissions with PutRolePolicy, tagged);
3. the listener rules ECS shifts traffic with, at the plan's priorities, forwarding as the
   listener's default action does (traffic-neutral), tagged; an NLB listener's default
   action forwarding to both target groups (the live one at 100) where the plan says so;
4. UpdateService: the ECS deployment controller, the native ``deploymentConfiguration`` and
   ``loadBalancers[0]`` with the created rules and role filled in;
5. the check (``migration_verify``): DescribeServices and the rules read back, or a no-op
   native deployment followed to its end;
6. the record marked ``applied``.

Any failure after the record was written is undone by ``migration_revert.Reversal`` limited
to what this apply created (its token), and the error is raised with what was undone
(``undone`` and a note). A process killed half-way leaves the record: ``revert_migration``
finishes the job. No create is ever carried out twice: after an answer that leaves it open,
the rule at the priority or the role of the name is looked at first (``change_once``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from bluegreen._aws import Caller, resolve_clients
from bluegreen.clock import Clock, MonotonicClock
from bluegreen.errors import AWSError, BlueGreenError, ConflictError, ValidationError
from bluegreen.listing import ACTIVE_STATUSES, list_deployments
from bluegreen.migration_model import MigrationPlan, MigrationResult, RulePlan
from bluegreen.migration_record import (
    STATE_TAG,
    TOKEN_TAG,
    MigrationRecord,
    ServiceView,
    created_role,
    elb_tags,
    is_gone,
    listener_rules,
    new_token,
    read_service,
    resource_tags,
    write_record,
)
from bluegreen.migration_revert import (
    Reversal,
    Steps,
    change_once,
    controller,
    delete_role,
    forward_weights,
    switch_controller,
)
from bluegreen.migration_verify import verify_by_deployment, verify_by_describe
from bluegreen.role_propagation import not_assumable_yet, role_waits

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients

__all__ = ["VERIFY", "apply_migration"]

VERIFY = ("describe", "deploy")
"""How an apply checks the migrated service: read it back, or a no-op native deployment."""


def check_plan(plan: MigrationPlan, *, accept_differences: bool, verify: str) -> None:
    """Raise ``ValidationError`` listing every reason the plan may not be applied."""
    problems = list(plan.problems)
    if plan.differences and not accept_differences:
        problems += [
            f"behaviour changes (accept it with accept_differences=True / "
            f"--accept-differences): {difference}"
            for difference in plan.differences
        ]
    if verify not in VERIFY:
        problems.append(f"verify={verify!r}: give 'describe' or 'deploy'")
    if plan.create_role is None and not plan.role_arn:
        problems.append("no infrastructure role: give --role ARN or --create-role NAME")
    if problems:
        raise ValidationError(problems, subject="migration plan")


@attrs.define
class _Apply:
    plan: MigrationPlan
    aws: Clients
    call: Caller
    iam: Any
    clock: Clock
    steps: Steps
    token: str = attrs.Factory(new_token)
    role_arn: str | None = None
    rule_arns: dict[str, str] = attrs.Factory(dict)
    created: list[str] = attrs.Factory(list)
    """What this apply created: ``role:<name>`` and rule ARNs, in order."""
    updating: bool = False
    """UpdateService was sent (it may have changed the controller)."""
    verify_deployment: str | None = None

    # -- the fresh check ----------------------------------------------------------------------

    def check_now(self) -> ServiceView:
        """The service as it is now, once nothing is in flight and it is as planned.

        Raises:
            ConflictError: a CodeDeploy deployment or another migration is in flight, or
                the service changed since the plan.
        """
        plan = self.plan
        view = self._unrecorded()
        active = list_deployments(
            self.call, self.aws, plan.application, plan.deployment_group, ACTIVE_STATUSES
        )
        if active:
            raise ConflictError(
                f"CodeDeploy deployment {active[0]} of {plan.application}/"
                f"{plan.deployment_group} is in flight: wait for it to end, then plan and "
                "apply again",
                deployment_id=active[0],
            )
        changed = self._changes(view.service)
        if changed:
            raise ConflictError(
                f"service {plan.cluster}/{plan.service} changed since the plan "
                f"({'; '.join(changed)}): plan again"
            )
        return view

    def _unrecorded(self) -> ServiceView:
        """The service, read now; it must have no migration record and be on CodeDeploy."""
        plan = self.plan
        view = read_service(self.call, self.aws, plan.cluster, plan.service)
        if STATE_TAG in view.tags:
            record = view.record
            what = record.describe() if record is not None else "unreadable"
            raise ConflictError(
                f"service {plan.cluster}/{plan.service} has a migration record ({what}): "
                "another migration is in flight or was left half-done; run "
                "`bluegreen migrate revert` once it has ended"
            )
        if (now := controller(view.service)) != "CODE_DEPLOY":
            raise ConflictError(
                f"service {plan.cluster}/{plan.service} is on the {now} deployment "
                "controller, not CODE_DEPLOY: it is migrated already (plan again)"
            )
        return view

    def _changes(self, service: Mapping[str, Any]) -> list[str]:
        plan = self.plan
        changed = []
        for key in ("deploymentController", "deploymentConfiguration", "loadBalancers"):
            if key in plan.before and _plain(service.get(key)) != _plain(plan.before[key]):
                changed.append(f"its {key} differs")
        primary = [s for s in service.get("taskSets") or () if s.get("status") == "PRIMARY"]
        if len(service.get("taskSets") or ()) != 1 or len(primary) != 1:
            changed.append("it does not have exactly one task set, PRIMARY")
        else:
            serving = [
                str(lb.get("targetGroupArn")) for lb in primary[0].get("loadBalancers") or ()
            ]
            if serving and serving[0] != plan.production_target_group:
                changed.append("production is served from the other target group")
        for rule in plan.rules:
            if not (rule.creates or rule.modify_listener):
                continue
            answer = self.call(
                "DescribeListeners",
                self.aws.elbv2.describe_listeners,
                ListenerArns=[rule.listener_arn],
            )
            now = forward_weights((answer.get("Listeners") or [{}])[0].get("DefaultActions"))
            planned = {arn for arn, weight in rule.forward if weight > 0}
            if {arn for arn, weight in now.items() if weight > 0} != planned:
                changed.append(f"listener {rule.listener_arn} forwards elsewhere")
        return changed

    # -- the changes --------------------------------------------------------------------------

    def record(self) -> MigrationRecord:
        """Write the record, read right before (so a migration that wrote its own since the
        check is seen), and read it back (so one written at the same time is seen).

        Raises:
            ConflictError: another migration's record is there, or it wrote at the same
                time (then its record or this one stays: either lets a revert undo all).
        """
        plan = self.plan
        view = self._unrecorded()
        service = view.service
        record = MigrationRecord(
            state="applying",
            at=(view.when or dt.datetime.now(dt.UTC)).replace(microsecond=0),
            token=self.token,
            controller=dict(service.get("deploymentController") or {"type": "CODE_DEPLOY"}),
            deployment_configuration=dict(service.get("deploymentConfiguration") or {}),
            load_balancers=tuple(dict(lb) for lb in service.get("loadBalancers") or ()),
            application=plan.application,
            deployment_group=plan.deployment_group,
            listeners=tuple(
                dict.fromkeys(r.listener_arn for r in plan.rules if r.creates or r.modify_listener)
            ),
            role=plan.create_role,
        )
        write_record(self.call, self.aws, view, record)
        again = read_service(self.call, self.aws, plan.cluster, plan.service)
        ours = again.record is not None and again.record.token == self.token
        if not ours or controller(again.service) != "CODE_DEPLOY":
            raise _Lost(
                f"another migration of {plan.cluster}/{plan.service} ran at the same time; "
                "this one changed nothing. The record on the service lets `bluegreen migrate "
                "revert` undo whatever the other did, once it has ended"
            )
        self.steps(f"migration record written on {plan.cluster}/{plan.service} (applying)")
        return record

    def create_role(self) -> None:
        plan = self.plan
        name = plan.create_role
        if name is None:
            self.role_arn = plan.role_arn
            return

        def look() -> Any:
            found = created_role(self.call, self.iam, name, plan.service_arn)
            if found is None:
                return None
            if found[1] != self.token:
                raise _Lost(f"IAM role {name} was created by another migration at the same time")
            return {"Role": {"Arn": found[0]}}

        found = look()
        answer = found or change_once(
            self.call,
            "CreateRole",
            self.iam.create_role,
            look,
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(dict(plan.trust_policy)),
            Description=f"ECS infrastructure role for blue/green of {plan.service_arn}",
            Tags=resource_tags(plan.service_arn, self.token),
        )
        self.role_arn = str(answer["Role"]["Arn"])
        self.created.append(f"role:{name}")
        self.call(
            "PutRolePolicy",
            self.iam.put_role_policy,
            RoleName=name,
            PolicyName="bluegreen-ecs-infrastructure",
            PolicyDocument=json.dumps(plan.role_policy.document),
        )
        self.steps(f"IAM role {name} created, trusted by ecs.amazonaws.com, with its permissions")

    def create_rules(self) -> None:
        for rule in self.plan.rules:
            if rule.creates:
                arn = self._create_rule(rule)
                self.rule_arns[rule.role] = arn
                self.created.append(arn)
                self.steps(
                    f"{rule.role} listener rule created at priority {rule.priority} on "
                    f"{rule.listener_arn} (traffic unchanged)"
                )
            elif rule.rule_arn:
                self.rule_arns[rule.role] = rule.rule_arn
            if rule.modify_listener:
                self.call(
                    "ModifyListener",
                    self.aws.elbv2.modify_listener,
                    ListenerArn=rule.listener_arn,
                    DefaultActions=[_forward(rule.forward)],
                )
                self.steps(
                    f"{rule.role} listener {rule.listener_arn} default action forwards to both "
                    "target groups (traffic unchanged)"
                )

    def _create_rule(self, rule: RulePlan) -> str:
        def look() -> Any:
            for found in listener_rules(self.call, self.aws, rule.listener_arn):
                if str(found.get("Priority")) != str(rule.priority):
                    continue
                tags = elb_tags(self.call, self.aws, [str(found["RuleArn"])])
                own = tags.get(str(found["RuleArn"]), {})
                if own.get(STATE_TAG) != self.plan.service_arn:
                    raise ConflictError(
                        f"priority {rule.priority} on {rule.listener_arn} was taken since the "
                        f"plan by rule {found['RuleArn']}: plan again"
                    )
                if own.get(TOKEN_TAG) != self.token:
                    raise _Lost(
                        f"priority {rule.priority} on {rule.listener_arn} was taken by another "
                        "migration of the service running at the same time"
                    )
                return {"Rules": [found]}
            return None

        answer = change_once(
            self.call,
            "CreateRule",
            self.aws.elbv2.create_rule,
            look,
            ListenerArn=rule.listener_arn,
            Priority=rule.priority,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["*"]}}],
            Actions=[_forward(rule.forward)],
            Tags=resource_tags(self.plan.service_arn, self.token),
        )
        return str(answer["Rules"][0]["RuleArn"])

    def load_balancer(self) -> dict[str, Any]:
        """``loadBalancers[0]`` for UpdateService: the plan's, with the rules and role."""
        balancer = _plain(self.plan.load_balancer)
        advanced = dict(balancer.get("advancedConfiguration") or {})
        if "production" in self.rule_arns:
            advanced["productionListenerRule"] = self.rule_arns["production"]
        if "test" in self.rule_arns:
            advanced["testListenerRule"] = self.rule_arns["test"]
        if self.role_arn:
            advanced["roleArn"] = self.role_arn
        balancer["advancedConfiguration"] = {k: v for k, v in advanced.items() if v is not None}
        return dict(balancer)

    def update_service(self) -> None:
        plan = self.plan
        self.updating = True

        def waiting(operation: str, error: AWSError, seconds: float) -> None:
            if not_assumable_yet(error):
                role = self.role_arn or "the role"
                self.steps(f"ECS cannot assume {role} yet (IAM spreads it): again in {seconds:g} s")

        switch_controller(
            attrs.evolve(self.call, **role_waits(), on_retry=waiting),
            self.aws,
            plan.cluster,
            plan.service,
            {"type": "ECS"},
            deployment_configuration=_plain(plan.deployment_configuration),
            load_balancers=[self.load_balancer()],
            retry_also=not_assumable_yet,
        )
        strategy = plan.deployment_configuration.get("strategy")
        self.steps(
            f"service {plan.cluster}/{plan.service} on the ECS controller, strategy {strategy}"
        )

    def verify(self, how: str) -> None:
        verify_by_describe(self.call, self.aws, self.plan, self.load_balancer(), self.steps)
        if how == "deploy":
            self.verify_deployment = verify_by_deployment(
                self.call, self.aws, self.plan, self.clock, self.steps
            )

    def applied(self, record: MigrationRecord) -> None:
        view = read_service(self.call, self.aws, self.plan.cluster, self.plan.service)
        write_record(self.call, self.aws, view, record.with_state("applied", _now(view)))
        self.steps("migration record marked applied")


class _Lost(ConflictError):
    """Another migration of the service won a race: what it made is not ours to undo."""


def apply_migration(
    plan: MigrationPlan,
    *,
    accept_differences: bool = False,
    verify: Literal["describe", "deploy"] = "describe",
    on_step: Callable[[str], None] | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> MigrationResult:
    """Migrate the plan's service from CodeDeploy to ECS-native blue/green (see the module).

    Args:
        plan: what ``plan_migration`` found.
        accept_differences: apply although behaviour changes (``plan.differences``).
        verify: ``describe`` reads the service and rules back; ``deploy`` also runs a no-op
            native deployment (same task definition) to its end, hooks included.
        on_step: told each step done, in words, as it is done.
        clients / session: the AWS clients, or the ``boto3.Session`` to make them from.
        clock: where retries and the verify deployment's wait pause.

    Returns:
        The steps done, ``verified``, and the verify deployment's ARN.

    Raises:
        ValidationError: the plan has problems or differences not accepted (all listed),
            before any call.
        ConflictError: a CodeDeploy deployment or another migration is in flight, or the
            service changed since the plan; nothing changed.
        AWSError, DeploymentError: a step failed; what was done is undone (its ``undone``
            attribute and a note say what), and the error raised.
    """
    check_plan(plan, accept_differences=accept_differences, verify=verify)
    aws = resolve_clients(clients, session)
    clock = clock or MonotonicClock()
    call = Caller(clock=clock)
    steps = Steps(on_step)
    run = _Apply(plan, aws, call, aws.client("iam"), clock, steps)
    run.check_now()
    record = run.record()
    try:
        run.create_role()
        run.create_rules()
        run.update_service()
        run.verify(verify)
        run.applied(record)
    except (Exception, KeyboardInterrupt) as exc:
        undone = _undo(run, exc)
        exc.undone = undone  # type: ignore[union-attr]
        raise
    return MigrationResult(
        cluster=plan.cluster,
        service=plan.service,
        action="apply",
        steps=tuple(steps.done),
        verified=True,
        verify_deployment=run.verify_deployment,
    )


def _undo(run: _Apply, exc: BaseException) -> tuple[str, ...]:
    """Undo what ``run`` did (its own creations only); notes on ``exc`` say what."""
    undone = Steps()
    reversal = Reversal(
        run.aws,
        run.call,
        run.iam,
        run.plan.cluster,
        run.plan.service,
        undone,
        token=run.token,
        give_back=run.updating,
    )
    try:
        if isinstance(exc, _Lost):
            _delete_created(run, undone)
        else:
            reversal.run()
    except BlueGreenError as failed:
        exc.add_note(
            f"undoing the migration failed ({failed}); run `bluegreen migrate revert "
            f"--cluster {run.plan.cluster} --service {run.plan.service}` to finish it"
        )
    if undone.done:
        exc.add_note("undone: " + "; ".join(undone.done))
    return tuple(undone.done)


def _forward(weights: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    """A weighted forward action to these (target group ARN, weight) pairs."""
    groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights]
    return {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}


def _delete_created(run: _Apply, undone: Steps) -> None:
    """Delete what ``run`` created, newest first, touching nothing else: another migration
    of the service won, and the service and its record are that one's."""
    for created in reversed(run.created):
        if created.startswith("role:"):
            delete_role(run.call, run.iam, created.removeprefix("role:"))
            undone(f"IAM role {created.removeprefix('role:')} deleted")
            continue
        try:
            run.call("DeleteRule", run.aws.elbv2.delete_rule, RuleArn=created)
        except AWSError as exc:
            if not is_gone(exc):
                raise
        undone(f"listener rule {created} deleted")


def _now(view: ServiceView) -> dt.datetime:
    return (view.when or dt.datetime.now(dt.UTC)).replace(microsecond=0)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
