"""The lifecycle-hook kit: write a CodeDeploy hook for ECS in a few lines, and make a silent
hook impossible.

::

    from bluegreen.hooks import HookEvent, checks, lifecycle_hook

    @lifecycle_hook
    def handler(event: HookEvent):
        return checks.until_healthy(lambda: checks.http(event.test_url, path="/health"))

``handler(event, context)`` is the Lambda entry point. It reports ``Succeeded`` or ``Failed``
with ``PutLifecycleEventHookExecutionStatus`` exactly once, whatever the check does, and logs
one JSON line per check result (logger ``bluegreen.hooks``). Importing this package imports
neither boto3 nor httpx; the first client and the first check do.

``bluegreen.hooks.handlers`` holds the ready-made handlers (``verify_test_listener``,
``verify_production``, ``restore_scaling``) that ``bluegreen hooks package`` zips.
"""

from bluegreen.hooks import checks, handlers
from bluegreen.hooks._kit import (
    CheckResult,
    HookEvent,
    HookResult,
    LambdaHandler,
    lifecycle_hook,
)
from bluegreen.hooks._listener import production_listener_url, test_listener_url

__all__ = [
    "CheckResult",
    "HookEvent",
    "HookResult",
    "LambdaHandler",
    "checks",
    "handlers",
    "lifecycle_hook",
    "production_listener_url",
    "test_listener_url",
]
