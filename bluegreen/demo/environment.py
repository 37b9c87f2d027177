"""What the demo sets up around the simulator: the process environment (no caller's AWS
profile, endpoint or credentials), the hook kit's reports collected, and the real ready-made
hook loaded."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

AWS_VARIABLES_REMOVED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "BLUEGREEN_ENDPOINT_URL",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@contextlib.contextmanager
def demo_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` for the demo, without AWS profiles, endpoints or any ``BLUEGREEN_*``
    setting of the caller's, then put everything back: the hook reads its settings and its
    region from the environment, and nothing in the demo may find real credentials."""
    names = set(values) | set(AWS_VARIABLES_REMOVED)
    names |= {name for name in os.environ if name.startswith("BLUEGREEN_")}
    names.add("BLUEGREEN_TEST_URL")
    from unittest import mock

    with mock.patch.dict(os.environ):  # puts the whole environment back afterwards
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield


class HookReports(logging.Handler):
    """Collects what the hook kit logs when it reports (its ``reported`` JSON lines; for an
    ECS-native hook, the ``answered`` ones with a final ``hookStatus``), so the demo can say
    why a hook failed instead of letting the log reach stderr."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reports: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = json.loads(record.getMessage())
        except ValueError:
            return
        if not isinstance(fields, dict):
            return
        if fields.get("event") == "reported":
            reason = f"{fields.get('status')}: {fields.get('reason')}"
            self.reports.append((str(fields.get("deployment_id")), reason))
        elif fields.get("event") == "answered" and fields.get("hookStatus") != "IN_PROGRESS":
            reason = f"{fields.get('hookStatus')}: {fields.get('reason')}"
            self.reports.append((str(fields.get("deployment_id")), reason))

    def of(self, deployment_id: str) -> tuple[str, ...]:
        return tuple(reason for d, reason in self.reports if d == deployment_id)


@contextlib.contextmanager
def collect_hook_reports() -> Iterator[HookReports]:
    logger = logging.getLogger("bluegreen.hooks")
    handler = HookReports()
    propagate, level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = propagate, level


def load_hook() -> Callable[[dict[str, Any], Any], Any]:
    """The real ready-made ``verify_test_listener`` handler, as the Lambda zip runs it."""
    from bluegreen.hooks.handlers.verify_test_listener import handler

    return handler
