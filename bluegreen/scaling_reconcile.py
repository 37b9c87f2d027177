"""Reconciling a service's scaling with its records: the one function every restore uses.

Each release keeps its own record on the service (``bluegreen.scaling_record``). What the
scalable targets' flags should be is a pure function of the records and of CodeDeploy
(``desired_changes``):

- the original state is the oldest record's (it saw the targets before any bluegreen release
  touched them); a target no record holds is left alone;
- a record is *in force* while its deployment (or the rollback it started) is in flight, or,
  without a deployment id yet, while it is younger than the pending limit (``PENDING_LIMIT``),
  or while the deployment group has a deployment in flight that no record names (the one its
  release created before it died);
- the flags are the original ones plus every kind of scaling some record in force suspended.

``reconcile`` reads the flags, then the records, sets the flags to that, then removes the
records no longer in force (a release's own record only after its flags are back), and looks
again after any change, so a restore that raced a new release's suspension puts the
suspension back. It sends RegisterScalableTarget with only the ``SuspendedState`` fields that
differ (never min/max: contract 7.2). ``learn_original`` is the other half, for a release
about to suspend: which state its record must call original.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from bluegreen.clock import wall_now
from bluegreen.errors import AWSError, ResourceNotFoundError
from bluegreen.listing import ACTIVE_STATUSES, list_deployments, still_running
from bluegreen.scaling_record import FLAGS, PENDING_LIMIT, ScalableTargetState, ScalingRecord
from bluegreen.scaling_targets import RestoreResult, ServiceScaling

__all__ = [
    "MAX_ROUNDS",
    "InForce",
    "Reconciled",
    "desired_changes",
    "learn_original",
    "original_states",
    "reconcile",
]

MAX_ROUNDS = 4
"""Passes at most: a pass that changes something is followed by one that checks the result."""

_TargetKey = tuple[str, str]


def _key(target: ScalableTargetState) -> _TargetKey:
    return (target.resource_id, target.dimension)


@attrs.frozen(kw_only=True)
class InForce:
    """A record that keeps scaling suspended, and why.

    Attributes:
        record: the record.
        deployment_id: the deployment in flight for it (its own, the rollback it started,
            or the group's unnamed one); None while its release has not created one yet.
        status: that deployment's status, or ``pending``.
    """

    record: ScalingRecord
    deployment_id: str | None
    status: str

    def describe(self, now: dt.datetime | None = None) -> str:
        if self.deployment_id is None:
            what = self.record.describe(now)
            return f"a release that has not created its deployment yet ({what})"
        return f"deployment {self.deployment_id} ({self.status}; {self.record.describe(now)})"


@attrs.frozen(kw_only=True)
class Reconciled:
    """What ``reconcile`` did (``result``) and the records left in force (``in_force``)."""

    result: RestoreResult
    in_force: tuple[InForce, ...] = ()


# -- the pure part -----------------------------------------------------------------------


def _oldest_first(records: Iterable[ScalingRecord]) -> list[ScalingRecord]:
    return sorted(records, key=lambda r: (r.created_at, r.key))


def original_states(records: Iterable[ScalingRecord]) -> dict[_TargetKey, ScalableTargetState]:
    """Each recorded target's original state: the oldest record holding it."""
    found: dict[_TargetKey, ScalableTargetState] = {}
    for record in _oldest_first(records):
        for target in record.targets:
            found.setdefault(_key(target), target)
    return found


def learn_original(
    records: Iterable[ScalingRecord], targets: Sequence[ScalableTargetState]
) -> tuple[ScalableTargetState, ...]:
    """The original state a new record must hold for ``targets``: a target some record holds
    is as the oldest such record says; the others are as read.

    ``targets`` must have been read before the last read of ``records``: a release writes its
    record before it suspends, so a suspension seen in ``targets`` comes with a record that
    read finds, and the suspended flags are never taken for the original."""
    known = original_states(records)
    return tuple(known.get(_key(t), t) for t in targets)


def desired_changes(
    current: Sequence[ScalableTargetState],
    original: Mapping[_TargetKey, ScalableTargetState],
    suspend: Iterable[str],
) -> tuple[list[tuple[ScalableTargetState, dict[str, bool]]], list[str]]:
    """What to send to make the targets the original plus ``suspend`` suspended.

    Returns:
        ``[(target, SuspendedState fields that differ)]`` and the resource ids of recorded
        targets that no longer exist.
    """
    kinds = set(suspend)
    now = {_key(t): t for t in current}
    changes: list[tuple[ScalableTargetState, dict[str, bool]]] = []
    missing: list[str] = []
    for key, before in original.items():
        target = now.get(key)
        if target is None:
            missing.append(before.resource_id)
            continue
        wanted = {name: before.flag(name) or name in kinds for name in FLAGS}
        differ = {FLAGS[n]: v for n, v in wanted.items() if target.flag(n) != v}
        if differ:
            changes.append((target, differ))
    return changes, missing


# -- CodeDeploy: which records are in force ------------------------------------------------


@attrs.define
class _Liveness:
    """Decides which records are in force, reading CodeDeploy at most once per deployment."""

    svc: ServiceScaling
    now: dt.datetime
    pending_limit: dt.timedelta
    _running: dict[str, tuple[str, str] | None] = attrs.Factory(dict)
    _group_in_flight: list[str] | None = None

    def in_force(self, records: Sequence[ScalingRecord]) -> list[InForce]:
        found: list[InForce] = []
        named: set[str] = set()
        for record in records:
            if record.deployment_id is None:
                continue
            named.add(record.deployment_id)
            running = self.running(record.deployment_id)
            if running is not None:
                named.add(running[0])
                found.append(InForce(record=record, deployment_id=running[0], status=running[1]))
        for record in records:
            if record.deployment_id is not None:
                continue
            if record.age(self.now) < self.pending_limit:
                found.append(InForce(record=record, deployment_id=None, status="pending"))
                continue
            unnamed = [d for d in self.group_in_flight() if d not in named]
            if unnamed:
                found.append(InForce(record=record, deployment_id=unnamed[0], status="in flight"))
        return found

    def running(self, deployment_id: str) -> tuple[str, str] | None:
        """The deployment (or the rollback it started) still in flight, with its status."""
        if deployment_id not in self._running:
            self._running[deployment_id] = still_running(
                self.svc.caller, self.svc.aws, deployment_id
            )
        return self._running[deployment_id]

    def group_in_flight(self) -> list[str]:
        """The service's deployment group's deployments in flight (only asked when a record
        without a deployment id is older than the pending limit)."""
        if self._group_in_flight is None:
            from bluegreen.discovery import find_deployment_group

            cluster, service = (n.rsplit("/", 1)[-1] for n in (self.svc.cluster, self.svc.service))
            try:
                group = find_deployment_group(
                    cluster, service, clients=self.svc.aws, caller=self.svc.caller
                )
            except ResourceNotFoundError:
                self._group_in_flight = []
            else:
                self._group_in_flight = list_deployments(
                    self.svc.caller, self.svc.aws, group.application, group.name, ACTIVE_STATUSES
                )
        return self._group_in_flight


# -- reconcile ------------------------------------------------------------------------------


def reconcile(
    svc: ServiceScaling,
    *,
    give_back: Callable[[ScalingRecord], bool] = lambda record: False,
    pending_limit: dt.timedelta = PENDING_LIMIT,
) -> Reconciled:
    """Set the service's scaling flags to what its records call for, and remove the records
    no longer in force.

    Args:
        svc: the service.
        give_back: the records to treat as no longer in force whatever CodeDeploy says (a
            release giving back its own record, a forced restore).
        pending_limit: how long a record without a deployment id stays in force.

    Returns:
        What was done, and the records still in force.

    Raises:
        AWSError: a flag could not be set; no record was removed, and the note says how to
            restore later.
    """
    seen: dict[str, ScalingRecord] = {}
    removed: dict[str, ScalingRecord] = {}
    in_force: list[InForce] = []
    missing: list[str] = []
    for _ in range(MAX_ROUNDS):
        current = svc.targets()  # the flags first, then the records: see learn_original
        records = svc.records()
        seen.update((r.key, r) for r in records)
        if not seen:
            return Reconciled(result=RestoreResult(already_restored=True))
        liveness = _Liveness(svc, wall_now(svc.clock), pending_limit)
        in_force = liveness.in_force([r for r in records if not give_back(r)])
        kept = {f.record.key for f in in_force}
        suspend = {kind for f in in_force for kind in f.record.suspended}
        changes, missing = desired_changes(current, original_states(seen.values()), suspend)
        stale = [r for r in records if r.key not in kept]
        try:
            for target, state in changes:
                svc.set_suspended(target, state)
            svc.remove(stale)  # only once the flags are right
        except AWSError as exc:
            svc.not_restored(exc, records)
            raise
        removed.update((r.key, r) for r in stale)
        if not changes and not stale:
            break
    given = [r for r in seen.values() if give_back(r)]
    candidates = given or _oldest_first(removed.values()) or [f.record for f in in_force]
    acted = candidates[0] if candidates else None
    restored: tuple[str, ...] = ()
    if not in_force:
        recorded = {t.resource_id for t in original_states(seen.values()).values()}
        restored = tuple(sorted(recorded - set(missing)))
    result = RestoreResult(
        restored=restored,
        missing=tuple(missing),
        record=acted,
        removed=tuple(_oldest_first(removed.values())),
        live=tuple(f.record for f in in_force),
    )
    return Reconciled(result=result, in_force=tuple(in_force))
