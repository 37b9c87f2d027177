"""Where a release is, as values: each service's ``Phase`` and ``ServiceProgress``, and the
whole ``ReleaseState`` with its summary (done, failed, the next wave), its JSON form and its
text. ``bluegreen.release_state`` reads them from AWS (and re-exports them).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.clock import format_duration
from bluegreen.status import DeploymentStatus

if TYPE_CHECKING:
    from bluegreen.manifest import ServiceRelease

__all__ = ["Phase", "ReleaseState", "ServiceProgress"]


class Phase(enum.StrEnum):
    """Where one service of a release is, as read from its deployments. The values are one
    word each (JSON, and one column of the text table); ``label`` is how a sentence says it."""

    PENDING = "pending"
    """The release has created no deployment of it."""
    IN_FLIGHT = "in_flight"
    """The release's deployment of it runs."""
    SUCCEEDED = "succeeded"
    """The release's deployment of it succeeded (and the release has not rolled it back)."""
    FAILED = "failed"
    """The release's deployment of it ended Failed or Stopped (CodeDeploy's automatic
    rollback of that deployment is part of it)."""
    ROLLING_BACK = "rolling_back"
    """The release's own rollback of it (``on_failure: rollback``) runs."""
    ROLLED_BACK = "rolled_back"
    """The release's own rollback of it ended (``rollback_status`` says how)."""
    UNKNOWN = "unknown"
    """Its deployments could not be read (``problem`` says why): it may be anywhere, so
    nothing may be started for it on this reading."""

    @property
    def label(self) -> str:
        """The phase in a sentence: ``in flight``."""
        return self.value.replace("_", " ")


_FAILED_PHASES = (Phase.FAILED, Phase.ROLLING_BACK, Phase.ROLLED_BACK)


@attrs.frozen(kw_only=True)
class ServiceProgress:
    """One service of a release: its deployment by the release, and the release's rollback
    of it, as CodeDeploy describes them."""

    service: ServiceRelease
    wave: str
    deployment_id: str | None = None
    status: DeploymentStatus | None = None
    created: dt.datetime | None = None
    """CodeDeploy's ``createTime`` of the deployment."""
    completed: dt.datetime | None = None
    """CodeDeploy's ``completeTime`` of the deployment (None while it runs)."""
    error: str | None = None
    """CodeDeploy's ``errorInformation`` of the deployment, ``code: message``."""
    rollback_id: str | None = None
    """The release's own rollback of the service, when newer than the deployment."""
    rollback_status: DeploymentStatus | None = None
    problem: str | None = None
    """Why the service's deployments could not be read (its phase is then UNKNOWN)."""

    @property
    def name(self) -> str:
        """The service's name in the manifest (``ServiceRelease.name``)."""
        return self.service.name

    @property
    def phase(self) -> Phase:
        """Where the service is: see ``Phase``."""
        if self.problem is not None:
            return Phase.UNKNOWN
        if self.rollback_status is not None:
            active = self.rollback_status.is_active
            return Phase.ROLLING_BACK if active else Phase.ROLLED_BACK
        if self.status is None:
            return Phase.PENDING
        if self.status.is_active:
            return Phase.IN_FLIGHT
        return Phase.SUCCEEDED if self.status.is_success else Phase.FAILED

    @property
    def active(self) -> bool:
        """A deployment of the release (or its rollback) still runs for this service: no
        other may start for it."""
        return self.phase in (Phase.IN_FLIGHT, Phase.ROLLING_BACK)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (times as ISO 8601)."""
        return {
            "service": self.name,
            "cluster": self.service.cluster,
            "service_name": self.service.service,
            "region": self.service.region,
            "wave": self.wave,
            "phase": str(self.phase),
            "deployment_id": self.deployment_id,
            "status": _text(self.status),
            "created": _iso(self.created),
            "completed": _iso(self.completed),
            "error": self.error,
            "rollback_id": self.rollback_id,
            "rollback_status": _text(self.rollback_status),
            "problem": self.problem,
        }


@attrs.frozen(kw_only=True)
class ReleaseState:
    """Every service of a release, in manifest order, as read at ``read_at``."""

    release_id: str
    services: tuple[ServiceProgress, ...]
    read_at: dt.datetime
    """When it was read: the AWS endpoint's time when its answers said, else the clock's."""

    def service(self, name: str) -> ServiceProgress:
        """The progress of the service ``name`` (``ServiceRelease.name``).

        Raises:
            KeyError: the release has no such service (the message lists those it has).
        """
        for progress in self.services:
            if progress.name == name:
                return progress
        names = ", ".join(p.name for p in self.services) or "none"
        raise KeyError(f"release {self.release_id} has no service {name!r} (it has: {names})")

    @property
    def counts(self) -> dict[Phase, int]:
        """How many services are in each phase (every phase listed, zeros included)."""
        counts = dict.fromkeys(Phase, 0)
        for progress in self.services:
            counts[progress.phase] += 1
        return counts

    @property
    def done(self) -> bool:
        """Every service succeeded."""
        return all(p.phase is Phase.SUCCEEDED for p in self.services)

    @property
    def failed(self) -> bool:
        """A service failed, or the release rolled one back (or is rolling it back)."""
        return any(p.phase in _FAILED_PHASES for p in self.services)

    @property
    def in_flight(self) -> list[ServiceProgress]:
        """The services whose deployment by the release runs (rollbacks: ``ROLLING_BACK``)."""
        return [p for p in self.services if p.phase is Phase.IN_FLIGHT]

    @property
    def problems(self) -> list[ServiceProgress]:
        """The services whose deployments could not be read."""
        return [p for p in self.services if p.problem is not None]

    @property
    def waves(self) -> tuple[str, ...]:
        """The waves' names, in order."""
        return tuple(dict.fromkeys(p.wave for p in self.services))

    @property
    def next_wave(self) -> str | None:
        """The first wave whose services have not all succeeded; None when all have."""
        for wave in self.waves:
            if any(p.phase is not Phase.SUCCEEDED for p in self.services if p.wave == wave):
                return wave
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: the summary, then every service."""
        return {
            "release": self.release_id,
            "read_at": _iso(self.read_at),
            "done": self.done,
            "failed": self.failed,
            "next_wave": self.next_wave,
            "counts": {str(phase): n for phase, n in self.counts.items()},
            "services": [p.to_dict() for p in self.services],
        }

    def __str__(self) -> str:
        """A summary line, then one line per service: wave, name, phase, deployment id,
        status, created and how long it took (or has run), then the rollback, error or
        problem, if any. Plain text (no colour); times in UTC."""
        summary = ", ".join(f"{n} {phase.label}" for phase, n in self.counts.items() if n)
        lines = [
            f"release {self.release_id} at {_clock_text(self.read_at)}: {summary or 'no services'}"
        ]
        rows = [_row(p, self.read_at) for p in self.services]
        header = ("WAVE", "SERVICE", "PHASE", "DEPLOYMENT", "STATUS", "CREATED", "TOOK")
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        for row, progress in zip((header, *rows), (None, *self.services), strict=True):
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append(line.rstrip() + (_notes(progress) if progress is not None else ""))
        return "\n".join(lines)


# -- text -----------------------------------------------------------------------------------


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def _iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.astimezone(dt.UTC).isoformat()


def _clock_text(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _row(progress: ServiceProgress, now: dt.datetime) -> tuple[str, ...]:
    took = ""
    if progress.created is not None:
        end = progress.completed or now
        took = format_duration((end - progress.created).total_seconds())
        took += "" if progress.completed else " so far"
    return (
        progress.wave,
        progress.name,
        str(progress.phase),
        progress.deployment_id or "-",
        _text(progress.status) or "-",
        _clock_text(progress.created) if progress.created else "-",
        took or "-",
    )


def _notes(progress: ServiceProgress) -> str:
    notes = []
    if progress.rollback_id is not None:
        notes.append(f"rollback {progress.rollback_id} {progress.rollback_status or ''}".rstrip())
    if progress.error:
        notes.append(progress.error)
    if progress.problem:
        notes.append(progress.problem)
    return "  (" + "; ".join(notes) + ")" if notes else ""
