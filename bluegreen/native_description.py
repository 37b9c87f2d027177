"""A description for ECS-native service deployments, kept as a tag on the service.

A CodeDeploy deployment carries a description, and a release finds its deployments again by
the marker at its start (``bluegreen.manifest.release_marker``). A service deployment that
ECS starts for an UpdateService has no description. So before the UpdateService,
``record_description`` tags the service with it, keyed by the task-definition revision the
deployment deploys::

    bluegreen:deployment:<family>:<revision> = <description, escaped> @<time written>

and ``description_for`` reads it back from the service's tags (DescribeServices with
``include=["TAGS"]``, one call for every tag): a service deployment's target revision names
its task definition (DescribeServiceRevisions), whose tag is its description.

ECS's limits shape the tag:

- a key has at most 128 characters: a family too long for it is cut and given a hash;
- a value has at most 256 characters of letters, digits, spaces and ``_ . : / = + - @``:
  any other character (``;``, ``,``) is written ``+XX`` per UTF-8 byte (``+`` itself too),
  and a description too long for it loses the middle of what it deploys (``...``), never
  its marker (the start, up to the first ``: ``) nor its ``; was <task definition ARN>``;
- the time written (the ``Date`` of ECS's answer, Unix seconds) ends the value, so that a
  revision deployed more than once (a rollback to the revision that ran before) maps to the
  first deployment created after its tag was written, not to an older one;
- a service has at most 50 tags: ``KEEP`` description tags are kept, the oldest removed
  (the written revision's family first, then by revision), never another tag.

A service with ``propagateTags: SERVICE`` copies its tags to the tasks it starts: those
tasks carry the description tags too (harmless, and counted in the task's 50).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.errors import ServiceConfigError
from bluegreen.server_time import http_date

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = [
    "KEEP",
    "TAG_PREFIX",
    "Recorded",
    "decode_value",
    "description_for",
    "description_tags",
    "encode_value",
    "record_description",
    "recorded_for",
    "tag_key",
]

TAG_PREFIX = "bluegreen:deployment:"
"""The start of every description tag's key."""

KEEP = 10
"""Description tags kept on a service (the newest): enough for a release's deployment and
its rollback to be found while a few more deployments follow."""

KEY_LIMIT = 128
VALUE_LIMIT = 256
TAG_LIMIT = 50
"""ECS's limits: characters in a tag key and value, tags on a resource."""

_PLAIN = frozenset(string.ascii_letters + string.digits + " _.:/=-@")
"""Characters written as they are; every other one is escaped (``+XX`` per UTF-8 byte)."""

_ESCAPED = re.compile(r"(?:\+[0-9A-F]{2})+")
_WRITTEN = re.compile(r" @(\d{1,12})$")
_PREVIOUS = re.compile(r"; was arn:\S+$")
_MARKER_END = ": "
_ELLIPSIS = "..."


@attrs.frozen
class Recorded:
    """A description tag, read back."""

    description: str
    written_at: dt.datetime | None
    """When it was written (ECS's time, to the second); None when the value does not say."""


# -- keys and values ------------------------------------------------------------------------


def tag_key(task_definition_arn: str) -> str:
    """``bluegreen:deployment:<family>:<revision>`` for a task definition (an ARN or
    ``family:revision``), within ECS's 128 characters: a family too long is cut and ends
    with 8 hex digits of its hash, so two long families never share a key."""
    family, revision = _family_revision(task_definition_arn)
    key = f"{TAG_PREFIX}{family}:{revision}"
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(family.encode()).hexdigest()[:8]
    room = KEY_LIMIT - len(TAG_PREFIX) - len(f"-{digest}:{revision}")
    return f"{TAG_PREFIX}{family[:room]}-{digest}:{revision}"


def encode_value(description: str, written_at: dt.datetime | None = None) -> str:
    """The tag value for ``description``: escaped to ECS's tag alphabet, cut to fit its 256
    characters (the marker and ``; was <ARN>`` kept whole, the middle shortened), then
    `` @<Unix seconds>`` when ``written_at`` is given."""
    suffix = f" @{int(written_at.timestamp())}" if written_at is not None else ""
    room = VALUE_LIMIT - len(suffix)
    whole = _escape(description)
    if len(whole) <= room:
        return whole + suffix
    head, middle, tail = _parts(description)
    fixed = _escape(head) + _escape(tail)
    if len(fixed) + len(_ELLIPSIS) > room:
        # Not even the marker and the previous ARN fit: the marker is what must survive.
        return _cut(_escape(head + middle + tail), room) + suffix
    kept = middle
    while kept and len(fixed) + len(_escape(kept)) + len(_ELLIPSIS) > room:
        kept = kept[:-1]
    return _escape(head) + _escape(kept) + _ELLIPSIS + _escape(tail) + suffix


def decode_value(value: str) -> Recorded:
    """The description and time a tag value holds (``encode_value`` undone; a cut
    description stays cut)."""
    written: dt.datetime | None = None
    found = _WRITTEN.search(value)
    if found is not None:
        written = dt.datetime.fromtimestamp(int(found[1]), tz=dt.UTC)
        value = value[: found.start()]

    def unescape(match: re.Match[str]) -> str:
        return bytes.fromhex(match[0].replace("+", "")).decode("utf-8", "replace")

    return Recorded(_ESCAPED.sub(unescape, value), written)


def description_tags(
    tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None,
) -> dict[str, str]:
    """The description tags among ``tags`` (ECS's ``[{"key", "value"}]`` or a mapping)."""
    pairs = _pairs(tags)
    return {k: v for k, v in pairs.items() if k.startswith(TAG_PREFIX)}


def recorded_for(
    tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None, task_definition_arn: str
) -> Recorded | None:
    """The description recorded for a deployment of ``task_definition_arn``, with its time."""
    value = _pairs(tags).get(tag_key(task_definition_arn))
    return decode_value(value) if value is not None else None


def description_for(
    tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None, task_definition_arn: str
) -> str | None:
    """The description recorded for a deployment of ``task_definition_arn``, or None.

    Args:
        tags: the service's tags: DescribeServices' ``tags`` (with ``include=["TAGS"]``)
            or a ``{key: value}`` mapping.
        task_definition_arn: the task definition the deployment deploys (its target
            service revision's ``taskDefinition``), an ARN or ``family:revision``.
    """
    found = recorded_for(tags, task_definition_arn)
    return found.description if found is not None else None


# -- writing --------------------------------------------------------------------------------


def record_description(
    call: Caller,
    clients: Clients,
    *,
    cluster: str,
    service: str,
    service_arn: str,
    task_definition_arn: str,
    description: str,
) -> str:
    """Tag the service with ``description`` for its deployment of ``task_definition_arn``:
    call it before the UpdateService that starts that deployment.

    DescribeServices reads the tags (and ECS's time), UntagResource removes the oldest
    description tags past ``KEEP`` (and more if the service would pass ECS's 50 tags;
    never a tag of the user's), then TagResource writes the new one. Writing the same
    description again only renews its time.

    Args:
        call: the ``Caller`` every call goes through.
        clients: the clients of the service's account and region.
        cluster, service: the service (names or ARNs).
        service_arn: the service's ARN (the tag's resource; a long-format ARN).
        task_definition_arn: the task definition the deployment deploys.
        description: the deployment's description (``release_service.deployment_description``).

    Returns:
        The tag's key.

    Raises:
        ServiceConfigError: the service has no room for the tag (50 tags of its own), before
            any change.
        AWSError: a call failed.
    """
    answer = call(
        "DescribeServices",
        clients.ecs.describe_services,
        cluster=cluster,
        services=[service],
        include=["TAGS"],
    )
    found = answer.get("services") or [{}]
    tags = _pairs(found[0].get("tags"))
    key = tag_key(task_definition_arn)
    ours = {k: v for k, v in tags.items() if k.startswith(TAG_PREFIX) and k != key}
    others = len(tags) - len(ours) - (1 if key in tags else 0)
    if others >= TAG_LIMIT:
        raise ServiceConfigError(
            [
                f"service {service!r} has {others} tags, ECS's limit is {TAG_LIMIT}: bluegreen "
                f"needs one to record the deployment's description (key {key!r}); remove a tag "
                "from the service"
            ]
        )
    family = key.rpartition(":")[0]
    order = sorted(ours, key=lambda k: _age(k, family), reverse=True)
    room = min(KEEP - 1, TAG_LIMIT - others - 1)
    removed = order[room:]
    if removed:
        call(
            "UntagResource",
            clients.ecs.untag_resource,
            resourceArn=service_arn,
            tagKeys=removed,
        )
    value = encode_value(description, http_date(answer))
    call(
        "TagResource",
        clients.ecs.tag_resource,
        resourceArn=service_arn,
        tags=[{"key": key, "value": value}],
    )
    return key


# -- helpers --------------------------------------------------------------------------------


def _family_revision(task_definition: str) -> tuple[str, str]:
    """``(family, revision)`` of a task definition ARN or ``family:revision``."""
    name = (
        task_definition.rsplit("/", 1)[-1]
        if task_definition.startswith("arn:")
        else task_definition
    )
    family, _, revision = name.rpartition(":")
    if not family or not revision.isdigit():
        raise ValueError(
            f"{task_definition!r} is not a task definition revision: give its ARN or "
            "family:revision"
        )
    return family, revision


def _age(key: str, family: str) -> tuple[int, int]:
    """How new a description tag is: those of ``family`` (the key's part before the
    revision) first, then by revision."""
    name, _, revision = key.rpartition(":")
    return int(name == family), int(revision) if revision.isdigit() else -1


def _pairs(tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["key"]): str(t.get("value", "")) for t in tags if "key" in t}


def _escape(text: str) -> str:
    return "".join(
        ch if ch in _PLAIN else "".join(f"+{b:02X}" for b in ch.encode("utf-8")) for ch in text
    )


def _cut(escaped: str, room: int) -> str:
    """``escaped`` cut to ``room`` characters, never inside a ``+XX``."""
    cut = escaped[:room]
    plus = cut.rfind("+", max(0, len(cut) - 2))
    return cut[:plus] if plus != -1 else cut


def _parts(description: str) -> tuple[str, str, str]:
    """``(marker, what, "; was <ARN>")``: the marker runs to the first ``: `` (kept with
    it), the tail is the previous task definition, the middle is what may be cut."""
    tail_at = _PREVIOUS.search(description)
    tail = tail_at[0] if tail_at else ""
    body = description[: tail_at.start()] if tail_at else description
    end = body.find(_MARKER_END)
    if end == -1:
        return "", body, tail
    end += len(_MARKER_END)
    return body[:end], body[end:], tail
