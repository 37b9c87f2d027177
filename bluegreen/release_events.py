"""What a release of many services tells as it runs (``ReleaseEvent``) and how each service
fared (``ServiceRun``).

The runner (``bluegreen.waves``) hands every event to ``on_event``: the CLI draws its live
view from them and prints each as one JSON line with ``--output json``; notifications are
made from them. Times are the server's (CodeDeploy's clock, read from its answers) where a
deployment is involved, else the release's clock. An event carries names, ids, statuses and
reasons, never a task definition's environment or secrets.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.release_state import Phase

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.manifest import ServiceRelease
    from bluegreen.snapshot import DeploymentSnapshot

__all__ = ["EventKind", "ReleaseEvent", "ServiceRun"]


class EventKind(enum.StrEnum):
    """What a ``ReleaseEvent`` reports."""

    STARTED = "release_started"
    """The release begins: its id, waves and services (and what AWS shows of it already)."""
    PLANNED = "planned"
    """Every service still to release was planned without a problem."""
    WAVE_STARTED = "wave_started"
    SERVICE = "service"
    """A service's deployment changed: created, a new status or traffic step, its end."""
    EVALUATION = "evaluation"
    """A service's analysis judged green against blue."""
    STOPPING = "stopping"
    """The release stops every deployment in flight (a failure, or Ctrl-C)."""
    ROLLING_BACK = "rolling_back"
    """``on_failure: rollback``: the services this release released are rolled back."""
    BAKING = "baking"
    """A wave succeeded; the release waits its bake time before the next."""
    WAVE_ENDED = "wave_ended"
    ENDED = "release_ended"
    """The release ended: succeeded, or failed with the reason."""


@attrs.frozen
class ReleaseEvent:
    """One thing a release reports; ``to_dict()`` is its JSON line."""

    kind: EventKind
    release_id: str
    at: dt.datetime
    wave: str | None = None
    service: str | None = None
    deployment_id: str | None = None
    phase: Phase | None = None
    message: str = ""
    data: dict[str, Any] = attrs.field(factory=dict)
    snapshot: DeploymentSnapshot | None = attrs.field(default=None, eq=False, repr=False)
    """``service`` events: the deployment's last snapshot (for notifications and views; not
    in ``to_dict``)."""
    analysis: AnalysisRun | None = attrs.field(default=None, eq=False, repr=False)
    """``evaluation`` events: the service's analysis run (not in ``to_dict``)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": str(self.kind),
            "release": self.release_id,
            "at": self.at.isoformat(),
        }
        for key in ("wave", "service", "deployment_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.phase is not None:
            out["phase"] = str(self.phase)
        if self.message:
            out["message"] = self.message
        out.update(self.data)
        return out

    def __str__(self) -> str:
        where = " ".join(part for part in (self.wave, self.service, self.deployment_id) if part)
        phase = f" {self.phase}" if self.phase is not None else ""
        text = f" {self.message}" if self.message else ""
        return f"{self.kind}{(' ' + where) if where else ''}{phase}{text}"


@attrs.define(eq=False)
class ServiceRun:
    """How one service of a release fares, as the runner sees it (updated as it runs)."""

    service: ServiceRelease
    wave: str
    phase: Phase = Phase.PENDING
    deployment_id: str | None = None
    status: str | None = None
    traffic: float | None = None
    """Production traffic on green, percent, from the last snapshot."""
    step: str | None = None
    """What the deployment does now (a lifecycle event, a wait), from the last snapshot."""
    verdict: str | None = None
    """The analysis's verdict so far, with its last sentence."""
    error: str | None = None
    stopped: bool = False
    """The release stopped it (another service failed, or Ctrl-C)."""
    rollback_id: str | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    resumed: bool = False
    """Found in AWS when the release started (a resumed release re-attached to it)."""
    followed: bool = attrs.field(default=False, repr=False)
    """A thread of this process has followed (or follows) its deployment."""
    unread: bool = attrs.field(default=False, repr=False)
    """AWS could not be read for it when the release started (its deployments unknown)."""
    snapshot: DeploymentSnapshot | None = attrs.field(default=None, repr=False)
    analysis: AnalysisRun | None = attrs.field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.service.name

    def see(self, snapshot: DeploymentSnapshot) -> bool:
        """Take in a snapshot of the deployment; True when something shown changed."""
        before = (self.status, self.traffic, self.step)
        self.snapshot = snapshot
        self.status = str(snapshot.status)
        self.traffic = _green_traffic(snapshot)
        self.step = snapshot.waiting_for or _running_event(snapshot)
        if self.started is None:
            self.started = snapshot.create_time
        return (self.status, self.traffic, self.step) != before

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service": self.name,
            "wave": self.wave,
            "phase": str(self.phase),
            "deployment_id": self.deployment_id,
            "status": self.status,
        }
        optional = {
            "traffic": self.traffic,
            "step": self.step,
            "verdict": self.verdict,
            "error": self.error,
            "rollback_id": self.rollback_id,
            "started": self.started.isoformat() if self.started else None,
            "ended": self.ended.isoformat() if self.ended else None,
        }
        out.update({key: value for key, value in optional.items() if value is not None})
        if self.stopped:
            out["stopped_by_release"] = True
        if self.resumed:
            out["resumed"] = True
        return out


def _green_traffic(snapshot: DeploymentSnapshot) -> float | None:
    from bluegreen.status import TargetLabel

    green = snapshot.task_set(TargetLabel.GREEN)
    return green.traffic_weight if green is not None else None


def _running_event(snapshot: DeploymentSnapshot) -> str | None:
    from bluegreen.status import LifecycleEventStatus

    for event in snapshot.events:
        if event.status is LifecycleEventStatus.IN_PROGRESS:
            return str(event.name)
    return None
