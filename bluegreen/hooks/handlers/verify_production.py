"""AfterAllowTraffic: check production through its listener once all traffic has moved to
the new (green) tasks. A failure fails the deployment, and CodeDeploy rolls back (moving
traffic back to blue, which it keeps until the termination wait ends) if the deployment
group's auto-rollback is on.

Lambda handler ``verify_production.handler`` in the zip ``bluegreen hooks package`` builds
(the thin file ``hooks/verify_production.py``). The function
name must start with ``CodeDeployHook_`` when CodeDeploy's service role is
AWSCodeDeployRoleForECSLimited. Settings (environment variables, all optional), as for
``verify_test_listener`` but against production:

- ``BLUEGREEN_PRODUCTION_URL``: the base URL to check (default: the deployment group's
  production listener, ``http(s)://<load balancer DNS name>:<port>``).
- ``BLUEGREEN_CHECK_PATH`` (``/``), ``BLUEGREEN_EXPECT_STATUS`` (``200``).
- ``BLUEGREEN_EXPECT_JSON_FIELD``: ``name=value``, e.g. ``version="1.4.2"`` (the value is read
  as JSON when it parses, else as text).
- ``BLUEGREEN_EXPECT_TEXT``: text the body must contain.
- ``BLUEGREEN_EXPECT_HEADER``: ``Name=value``, a response header that must have this value.
- ``BLUEGREEN_WARMUP_SECONDS`` (``0``), ``BLUEGREEN_WARMUP_INTERVAL`` (``2``).
- ``BLUEGREEN_LATENCY_P95_MS``, ``BLUEGREEN_LATENCY_REQUESTS`` (``20``).
- ``BLUEGREEN_BURST_REQUESTS``, ``BLUEGREEN_BURST_CONCURRENCY`` (``10``),
  ``BLUEGREEN_BURST_MAX_ERROR_RATE`` (``0``). Mind that this burst hits real users' servers.
- ``BLUEGREEN_REQUEST_TIMEOUT`` (``5`` s), ``BLUEGREEN_VERIFY_TLS`` (``true``).
- ``BLUEGREEN_MARGIN_SECONDS`` (``10``), ``BLUEGREEN_LOG_LEVEL`` (``INFO``).

IAM permissions of the function's role: ``codedeploy:PutLifecycleEventHookExecutionStatus``;
to find the production listener (not needed with ``BLUEGREEN_PRODUCTION_URL``):
``codedeploy:GetDeployment``, ``codedeploy:GetDeploymentGroup``,
``elasticloadbalancing:DescribeListeners``, ``elasticloadbalancing:DescribeLoadBalancers``.
"""

from bluegreen.hooks import CheckResult, HookEvent, lifecycle_hook
from bluegreen.hooks.handlers._verify import margin_seconds, verify


@lifecycle_hook(margin_seconds=margin_seconds())
def handler(event: HookEvent) -> list[CheckResult]:
    """Check the production listener's URL with the configured checks."""
    return verify(event.production_url)
