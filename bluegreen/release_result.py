"""How a release of many services ended: ``ReleaseResult``, and ``ReleaseError`` when it
failed."""

from __future__ import annotations

import collections
import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.clock import format_duration, plural
from bluegreen.errors import BlueGreenError
from bluegreen.release_state import Phase

if TYPE_CHECKING:
    from bluegreen.manifest import Manifest
    from bluegreen.release_events import ServiceRun

__all__ = ["ReleaseError", "ReleaseResult"]


@attrs.frozen
class ReleaseResult:
    """Every service of a release and how it ended, with why the release stopped."""

    manifest: Manifest
    services: tuple[ServiceRun, ...]
    started: dt.datetime
    ended: dt.datetime
    reason: str | None = None
    """Why the release stopped (the first failure, or Ctrl-C); None when nothing stopped it."""

    @property
    def ok(self) -> bool:
        """Every service succeeded."""
        return self.reason is None and all(r.phase is Phase.SUCCEEDED for r in self.services)

    @property
    def counts(self) -> dict[str, int]:
        """Services per phase (``stopped`` for those the release stopped)."""
        counted = collections.Counter(
            "stopped" if r.stopped and r.phase is Phase.FAILED else str(r.phase)
            for r in self.services
        )
        return dict(counted)

    @property
    def failed(self) -> tuple[ServiceRun, ...]:
        """The services whose own deployment failed (not those the release stopped)."""
        return tuple(r for r in self.services if r.phase is Phase.FAILED and not r.stopped)

    @property
    def headline(self) -> str:
        took = format_duration((self.ended - self.started).total_seconds())
        waves = len(self.manifest.waves)
        if self.ok:
            return (
                f"release {self.manifest.id} succeeded: {plural(len(self.services), 'service')} "
                f"in {plural(waves, 'wave')}, {took}"
            )
        counts = ", ".join(f"{n} {phase.replace('_', ' ')}" for phase, n in self.counts.items())
        return f"release {self.manifest.id} failed after {took}: {self.reason} ({counts})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.manifest.name,
            "id": self.manifest.id,
            "ok": self.ok,
            "reason": self.reason,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "counts": self.counts,
            "services": [r.to_dict() for r in self.services],
        }

    def __str__(self) -> str:
        lines = [self.headline]
        for run in self.services:
            phase = "stopped" if run.stopped and run.phase is Phase.FAILED else str(run.phase)
            what = run.deployment_id or "-"
            lines.append(f"  {run.wave:<12} {run.name:<32} {phase:<12} {what}")
        return "\n".join(lines)


class ReleaseError(BlueGreenError):
    """A release failed: a deployment failed or was stopped, or the release was interrupted.

    Attributes:
        result: the ``ReleaseResult``: how every service ended, and why the release stopped.
    """

    def __init__(self, result: ReleaseResult) -> None:
        lines = [result.headline]
        lines += [f"{run.name}: {run.error}" for run in result.failed if run.error]
        super().__init__("\n".join(lines))
        self.result = result
