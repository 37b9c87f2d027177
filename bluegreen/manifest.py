"""A release of many services, as data: the ``Manifest`` of ``bluegreen release FILE``.

A manifest names the services to release, grouped into ordered ``Wave`` values (each with
its concurrency and the bake time after it), and what to do when one fails (``on_failure``:
``stop`` the release, or also ``rollback`` the services it already released). Every service
is a ``ServiceRelease``: where it runs (cluster, service, region, the account's role) and
what to deploy there (an image or a task definition, the traffic config, the analysis, the
hooks), which are the arguments of ``bluegreen.deploy``.

Loaded from YAML or JSON, or from a mapping, by ``bluegreen.manifest_load.load_manifest``
(every problem listed at once); ``docs/release.md`` describes the file.

A release has an id, ``<name>-<8 hex digits>`` of its content, unless the file gives one:
the same file always names the same release, so ``bluegreen release status FILE`` and
``resume FILE`` find it in AWS from another shell. Each deployment a release creates says so
in its description (``release_marker``), which is how the release's state is read back.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

if TYPE_CHECKING:
    from bluegreen.analysis import Analysis

__all__ = [
    "FailurePolicy",
    "Manifest",
    "Marker",
    "ServiceRelease",
    "Wave",
    "parse_marker",
    "release_marker",
]

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""Release, wave and id names: they go into deployment descriptions, one word each."""

_MARKER = re.compile(
    r"^bluegreen release (?P<release>\S+) wave (?P<wave>\S+)(?P<rollback> rollback)?(?::|$)"
)


class FailurePolicy(enum.StrEnum):
    """What a release does when one of its deployments fails (or is aborted)."""

    STOP = "stop"
    """Stop every deployment in flight (each rolls back) and start no more."""
    ROLLBACK = "rollback"
    """As ``stop``, and roll back the services this release already released."""


def _frozen_mapping(value: Mapping[str, str] | None) -> Mapping[str, str] | None:
    return None if value is None else dict(sorted(value.items()))


@attrs.frozen
class ServiceRelease:
    """One service of a release: where it runs and what ``bluegreen.deploy`` gets for it.

    ``image``/``task_definition``, ``hooks``, ``traffic_config``, ``auto_rollback``,
    ``suspend_scaling``, ``application``, ``deployment_group``, ``allow_mutable_image_tags``,
    ``check_hooks`` and ``analysis`` are ``deploy``'s arguments of the same names.
    ``region`` and ``role`` say where: the region (default: the session's) and an IAM role
    to assume for the service's account (default: the caller's own credentials).
    ``timeout`` bounds the wait for the deployment's end, in seconds (None: no bound).
    """

    cluster: str
    service: str
    image: str | Mapping[str, str] | None = None
    task_definition: str | None = None
    region: str | None = None
    role: str | None = None
    traffic_config: str | None = None
    analysis: Analysis | None = attrs.field(default=None, eq=False)
    analysis_source: str | None = None
    """How the file named the analysis (``default``, a path, or ``inline``), for plans."""
    hooks: Mapping[str, str] | None = attrs.field(default=None, converter=_frozen_mapping)
    auto_rollback: Sequence[str] | bool | None = None
    suspend_scaling: bool | Sequence[str] = True
    application: str | None = None
    deployment_group: str | None = None
    allow_mutable_image_tags: bool = False
    check_hooks: bool = True
    timeout: float | None = None

    @property
    def name(self) -> str:
        """``cluster/service``, prefixed with the region when one is given."""
        where = f"{self.cluster}/{self.service}"
        return f"{self.region}:{where}" if self.region else where

    @property
    def account(self) -> tuple[str | None, str | None]:
        """``(role, region)``: the services that share a rate budget and AWS clients."""
        return (self.role, self.region)

    def deploy_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``bluegreen.deploy``/``plan`` for this service (without
        clients, clock, budget and description, which the release supplies)."""
        return {
            "image": dict(self.image) if isinstance(self.image, Mapping) else self.image,
            "task_definition": self.task_definition,
            "hooks": dict(self.hooks) if self.hooks is not None else None,
            "traffic_config": self.traffic_config,
            "auto_rollback": self.auto_rollback,
            "application": self.application,
            "deployment_group": self.deployment_group,
            "allow_mutable_image_tags": self.allow_mutable_image_tags,
            "suspend_scaling": self.suspend_scaling,
            "check_hooks": self.check_hooks,
            "analysis": self.analysis,
        }

    def identity(self) -> dict[str, Any]:
        """What makes this service's part of a release what it is (for the release id)."""
        return {
            "where": [self.region, self.role, self.cluster, self.service],
            "image": dict(self.image) if isinstance(self.image, Mapping) else self.image,
            "task_definition": self.task_definition,
        }


@attrs.frozen
class Wave:
    """Services released together: at most ``concurrency`` at once (None: all), then
    ``bake`` seconds of waiting before the next wave (counted from the wave's last end)."""

    name: str
    services: tuple[ServiceRelease, ...]
    concurrency: int | None = None
    bake: float = 0.0

    @property
    def width(self) -> int:
        """How many of its services run at once."""
        return min(len(self.services), self.concurrency or len(self.services)) or 1


@attrs.frozen
class Manifest:
    """A whole release: its name, its waves in order, and its failure policy.

    ``id`` is the file's ``id`` or ``<name>-<8 hex digits>`` of what it deploys where
    (``content_id``): two files that release the same images to the same services are the
    same release.
    """

    name: str
    waves: tuple[Wave, ...]
    on_failure: FailurePolicy = FailurePolicy.STOP
    id: str = ""
    source: str | None = None
    """The file it was loaded from, if any."""

    def __attrs_post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", f"{self.name}-{self.content_id()}")

    def content_id(self) -> str:
        """8 hex digits of a hash of every wave's services and what they get."""
        content = [
            [wave.name, [service.identity() for service in wave.services]] for wave in self.waves
        ]
        blob = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:8]

    @property
    def services(self) -> tuple[ServiceRelease, ...]:
        """Every service, wave by wave."""
        return tuple(service for wave in self.waves for service in wave.services)

    def wave_of(self, service: ServiceRelease) -> Wave:
        """The wave ``service`` belongs to."""
        for wave in self.waves:
            if service in wave.services:
                return wave
        raise KeyError(service.name)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON-ready data (analyses by how the file named them)."""
        return {
            "release": self.name,
            "id": self.id,
            "on_failure": str(self.on_failure),
            "waves": [
                {
                    "name": wave.name,
                    "concurrency": wave.concurrency,
                    "bake": wave.bake,
                    "services": [_service_dict(service) for service in wave.services],
                }
                for wave in self.waves
            ],
        }


def _service_dict(service: ServiceRelease) -> dict[str, Any]:
    data: dict[str, Any] = {"name": service.name}
    for field in attrs.fields(ServiceRelease):
        if field.name in ("analysis", "analysis_source"):
            continue
        value = getattr(service, field.name)
        if value is not None and value != field.default:
            data[field.name] = dict(value) if isinstance(value, Mapping) else value
    if service.analysis is not None:
        data["analysis"] = service.analysis_source or "inline"
    return data


class Marker(NamedTuple):
    """What a deployment's description says of the release that created it."""

    release: str
    wave: str
    rollback: bool
    """True: the release rolled back a service it had released (``on_failure: rollback``)."""


def release_marker(release_id: str, wave: str, *, rollback: bool = False) -> str:
    """How a deployment's description says which release and wave created it (the start of
    the description; ``: what`` follows)."""
    return f"bluegreen release {release_id} wave {wave}" + (" rollback" if rollback else "")


def parse_marker(description: str | None) -> Marker | None:
    """The ``Marker`` at the start of a deployment's description, or None."""
    if not description:
        return None
    found = _MARKER.match(description)
    if found is None:
        return None
    return Marker(found["release"], found["wave"], bool(found["rollback"]))
