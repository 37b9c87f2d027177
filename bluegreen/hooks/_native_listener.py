"""Find how to reach an ECS-native service's test or production route: the listener rule its
``loadBalancers[].advancedConfiguration`` names, the URL of that rule's listener, and the
request headers the rule's conditions need.

DescribeServices names the rules (``testListenerRule``, ``productionListenerRule``; for a
Network Load Balancer, the listener itself). A rule's listener is in its ARN
(``...:listener-rule/app/<lb>/<id>/<listener id>/<rule id>`` belongs to
``...:listener/app/<lb>/<id>/<listener id>``), so one DescribeRules reads its conditions, and
DescribeListeners and DescribeLoadBalancers give ``http(s)://<DNS name>:<port>`` as for
CodeDeploy. A ``host-header`` condition becomes a ``Host`` header and an ``http-header``
condition that header (a wildcard in the value filled in), so the check reaches the rule and
not the listener's default action. Conditions a header cannot meet (path, query string,
method, source IP) are returned as notes for the log: the check's path is the user's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from bluegreen._aws import Clients
from bluegreen.errors import ResourceNotFoundError, ServiceConfigError
from bluegreen.hooks._clients import aws_call, default_clients
from bluegreen.hooks._listener import listener_base_url

__all__ = [
    "NativeRoute",
    "describe_service",
    "native_route",
    "rule_forward",
    "rule_headers",
    "rule_listener_arn",
]

_SETTING = {"test": "testListenerRule", "production": "productionListenerRule"}
_VARIABLE = {"test": "BLUEGREEN_TEST_URL", "production": "BLUEGREEN_PRODUCTION_URL"}
_RULE_ARN = re.compile(
    r"(?P<head>arn:[^:]+:elasticloadbalancing:[^:]*:\d*:)listener-rule/(?P<path>.+)/[^/]+"
)


class NativeRoute(NamedTuple):
    """How a check reaches one route of a native service."""

    url: str
    """``http(s)://<load balancer DNS name>:<port>`` of the rule's listener."""
    headers: dict[str, str]
    """The request headers the rule's conditions need (``Host``, an HTTP header)."""
    rule_arn: str
    notes: tuple[str, ...]
    """The rule's conditions no header can meet, said in words."""
    forward: dict[str, int]
    """The target groups the rule forwards to, with their weights, when it was read (empty
    for a listener named in place of a rule)."""


def rule_listener_arn(rule_arn: str) -> str:
    """The listener a listener rule belongs to (read from the ARN; no call). A listener ARN
    (a Network Load Balancer's ``advancedConfiguration`` names the listener) is returned
    as it is."""
    match = _RULE_ARN.fullmatch(rule_arn)
    if match is None:
        return rule_arn
    return f"{match['head']}listener/{match['path']}"


def describe_service(cluster: str, service: str, *, clients: Clients) -> Mapping[str, Any]:
    """The service as DescribeServices answers it.

    Raises:
        ResourceNotFoundError: there is no such service.
    """
    described = aws_call(
        "DescribeServices",
        lambda: clients.ecs.describe_services(cluster=cluster, services=[service]),
    )
    services = described.get("services") or []
    if not services:
        raise ResourceNotFoundError(
            f"service {cluster}/{service} not found", operation="DescribeServices"
        )
    return dict(services[0])


def native_route(
    cluster: str,
    service: str,
    route: str,
    *,
    clients: Clients | None = None,
    described: Mapping[str, Any] | None = None,
) -> NativeRoute:
    """The ``route`` (``test`` or ``production``) of the native service ``cluster/service``
    (``described``: its DescribeServices answer, when already read).

    Raises:
        ServiceConfigError: the service names no such listener rule.
        ResourceNotFoundError: the service, rule, listener or load balancer is gone.
        AWSError: another AWS call failed (after retries for throttling and 5xx).
    """
    if route not in _SETTING:
        raise ValueError(f"route must be 'test' or 'production', not {route!r}")
    aws = clients or default_clients()
    if described is None:
        described = describe_service(cluster, service, clients=aws)
    setting = _SETTING[route]
    found: list[Mapping[str, Any]] = [
        lb.get("advancedConfiguration") or {} for lb in described.get("loadBalancers") or ()
    ]
    rule_arn = next((str(a[setting]) for a in found if a.get(setting)), None)
    if rule_arn is None:
        raise ServiceConfigError(
            [
                f"service {cluster}/{service} has no {route} listener rule: no "
                f"loadBalancers[].advancedConfiguration.{setting}. Give the service one "
                f"(UpdateService), or set {_VARIABLE[route]} to the URL to check"
            ]
        )
    listener_arn = rule_listener_arn(rule_arn)
    headers: dict[str, str] = {}
    notes: tuple[str, ...] = ()
    forward: dict[str, int] = {}
    if listener_arn != rule_arn:
        rules = (
            aws_call("DescribeRules", lambda: aws.elbv2.describe_rules(RuleArns=[rule_arn])).get(
                "Rules"
            )
            or []
        )
        if not rules:
            raise ResourceNotFoundError(
                f"{route} listener rule {rule_arn} not found", operation="DescribeRules"
            )
        headers, notes = rule_headers(rules[0].get("Conditions") or ())
        forward = rule_forward(rules[0].get("Actions") or ())
    url = listener_base_url(listener_arn, route, clients=aws)
    return NativeRoute(url=url, headers=headers, rule_arn=rule_arn, notes=notes, forward=forward)


def rule_forward(actions: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """``{target group ARN: weight}`` of a rule's forward action (empty without one)."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or ()
        if groups:
            return {str(g["TargetGroupArn"]): int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {str(action["TargetGroupArn"]): 1}
    return {}


def rule_headers(
    conditions: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The headers that meet a rule's conditions, and the conditions they cannot meet."""
    headers: dict[str, str] = {}
    notes: list[str] = []
    for condition in conditions:
        field = str(condition.get("Field") or "")
        if field == "host-header":
            values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get(
                "Values"
            )
            if values:
                headers["Host"] = _filled(str(values[0]))
        elif field == "http-header":
            config = condition.get("HttpHeaderConfig") or {}
            name, values = config.get("HttpHeaderName"), config.get("Values") or ()
            if name and values:
                headers[str(name)] = _filled(str(values[0]))
        elif field == "path-pattern":
            values = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get(
                "Values"
            )
            if not set(values or ()) & {"*", "/*"}:
                notes.append(
                    f"the rule matches paths {list(values or ())}: the check's path "
                    "(BLUEGREEN_CHECK_PATH) must be one of them"
                )
        elif field == "http-request-method":
            values = (condition.get("HttpRequestMethodConfig") or {}).get("Values") or ()
            if "GET" not in values:
                notes.append(f"the rule matches methods {list(values)}, and checks send GET")
        elif field:
            notes.append(f"the rule has a {field} condition the check does not meet")
    return headers, tuple(notes)


def _filled(value: str) -> str:
    """A value matching an ELB pattern: each ``*`` and ``?`` replaced by ``x``."""
    return value.replace("*", "x").replace("?", "x")
