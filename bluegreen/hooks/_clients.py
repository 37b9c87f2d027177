"""The AWS side of a hook: the module-level ``Clients`` kept for warm invocations, and the
calls, made by ``bluegreen._aws.Caller`` like every other AWS call of bluegreen, but sized for a
Lambda: no rate budget, a few short fixed pauses, and one ``aws_retry`` log line per retry.

Importing this module imports neither boto3 nor tenacity: the first client imports boto3, the
first retry tenacity.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from bluegreen._aws import Caller, Clients
from bluegreen.errors import AWSError
from bluegreen.hooks._results import log

__all__ = ["ENDPOINT_URL_VARIABLE", "RETRY_DELAYS", "aws_call", "caller", "default_clients"]

ENDPOINT_URL_VARIABLE = "BLUEGREEN_ENDPOINT_URL"

RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)
"""The pauses between attempts of a throttled or 5xx call: 3.7 s in all, well inside a hook's
margin."""

_T = TypeVar("_T")
_DEFAULT_LOCK = threading.Lock()
_DEFAULT: tuple[tuple[str | None, str | None], Clients] | None = None


def default_clients() -> Clients:
    """The module-level ``Clients`` the hooks use unless given others.

    Made on first use and kept for warm invocations of the same Lambda. The region comes from
    ``AWS_REGION`` (set by Lambda) or ``AWS_DEFAULT_REGION``; the endpoint from
    ``BLUEGREEN_ENDPOINT_URL``, else boto3's own ``AWS_ENDPOINT_URL``. botocore's retries are
    off: the kit retries throttling and 5xx itself (``aws_call``), within the Lambda's time.
    """
    global _DEFAULT  # noqa: PLW0603
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    endpoint = os.environ.get(ENDPOINT_URL_VARIABLE) or os.environ.get("AWS_ENDPOINT_URL") or None
    key = (region, endpoint)
    with _DEFAULT_LOCK:
        if _DEFAULT is None or _DEFAULT[0] != key:
            import boto3
            from botocore.config import Config

            # Short timeouts, so a hung call still leaves time to report within the margin;
            # Clients turns botocore's retries off.
            config = Config(connect_timeout=3, read_timeout=5)
            clients = Clients(
                session=boto3.Session(region_name=region), endpoint_url=endpoint, config=config
            )
            _DEFAULT = (key, clients)
        return _DEFAULT[1]


class _SleepClock:
    """A ``Clock`` whose pauses go to ``sleep`` (tests pass a fake one); time is monotonic."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self.sleep = sleep

    def time(self) -> float:
        return time.monotonic()


def _log_retry(operation: str, error: AWSError, delay: float) -> None:
    log(
        logging.WARNING,
        {"event": "aws_retry", "operation": operation, "error": str(error), "delay": delay},
    )


def caller(
    *, delays: Sequence[float] = RETRY_DELAYS, sleep: Callable[[float], None] = time.sleep
) -> Caller:
    """The ``Caller`` for a hook's AWS calls: throttling, 5xx and a failed connection retried
    after each of ``delays`` (and only those), no rate budget, each retry logged."""
    return Caller(
        clock=_SleepClock(sleep),
        budget=None,
        attempts=len(delays) + 1,
        patience=math.inf,
        delays=tuple(delays),
        on_retry=_log_retry,
    )


def aws_call(
    operation: str,
    call: Callable[[], _T],
    *,
    delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> _T:
    """``call()``, the AWS operation ``operation``, made by ``caller(delays=, sleep=)``:
    botocore errors translated, retried after each of ``delays`` when AWS throttles, answers
    5xx or the connection fails (and only then).

    Raises:
        AWSError: the last error, once the delays are used up, or any other AWS error.
    """
    return caller(delays=delays, sleep=sleep)(operation, call)
