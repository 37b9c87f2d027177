"""Telling people about a release of many services: each service's milestones and the
release's own, once each, to the sinks one deployment's notifications go to.

``ReleaseNotifier.update`` is a release's ``on_event`` (``bluegreen.release(on_event=...)``).
It keeps one ``bluegreen.notify.Notifier`` per service and feeds it the snapshots and the
analysis runs the release's events carry, so every service's milestones (created, ready for
promotion, traffic shifted, succeeded, failed with the reason, rolled back) go out once, as
they do for ``bluegreen deploy``; their ``fields`` also name the release and the wave. The
release's own milestones are ``ReleaseNotification`` values: started, each wave started, and
succeeded, or failed with the reason and how many services ended how::

    notifier = ReleaseNotifier([Webhook(url, slack=True)])
    bluegreen.release("release.yaml", on_event=notifier.update)

A ``ReleaseNotification`` has the surface of a ``Notification`` (``milestone``,
``deployment_id`` and ``service``, None here, ``at``, ``text``, ``fields``, ``to_dict()``),
so any sink, a ``Webhook`` included (JSON or Slack), takes both; its JSON also has
``release`` and ``wave``. A sink that fails is logged and skipped, never failing the release.
``Outbox`` sends from a thread of its own, so a slow webhook never holds the release up.
"""

from __future__ import annotations

import datetime as dt
import enum
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from bluegreen.notify import Notification, Notifier, logger
from bluegreen.release_events import EventKind, ReleaseEvent
from bluegreen.release_state import Phase

__all__ = [
    "Outbox",
    "ReleaseMilestone",
    "ReleaseNotification",
    "ReleaseNotifier",
    "ReleaseSink",
]


class ReleaseMilestone(enum.StrEnum):
    """What a release-level notification announces."""

    STARTED = "release_started"
    """The release begins (or resumes): its services and waves."""
    WAVE_STARTED = "wave_started"
    """A wave's services start deploying."""
    SUCCEEDED = "release_succeeded"
    """Every service of the release succeeded."""
    FAILED = "release_failed"
    """The release stopped or a service failed; the notification says why, with counts."""


@attrs.frozen(kw_only=True)
class ReleaseNotification:
    """One milestone of a release, ready to send; duck-typed like ``Notification``.

    Attributes:
        milestone: what happened.
        release_id: the release's id (``Manifest.id``).
        wave: the wave, for ``wave_started``.
        at: when it happened, on the server's clock where a deployment told it (UTC).
        text: one sentence for a human.
        fields: the details as JSON-ready values (counts, reasons, services).
    """

    milestone: ReleaseMilestone
    release_id: str
    at: dt.datetime | None
    text: str
    wave: str | None = None
    fields: dict[str, Any] = attrs.field(factory=dict, hash=False)

    @property
    def deployment_id(self) -> None:
        """None: a release is many deployments (``Notification`` has one)."""
        return None

    @property
    def service(self) -> None:
        """None: a release is many services (``Notification`` has one)."""
        return None

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """The webhook body: ``Notification.to_dict()``'s keys, plus ``release`` and
        ``wave``."""
        return {
            "milestone": str(self.milestone),
            "release": self.release_id,
            "wave": self.wave,
            "deployment_id": None,
            "service": None,
            "at": None if self.at is None else self.at.astimezone(dt.UTC).isoformat(),
            "text": self.text,
            "fields": dict(self.fields),
        }


ReleaseSink = Callable[[Notification | ReleaseNotification], None]
"""Where a release's notifications go: anything callable with either kind (a ``Webhook``,
``print``, ``list.append``)."""


def _sinks(sinks: Sequence[ReleaseSink]) -> tuple[ReleaseSink, ...]:
    return tuple(sinks)


@attrs.define
class ReleaseNotifier:
    """Turns a release's events into notifications, each milestone once, to every sink.

    Args:
        sinks: callables that take a ``Notification`` or a ``ReleaseNotification``.
    """

    sinks: Sequence[ReleaseSink] = attrs.field(converter=_sinks, default=())
    sent: list[Notification | ReleaseNotification] = attrs.field(factory=list, init=False)
    """Every notification handed to the sinks, in order."""
    _services: dict[str, Notifier] = attrs.field(factory=dict, init=False)
    _reason: str | None = attrs.field(default=None, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def update(self, event: ReleaseEvent) -> None:
        """A release's ``on_event``: notify what ``event`` shows for the first time."""
        with self._lock:
            self._update(event)

    def _update(self, event: ReleaseEvent) -> None:
        if event.kind is EventKind.SERVICE and event.service and event.snapshot is not None:
            self._notifier(event).update(event.snapshot)
        elif event.kind is EventKind.EVALUATION and event.service and event.analysis:
            self._notifier(event).update_analysis(event.analysis)
        elif event.kind is EventKind.STOPPING:
            self._reason = self._reason or event.message or None
        elif event.kind is EventKind.STARTED:
            self._release(ReleaseMilestone.STARTED, event, _started_text(event))
        elif event.kind is EventKind.WAVE_STARTED:
            width = event.data.get("width")
            at_once = f", {width} at once" if width else ""
            text = f"Release {event.release_id}: wave {event.wave} started{at_once}"
            self._release(ReleaseMilestone.WAVE_STARTED, event, text)
        elif event.kind is EventKind.ENDED:
            self._ended(event)

    def _notifier(self, event: ReleaseEvent) -> Notifier:
        assert event.service is not None
        notifier = self._services.get(event.service)
        if notifier is None:
            release, wave = event.release_id, event.wave

            def tagged(notification: Notification) -> None:
                fields = {**notification.fields, "release": release, "wave": wave}
                self._send(attrs.evolve(notification, fields=fields))

            notifier = Notifier([tagged], service=event.service)
            self._services[event.service] = notifier
        return notifier

    def _ended(self, event: ReleaseEvent) -> None:
        services = [s for s in event.data.get("services", ()) if isinstance(s, dict)]
        counts = _counts(services)
        failed = [
            {"service": s.get("service"), "wave": s.get("wave"), "error": s.get("error")}
            for s in services
            if s.get("phase") == str(Phase.FAILED) and not s.get("stopped_by_release")
        ]
        fields: dict[str, Any] = {"counts": counts, "services": len(services)}
        if event.data.get("ok"):
            text = event.message or f"Release {event.release_id} succeeded"
            self._release(ReleaseMilestone.SUCCEEDED, event, _capital(text), fields)
            return
        fields.update(reason=self._reason, failed=failed)
        text = event.message or f"Release {event.release_id} failed: {self._reason}"
        self._release(ReleaseMilestone.FAILED, event, _capital(text), fields)

    def _release(
        self,
        milestone: ReleaseMilestone,
        event: ReleaseEvent,
        text: str,
        fields: dict[str, Any] | None = None,
    ) -> None:
        note = ReleaseNotification(
            milestone=milestone,
            release_id=event.release_id,
            wave=event.wave,
            at=event.at,
            text=text,
            fields=fields or {},
        )
        self._send(note)

    def _send(self, notification: Notification | ReleaseNotification) -> None:
        self.sent.append(notification)
        for sink in self.sinks:
            try:
                sink(notification)
            except Exception as exc:  # a notification must never stop a release
                logger.warning(
                    "could not send the %s notification of release to %s: %s",
                    notification.milestone,
                    getattr(sink, "__qualname__", None) or repr(sink),
                    exc,
                )


def _started_text(event: ReleaseEvent) -> str:
    name = event.data.get("release_name")
    what = event.message or "started"
    state = event.data.get("state")
    resumed = isinstance(state, dict) and any(
        s.get("phase") != str(Phase.PENDING) for s in state.get("services", ())
    )
    verb = "resumed" if resumed else "started"
    named = f" ({name})" if name and name != event.release_id else ""
    return f"Release {event.release_id}{named} {verb}: {what}"


def _counts(services: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Services per phase, ``stopped`` for those the release stopped (as
    ``ReleaseResult.counts``)."""
    counts: dict[str, int] = {}
    for service in services:
        phase = str(service.get("phase"))
        if phase == str(Phase.FAILED) and service.get("stopped_by_release"):
            phase = "stopped"
        counts[phase] = counts.get(phase, 0) + 1
    return counts


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_DONE = object()


@attrs.define
class Outbox:
    """A sink that hands notifications to ``sinks`` from a thread of its own, in order, so
    a webhook that is slow or retrying never holds up the release that tells it. ``close()``
    waits (at most ``timeout`` real seconds) until everything queued was sent.

    Args:
        sinks: where notifications go (each called in the outbox's thread).
        timeout: real seconds ``close`` waits for the queue to drain.
    """

    sinks: Sequence[ReleaseSink] = attrs.field(converter=_sinks)
    timeout: float = 60.0
    _queue: queue.Queue[Any] = attrs.field(factory=queue.Queue, init=False)
    _thread: threading.Thread | None = attrs.field(default=None, init=False)

    def __call__(self, notification: Notification | ReleaseNotification) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._deliver, name="bluegreen-notify", daemon=True
            )
            self._thread.start()
        self._queue.put(notification)

    def _deliver(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            for sink in self.sinks:
                try:
                    sink(item)
                except Exception as exc:  # a notification must never stop a release
                    logger.warning("could not send the %s notification: %s", item.milestone, exc)

    def close(self) -> bool:
        """Send what is queued, then stop; False if ``timeout`` passed first (what was left
        is dropped, and a warning logged)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        self._queue.put(_DONE)
        thread.join(self.timeout)
        if thread.is_alive():
            logger.warning("gave up sending notifications after %.0f s", self.timeout)
            return False
        return True
