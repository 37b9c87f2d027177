"""Failures on demand, for reliability tests: unhealthy green task sets, and for any service's
operation throttling, 5xx answers, and connections reset before the request reached the
service or after it was carried out (the answer lost)."""

from __future__ import annotations

import collections
import random
import uuid
from typing import Literal

import attrs

from bluegreen.testing._wire import ApiError, Response, error

__all__ = ["KINDS", "ConnectionReset", "Fault", "Faults", "fault_response"]

Kind = Literal["throttle", "server_error", "reset_before", "reset_after"]
KINDS: tuple[Kind, ...] = ("throttle", "server_error", "reset_before", "reset_after")
"""The kinds of injected fault, as ``Faults.injected`` counts them."""


class ConnectionReset(ConnectionResetError):
    """An injected reset: the transport drops the connection without an answer (a
    ``ConnectionResetError``, so a WSGI server takes it for a dropped connection).

    ``processed``: the service carried the request out first (only the answer is lost).
    """

    def __init__(self, operation: str, *, processed: bool) -> None:
        when = "after the service carried it out" if processed else "before it reached the service"
        super().__init__(f"{operation}: connection reset {when} (simulated)")
        self.operation = operation
        self.processed = processed


@attrs.frozen
class Fault:
    """What happens to one request a rule matched."""

    kind: Kind
    code: str = ""
    status: int = 0


def _throttling(service: str) -> Fault:
    code = "Throttling" if service == "elasticloadbalancing" else "ThrottlingException"
    return Fault("throttle", code, 400)


def _server_error(status: int) -> Fault:
    code = "ServiceUnavailable" if status == 503 else "InternalFailure"
    return Fault("server_error", code, status)


@attrs.define
class _FaultRule:
    service: str
    operation: str
    kinds: tuple[Kind, ...]
    rate: float
    remaining: int | None
    status: int = 503

    def matches(self, service: str, operation: str, rng: random.Random) -> bool:
        if self.service not in (service, "*") or self.operation not in (operation, "*"):
            return False
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        return rng.random() < self.rate

    def fault(self, service: str, rng: random.Random) -> Fault:
        kind = self.kinds[0] if len(self.kinds) == 1 else rng.choice(self.kinds)
        if kind == "throttle":
            return _throttling(service)
        if kind == "server_error":
            return _server_error(self.status)
        return Fault(kind)


@attrs.define
class Faults:
    """Failures on demand, for reliability tests.

    Rules apply in the order they were added; the first that matches a request decides. Rates
    draw from one generator seeded with ``seed``, so the same calls fail on every run.

    Attributes:
        unhealthy_green: green task sets never become healthy, so Install waits until its
            timeout (contract section 8, "stuck in Install").
        injected: the faults injected so far, by kind (``KINDS``).
        metric_data_page_size: GetMetricData answers at most this many datapoints a page,
            whatever ``MaxDatapoints`` asks (CloudWatch may page sooner); see ``metric_data``.
        metric_data_status: every GetMetricData result has this ``StatusCode`` (and a
            message); see ``metric_data``.
    """

    unhealthy_green: bool = False
    seed: int = 0
    metric_data_page_size: int | None = None
    metric_data_status: str | None = None
    injected: collections.Counter[str] = attrs.field(factory=collections.Counter, init=False)
    _rules: list[_FaultRule] = attrs.Factory(list)
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def throttle(
        self,
        operation: str = "*",
        *,
        service: str = "codedeploy",
        rate: float = 1.0,
        count: int | None = None,
    ) -> None:
        """Answer ``operation`` of ``service`` with a throttling error.

        Args:
            operation: the API operation (``GetDeployment``) or ``"*"``.
            service: the signing name: ``codedeploy``, ``ecs``, ``elasticloadbalancing``,
                ``application-autoscaling``, ``monitoring``, ``lambda``, or ``"*"``.
            rate: the share of calls that fail (seeded, so runs repeat).
            count: fail exactly the next ``count`` matching calls instead.
        """
        self._rules.append(_FaultRule(service, operation, ("throttle",), rate, count))

    def server_error(
        self,
        operation: str = "*",
        *,
        service: str = "codedeploy",
        rate: float = 1.0,
        count: int | None = None,
        status: int = 503,
    ) -> None:
        """Answer ``operation`` with a 5xx error (``ServiceUnavailable`` or ``InternalFailure``)."""
        self._rules.append(_FaultRule(service, operation, ("server_error",), rate, count, status))

    def reset(
        self,
        operation: str = "*",
        *,
        service: str = "codedeploy",
        when: Literal["before", "after"] = "before",
        rate: float = 1.0,
        count: int | None = None,
    ) -> None:
        """Reset the connection of ``operation``'s requests: ``"before"`` the service saw
        the request (nothing happened), or ``"after"`` it carried it out (the change is made,
        the answer lost). The client cannot tell the two apart: botocore raises
        ``ConnectionClosedError`` for both, as for a real reset.
        """
        kind: Kind = "reset_before" if when == "before" else "reset_after"
        self._rules.append(_FaultRule(service, operation, (kind,), rate, count))

    def mixed(
        self,
        rate: float,
        *,
        operation: str = "*",
        service: str = "*",
        count: int | None = None,
        kinds: tuple[Kind, ...] = KINDS,
    ) -> None:
        """Fail ``rate`` of the matching calls (every call of every service by default), each
        with one of ``kinds`` picked at random: throttling, a 5xx, a reset before or after."""
        self._rules.append(_FaultRule(service, operation, tuple(kinds), rate, count))

    def metric_data(
        self,
        *,
        page_size: int | None = None,
        status: Literal["InternalError", "Forbidden"] | None = None,
    ) -> None:
        """Answer GetMetricData as CloudWatch does when it cannot answer at once: in pages of
        at most ``page_size`` datapoints, or with every result's ``StatusCode`` ``status``
        (``InternalError``: CloudWatch failed; ``Forbidden``: no permission to the data)."""
        self.metric_data_page_size = page_size
        self.metric_data_status = status

    @property
    def idle(self) -> bool:
        """No fault is set: no rule, green healthy, GetMetricData as asked."""
        return not (
            self._rules
            or self.unhealthy_green
            or self.metric_data_page_size is not None
            or self.metric_data_status is not None
        )

    def clear(self) -> None:
        """Remove every rule and heal green and GetMetricData; ``injected`` keeps counting."""
        self._rules.clear()
        self.unhealthy_green = False
        self.metric_data_page_size = self.metric_data_status = None

    def match(self, service: str, operation: str) -> Fault | None:
        """The fault for a request to ``service``'s ``operation``, if a rule matches it."""
        rule = next((r for r in self._rules if r.matches(service, operation, self._rng)), None)
        if rule is None:
            return None
        fault = rule.fault(service, self._rng)
        self.injected[fault.kind] += 1
        return fault


def fault_response(fault: Fault, *, json_protocol: bool) -> Response:
    """The answer to a request a throttling or 5xx fault matched, in the service's protocol."""
    message = "Rate exceeded" if fault.kind == "throttle" else "Service unavailable (simulated)"
    if json_protocol:
        return error(ApiError(fault.code, message, fault.status))
    request_id = str(uuid.uuid4())
    kind = "Sender" if fault.status < 500 else "Receiver"
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{fault.code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return (fault.status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body)
