"""The lifecycle-hook kit: write a lifecycle hook for ECS in a few lines, for CodeDeploy and
ECS-native (BLUE_GREEN, LINEAR, CANARY) deployments alike, and make a silent hook impossible.

::

    from bluegreen.hooks import HookEvent, checks, lifecycle_hook

    @lifecycle_hook
    def handler(event: HookEvent):
        return checks.until_healthy(lambda: checks.http(event.test_url, path="/health"))

``handler(event, context)`` is the Lambda entry point. For CodeDeploy it reports ``Succeeded``
or ``Failed`` with ``PutLifecycleEventHookExecutionStatus`` exactly once, whatever the check
does; for an ECS-native hook it returns ``{"hookStatus": ...}`` instead (``IN_PROGRESS`` with
``callBackDelay`` when a check returns ``RetryLater``, resuming from ``hookDetails`` on the
next invocation). It logs one JSON line per check result (logger ``bluegreen.hooks``).
Importing this package imports neither boto3, httpx nor tenacity; the first client, the
first check and the first retried AWS call do.

The kit, one concept per module: ``_event`` (the typed ``HookEvent``), ``_runner``
(``lifecycle_hook``, the runner that reports exactly once), ``_native_runner`` (its answer to
an ECS-native hook), ``_native`` (the ECS event read, the answer written), ``_worker`` (one run
of the check function, judged), ``_retry`` (``RetryLater``), ``_results`` (``CheckResult``,
the JSON log lines, masking secrets), ``_clients`` (the hooks' AWS clients and calls, through
``bluegreen._aws.Caller``), ``_listener`` and ``_native_listener`` (the listener URLs, from a
CodeDeploy group or a native service's listener rules) and ``checks`` (the HTTP checks).

``bluegreen.hooks.handlers`` holds the ready-made handlers (``verify_test_listener``,
``verify_production``, ``restore_scaling``) that ``bluegreen hooks package`` zips.
"""

from bluegreen.hooks import checks, handlers
from bluegreen.hooks._event import HookEvent
from bluegreen.hooks._listener import production_listener_url, test_listener_url
from bluegreen.hooks._results import CheckResult, HookResult
from bluegreen.hooks._retry import RetryLater
from bluegreen.hooks._runner import LambdaHandler, lifecycle_hook

__all__ = [
    "CheckResult",
    "HookEvent",
    "HookResult",
    "LambdaHandler",
    "RetryLater",
    "checks",
    "handlers",
    "lifecycle_hook",
    "production_listener_url",
    "test_listener_url",
]
