"""The event a lifecycle hook gets, typed: ``HookEvent`` (the two ids, the Lambda context and
its remaining time, the clients, the listener URLs; for an ECS-native hook also the stage, the
service, the traffic weights and the state kept between invocations) and ``parse``, which reads
CodeDeploy's ids from what arrived and says what is wrong with it (``_native`` reads ECS's).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from bluegreen._aws import Clients
from bluegreen.hooks._clients import default_clients
from bluegreen.hooks._native import NativeInvocation, decoded, rolling_back

if TYPE_CHECKING:
    from bluegreen.hooks._native_listener import NativeRoute

__all__ = ["PRODUCTION_URL_VARIABLE", "TEST_URL_VARIABLE", "HookEvent", "Parsed", "parse"]

TEST_URL_VARIABLE = "BLUEGREEN_TEST_URL"
PRODUCTION_URL_VARIABLE = "BLUEGREEN_PRODUCTION_URL"


@attrs.define
class HookEvent:
    """The event CodeDeploy or ECS sends a lifecycle hook, with the Lambda context.

    Attributes:
        deployment_id: the deployment: CodeDeploy's ``d-XXXXXXXXX``, or for an ECS-native
            hook the service deployment ARN (``resourceArn``; empty when the event does not
            carry it).
        execution_id: CodeDeploy's ``LifecycleEventHookExecutionId``, or ECS's
            ``executionId`` (the same on every invocation of one hook execution).
        raw: the event as received.
        context: the Lambda context (None when run without one).
        kind: ``codedeploy`` or ``ecs`` (an ECS-native hook).
        stage: the ECS lifecycle stage (``POST_TEST_TRAFFIC_SHIFT``...); None for CodeDeploy,
            whose event does not say.
        native: what the ECS event says (service, target revision, weights, ``hookDetails``);
            None for CodeDeploy.
        state: values a check keeps across runs: a check that raises or returns
            ``RetryLater`` (or runs out of invocation time) finds them on its next run. ECS
            carries them in ``hookDetails``, so they must be JSON.
    """

    deployment_id: str
    execution_id: str
    raw: Mapping[str, Any] = attrs.field(repr=False)
    context: Any = attrs.field(default=None, repr=False)
    kind: str = "codedeploy"
    stage: str | None = None
    native: NativeInvocation | None = attrs.field(default=None, repr=False)
    state: dict[str, Any] = attrs.field(factory=dict, repr=False)
    _clients: Clients | None = attrs.field(default=None, alias="clients", repr=False)
    _remaining_at_entry: float | None = attrs.field(default=None, alias="remaining_at_entry")
    _entered: float = attrs.field(factory=time.monotonic, alias="entered", repr=False)
    _urls: dict[str, str] = attrs.field(factory=dict, init=False, repr=False)
    _headers: dict[str, dict[str, str]] = attrs.field(factory=dict, init=False, repr=False)
    _routes: dict[str, NativeRoute] = attrs.field(factory=dict, init=False, repr=False)
    _service: Mapping[str, Any] | None = attrs.field(default=None, init=False, repr=False)

    @property
    def is_native(self) -> bool:
        """True for an ECS-native hook (answered with ``hookStatus``)."""
        return self.native is not None

    @property
    def rolling_back(self) -> bool:
        """True when ECS re-runs a TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT hook during
        a rollback (the weights move traffic back to blue); False for CodeDeploy."""
        return self.native is not None and rolling_back(self.native)

    @property
    def hook_details(self) -> dict[str, Any]:
        """The ``hookDetails`` ECS passed (the hook's configured values), without the kit's
        own key; empty for CodeDeploy."""
        return dict(self.native.hook_details) if self.native is not None else {}

    def remaining_seconds(self) -> float:
        """Seconds until the Lambda times out, on the wall clock from the context's remaining
        time at entry; ``inf`` without a context."""
        if self._remaining_at_entry is None:
            return math.inf
        return self._remaining_at_entry - (time.monotonic() - self._entered)

    @property
    def clients(self) -> Clients:
        """The AWS clients this hook uses (the module-level ones unless configured)."""
        if self._clients is None:
            self._clients = default_clients()
        return self._clients

    @property
    def test_url(self) -> str:
        """The test listener's base URL: ``BLUEGREEN_TEST_URL`` if set, else discovered
        (``http(s)://<load balancer DNS name>:<port>``): from the deployment's group for
        CodeDeploy, from the service's test listener rule for ECS-native."""
        return self._url("test", TEST_URL_VARIABLE)

    @property
    def production_url(self) -> str:
        """The production listener's base URL: ``BLUEGREEN_PRODUCTION_URL`` if set, else
        discovered like ``test_url``."""
        return self._url("production", PRODUCTION_URL_VARIABLE)

    @property
    def test_headers(self) -> dict[str, str]:
        """The request headers that reach the test route: for an ECS-native service whose
        test listener rule matches a host or an HTTP header, that ``Host`` or header; else
        none (and none when ``BLUEGREEN_TEST_URL`` is set)."""
        if self.native is None:
            return {}
        self._url("test", TEST_URL_VARIABLE)
        return dict(self._headers.get("test") or {})

    @property
    def production_headers(self) -> dict[str, str]:
        """The request headers that reach the production route, like ``test_headers``."""
        if self.native is None:
            return {}
        self._url("production", PRODUCTION_URL_VARIABLE)
        return dict(self._headers.get("production") or {})

    def listener_rule(self, route: str) -> NativeRoute:
        """For an ECS-native hook, the service's ``route`` (``test`` or ``production``)
        listener rule: its listener's URL, the headers its conditions need and the target
        groups it forwards to, with their weights (read once per invocation).

        Raises:
            ValueError: not an ECS-native hook, or ``route`` is neither name.
            ServiceConfigError: the service names no such rule.
            AWSError: reading the service or the rule failed.
        """
        if self.native is None:
            raise ValueError("listener_rule is for ECS-native hooks; CodeDeploy names listeners")
        # Only now: the listener modules pull in nothing heavy themselves, but a hook with the
        # URL set never needs them.
        if route in self._routes:
            return self._routes[route]
        from bluegreen.hooks._native_listener import describe_service, native_route
        from bluegreen.hooks._results import log

        cluster, service = self.native.cluster, self.native.service
        if self._service is None:
            self._service = describe_service(cluster, service, clients=self.clients)
        found = native_route(cluster, service, route, clients=self.clients, described=self._service)
        self._routes[route] = found
        if found.notes:
            log(
                logging.WARNING,
                {
                    "event": "listener_rule_conditions",
                    "rule": found.rule_arn,
                    "notes": list(found.notes),
                },
            )
        return found

    def _url(self, route: str, variable: str) -> str:
        override = os.environ.get(variable)
        if override:
            return override.rstrip("/")
        if route not in self._urls:
            if self.native is not None:
                found = self.listener_rule(route)
                self._headers[route] = found.headers
                self._urls[route] = found.url
            else:
                from bluegreen.hooks._listener import listener_url

                self._urls[route] = listener_url(self.deployment_id, route, clients=self.clients)
        return self._urls[route]


_ID_KEYS = {
    "deployment": ("DeploymentId", "deploymentId", "deployment_id"),
    "execution": (
        "LifecycleEventHookExecutionId",
        "lifecycleEventHookExecutionId",
        "lifecycle_event_hook_execution_id",
    ),
}


class Parsed(NamedTuple):
    """The ids found in an event, and what is wrong with it (empty for CodeDeploy's shape)."""

    deployment_id: str | None
    execution_id: str | None
    problems: tuple[str, ...]


def parse(raw: Any) -> Parsed:
    """The two ids, and what is wrong with the event (empty when it is CodeDeploy's shape)."""
    event, problems = decoded(raw)
    if not isinstance(event, Mapping):
        problems.append(f"the event is a {type(raw).__name__}, not an object")
        return Parsed(None, None, tuple(problems))
    ids: dict[str, str | None] = {}
    for what, keys in _ID_KEYS.items():
        canonical = keys[0]
        value = event.get(canonical)
        if not (isinstance(value, str) and value.strip()):
            found = next((k for k in keys[1:] if event.get(k) not in (None, "")), None)
            if value in (None, "") and found is None:
                problems.append(f"{canonical} is missing")
            elif found is not None:
                problems.append(f"{canonical} is spelled {found}")
                value = event[found]
            else:
                problems.append(f"{canonical} is a {type(value).__name__}, not a string")
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            ids[what] = str(value).strip()
        else:
            ids[what] = None
    return Parsed(ids["deployment"], ids["execution"], tuple(problems))
