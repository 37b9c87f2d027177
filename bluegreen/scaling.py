"""Suspend Application Auto Scaling for a deployment and put back exactly what was there, even
when two releases of one service race.

A scaling activity during a CodeDeploy blue/green deployment can fail it or leave a wrong
desired count (contract section 7), so a release suspends the service's scaling. Service tags
are no lock (there is no compare-and-set), so every release keeps its own record, and
CodeDeploy's one-deployment-per-group rule decides which release owns the service:

1. read the service's tags (the records), then its scalable targets' flags, as the preflight
   does;
2. write its own record (``bluegreen:scaling:<release id>``): the original state (the oldest
   record's, else the flags just read), the kinds of scaling it suspends, owner, time;
3. read the records again: a record older than the ones first read corrects the original;
4. suspend its kinds of scaling, RegisterScalableTarget passing only those ``SuspendedState``
   fields (never min/max, which would move the desired count into range: contract 7.2);
5. once the deployment exists, write its id into the record and reconcile.

Every restore, whoever runs it (the end of ``wait()``, a release that lost the race,
``recover``, the safety-net handler, Ctrl-C), is ``bluegreen.scaling_reconcile.reconcile``:
the flags are the original plus what the records still in force suspended, and the records
no longer in force are removed once the flags are right. A flag suspended before any release
stays suspended; a restore that cannot be done raises and keeps the records, so ``recover``
can do it later.

This module holds the public functions. The record and its tag format are in
``bluegreen.scaling_record``; the AWS calls (each through ``bluegreen._aws.Caller``, retried
on throttling and 5xx on the injected clock) in ``bluegreen.scaling_targets``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen.clock import wall_now
from bluegreen.errors import AWSError, DeploymentStateError, ValidationError, show_value
from bluegreen.scaling_reconcile import InForce, Reconciled, learn_original, reconcile
from bluegreen.scaling_record import (
    FLAGS,
    OWNER_VARIABLE,
    PENDING_LIMIT,
    RECORD_TAG,
    ScalableTargetState,
    ScalingRecord,
    default_owner,
    new_release_id,
)
from bluegreen.scaling_targets import RestoreResult, ServiceScaling, service_scaling

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.clock import Clock, RateBudget


__all__ = [
    "FLAGS",
    "OWNER_VARIABLE",
    "PENDING_LIMIT",
    "RECORD_TAG",
    "RestoreResult",
    "ScalableTargetState",
    "ScalingLease",
    "ScalingRecord",
    "ScalingStatus",
    "recover",
    "restore_scaling",
    "scaling_state",
    "suspend_scaling",
]


@attrs.frozen(kw_only=True)
class ScalingStatus:
    """The service's scalable targets now, and the records of releases that suspended them
    (oldest first)."""

    targets: tuple[ScalableTargetState, ...] = ()
    records: tuple[ScalingRecord, ...] = ()

    @property
    def record(self) -> ScalingRecord | None:
        """The oldest record (it holds the original state), or None."""
        return self.records[0] if self.records else None

    def __str__(self) -> str:
        return self.describe()

    def describe(self, *, ended: str | None = None) -> str:
        """The targets and the records, for a person.

        Args:
            ended: how the oldest record's deployment ended, once it has (``"deployment d-X
                ended (Succeeded)"``): that record is then not promised a restore "when the
                deployment ends", and the text says how to restore it now.
        """
        lines = ["Autoscaling:"]
        lines += [f"  {t}" for t in self.targets] or ["  no scalable target for the service"]
        if not self.records:
            lines.append("  not suspended by bluegreen")
            return "\n".join(lines)
        recover = advice("bluegreen.recover(...)", "`bluegreen recover`")
        for index, record in enumerate(self.records):
            suspended = ", ".join(record.suspended) or "nothing"
            if ended is None or index > 0:
                when = f"restored when the deployment ends, or with {recover}"
            else:
                when = (
                    f"{ended} and it is not restored yet: {recover} restores it now (the "
                    "release that follows the deployment, or the restore_scaling hook, may do "
                    "it first)"
                )
            lines.append(f"  suspended by bluegreen ({suspended}) for {record.describe()}; {when}")
        original = self.records[0].targets
        if original:
            before = "; ".join(", ".join(t.suspended) or "nothing" for t in original)
            lines.append(f"  suspended before any release: {before}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": [t.to_dict() for t in self.targets],
            "record": self.record.to_dict() if self.record is not None else None,
            "records": [r.to_dict() for r in self.records],
        }


def _check_flags(suspend: Sequence[str]) -> tuple[str, ...]:
    if isinstance(suspend, str):
        names: list[object] = list(suspend.split(","))
    elif isinstance(suspend, (list, tuple, set, frozenset)):
        names = list(suspend)
    else:
        names = [suspend]
    flags = tuple(dict.fromkeys(n.strip() if isinstance(n, str) else repr(n) for n in names))
    flags = tuple(f for f in flags if f)
    unknown = [f for f in flags if f not in FLAGS]
    if unknown or not flags:
        raise ValidationError(
            [
                advice("suspend=", "--suspend-scaling")
                + f" takes some of {', '.join(FLAGS)}, not {', '.join(unknown) or 'nothing'}"
            ],
            subject="scaling",
        )
    return flags


# -- the public functions ----------------------------------------------------------------


def scaling_state(
    cluster: str,
    service: str,
    *,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    service_arn: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ScalingStatus:
    """The service's scalable targets now and every record of a release that suspended them.

    Costs DescribeScalableTargets and DescribeServices (the ARN and the tags in one call);
    only the first when the caller passes the service's ``tags`` it has just read
    (DescribeServices with ``include=["TAGS"]``, as ``discover`` reads them).

    Args:
        service_arn: the service's ARN, when already read.
        tags: the service's tags, when already read: the records are taken from them.

    Raises:
        ResourceNotFoundError: the service does not exist.
        AWSError: an AWS call failed (throttling and 5xx are retried first).
    """
    svc = service_scaling(cluster, service, clients, session, None, arn=service_arn)
    records = svc.records_in(tags) if tags is not None else svc.records()
    return ScalingStatus(targets=svc.targets(), records=records)


@attrs.define
class ScalingLease:
    """Scaling suspended by ``suspend_scaling`` under this release's own record;
    ``restore()`` (or leaving the ``with`` block, however it is left) gives the record back
    and reconciles: the original state comes back unless another release's record is still
    in force."""

    record: ScalingRecord | None
    _svc: ServiceScaling = attrs.field(alias="svc", repr=False)
    _result: RestoreResult | None = attrs.field(default=None, init=False, repr=False)

    def attach(self, deployment_id: str) -> None:
        """Write the deployment id into the record (so everyone can tell when the deployment
        has ended), then reconcile, so the flags are suspended for it whatever raced."""
        if self.record is None or self.record.deployment_id == deployment_id:
            return
        record = self.record.with_deployment(deployment_id)
        self._svc.write(record)
        self.record = record
        done = reconcile(self._svc)
        if all(f.record.key != record.key for f in done.in_force):
            # Removed in between (a forced restore, or a reconcile that took it for a dead
            # release's): the deployment runs, so record it again.
            self._svc.write(record)
            reconcile(self._svc)

    def restore(self) -> RestoreResult:
        """Give back this release's record and reconcile; a second call does nothing.

        Raises:
            AWSError: the state could not be put back; the records are kept and the error's
                note says how to recover.
        """
        if self._result is not None:
            return RestoreResult(already_restored=True, record=self.record)
        if self.record is None:
            self._result = RestoreResult(already_restored=True)
            return self._result
        mine = self.record.key
        self._result = reconcile(self._svc, give_back=lambda r: r.key == mine).result
        return self._result

    def __enter__(self) -> ScalingLease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.restore()
        except AWSError as failure:
            if exc is None:
                raise
            exc.add_note(str(failure))
            for note in getattr(failure, "__notes__", ()):
                exc.add_note(note)


def suspend_scaling(
    cluster: str,
    service: str,
    *,
    suspend: Sequence[str] = ("in", "out", "scheduled"),
    deployment_id: str | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    service_arn: str | None = None,
    tags: Mapping[str, str] | None = None,
    targets: Sequence[ScalableTargetState] | None = None,
    budget: RateBudget | None = None,
) -> ScalingLease:
    """Write this release's own record on the service, then suspend ``suspend``.

    The record holds the original state: the oldest existing record's, else the flags as
    read (the records are read before the flags and again after the record is written, so
    a suspension seen in the flags comes with its record). Other releases' records are never
    touched; which release deploys is CodeDeploy's decision (one deployment per group). A
    service without a scalable target gets no record (``lease.record`` is None).

    Args:
        cluster: cluster name or ARN.
        service: service name or ARN.
        suspend: which kinds of scaling to suspend: ``in``, ``out``, ``scheduled``.
        deployment_id: the deployment it is for, if it exists already (else ``attach``).
        clients, session: the AWS clients or session to use.
        clock: ``time()``/``sleep()`` for the retries and the record's time.
        service_arn, tags, targets: what the caller has just read of the service (its ARN,
            its tags, its scalable targets, e.g. the preflight's reads), so they are not
            read again. ``tags`` must have been read before ``targets``.
        budget: the ``RateBudget`` the calls draw from (default: ``DEFAULT_BUDGET``).

    Returns:
        A ``ScalingLease``; use it as a context manager or call ``restore()``.

    Raises:
        ValidationError: ``suspend`` names something else.
        AWSError: an AWS call failed; whatever was suspended has been restored.
    """
    flags = _check_flags(suspend)
    svc = service_scaling(cluster, service, clients, session, clock, arn=service_arn, budget=budget)
    before = svc.records_in(tags) if tags is not None else svc.records()
    current = tuple(targets) if targets is not None else svc.targets()
    if not current:
        return ScalingLease(None, svc=svc)
    record = ScalingRecord(
        request_id=new_release_id(),
        deployment_id=deployment_id,
        owner=default_owner(),
        created_at=wall_now(svc.clock).replace(microsecond=0),
        targets=learn_original(before, current),
        suspended=flags,
    )
    svc.write(record)
    after = svc.records()
    others = [r for r in (*before, *after) if r.key != record.key]
    original = learn_original(others, current)
    if original != record.targets or all(r.key != record.key for r in after):
        # An older record turned up (or ours was removed by a forced restore): write ours
        # again before suspending anything.
        record = attrs.evolve(record, targets=original)
        svc.write(record)
    lease = ScalingLease(record, svc=svc)
    try:
        for target in current:
            svc.set_suspended(target, {FLAGS[kind]: True for kind in flags})
    except BaseException as exc:
        try:
            lease.restore()
        except AWSError as failure:
            exc.add_note(str(failure))
        raise
    return lease


def restore_scaling(
    cluster: str,
    service: str,
    *,
    deployment_id: str | None = None,
    pending_limit: dt.timedelta = PENDING_LIMIT,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    budget: RateBudget | None = None,
) -> RestoreResult:
    """Give back the records made for ``deployment_id`` (every record when None), even while
    it runs, and reconcile: the original state comes back unless another release's record is
    still in force (its deployment in flight), which keeps its kinds suspended.

    Args:
        deployment_id: the deployment whose records are given back (a deployment's own
            restore, at its end or when its release process is interrupted).
        pending_limit: how long a record without a deployment id stays in force.
        budget: the ``RateBudget`` the calls draw from (default: ``DEFAULT_BUDGET``).

    Returns:
        What was done; ``already_restored`` when there was no record; ``live`` the records
        still in force.

    Raises:
        AWSError: the state could not be put back; the records are kept.
    """
    limit = _check_pending(pending_limit)
    svc = service_scaling(cluster, service, clients, session, clock, budget=budget)
    return reconcile(svc, give_back=_given_back(deployment_id), pending_limit=limit).result


def _check_pending(limit: object) -> dt.timedelta:
    if not isinstance(limit, dt.timedelta) or limit < dt.timedelta(0):
        raise ValidationError(
            [f"pending_limit= must be a datetime.timedelta of 0 or more, got {show_value(limit)}"],
            subject="scaling",
        )
    return limit


def _given_back(deployment_id: str | None) -> Callable[[ScalingRecord], bool]:
    if deployment_id is None:
        return lambda record: True
    return lambda record: record.deployment_id == deployment_id


def recover(
    cluster: str,
    service: str,
    *,
    force: bool = False,
    pending_limit: dt.timedelta = PENDING_LIMIT,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> RestoreResult:
    """Restore what dead release processes left suspended: reconcile the service's records.

    A record stays in force, and scaling suspended for it, while its deployment (or the
    rollback it started) is in flight; a record without a deployment id while it is younger
    than ``pending_limit``, or while the deployment group has a deployment in flight that no
    record names. The other records are removed, and once none is in force the original
    state is back.

    Args:
        force: give back every record, even one still in force.
        pending_limit: how long a record without a deployment id stays in force.

    Raises:
        DeploymentStateError: a record is still in force (the message names its deployment,
            or the release that has not created one yet); scaling stays suspended for it.
        AWSError: the state could not be put back; the records are kept.
    """
    limit = _check_pending(pending_limit)
    svc = service_scaling(cluster, service, clients, session, clock)
    done = reconcile(svc, give_back=lambda record: force, pending_limit=limit)
    if done.in_force:
        raise _still_in_force(svc, done, pending_limit)
    return done.result


def _still_in_force(
    svc: ServiceScaling, done: Reconciled, pending_limit: dt.timedelta
) -> DeploymentStateError:
    now = wall_now(svc.clock)
    first: InForce = done.in_force[0]
    which = "; ".join(f.describe(now) for f in done.in_force)
    if first.deployment_id is None:
        left = pending_limit - first.record.age(now)
        when = (
            f"it is restored when that deployment ends, or once the record is "
            f"{pending_limit.total_seconds() / 60:g} min old "
            f"(in {max(0.0, left.total_seconds()) / 60:.0f} min) if none is created"
        )
    else:
        when = "it is restored when that ends"
    force = advice(
        f"recover({svc.cluster!r}, {svc.service!r}, force=True)",
        f"`bluegreen recover --force --cluster {svc.cluster} --service {svc.service}`",
    )
    return DeploymentStateError(
        f"scaling of {svc.cluster}/{svc.service} stays suspended for {which}: {when}; "
        f"{force} restores it anyway",
        deployment_id=first.deployment_id or "",
        status=first.status,
    )
