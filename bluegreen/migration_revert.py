"""Putting a migrated service back under CodeDeploy, exactly as the migration record says it
was: after a completed apply, a failed one (``apply_migration`` undoes itself with this) or a
killed one, and again after a revert that was killed itself.

The order keeps traffic where it is at every step: each listener's default action is
pointed at the target group serving production now (native deployments may have swapped it,
and CodeDeploy must start from the live one) while the created rules still win; then
UpdateService gives the service back to CODE_DEPLOY with the recorded
``deploymentConfiguration`` and ``loadBalancers`` on the live target group; then the created
rules and role are deleted (found by their tags); the end state is read back (CODE_DEPLOY, one
PRIMARY task set on the live target group) and only then the record is removed. Each step
looks before it acts, so running it again finishes what a killed run left. The CodeDeploy
deployment group is never changed: it is the way back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._aws import RETRYABLE, Caller, resolve_clients
from bluegreen.clock import Clock, MonotonicClock
from bluegreen.errors import AWSError, ConflictError
from bluegreen.migration_model import MigrationResult
from bluegreen.migration_record import (
    MigrationRecord,
    ServiceView,
    created_role,
    created_rules,
    is_gone,
    read_service,
    remove_record,
    write_record,
)
from bluegreen.native_status import IN_FLIGHT
from bluegreen.registration import ambiguous
from bluegreen.routing import forward_targets

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients

__all__ = [
    "Reversal",
    "Steps",
    "change_once",
    "delete_role",
    "forward_weights",
    "controller",
    "revert_migration",
    "switch_controller",
]

_TAKEN = frozenset({"PriorityInUse", "EntityAlreadyExists", "EntityAlreadyExistsException"})
"""Codes of a create whose name or slot is taken: perhaps by our own earlier attempt."""


@attrs.define
class Steps:
    """What was done, in words, in order; each told to ``on_step`` as it is done."""

    on_step: Callable[[str], None] | None = None
    done: list[str] = attrs.Factory(list)

    def __call__(self, text: str) -> None:
        self.done.append(text)
        if self.on_step is not None:
            self.on_step(text)


def change_once(
    call: Caller,
    operation: str,
    function: Callable[..., Any],
    look: Callable[[], Any],
    /,
    *,
    retry_also: Callable[[AWSError], bool] | None = None,
    **kwargs: Any,
) -> Any:
    """``function(**kwargs)`` through ``call``, never carried out twice: after an answer that
    leaves open whether it happened (a 5xx, a reset connection), or a name or priority that
    is taken, ``look()`` says whether our change is there (not None: it is, and is returned);
    only when it is not is the call sent again (an ambiguous failure) or the error raised.
    ``retry_also``: other refusals ``call`` sends it again after (nothing was carried out).

    Raises:
        AWSError: the call failed and our change is not there.
    """

    def safe(error: AWSError) -> bool:
        if retry_also is not None and retry_also(error):
            return True
        return isinstance(error, RETRYABLE) and not ambiguous(error)

    attempts = 3
    for attempt in range(attempts):
        try:
            return call(operation, function, retry_if=safe, **kwargs)
        except AWSError as exc:
            if not (ambiguous(exc) or exc.code in _TAKEN):
                raise
            found = look()
            if found is not None:
                return found
            if not ambiguous(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def forward_weights(actions: Any) -> dict[str, int]:
    """``{target group ARN: weight}`` of the forward action among ``actions`` (a rule's or a
    listener's default actions); a plain ``TargetGroupArn`` forward weighs 1."""
    return {t.arn: t.weight for t in forward_targets(actions or ())}


def _only(weights: Mapping[str, int]) -> str | None:
    """The one target group with traffic, or None when traffic is split (or there is none)."""
    live = [arn for arn, weight in weights.items() if weight > 0]
    return live[0] if len(live) == 1 else None


@attrs.define
class Reversal:
    """One revert of a service's migration (or the undo of one apply: ``token`` set, only
    what that apply created is deleted).

    Args:
        aws, call, iam: the clients, the ``Caller``, an IAM client.
        cluster, service: the service.
        steps: where each step done is told.
        token: the apply whose creations may be deleted; None: every migration's.
        give_back: give the service back to CODE_DEPLOY when it is on ECS (an undo whose
            apply never sent UpdateService does not: another migration did).
        now: the wall clock, for the record's state time.
    """

    aws: Clients
    call: Caller
    iam: Any
    cluster: str
    service: str
    steps: Steps
    token: str | None = None
    give_back: bool = True
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    verified: bool = False

    def run(self) -> None:
        """Revert, as the module says.

        Raises:
            ConflictError: no record on the service, or a native deployment in flight.
            AWSError: a call failed (run it again: each step looks before it acts).
        """
        view = read_service(self.call, self.aws, self.cluster, self.service)
        record = view.record
        if record is None:
            raise ConflictError(
                f"service {self.cluster}/{self.service} has no migration record: there is "
                "nothing to revert (it was never migrated by bluegreen, or it was reverted)"
            )
        native = controller(view.service) == "ECS"
        if native and not self.give_back:
            # Another migration changed the controller: only this apply's creations go.
            self._delete_rules(record, view.arn)
            self._delete_role(record, view.arn)
            return
        if native:
            self._refuse_in_flight()
        if record.state != "reverting":
            write_record(self.call, self.aws, view, record.with_state("reverting", self._now(view)))
            self.steps("record marked reverting")
        live = self._live_target_group(view.service, record, native=native)
        for listener in record.listeners:
            self._point_listener(listener, live)
        if native:
            self._give_back(record, live)
        self._delete_rules(record, view.arn)
        self._delete_role(record, view.arn)
        final = read_service(self.call, self.aws, self.cluster, self.service)
        self._verify(final.service, live)
        remove_record(self.call, self.aws, final)
        self.steps("migration record removed")

    # -- steps ------------------------------------------------------------------------------

    def _refuse_in_flight(self) -> None:
        answer = self.call(
            "ListServiceDeployments",
            self.aws.ecs.list_service_deployments,
            cluster=self.cluster,
            service=self.service,
            status=[str(s) for s in IN_FLIGHT],
        )
        live = answer.get("serviceDeployments") or ()
        if live:
            arn = str(live[0]["serviceDeploymentArn"])
            raise ConflictError(
                f"service deployment {arn} of {self.cluster}/{self.service} is in flight "
                f"({live[0].get('status')}): wait for it to end (or abort it), then revert",
                deployment_id=arn,
            )

    def _live_target_group(
        self, service: Mapping[str, Any], record: MigrationRecord, *, native: bool
    ) -> str:
        """The target group serving production now."""
        if not native:
            for task_set in service.get("taskSets") or ():
                if task_set.get("status") == "PRIMARY" and task_set.get("loadBalancers"):
                    return str(task_set["loadBalancers"][0]["targetGroupArn"])
            return str(record.load_balancers[0]["targetGroupArn"])
        balancer = (service.get("loadBalancers") or [{}])[0]
        advanced = balancer.get("advancedConfiguration") or {}
        rule = advanced.get("productionListenerRule")
        weights: dict[str, int] = {}
        if rule and ":listener-rule/" in rule:
            rules: Any = self.call("DescribeRules", self.aws.elbv2.describe_rules, RuleArns=[rule])
            weights = forward_weights((rules.get("Rules") or [{}])[0].get("Actions"))
        elif rule:
            listeners: Any = self.call(
                "DescribeListeners", self.aws.elbv2.describe_listeners, ListenerArns=[rule]
            )
            weights = forward_weights((listeners.get("Listeners") or [{}])[0].get("DefaultActions"))
        else:
            return str(balancer.get("targetGroupArn") or record.load_balancers[0]["targetGroupArn"])
        live = _only(weights)
        if live is None:
            raise ConflictError(
                f"production traffic of {self.cluster}/{self.service} is split ({weights}) on "
                f"{rule}: a deployment may be in flight; revert once it has ended"
            )
        return live

    def _point_listener(self, listener: str, live: str) -> None:
        """Point the listener's default action at ``live`` alone, unless it forwards there
        only (a weighted forward naming the other target group too, as an NLB listener
        migrated natively has, becomes a plain forward)."""
        try:
            answer = self.call(
                "DescribeListeners", self.aws.elbv2.describe_listeners, ListenerArns=[listener]
            )
        except AWSError as exc:
            if is_gone(exc):
                self.steps(f"listener {listener} no longer exists: left")
                return
            raise
        actions = (answer.get("Listeners") or [{}])[0].get("DefaultActions")
        if set(forward_weights(actions)) == {live}:
            return
        self.call(
            "ModifyListener",
            self.aws.elbv2.modify_listener,
            ListenerArn=listener,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": live}],
        )
        self.steps(f"listener {listener} default action now forwards to {_name(live)}")

    def _give_back(self, record: MigrationRecord, live: str) -> None:
        balancers = [dict(lb) for lb in record.load_balancers]
        for balancer in balancers:
            balancer.pop("advancedConfiguration", None)
        if balancers:
            balancers[0]["targetGroupArn"] = live

        switch_controller(
            self.call,
            self.aws,
            self.cluster,
            self.service,
            dict(record.controller) or {"type": "CODE_DEPLOY"},
            deployment_configuration=dict(record.deployment_configuration),
            load_balancers=balancers,
        )
        self.steps(
            f"service {self.cluster}/{self.service} back on the CODE_DEPLOY controller, "
            f"serving from {_name(live)}"
        )

    def _delete_rules(self, record: MigrationRecord, service_arn: str) -> None:
        for rule in created_rules(self.call, self.aws, record.listeners, service_arn):
            if self.token is not None and rule.token != self.token:
                continue
            try:
                self.call("DeleteRule", self.aws.elbv2.delete_rule, RuleArn=rule.arn)
            except AWSError as exc:
                if not is_gone(exc):
                    raise
            self.steps(f"listener rule {rule.arn} (priority {rule.priority}) deleted")

    def _delete_role(self, record: MigrationRecord, service_arn: str) -> None:
        if not record.role:
            return
        try:
            found = created_role(self.call, self.iam, record.role, service_arn)
        except ConflictError:
            self.steps(f"IAM role {record.role} was not created by this migration: left")
            return
        if found is None or (self.token is not None and found[1] != self.token):
            return
        delete_role(self.call, self.iam, record.role)
        self.steps(f"IAM role {record.role} deleted")

    def _verify(self, service: Mapping[str, Any], live: str) -> None:
        primary = [s for s in service.get("taskSets") or () if s.get("status") == "PRIMARY"]
        serving = [
            str(lb.get("targetGroupArn")) for s in primary for lb in s.get("loadBalancers") or ()
        ]
        problems = []
        if controller(service) != "CODE_DEPLOY":
            problems.append(f"the deployment controller is {controller(service)}")
        if len(service.get("taskSets") or ()) != 1 or len(primary) != 1:
            problems.append(f"it has {len(service.get('taskSets') or ())} task sets")
        elif serving != [live]:
            problems.append(f"its PRIMARY task set serves from {serving}, not {_name(live)}")
        if problems:
            raise ConflictError(
                f"service {self.cluster}/{self.service} is not back under CodeDeploy as "
                f"expected: {'; '.join(problems)}; the record is kept: look at the service, "
                "then revert again"
            )
        self.verified = True
        self.steps(
            "verified: CODE_DEPLOY controller, one PRIMARY task set on the live target group"
        )

    def _now(self, view: ServiceView) -> dt.datetime:
        return view.when or self.now()


def delete_role(call: Caller, iam: Any, name: str) -> None:
    """Delete a role and its inline policies (a policy or role already gone is fine)."""
    try:
        names = call("ListRolePolicies", iam.list_role_policies, RoleName=name)["PolicyNames"]
        for policy in names:
            try:
                call("DeleteRolePolicy", iam.delete_role_policy, RoleName=name, PolicyName=policy)
            except AWSError as exc:
                if not is_gone(exc):
                    raise
        call("DeleteRole", iam.delete_role, RoleName=name)
    except AWSError as exc:
        if not is_gone(exc):
            raise


def revert_migration(
    cluster: str,
    service: str,
    *,
    on_step: Callable[[str], None] | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> MigrationResult:
    """Put a service migrated by ``apply_migration`` back under CodeDeploy, exactly as its
    migration record says it was (see the module). Safe to run again after it was killed.

    Args:
        cluster, service: the service (names or ARNs).
        on_step: told each step done, in words, as it is done.
        clients / session: the AWS clients, or the ``boto3.Session`` to make them from.
        clock: where retries pause (default: the real clock).

    Returns:
        The steps done; ``verified`` when the service was read back under CodeDeploy.

    Raises:
        ConflictError: no migration record on the service, or a native deployment in flight
            (nothing changed).
        AWSError: a call failed; what was done is in the steps told so far; run it again.
    """
    aws = resolve_clients(clients, session)
    call = Caller(clock=clock or MonotonicClock())
    steps = Steps(on_step)
    reversal = Reversal(aws, call, aws.client("iam"), cluster, service, steps)
    reversal.run()
    return MigrationResult(
        cluster=cluster,
        service=service,
        action="revert",
        steps=tuple(steps.done),
        verified=reversal.verified,
    )


def controller(service: Mapping[str, Any]) -> str:
    """A DescribeServices service's deployment controller (ECS when none is named)."""
    return str((service.get("deploymentController") or {}).get("type") or "ECS")


def switch_controller(
    call: Caller,
    aws: Clients,
    cluster: str,
    service: str,
    to: Mapping[str, Any],
    *,
    deployment_configuration: Mapping[str, Any],
    load_balancers: list[dict[str, Any]],
    retry_also: Callable[[AWSError], bool] | None = None,
) -> None:
    """UpdateService to the ``to`` deployment controller with this configuration and load
    balancer, sent once: after an answer that leaves it open, the service is read first
    (``retry_also``: as ``change_once``)."""

    def look() -> Any:
        view = read_service(call, aws, cluster, service)
        return {"service": view.service} if controller(view.service) == to["type"] else None

    change_once(
        call,
        "UpdateService",
        aws.ecs.update_service,
        look,
        retry_also=retry_also,
        cluster=cluster,
        service=service,
        deploymentController=dict(to),
        deploymentConfiguration=dict(deployment_configuration),
        loadBalancers=load_balancers,
    )


def _name(target_group_arn: str) -> str:
    """``web-blue`` for a target group ARN (for messages)."""
    parts = target_group_arn.split(":targetgroup/")
    return parts[-1].split("/")[0] if len(parts) == 2 else target_group_arn
