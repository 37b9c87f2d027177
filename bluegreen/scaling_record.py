"""The scaling record: what a release learned of the service's scalable targets before any
bluegreen release suspended them, and its format in a tag on the ECS service.

``ScalableTargetState`` is one Application Auto Scaling target as read (or recorded);
``ScalingRecord`` is one release's record, written as the value of its own tag
``bluegreen:scaling:<release id>`` (``record_key``) by ``to_tag`` and read back by
``from_tag``; ``records_in`` finds every record among a service's tags, the single
``RECORD_TAG`` of earlier bluegreen versions included. A tag uses only the characters ECS
allows and fits its 256 characters, so any machine can find the records and restore what
they hold.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import secrets
import socket
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from bluegreen.errors import ValidationError

__all__ = [
    "DIMENSION",
    "FLAGS",
    "OWNER_VARIABLE",
    "PENDING_LIMIT",
    "RECORD_TAG",
    "ScalableTargetState",
    "ScalingRecord",
    "default_owner",
    "new_release_id",
    "record_key",
    "records_in",
]

RECORD_TAG = "bluegreen:scaling"
"""The ECS service tags that hold scaling records: each release writes its own record under
``bluegreen:scaling:<release id>`` (``record_key``); a record under ``bluegreen:scaling``
itself was written by a bluegreen version before 2-part keys and is still read and restored.
Each value is ``key=value`` fields, at most 256 characters."""

PENDING_LIMIT = dt.timedelta(minutes=10)
"""How long a record without a deployment id keeps scaling suspended: a release spends
seconds between writing its record and CreateDeployment, so an older one was left by a
release that died before creating its deployment (unless the deployment group has a
deployment in flight that no record names: the one it created before dying)."""

OWNER_VARIABLE = "BLUEGREEN_OWNER"
"""Names who suspended scaling in the record (default: ``user@host``)."""

FLAGS: Mapping[str, str] = {
    "in": "DynamicScalingInSuspended",
    "out": "DynamicScalingOutSuspended",
    "scheduled": "ScheduledScalingSuspended",
}
"""The kinds of scaling that can be suspended, and their ``SuspendedState`` fields."""

DIMENSION = "ecs:service:DesiredCount"
_TAG_LIMIT = 256

_NOT_TAG_SAFE = re.compile(r"[^A-Za-z0-9+\-=._:/@]")


def _tag_safe(text: str) -> str:
    """``text`` with every character ECS does not allow in a tag value (and the spaces that
    separate the record's fields) replaced by ``_``."""
    return _NOT_TAG_SAFE.sub("_", text)


@attrs.frozen(kw_only=True)
class ScalableTargetState:
    """One Application Auto Scaling target of the service, as read (or recorded)."""

    resource_id: str
    dimension: str = DIMENSION
    min_capacity: int
    max_capacity: int
    dynamic_in_suspended: bool = False
    dynamic_out_suspended: bool = False
    scheduled_suspended: bool = False

    @classmethod
    def from_api(cls, target: Mapping[str, Any]) -> ScalableTargetState:
        """From one DescribeScalableTargets ``ScalableTargets`` entry."""
        suspended = target.get("SuspendedState") or {}
        return cls(
            resource_id=target["ResourceId"],
            dimension=target.get("ScalableDimension", DIMENSION),
            min_capacity=int(target.get("MinCapacity", 0)),
            max_capacity=int(target.get("MaxCapacity", 0)),
            dynamic_in_suspended=bool(suspended.get(FLAGS["in"])),
            dynamic_out_suspended=bool(suspended.get(FLAGS["out"])),
            scheduled_suspended=bool(suspended.get(FLAGS["scheduled"])),
        )

    def flag(self, name: str) -> bool:
        """Whether ``in``, ``out`` or ``scheduled`` is suspended."""
        return {
            "in": self.dynamic_in_suspended,
            "out": self.dynamic_out_suspended,
            "scheduled": self.scheduled_suspended,
        }[name]

    @property
    def suspended(self) -> tuple[str, ...]:
        """Which kinds of scaling are suspended: ``in``, ``out``, ``scheduled``."""
        return tuple(name for name in FLAGS if self.flag(name))

    def suspended_state(self, also: Sequence[str] = ()) -> dict[str, bool]:
        """RegisterScalableTarget's ``SuspendedState``: these flags, plus ``also`` suspended."""
        return {field: self.flag(name) or name in also for name, field in FLAGS.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "dimension": self.dimension,
            "min_capacity": self.min_capacity,
            "max_capacity": self.max_capacity,
            "suspended": list(self.suspended),
        }

    def __str__(self) -> str:
        suspended = ", ".join(self.suspended) or "nothing"
        return (
            f"{self.resource_id}: {self.min_capacity}-{self.max_capacity} tasks, "
            f"suspended: {suspended}"
        )


def new_release_id() -> str:
    """A short random id for one release's record (12 hex digits)."""
    return secrets.token_hex(6)


def record_key(release_id: str) -> str:
    """The tag key of a release's own record: ``bluegreen:scaling:<release id>``."""
    return f"{RECORD_TAG}:{release_id}"


def is_record_key(key: str) -> bool:
    """Whether a tag key holds a scaling record (a release's own, or the legacy single one)."""
    return key == RECORD_TAG or key.startswith(RECORD_TAG + ":")


@attrs.frozen(kw_only=True)
class ScalingRecord:
    """What one release recorded before it suspended scaling: enough to put it back.

    Attributes:
        request_id: the release's id, unique to it; its tag key is ``record_key`` of it.
        deployment_id: the CodeDeploy deployment it was made for, once known.
        owner: who suspended (``$BLUEGREEN_OWNER`` or ``user@host``).
        created_at: when (UTC).
        targets: the scalable targets as they were before any bluegreen release suspended
            anything (the original state, which every restore puts back).
        suspended: the kinds of scaling this release suspended.
        key: the tag key the record is (to be) stored under.
    """

    request_id: str
    deployment_id: str | None = None
    owner: str
    created_at: dt.datetime
    targets: tuple[ScalableTargetState, ...] = ()
    suspended: tuple[str, ...] = ()
    key: str = attrs.field()

    @key.default
    def _own_key(self) -> str:
        return record_key(self.request_id)

    @property
    def is_legacy(self) -> bool:
        """Written under the single ``RECORD_TAG`` by an earlier bluegreen version."""
        return self.key == RECORD_TAG

    def to_tag(self) -> str:
        """The tag value (under ``key``): ``key=value`` fields separated by spaces, using only
        the characters ECS allows in tag values (letters, digits, spaces and ``+ - = . _ : /
        @``), at most 256 characters.

        ``g=<min>:<max>:<in out scheduled as 0/1>@<resource id>`` is one scalable target. The
        resource id is left out when it would not fit (it is the tagged service's own); then
        the owner is shortened.
        """

        def render(with_ids: bool, owner: str) -> str:
            fields = [
                "v=2",
                f"r={_tag_safe(self.request_id)}",
                f"d={self.deployment_id or '-'}",
                f"o={_tag_safe(owner) or '-'}",
                f"t={self.created_at.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
                f"s={':'.join(self.suspended) or '-'}",
            ]
            for t in self.targets:
                flags = "".join("1" if t.flag(n) else "0" for n in FLAGS)
                where = f"@{_tag_safe(t.resource_id)}" if with_ids else "@"
                fields.append(f"g={t.min_capacity}:{t.max_capacity}:{flags}{where}")
            return " ".join(fields)

        text = render(True, self.owner)
        if len(text) > _TAG_LIMIT:
            text = render(False, self.owner)
        if len(text) > _TAG_LIMIT:
            owner = self.owner[: max(0, len(self.owner) - (len(text) - _TAG_LIMIT))]
            text = render(False, owner)
        if len(text) > _TAG_LIMIT:
            raise ValidationError(
                [f"the scaling record needs {len(text)} characters; an ECS tag holds 256"],
                subject="scaling record",
            )
        return text

    @classmethod
    def from_tag(
        cls, value: str, *, resource_id: str | None = None, key: str | None = None
    ) -> ScalingRecord:
        """Parse a record's tag value; ``resource_id`` fills in one left out to fit; ``key``:
        the tag key it was read from (default: the release's own key, ``record_key``).

        Raises:
            ValidationError: the value is not a record bluegreen wrote.
        """
        try:
            fields: dict[str, str] = {}
            targets = []
            for part in value.split():
                name, sep, item = part.partition("=")
                if not sep:
                    raise ValueError(f"field {part!r} has no '='")
                if name != "g":
                    fields[name] = item
                    continue
                limits, _, rid = item.partition("@")
                low, high, flags = limits.split(":")
                on = dict(zip(FLAGS, (c == "1" for c in flags), strict=True))
                targets.append(
                    ScalableTargetState(
                        resource_id=rid or resource_id or "?",
                        min_capacity=int(low),
                        max_capacity=int(high),
                        dynamic_in_suspended=on["in"],
                        dynamic_out_suspended=on["out"],
                        scheduled_suspended=on["scheduled"],
                    )
                )
            if fields.get("v") != "2":
                raise ValueError(f"unknown record version {fields.get('v')!r}")
            created = dt.datetime.strptime(fields["t"], "%Y-%m-%dT%H:%M:%SZ")
            suspended = fields.get("s", "-")
            return cls(
                request_id=fields["r"],
                deployment_id=None if fields.get("d", "-") == "-" else fields["d"],
                owner=fields.get("o", "?"),
                created_at=created.replace(tzinfo=dt.UTC),
                targets=tuple(targets),
                suspended=() if suspended == "-" else tuple(suspended.split(":")),
                key=key or record_key(fields["r"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(
                [f"tag {key or RECORD_TAG} holds {value!r}, not a record bluegreen wrote: {exc}"],
                subject="scaling record",
            ) from exc

    def with_deployment(self, deployment_id: str) -> ScalingRecord:
        return attrs.evolve(self, deployment_id=deployment_id)

    def is_pending(self) -> bool:
        """No deployment id yet: its release is (or was) between recording and creating."""
        return self.deployment_id is None

    def age(self, now: dt.datetime) -> dt.timedelta:
        return max(dt.timedelta(0), now - self.created_at)

    def describe(self, now: dt.datetime | None = None) -> str:
        """``deployment d-123, by alice@ci, 5 min ago``: for messages."""
        what = f"deployment {self.deployment_id}" if self.deployment_id else "no deployment yet"
        when = f"at {self.created_at:%Y-%m-%d %H:%M:%S}Z"
        if now is not None:
            minutes = max(0.0, (now - self.created_at).total_seconds() / 60)
            when = f"{minutes:.0f} min ago ({when})"
        return f"{what}, by {self.owner}, {when}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "request_id": self.request_id,
            "deployment_id": self.deployment_id,
            "owner": self.owner,
            "created_at": self.created_at.isoformat(),
            "targets": [t.to_dict() for t in self.targets],
            "suspended": list(self.suspended),
        }


def records_in(tags: Mapping[str, str], *, resource_id: str) -> tuple[ScalingRecord, ...]:
    """Every scaling record among a service's tags, oldest first (then by key).

    Raises:
        ValidationError: a record tag holds something bluegreen did not write.
    """
    found = [
        ScalingRecord.from_tag(value, resource_id=resource_id, key=key)
        for key, value in tags.items()
        if is_record_key(key)
    ]
    return tuple(sorted(found, key=lambda r: (r.created_at, r.key)))


def default_owner() -> str:
    """Who suspends scaling, for the record: ``$BLUEGREEN_OWNER``, else ``user@host``."""
    owner = os.environ.get(OWNER_VARIABLE)
    if owner:
        return owner
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
