"""AfterAllowTestTraffic: check the new (green) tasks through the test listener before any
production traffic reaches them. A failure fails the deployment, and CodeDeploy rolls back if
the deployment group's auto-rollback is on.

Lambda handler ``verify_test_listener.handler`` in the zip ``bluegreen hooks package`` builds
(the thin file ``hooks/verify_test_listener.py``). The
function name must start with ``CodeDeployHook_`` when CodeDeploy's service role is
AWSCodeDeployRoleForECSLimited. Settings (environment variables, all optional):

- ``BLUEGREEN_TEST_URL``: the base URL to check (default: the deployment group's test
  listener, ``http(s)://<load balancer DNS name>:<port>``).
- ``BLUEGREEN_CHECK_PATH`` (``/``), ``BLUEGREEN_EXPECT_STATUS`` (``200``).
- ``BLUEGREEN_EXPECT_JSON_FIELD``: ``name=value``, e.g. ``status=ok`` or ``db.ready=true``
  (the value is read as JSON when it parses, else as text).
- ``BLUEGREEN_EXPECT_TEXT``: text the body must contain.
- ``BLUEGREEN_EXPECT_HEADER``: ``Name=value``, a response header that must have this value.
- ``BLUEGREEN_WARMUP_SECONDS`` (``0``): retry the check for up to this long while the new
  tasks warm up, every ``BLUEGREEN_WARMUP_INTERVAL`` seconds (``2``).
- ``BLUEGREEN_LATENCY_P95_MS``: also require this p95 over ``BLUEGREEN_LATENCY_REQUESTS``
  (``20``) sequential requests.
- ``BLUEGREEN_BURST_REQUESTS``: also send this many requests,
  ``BLUEGREEN_BURST_CONCURRENCY`` (``10``) at a time, allowing
  ``BLUEGREEN_BURST_MAX_ERROR_RATE`` (``0``, a fraction) to fail.
- ``BLUEGREEN_REQUEST_TIMEOUT`` (``5`` s), ``BLUEGREEN_VERIFY_TLS`` (``true``).
- ``BLUEGREEN_MARGIN_SECONDS`` (``10``): report Failed this long before the Lambda times out.
- ``BLUEGREEN_LOG_LEVEL`` (``INFO``).

IAM permissions of the function's role: ``codedeploy:PutLifecycleEventHookExecutionStatus``;
to find the test listener (not needed with ``BLUEGREEN_TEST_URL``):
``codedeploy:GetDeployment``, ``codedeploy:GetDeploymentGroup``,
``elasticloadbalancing:DescribeListeners``, ``elasticloadbalancing:DescribeLoadBalancers``.
A test listener on an internal load balancer also needs the function in the VPC.
"""

from bluegreen.hooks import CheckResult, HookEvent, lifecycle_hook
from bluegreen.hooks.handlers._verify import margin_seconds, verify


@lifecycle_hook(margin_seconds=margin_seconds())
def handler(event: HookEvent) -> list[CheckResult]:
    """Check the test listener's URL with the configured checks."""
    return verify(event.test_url)
