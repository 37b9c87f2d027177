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
neither boto3, httpx nor tenacity; the first client, the first check and the first retried
AWS call do.

The kit, one concept per module: ``_event`` (the typed ``HookEvent``), ``_runner``
(``lifecycle_hook``, the runner that reports exactly once), ``_results`` (``CheckResult``, the
JSON log lines, masking secrets), ``_clients`` (the hooks' AWS clients and calls, through
``bluegreen._aws.Caller``), ``_listener`` (the listener URLs) and ``checks`` (the HTTP checks).

``bluegreen.hooks.handlers`` holds the ready-made handlers (``verify_test_listener``,
``verify_production``, ``restore_scaling``) that ``bluegreen hooks package`` zips.
"""

from bluegreen.hooks import checks, handlers
from bluegreen.hooks._event import HookEvent
from bluegreen.hooks._listener import production_listener_url, test_listener_url
from bluegreen.hooks._results import CheckResult, HookResult
from bluegreen.hooks._runner import LambdaHandler, lifecycle_hook

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
