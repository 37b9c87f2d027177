"""Find the URL of a CodeDeploy deployment's test or production listener (an ECS-native
service's listener rules are read by ``_native_listener``).

GetDeployment names the application and deployment group; GetDeploymentGroup names the
listeners of its test and production traffic routes; ELBv2 gives each listener's port and
protocol and its load balancer's DNS name. The result is ``http(s)://<dns name>:<port>``.
Internal load balancers reached through another name are set with ``BLUEGREEN_TEST_URL`` /
``BLUEGREEN_PRODUCTION_URL`` instead (``HookEvent.test_url`` reads them first).
"""

from __future__ import annotations

from typing import Literal

from bluegreen._aws import Clients
from bluegreen.errors import ResourceNotFoundError, ServiceConfigError
from bluegreen.hooks._clients import aws_call, default_clients

__all__ = [
    "listener_base_url",
    "listener_url",
    "production_listener_url",
    "test_listener_url",
]

Route = Literal["test", "production"]
_SECURE = frozenset({"HTTPS", "TLS"})


def test_listener_url(deployment_id: str, *, clients: Clients | None = None) -> str:  # noqa: PT028
    """The base URL of the test listener of ``deployment_id``'s deployment group.

    Args:
        deployment_id: the CodeDeploy deployment, ``d-XXXXXXXXX``.
        clients: the AWS clients to use; the hooks' module-level ones by default.

    Returns:
        ``http(s)://<load balancer DNS name>:<port>``, without a trailing slash.

    Raises:
        ServiceConfigError: the deployment group has no test listener.
        ResourceNotFoundError: the deployment, group, listener or load balancer is gone.
        AWSError: another AWS call failed (after retries for throttling and 5xx).
    """
    return listener_url(deployment_id, "test", clients=clients)


# pytest would collect ``test_listener_url`` from any test module that imports it.
test_listener_url.__test__ = False  # type: ignore[attr-defined]


def production_listener_url(deployment_id: str, *, clients: Clients | None = None) -> str:
    """The base URL of the production listener of ``deployment_id``'s deployment group.

    Args:
        deployment_id: the CodeDeploy deployment, ``d-XXXXXXXXX``.
        clients: the AWS clients to use; the hooks' module-level ones by default.

    Returns:
        ``http(s)://<load balancer DNS name>:<port>``, without a trailing slash.

    Raises:
        ServiceConfigError: the deployment group has no production listener.
        ResourceNotFoundError: the deployment, group, listener or load balancer is gone.
        AWSError: another AWS call failed (after retries for throttling and 5xx).
    """
    return listener_url(deployment_id, "production", clients=clients)


def listener_url(deployment_id: str, route: Route | str, *, clients: Clients | None = None) -> str:
    """The base URL of the ``route`` (``test`` or ``production``) listener of a deployment."""
    if route not in ("test", "production"):
        raise ValueError(f"route must be 'test' or 'production', not {route!r}")
    aws = clients or default_clients()
    info = aws_call(
        "GetDeployment", lambda: aws.codedeploy.get_deployment(deploymentId=deployment_id)
    )["deploymentInfo"]
    application = info.get("applicationName", "")
    group_name = info.get("deploymentGroupName", "")
    from bluegreen.state import DeploymentGroup  # pulls in the AppSpec model: only when needed

    group = DeploymentGroup.from_api(
        aws_call(
            "GetDeploymentGroup",
            lambda: aws.codedeploy.get_deployment_group(
                applicationName=application, deploymentGroupName=group_name
            ),
        )["deploymentGroupInfo"]
    )
    if route == "test":
        listener_arn = group.test_listener_arn
        setting, variable = "testTrafficRoute", "BLUEGREEN_TEST_URL"
    else:
        listener_arn = group.production_listener_arn
        setting, variable = "prodTrafficRoute", "BLUEGREEN_PRODUCTION_URL"
    if not listener_arn:
        raise ServiceConfigError(
            [
                f"deployment group {application}/{group_name} (deployment {deployment_id}) "
                f"has no {route} listener: its loadBalancerInfo has no {setting}. Add a "
                f"{route} listener to the group, or set {variable} to the URL to check"
            ]
        )
    return listener_base_url(listener_arn, route, clients=aws)


def listener_base_url(listener_arn: str, route: str, *, clients: Clients) -> str:
    """``http(s)://<load balancer DNS name>:<port>`` of the listener ``listener_arn``."""
    aws = clients
    listeners = aws_call(
        "DescribeListeners",
        lambda: aws.elbv2.describe_listeners(ListenerArns=[listener_arn]),
    )["Listeners"]
    if not listeners:
        raise ResourceNotFoundError(
            f"{route} listener {listener_arn} not found", operation="DescribeListeners"
        )
    listener = listeners[0]
    balancer_arn = listener["LoadBalancerArn"]
    balancers = aws_call(
        "DescribeLoadBalancers",
        lambda: aws.elbv2.describe_load_balancers(LoadBalancerArns=[balancer_arn]),
    )["LoadBalancers"]
    if not balancers:
        raise ResourceNotFoundError(
            f"load balancer {balancer_arn} not found", operation="DescribeLoadBalancers"
        )
    scheme = "https" if listener.get("Protocol") in _SECURE else "http"
    return f"{scheme}://{balancers[0]['DNSName']}:{listener['Port']}"
