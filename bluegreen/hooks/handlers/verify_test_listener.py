"""AfterAllowTestTraffic (CodeDeploy) or POST_TEST_TRAFFIC_SHIFT (ECS-native): check the new
(green) tasks through the test listener before any production traffic reaches them. A failure
fails the deployment: CodeDeploy rolls back if the deployment group's auto-rollback is on, ECS
always does.

For an ECS-native service the test route is the service's test listener rule
(``loadBalancers[].advancedConfiguration.testListenerRule``, whose forward ECS has pointed at
the alternate target group and its green tasks): the check requests that rule's listener with
the ``Host`` or header the rule's conditions match, once it has checked (at TEST_TRAFFIC_SHIFT
and POST_TEST_TRAFFIC_SHIFT, unless ``BLUEGREEN_TEST_URL`` is set) that the test rule forwards
all its traffic to a target group production's rule does not. The hook fails at a stage
before test traffic moves (the check would reach blue and prove nothing) and passes unchecked
on a rollback's re-run of TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT.

Lambda handler ``verify_test_listener.handler`` in the zip ``bluegreen hooks package`` builds
(the thin file ``hooks/verify_test_listener.py``). As a CodeDeploy hook the
function name must start with ``CodeDeployHook_`` when CodeDeploy's service role is
AWSCodeDeployRoleForECSLimited. Settings (environment variables, all optional):

- ``BLUEGREEN_TEST_URL``: the base URL to check (default: the deployment group's test
  listener, or the native service's test listener rule's listener,
  ``http(s)://<load balancer DNS name>:<port>``; set, no rule headers are sent).
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
- ``BLUEGREEN_MARGIN_SECONDS`` (``10``): report Failed this long before the Lambda times out
  (ECS-native: answer IN_PROGRESS and run the checks again in a fresh invocation).
- ``BLUEGREEN_DEADLINE_SECONDS`` (``3600``): ECS-native, how long the checks may keep
  running across invocations before the hook fails.
- ``BLUEGREEN_LOG_LEVEL`` (``INFO``).

IAM permissions of the function's role: ``codedeploy:PutLifecycleEventHookExecutionStatus``;
to find the test listener (not needed with ``BLUEGREEN_TEST_URL``):
``codedeploy:GetDeployment``, ``codedeploy:GetDeploymentGroup``,
``elasticloadbalancing:DescribeListeners``, ``elasticloadbalancing:DescribeLoadBalancers``.
As an ECS-native hook: no CodeDeploy permission; to find the test listener rule
``ecs:DescribeServices``, ``elasticloadbalancing:DescribeRules``, ``DescribeListeners`` and
``DescribeLoadBalancers``; ECS invokes it with the hook's ``roleArn`` (``lambda:InvokeFunction``).
A test listener on an internal load balancer also needs the function in the VPC.
"""

from bluegreen.hooks import CheckResult, HookEvent, lifecycle_hook
from bluegreen.hooks.handlers._verify import deadline_seconds, margin_seconds, verify_route


@lifecycle_hook(margin_seconds=margin_seconds(), deadline_seconds=deadline_seconds())
def handler(event: HookEvent) -> list[CheckResult]:
    """Check the test route's URL with the configured checks."""
    return verify_route(event, "test")
