"""The migration record: what a migration from CodeDeploy to ECS-native blue/green found on
the service before its first change, kept as tags on the service, and how to find what the
migration created.

The record is written before any change (``write_record``), so ``revert_migration`` can put
the service back exactly as it was after a completed apply, a failed one or a killed one:

- ``bluegreen:migration`` = ``<state> <ISO time> n=<chunks> id=<token>``: readable (``state``
  is ``applying``, ``applied`` or ``reverting``); the token names the apply that wrote it;
- ``bluegreen:migration:1`` ... ``:n``: the record itself, compact JSON, base64url-encoded
  (ECS tag values allow only letters, digits, spaces and ``+ - = . _ : / @``) in pieces of
  at most 256 characters: the deployment controller, ``deploymentConfiguration`` and
  ``loadBalancers`` exactly as DescribeServices showed them, the CodeDeploy application and
  deployment group, the listeners the migration puts rules on and the role it creates.

What the migration creates carries its own tags, so revert finds it even after a kill:
listener rules (ELB AddTags/DescribeTags) and a created role (IAM TagRole/ListRoleTags) have
``bluegreen:migration`` = the service's ARN and ``bluegreen:migration-id`` = the token of the
apply that made them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.errors import AWSError, ConflictError, ServiceConfigError, ValidationError

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = [
    "unfinished",
    "CHUNK_SIZE",
    "STATE_TAG",
    "TAG_LIMIT",
    "TOKEN_TAG",
    "MigrationRecord",
    "ServiceView",
    "created_role",
    "created_rules",
    "new_token",
    "read_service",
    "record_tags",
    "remove_record",
    "resource_tags",
    "write_record",
]

STATE_TAG = "bluegreen:migration"
"""The service tag with the record's readable state; also the ELB/IAM tag (value: the
service's ARN) on what a migration created."""

TOKEN_TAG = "bluegreen:migration-id"
"""The ELB/IAM tag naming the apply that created a rule or a role (its token)."""

CHUNK_SIZE = 256
TAG_LIMIT = 50
"""ECS's limits: characters in a tag value, tags on a resource."""

STATES = ("applying", "applied", "reverting")

_CHUNK_KEY = re.compile(r"^bluegreen:migration:(\d+)$")
_STATE = re.compile(r"^(?P<state>[a-z]+) (?P<at>\S+) n=(?P<n>\d+) id=(?P<token>[A-Za-z0-9]+)$")


def new_token() -> str:
    """A short random id for one apply (12 hex digits)."""
    return secrets.token_hex(6)


@attrs.frozen(kw_only=True)
class MigrationRecord:
    """What a migration found before its first change: enough to undo it.

    Attributes:
        state: ``applying``, ``applied`` or ``reverting``.
        at: when the state was written (UTC, to the second).
        token: the apply that wrote it.
        controller: the service's ``deploymentController`` before.
        deployment_configuration: its ``deploymentConfiguration`` before.
        load_balancers: its ``loadBalancers`` before.
        application, deployment_group: the CodeDeploy group that deployed it (never changed).
        listeners: the listeners the migration puts rules on.
        role: the name of the role the migration creates, if it creates one.
    """

    state: str
    at: dt.datetime
    token: str
    controller: Mapping[str, Any]
    deployment_configuration: Mapping[str, Any]
    load_balancers: tuple[Mapping[str, Any], ...]
    application: str
    deployment_group: str
    listeners: tuple[str, ...] = ()
    role: str | None = None

    def with_state(self, state: str, at: dt.datetime) -> MigrationRecord:
        return attrs.evolve(self, state=state, at=at)

    def body(self) -> dict[str, Any]:
        """The JSON the chunks hold."""
        return {
            "v": 1,
            "controller": dict(self.controller),
            "deploymentConfiguration": _plain(self.deployment_configuration),
            "loadBalancers": [_plain(lb) for lb in self.load_balancers],
            "application": self.application,
            "group": self.deployment_group,
            "listeners": list(self.listeners),
            "role": self.role,
        }

    def chunks(self) -> list[str]:
        """The body, base64url-encoded, in pieces of ``CHUNK_SIZE`` characters."""
        text = json.dumps(self.body(), separators=(",", ":"), sort_keys=True, default=str)
        encoded = base64.urlsafe_b64encode(text.encode()).decode()
        return [encoded[i : i + CHUNK_SIZE] for i in range(0, len(encoded), CHUNK_SIZE)]

    def state_value(self, count: int) -> str:
        return f"{self.state} {_iso(self.at)} n={count} id={self.token}"

    def to_tags(self) -> dict[str, str]:
        """Every tag of the record: ``{key: value}``."""
        pieces = self.chunks()
        tags = {STATE_TAG: self.state_value(len(pieces))}
        tags.update({f"{STATE_TAG}:{i}": piece for i, piece in enumerate(pieces, start=1)})
        return tags

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> MigrationRecord | None:
        """The record among a service's tags, or None when there is none.

        Raises:
            ValidationError: the tags hold something bluegreen did not write (or a part is
                missing).
        """
        state = tags.get(STATE_TAG)
        if state is None:
            return None
        try:
            head = _STATE.match(state)
            if head is None or head["state"] not in STATES:
                raise ValueError(f"{STATE_TAG} is {state!r}")
            count = int(head["n"])
            encoded = "".join(tags[f"{STATE_TAG}:{i}"] for i in range(1, count + 1))
            body = json.loads(base64.urlsafe_b64decode(encoded.encode()))
            if body.get("v") != 1:
                raise ValueError(f"unknown record version {body.get('v')!r}")
            return cls(
                state=head["state"],
                at=dt.datetime.fromisoformat(head["at"].replace("Z", "+00:00")),
                token=head["token"],
                controller=dict(body["controller"]),
                deployment_configuration=dict(body["deploymentConfiguration"]),
                load_balancers=tuple(dict(lb) for lb in body["loadBalancers"]),
                application=str(body["application"]),
                deployment_group=str(body["group"]),
                listeners=tuple(str(a) for a in body.get("listeners") or ()),
                role=body.get("role"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(
                [
                    f"the service's {STATE_TAG} tags do not hold a record bluegreen wrote "
                    f"({exc}); remove them only if no migration is half-done"
                ],
                subject="migration record",
            ) from exc

    def describe(self) -> str:
        """``applying since 2026-12-03T02:00:00Z (apply ab12...)``: for messages."""
        return f"{self.state} since {_iso(self.at)} (apply {self.token})"


def unfinished(tags: Mapping[str, str], where: str) -> str | None:
    """The problem a CodeDeploy deployment of a service with a migration record on it has
    (an apply under way or killed half-way: its catch-all rules would keep traffic where
    CodeDeploy does not look), or None."""
    state = tags.get(STATE_TAG)
    if state is None:
        return None
    return (
        f"{where} carries a migration record ({STATE_TAG}: {state.split(' n=')[0]}): a "
        "migration to ECS-native is under way or was stopped half-way; finish it with "
        f"`bluegreen migrate revert` (or let the apply end) before deploying through CodeDeploy"
    )


def record_tags(tags: Mapping[str, str]) -> list[str]:
    """The keys of every record tag among ``tags``."""
    return [k for k in tags if k == STATE_TAG or _CHUNK_KEY.match(k)]


# -- the service's tags -----------------------------------------------------------------------


@attrs.frozen
class ServiceView:
    """DescribeServices' answer for one service, with its tags as a mapping."""

    service: Mapping[str, Any]
    tags: Mapping[str, str]
    when: dt.datetime | None
    """ECS's time of the answer (its ``Date`` header), when it said."""

    @property
    def arn(self) -> str:
        return str(self.service["serviceArn"])

    @property
    def record(self) -> MigrationRecord | None:
        return MigrationRecord.from_tags(self.tags)


def read_service(call: Caller, aws: Clients, cluster: str, service: str) -> ServiceView:
    """The service with its tags: one DescribeServices.

    Raises:
        ResourceNotFoundError: no such service (or it is INACTIVE).
    """
    from bluegreen.errors import ResourceNotFoundError
    from bluegreen.server_time import http_date

    answer = call(
        "DescribeServices",
        aws.ecs.describe_services,
        cluster=cluster,
        services=[service],
        include=["TAGS"],
    )
    found = [s for s in answer.get("services") or () if s.get("status") != "INACTIVE"]
    if not found:
        raise ResourceNotFoundError(
            f"no ECS service {service!r} in cluster {cluster!r}",
            operation="DescribeServices",
            code="ServiceNotFoundException",
        )
    tags = {str(t["key"]): str(t.get("value", "")) for t in found[0].get("tags") or ()}
    return ServiceView(found[0], tags, http_date(answer))


def write_record(
    call: Caller, aws: Clients, view: ServiceView, record: MigrationRecord
) -> MigrationRecord:
    """Tag the service with ``record`` (TagResource), and remove chunks of an earlier, longer
    record (UntagResource).

    Raises:
        ServiceConfigError: the service has no room for the record's tags (before any call).
    """
    tags = record.to_tags()
    old = set(record_tags(view.tags))
    others = len(view.tags) - len(old)
    if others + len(tags) > TAG_LIMIT:
        raise ServiceConfigError(
            [
                f"service {view.service.get('serviceName')!r} has {others} tags of its own; "
                f"the migration record needs {len(tags)} more and ECS allows {TAG_LIMIT}: "
                "remove tags from the service"
            ]
        )
    call(
        "TagResource",
        aws.ecs.tag_resource,
        resourceArn=view.arn,
        tags=[{"key": k, "value": v} for k, v in tags.items()],
    )
    stale = sorted(old - set(tags))
    if stale:
        call("UntagResource", aws.ecs.untag_resource, resourceArn=view.arn, tagKeys=stale)
    return record


def remove_record(call: Caller, aws: Clients, view: ServiceView) -> None:
    """Remove every record tag from the service (nothing when there is none)."""
    keys = record_tags(view.tags)
    if keys:
        call("UntagResource", aws.ecs.untag_resource, resourceArn=view.arn, tagKeys=keys)


# -- what a migration created -----------------------------------------------------------------


def resource_tags(service_arn: str, token: str) -> list[dict[str, str]]:
    """The ELB/IAM ``Tags`` of a rule or role a migration creates."""
    return [{"Key": STATE_TAG, "Value": service_arn}, {"Key": TOKEN_TAG, "Value": token}]


@attrs.frozen
class CreatedRule:
    """A listener rule a migration created, as DescribeRules and DescribeTags showed it."""

    listener_arn: str
    rule: Mapping[str, Any]
    token: str | None

    @property
    def arn(self) -> str:
        return str(self.rule["RuleArn"])

    @property
    def priority(self) -> str:
        return str(self.rule.get("Priority"))


def listener_rules(call: Caller, aws: Clients, listener_arn: str) -> list[Mapping[str, Any]]:
    """Every rule of a listener (all pages of DescribeRules)."""
    rules: list[Mapping[str, Any]] = []
    arguments: dict[str, Any] = {"ListenerArn": listener_arn}
    while True:
        answer = call("DescribeRules", aws.elbv2.describe_rules, **arguments)
        rules += answer.get("Rules") or []
        marker = answer.get("NextMarker")
        if not marker:
            return rules
        arguments["Marker"] = marker


def elb_tags(call: Caller, aws: Clients, arns: Sequence[str]) -> dict[str, dict[str, str]]:
    """The tags of each ELB resource (DescribeTags, 20 a call)."""
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):
        answer = call(
            "DescribeTags", aws.elbv2.describe_tags, ResourceArns=list(arns[start : start + 20])
        )
        for item in answer.get("TagDescriptions") or ():
            found[str(item["ResourceArn"])] = {
                str(t["Key"]): str(t.get("Value", "")) for t in item.get("Tags") or ()
            }
    return found


def created_rules(
    call: Caller, aws: Clients, listener_arns: Iterable[str], service_arn: str
) -> list[CreatedRule]:
    """The rules on ``listener_arns`` a migration of ``service_arn`` created (tagged with its
    ARN); a listener that no longer exists has none."""
    from bluegreen.errors import ResourceNotFoundError

    created: list[CreatedRule] = []
    for listener in dict.fromkeys(listener_arns):
        try:
            rules = [r for r in listener_rules(call, aws, listener) if not r.get("IsDefault")]
        except ResourceNotFoundError:
            continue
        tags = elb_tags(call, aws, [str(r["RuleArn"]) for r in rules])
        for rule in rules:
            own = tags.get(str(rule["RuleArn"]), {})
            if own.get(STATE_TAG) == service_arn:
                created.append(CreatedRule(listener, rule, own.get(TOKEN_TAG)))
    return created


def created_role(
    call: Caller, iam: Any, role_name: str, service_arn: str
) -> tuple[str, str | None] | None:
    """``(role ARN, token)`` when the role ``role_name`` exists and a migration of
    ``service_arn`` created it (its tag says so); None when it does not exist.

    Raises:
        ConflictError: a role of that name exists that no migration of this service made.
    """
    try:
        role = call("GetRole", iam.get_role, RoleName=role_name)["Role"]
    except AWSError as exc:
        if is_gone(exc):
            return None
        raise
    tags = role_tags(call, iam, role_name)
    if tags.get(STATE_TAG) != service_arn:
        raise ConflictError(
            f"IAM role {role_name!r} exists and was not created by a migration of "
            f"{service_arn}: give it with --role, or choose another name for --create-role"
        )
    return str(role["Arn"]), tags.get(TOKEN_TAG)


def role_tags(call: Caller, iam: Any, role_name: str) -> dict[str, str]:
    """A role's tags (every page of ListRoleTags)."""
    tags: dict[str, str] = {}
    arguments: dict[str, Any] = {"RoleName": role_name}
    while True:
        answer = call("ListRoleTags", iam.list_role_tags, **arguments)
        tags.update({str(t["Key"]): str(t.get("Value", "")) for t in answer.get("Tags") or ()})
        if not answer.get("IsTruncated"):
            return tags
        arguments["Marker"] = answer["Marker"]


def is_gone(error: AWSError) -> bool:
    """A delete that found nothing to delete (a retry after a lost answer, or done before)."""
    code = error.code or ""
    return code in {"NoSuchEntity", "NoSuchEntityException"} or code.endswith("NotFound")


# -- helpers -------------------------------------------------------------------------------


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    """``value`` with mappings and sequences made JSON-plain (dicts and lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
