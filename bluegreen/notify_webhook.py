"""A notification sink that POSTs JSON through httpx: ``Webhook``, with retries on the
injected clock, and ``slack_body`` for Slack incoming webhooks. A webhook that keeps failing
logs a warning and drops the notification; it never raises into a deployment's wait."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.clock import Clock, MonotonicClock
from bluegreen.errors import ValidationError
from bluegreen.notify import DeploymentMilestone, Notification, logger

if TYPE_CHECKING:
    import httpx

    from bluegreen.release_notify import ReleaseNotification

__all__ = ["Webhook", "slack_body", "webhook_problems"]

_SLACK_ICONS: dict[str, str] = {
    DeploymentMilestone.CREATED: ":rocket:",
    DeploymentMilestone.READY_FOR_PROMOTION: ":hourglass:",
    DeploymentMilestone.TRAFFIC_SHIFTED: ":twisted_rightwards_arrows:",
    DeploymentMilestone.SUCCEEDED: ":white_check_mark:",
    DeploymentMilestone.FAILED: ":x:",
    DeploymentMilestone.ROLLED_BACK: ":leftwards_arrow_with_hook:",
}
_RELEASE_ICONS: dict[str, str] = {
    "release_started": ":rocket:",
    "wave_started": ":ocean:",
    "release_succeeded": ":white_check_mark:",
    "release_failed": ":x:",
}
"""``bluegreen.release_notify.ReleaseMilestone``'s values (not imported: a webhook of one
deployment loads nothing of releases)."""


class _Refused(Exception):
    """The endpoint answered 5xx or 429: worth another try (after ``retry_after``)."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


def _escape(text: str) -> str:
    """Slack mrkdwn's three reserved characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(notification: Notification | ReleaseNotification) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (what notifications show) and two blocks."""
    title = str(notification.milestone).replace("_", " ").capitalize()
    release = getattr(notification, "release_id", None) or notification.fields.get("release")
    where = [notification.deployment_id, notification.service, release]
    context = [str(part) for part in where if part]
    if notification.at is not None:
        context.append(f"{notification.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
    milestone = str(notification.milestone)
    icon = _SLACK_ICONS.get(milestone) or _RELEASE_ICONS.get(milestone, ":bell:")
    return {
        "text": notification.text,
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{icon} *{title}*\n{_escape(notification.text)}",
                },
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _escape(" · ".join(context))}],
            },
        ],
    }


def webhook_problems(url: str, *, timeout: float, attempts: int, patience: float) -> list[str]:
    """Why a ``Webhook`` cannot post (empty: it can), each problem with its fix; the URL's
    path is never repeated (it is often the secret)."""
    problems = []
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(
            "the URL must be http:// or https:// with a host, e.g. "
            "https://hooks.slack.com/services/..."
        )
    for name, value in (("timeout", timeout), ("patience", patience)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            problems.append(f"{name} must be a positive number of seconds, got {value!r}")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        problems.append(f"attempts must be a whole number of at least 1, got {attempts!r}")
    return problems


def _where(url: str) -> str:
    """The endpoint without its path: a webhook URL's path is often its secret."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


@attrs.define
class Webhook:
    """A sink that POSTs each notification as JSON (``Notification.to_dict()``, or with
    ``slack`` a Slack incoming-webhook body) through httpx.

    Connection errors, timeouts and answers 5xx or 429 are retried (``attempts`` in all,
    with backoff, ``Retry-After`` honoured, within ``patience`` seconds of ``clock``); other
    answers are not. A notification that could not be delivered is logged as a warning on
    ``bluegreen.notify`` (the URL's path left out: it is often the secret) and dropped, so a
    failing endpoint never stops a deployment.

    Args:
        url: where to POST.
        slack: send ``{"text": ..., "blocks": [...]}`` for a Slack incoming webhook.
        timeout: seconds for each attempt.
        attempts: tries per notification, the first included.
        patience: seconds of ``clock`` after which no retry starts.
        clock: reads the time and sleeps between attempts (tests pass a fake one).
        client: the ``httpx.Client`` to post with (its transport a test seam); default a
            new one per notification.
    """

    url: str = attrs.field(repr=_where)
    slack: bool = attrs.field(default=False, kw_only=True)
    timeout: float = attrs.field(default=10.0, kw_only=True)
    attempts: int = attrs.field(default=4, kw_only=True)
    patience: float = attrs.field(default=60.0, kw_only=True)
    clock: Clock = attrs.field(factory=MonotonicClock, kw_only=True, repr=False)
    client: httpx.Client | None = attrs.field(default=None, kw_only=True, repr=False)
    delivered: int = attrs.field(default=0, init=False)
    """Notifications the endpoint accepted."""
    dropped: int = attrs.field(default=0, init=False)
    """Notifications given up on."""

    def __attrs_post_init__(self) -> None:
        problems = webhook_problems(
            self.url, timeout=self.timeout, attempts=self.attempts, patience=self.patience
        )
        if problems:
            raise ValidationError(problems, subject="webhook")

    def __call__(self, notification: Notification | ReleaseNotification) -> None:
        self.send(notification)

    def body(self, notification: Notification | ReleaseNotification) -> dict[str, Any]:
        """What is POSTed for ``notification`` (a deployment's or a release's)."""
        return slack_body(notification) if self.slack else notification.to_dict()

    def send(self, notification: Notification | ReleaseNotification) -> bool:
        """POST ``notification``, retrying what may pass; True once it was accepted."""
        try:
            self._post(self.body(notification))
        except Exception as exc:  # a notification must never stop a deployment
            self.dropped += 1
            logger.warning(
                "could not deliver the %s notification of %s to the webhook %s: %s",
                notification.milestone,
                notification.deployment_id or getattr(notification, "release_id", "a release"),
                _where(self.url),
                _reason(exc),
            )
            return False
        self.delivered += 1
        return True

    def _post(self, body: dict[str, Any]) -> None:
        import httpx
        import tenacity

        started = self.clock.time()

        def post(client: httpx.Client) -> None:
            response = client.post(self.url, json=body, timeout=self.timeout)
            status = response.status_code
            if status >= 500 or status == 429:
                raise _Refused(status, _retry_after(response.headers.get("Retry-After")))
            response.raise_for_status()

        backoff = tenacity.wait_exponential_jitter(initial=1.0, max=20.0, jitter=1.0)

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            if isinstance(error, _Refused) and error.retry_after is not None:
                return min(error.retry_after, self.patience)
            return backoff(state)

        def stop(state: tenacity.RetryCallState) -> bool:
            return (
                state.attempt_number >= self.attempts
                or self.clock.time() - started >= self.patience
            )

        retrying = tenacity.Retrying(
            sleep=self.clock.sleep,
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception_type((_Refused, httpx.TransportError)),
            reraise=True,
        )
        if self.client is not None:
            retrying(post, self.client)
            return
        with httpx.Client() as client:
            retrying(post, client)


def _reason(exc: Exception) -> str:
    """Why a POST failed, without the URL httpx puts in its messages."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TransportError):
        return type(exc).__name__
    return str(exc) or type(exc).__name__
