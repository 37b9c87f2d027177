"""Routing: every request to the simulator, in-process or served, ends in ``Router.route``.

CodeDeploy and Lambda's GetFunction for registered hooks are answered here (and moto's
CloudWatch GetMetricData learns percentiles and metric math, ``_metric_queries``, and comes in
pages, ``_metric_pages``); an injected fault is answered here for any service; everything else
goes to moto, and ``after_moto`` fixes moto's gaps afterwards. Every request is recorded in the
record of calls, and every answer carries a ``Date`` header in simulated time. An injected
reset raises ``ConnectionReset`` instead of answering: before anything happened, or once the
request was carried out (by ``after_moto`` for a request moto answered); each transport turns
it into a dropped connection, which botocore raises as ``ConnectionClosedError``.

In-process, a botocore ``before-send`` handler (installed when this module is imported)
hands each request of a client created while a simulator is running to ``Simulator.route``;
``bluegreen.testing._server`` puts the same routing in front of moto's server application.
"""

from __future__ import annotations

import collections
import json
import re
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.testing._codedeploy import CodeDeploy
from bluegreen.testing._context import SimContext
from bluegreen.testing._controller_update import ControllerUpdates
from bluegreen.testing._faults import ConnectionReset, fault_response
from bluegreen.testing._hooks import lambda_operation
from bluegreen.testing._metric_queries import install as install_metric_queries
from bluegreen.testing._moto import forward_weights, rule_state
from bluegreen.testing._native_api import OPERATIONS as NATIVE_OPERATIONS
from bluegreen.testing._native_api import NativeEcs
from bluegreen.testing._native_rules import find_rule, rule_weights
from bluegreen.testing._running import Running
from bluegreen.testing._wire import ApiError, Response, error, http_date, ok

__all__ = ["Call", "Router", "connection_closed", "identify"]

_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")
_SUSPEND_FLAGS = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)

# Requests that create, change or delete a listener rule (the traffic follows them).
_RULE_OPERATIONS = ("CreateRule", "ModifyRule", "SetRulePriorities", "DeleteRule")

# One routed request: (simulated time, signing service, operation).
Call = tuple[float, str, str]


@attrs.define(eq=False)
class Router:
    """Answers a simulator's requests; ``calls`` is the record of every one routed."""

    sim: SimContext
    codedeploy: CodeDeploy
    region: str
    calls: collections.deque[Call] = attrs.Factory(lambda: collections.deque(maxlen=1_000_000))
    _suspended_before: dict[tuple[str, str], dict[str, bool]] = attrs.Factory(dict)
    _lost: threading.local = attrs.Factory(threading.local)
    """Per thread: the operation whose answer ``after_moto`` drops (an injected reset)."""
    native: NativeEcs | None = None
    """ECS-native service deployments (``_native_api``): their operations are answered here,
    and CreateService/UpdateService are checked before moto and followed after it."""
    _controllers: ControllerUpdates | None = None
    """UpdateService changing a service's deployment controller (``_controller_update``)."""

    def http_date(self) -> str:
        """The ``Date`` header of every response: the simulator's clock, not the wall clock
        (the same time as the ``createTime`` and other timestamps it answers)."""
        return http_date(self.sim.clock.time())

    def route(
        self,
        headers: Mapping[str, str],
        body: bytes | str | None,
        *,
        method: str = "",
        target: str = "",
    ) -> Response | None:
        """Answer a request, or return None to let moto answer it.

        CodeDeploy and Lambda's GetFunction for registered hooks are answered here; an
        injected fault is answered here for any service; everything else goes to moto, and
        ``after_moto`` fixes moto's gaps afterwards. Every answer carries a ``Date`` header
        in simulated time.

        Args:
            method: the HTTP method, for REST services (Lambda).
            target: the request target as sent (``/path?query``, percent-encoded).

        Raises:
            ConnectionReset: an injected reset; the transport drops the connection.
        """
        self._lost.operation = None
        answer = self._route(headers, body, method=method, target=target)
        if answer is not None:
            lost = self._lost.operation
            if lost is not None:
                self._lost.operation = None
                raise ConnectionReset(lost, processed=True)
            for key in [k for k in answer[1] if k.lower() == "date"]:
                del answer[1][key]  # moto's, in wall-clock time
            answer[1]["Date"] = self.http_date()
        return answer

    def _route(
        self, headers: Mapping[str, str], body: bytes | str | None, *, method: str, target: str
    ) -> Response | None:
        service, region, operation = identify(headers, body)
        function: str | None = None
        if service == "lambda" and not operation:
            operation, function = lambda_operation(method, target)
        with self.sim.lock:
            self.calls.append((self.sim.clock.time(), service, operation))
            fault = self.sim.faults.match(service, operation)
            if fault is not None and fault.kind == "reset_before":
                raise ConnectionReset(operation, processed=False)
            if fault is not None and fault.kind == "reset_after":
                self._lost.operation = operation  # carried out below, then dropped
            elif fault is not None:
                json_protocol = "x-amz-target" in _lower(headers) or service == "lambda"
                return fault_response(fault, json_protocol=json_protocol)
            if function is not None:
                return self.sim.hooks.get_function(
                    function, target, in_moto=self.sim.moto.has_lambda_function
                )
            if service == "ecs" and (self.native is not None or operation == "UpdateService"):
                answer = self._native(operation, body)
                if answer is not None:
                    return answer
            if service != "codedeploy":
                if operation == "RegisterScalableTarget":
                    self._remember_suspended_state(body)
                if operation == "ModifyListener":  # the weights before, for the traffic
                    arn = _form_value(body, "ListenerArn")
                    self.sim.moto.weight_log.before_change(arn, self.sim.moto.listener_weights(arn))
                if operation == "ModifyRule":  # a rule's weights before (ECS-native traffic)
                    arn = _form_value(body, "RuleArn")
                    before = rule_weights(self.sim.moto, arn)
                    self.sim.moto.weight_log.before_change(arn, before)
                if service == "elasticloadbalancing" and operation in _RULE_OPERATIONS:
                    self._rules_seen(operation, body)  # the rules before, for the traffic
                if service == "monitoring":  # percentiles and metric math in GetMetricData
                    install_metric_queries(self.sim.moto.cloudwatch)
                    if operation == "GetMetricData":  # in pages, as CloudWatch answers it
                        from bluegreen.testing._metric_pages import answer as metric_data_page

                        return metric_data_page(
                            headers,
                            body,
                            method=method,
                            url=f"https://monitoring.{self.region}.amazonaws.com{target or '/'}",
                            page_size=self.sim.faults.metric_data_page_size,
                            status=self.sim.faults.metric_data_status,
                        )
                return None
            if region and region != self.region:
                return error(
                    ApiError(
                        "InvalidInputException",
                        f"the bluegreen simulator serves region {self.region}, not {region}",
                    )
                )
            try:
                payload = json.loads(body or b"{}")
                return ok(self.codedeploy.handle(operation, payload))
            except ApiError as exc:
                return error(exc)

    def _native(self, operation: str, body: bytes | str | None) -> Response | None:
        """ECS-native operations, and the checks of CreateService/UpdateService (None: moto
        answers)."""
        if operation not in (*NATIVE_OPERATIONS, "CreateService", "UpdateService"):
            return None
        native = self._native_ecs()
        try:
            payload = json.loads(body or b"{}")
            if operation in NATIVE_OPERATIONS:
                return ok(native.handle(operation, payload))
            if operation == "UpdateService" and self.controller_updates().before(payload):
                return None  # a controller change: checked and carried out
            native.check_request(operation, payload)
        except ApiError as exc:
            return error(exc)
        return None

    def _native_ecs(self) -> NativeEcs:
        """The ECS-native part, made on first use when the router was given none (a
        deployment-controller update needs it on every simulator)."""
        if self.native is None:
            self.native = NativeEcs(self.sim)
        return self.native

    def controller_updates(self) -> ControllerUpdates:
        """UpdateService requests that change the deployment controller."""
        if self._controllers is None:
            self._controllers = ControllerUpdates(self.sim, self._native_ecs())
        return self._controllers

    def _remember_suspended_state(self, body: bytes | str | None) -> None:
        """The target's ``SuspendedState`` before a RegisterScalableTarget, for ``after_moto``."""
        payload = json.loads(body or b"{}")
        key = (payload.get("ResourceId", ""), payload.get("ScalableDimension", ""))
        target = self.sim.moto.autoscaling.targets.get(key[1], {}).get(key[0])
        before = getattr(target, "suspended_state", None) if target is not None else None
        self._suspended_before[key] = dict(before or {})

    def _merge_suspended_state(self, body: bytes | str | None) -> None:
        """Application Auto Scaling keeps the ``SuspendedState`` flags a request leaves out and
        always describes all three; moto replaces the whole dict and omits it when unset."""
        payload = json.loads(body or b"{}")
        key = (payload.get("ResourceId", ""), payload.get("ScalableDimension", ""))
        before = self._suspended_before.pop(key, {})
        target = self.sim.moto.autoscaling.targets.get(key[1], {}).get(key[0])
        if target is None:
            return
        given = payload.get("SuspendedState") or {}
        target.suspended_state = {
            flag: bool(given.get(flag, before.get(flag, False))) for flag in _SUSPEND_FLAGS
        }

    def _rules_seen(self, operation: str, body: bytes | str | None) -> None:
        """Note the listener rules a request may change as they are before it (for CreateRule,
        one already at its priority: the request fails, and the rule was not created now)."""
        log = self.sim.moto.weight_log
        if operation == "CreateRule":
            listener, priority = _form_value(body, "ListenerArn"), _form_value(body, "Priority")
            for arn, (state, weights) in self.sim.moto.listener_rules(listener).items():
                if str(state[0]) == priority:
                    log.rule_seen(listener, arn, state, weights)
            return
        for arn in _rule_arns(body):
            rule = find_rule(self.sim.moto, arn)
            if rule is not None:
                weights = forward_weights(rule.actions)
                log.rule_seen(rule.listener_arn, arn, rule_state(rule), weights)

    def _rules_changed(self, operation: str, body: bytes | str | None) -> None:
        """Record a rule's creation, new priority or conditions, or deletion (moto answered)."""
        log, when = self.sim.moto.weight_log, self.sim.clock.time()
        if operation == "CreateRule":
            listener, priority = _form_value(body, "ListenerArn"), _form_value(body, "Priority")
            for arn, (state, weights) in self.sim.moto.listener_rules(listener).items():
                if str(state[0]) == priority:
                    log.rule_changed(listener, arn, when, state, weights)
            return
        for arn in _rule_arns(body):
            rule = find_rule(self.sim.moto, arn)
            if rule is None:
                log.rule_deleted(arn, when)
            else:
                log.rule_changed(rule.listener_arn, arn, when, rule_state(rule))

    def after_moto(self, headers: Mapping[str, str], body: bytes | str | None) -> None:
        """Fix moto's state after it answered (see ``_moto.py``).

        Raises:
            ConnectionReset: ``route`` injected a reset after the request was carried out.
        """
        self._fix_moto(headers, body)
        lost = getattr(self._lost, "operation", None)
        if lost is not None:
            self._lost.operation = None
            raise ConnectionReset(lost, processed=True)

    def _fix_moto(self, headers: Mapping[str, str], body: bytes | str | None) -> None:
        service, _, operation = identify(headers, body)
        if service == "application-autoscaling" and operation == "RegisterScalableTarget":
            with self.sim.lock:
                self._merge_suspended_state(body)
        if service == "iam" and operation in ("CreateRole", "DeleteRole"):
            with self.sim.lock:
                made, name = self.sim.moto.roles_created, _form_value(body, "RoleName")
                if operation == "CreateRole":
                    made.setdefault(name, self.sim.clock.time())
                else:
                    made.pop(name, None)
        if operation == "ModifyListener":  # a user's own weights: the traffic splits by them
            arn = _form_value(body, "ListenerArn")
            with self.sim.lock:
                moto = self.sim.moto
                moto.weight_log.changed(arn, self.sim.clock.time(), moto.listener_weights(arn))
        if operation == "ModifyRule":  # a user's own rule weights: the same for a rule
            arn = _form_value(body, "RuleArn")
            with self.sim.lock:
                weights = rule_weights(self.sim.moto, arn)
                self.sim.moto.weight_log.changed(arn, self.sim.clock.time(), weights)
        if service == "elasticloadbalancing" and operation in _RULE_OPERATIONS:
            with self.sim.lock:  # a listener's rules: where its requests go
                self._rules_changed(operation, body)
        if service == "ecs" and operation == "CreateService":
            payload = json.loads(body or b"{}")
            with self.sim.lock:
                self.sim.moto.ensure_initial_task_set(
                    payload.get("cluster", "default"), payload.get("serviceName", "")
                )
        if service == "ecs" and operation in ("CreateService", "UpdateService") and self.native:
            with self.sim.lock:
                payload = json.loads(body or b"{}")
                if operation == "CreateService" or not self.controller_updates().after(payload):
                    self.native.after_request(operation, payload)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        str(k).lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in headers.items()
    }


def _rule_arns(body: bytes | str | None) -> list[str]:
    """The rule ARNs of a ModifyRule, DeleteRule or SetRulePriorities request."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    fields = urllib.parse.parse_qs(text)
    return [v for k, values in fields.items() if k.endswith("RuleArn") for v in values]


def _form_value(body: bytes | str | None, name: str) -> str:
    """One field of a query-protocol (form-encoded) request body; empty when absent."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    return urllib.parse.parse_qs(text).get(name, [""])[0]


def identify(headers: Mapping[str, str], body: bytes | str | None) -> tuple[str, str, str]:
    """(signing service, region, operation) of a signed AWS request."""
    lowered = _lower(headers)
    match = _CREDENTIAL.search(lowered.get("authorization", ""))
    service = match.group("service") if match else ""
    region = match.group("region") if match else ""
    target = lowered.get("x-amz-target")
    if target:
        return service, region, target.rsplit(".", 1)[-1]
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    action = re.search(r"(?:^|&)Action=([A-Za-z]+)", text)
    return service, region, action.group(1) if action else ""


def _before_send(request: Any, **kwargs: Any) -> Any:
    """botocore ``before-send``, in moto's place: the running simulator answers first and
    hands the rest to moto's stubber (botocore calls every ``before-send`` handler, so the
    two cannot both be registered)."""
    from moto.core.models import botocore_stubber

    sim = Running.simulator
    if sim is None:
        return botocore_stubber(request=request, **kwargs)
    from botocore.awsrequest import AWSResponse, HTTPHeaders
    from moto.core.botocore_stubber import MockRawResponse

    parts = urllib.parse.urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        answer = sim.route(request.headers, request.body, method=request.method, target=target)
        if answer is None:
            response = botocore_stubber(request=request, **kwargs)
            sim.after_moto(request.headers, request.body)
            if response is not None:
                # HTTPHeaders appends on assignment: drop moto's wall-clock Date first.
                del response.headers["Date"]
                response.headers["Date"] = sim.http_date()
            return response
    except ConnectionReset as exc:
        raise connection_closed(request.url) from exc
    status, headers, body = answer
    http_headers = HTTPHeaders()
    for key, value in headers.items():
        http_headers[key] = value
    return AWSResponse(request.url, status, http_headers, MockRawResponse(body))


def connection_closed(url: str) -> Exception:
    """What botocore raises when the connection is reset (urllib3's ``ProtocolError``)."""
    from botocore.exceptions import ConnectionClosedError

    return ConnectionClosedError(
        endpoint_url=url, error=ConnectionResetError(104, "Connection reset by peer")
    )


def _install_handler() -> None:
    from botocore.handlers import BUILTIN_HANDLERS
    from moto.core.models import botocore_stubber

    for i, entry in enumerate(BUILTIN_HANDLERS):
        if entry[0] == "before-send" and entry[1] is botocore_stubber:
            BUILTIN_HANDLERS[i] = ("before-send", _before_send)
    if ("before-send", _before_send) not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(("before-send", _before_send))


_install_handler()
