"""AfterAllowTraffic (CodeDeploy) or POST_PRODUCTION_TRAFFIC_SHIFT (ECS-native): check
production through its listener once all traffic has moved to the new (green) tasks. A
failure fails the deployment, and CodeDeploy rolls back (moving traffic back to blue, which it
keeps until the termination wait ends) if the deployment group's auto-rollback is on; ECS
rolls back always.

For an ECS-native service the production route is the service's production listener rule
(``advancedConfiguration.productionListenerRule``), requested with the ``Host`` or header its
conditions match. At PRE_PRODUCTION_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT of a linear or
canary deployment it checks production at each step (green's share and blue's); it fails at a
stage before production traffic moves and passes unchecked on a rollback's re-run.

Lambda handler ``verify_production.handler`` in the zip ``bluegreen hooks package`` builds
(the thin file ``hooks/verify_production.py``). The function
name must start with ``CodeDeployHook_`` when CodeDeploy's service role is
AWSCodeDeployRoleForECSLimited. Settings (environment variables, all optional), as for
``verify_test_listener`` but against production:

- ``BLUEGREEN_PRODUCTION_URL``: the base URL to check (default: the deployment group's
  production listener, or the native service's production listener rule's listener,
  ``http(s)://<load balancer DNS name>:<port>``; set, no rule headers are sent).
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
- ``BLUEGREEN_MARGIN_SECONDS`` (``10``), ``BLUEGREEN_DEADLINE_SECONDS`` (``3600``,
  ECS-native), ``BLUEGREEN_LOG_LEVEL`` (``INFO``).

IAM permissions of the function's role: ``codedeploy:PutLifecycleEventHookExecutionStatus``;
to find the production listener (not needed with ``BLUEGREEN_PRODUCTION_URL``):
``codedeploy:GetDeployment``, ``codedeploy:GetDeploymentGroup``,
``elasticloadbalancing:DescribeListeners``, ``elasticloadbalancing:DescribeLoadBalancers``.
As an ECS-native hook: no CodeDeploy permission; ``ecs:DescribeServices`` and
``elasticloadbalancing:DescribeRules``, ``DescribeListeners``, ``DescribeLoadBalancers``.
"""

from bluegreen.hooks import CheckResult, HookEvent, lifecycle_hook
from bluegreen.hooks.handlers._verify import deadline_seconds, margin_seconds, verify_route


@lifecycle_hook(margin_seconds=margin_seconds(), deadline_seconds=deadline_seconds())
def handler(event: HookEvent) -> list[CheckResult]:
    """Check the production route's URL with the configured checks."""
    return verify_route(event, "production")
