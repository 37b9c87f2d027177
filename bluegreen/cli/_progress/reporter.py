"""The ``Reporter`` every form of progress is, and what changed between two polls
(``Changes``), which it hands to its subclass's ``show``."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

import attrs

from bluegreen.cli._progress.reading import production_weights
from bluegreen.status import LifecycleEventStatus

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.deployment import DeploymentSnapshot, LifecycleEventProgress

Now = Callable[[], dt.datetime]
"""Where a reporter reads the time it shows: the server's (``Deployment.server_now``)."""


@attrs.frozen
class EventChange:
    event: LifecycleEventProgress
    previous: LifecycleEventStatus | None


@attrs.frozen
class Changes:
    """What one poll brought, compared with the previous one."""

    snapshot: DeploymentSnapshot
    first: bool
    status_changed: bool
    events: tuple[EventChange, ...]
    traffic: tuple[float, float] | None
    previous_traffic: tuple[float, float] | None
    waiting_for_changed: bool

    @classmethod
    def between(cls, previous: DeploymentSnapshot | None, now: DeploymentSnapshot) -> Changes:
        first = previous is None or previous.deployment_id != now.deployment_id
        weights = production_weights(now)
        if previous is None or first:
            return cls(now, True, True, (), weights, None, True)
        before = {e.name: e.status for e in previous.events}
        # An event first listed as Pending (the target appears once the deployment starts)
        # is no change worth a line.
        events = tuple(
            EventChange(e, before.get(e.name))
            for e in now.events
            if before.get(e.name) != e.status
            and not (e.name not in before and e.status is LifecycleEventStatus.PENDING)
        )
        previous_weights = production_weights(previous)
        return cls(
            now,
            False,
            previous.status is not now.status,
            events,
            weights if weights != previous_weights else None,
            previous_weights,
            previous.waiting_for != now.waiting_for,
        )


class Reporter(abc.ABC):
    """Shows a followed deployment; subclasses decide how. Use as a context manager."""

    def __init__(self, stream: IO[str], now: Now) -> None:
        self.stream = stream
        self.now = now
        self.last: DeploymentSnapshot | None = None
        self.analysis: AnalysisRun | None = None
        """The analysis the wait runs, once it has evaluated (or the wait has ended)."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027  (only the live view has something to stop)
        """Stop redrawing."""

    def update(self, snapshot: DeploymentSnapshot) -> None:
        """Called with every snapshot the wait reads (its ``on_progress``)."""
        changes = Changes.between(self.last, snapshot)
        self.last = snapshot
        self.show(changes)

    def evaluated(self, run: AnalysisRun) -> None:
        """Called after every evaluation of the wait's analysis (its ``on_evaluation``)."""
        self.analysis = run
        self.show_evaluation(run)

    def show_evaluation(self, run: AnalysisRun) -> None:  # noqa: B027  (the live view redraws)
        """Show the latest evaluation of ``run`` (``run.last``)."""

    @abc.abstractmethod
    def show(self, changes: Changes) -> None:
        """Show what one poll brought."""

    @abc.abstractmethod
    def started(self, deployment_id: str) -> None:
        """A deployment was created and is not followed (``--no-wait``)."""

    @abc.abstractmethod
    def done(self, snapshot: DeploymentSnapshot) -> None:
        """The wait returned ``snapshot``: the end, or the milestone asked for."""

    @abc.abstractmethod
    def failed(self, exc: BaseException) -> None:
        """The wait raised ``exc``; ``main`` prints it to stderr afterwards."""

    @abc.abstractmethod
    def interrupted(self, deployment_id: str, hint: str) -> None:
        """Ctrl-C: the deployment goes on; ``hint`` is the command that follows it again."""
