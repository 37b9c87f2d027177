"""Failures on demand, for reliability tests: unhealthy green task sets, and throttling or
5xx answers for any service's operation."""

from __future__ import annotations

import random
import uuid

import attrs

from bluegreen.testing._wire import ApiError, Response, error

__all__ = ["Faults", "fault_response"]


@attrs.define
class _FaultRule:
    service: str
    operation: str
    code: str
    status: int
    rate: float
    remaining: int | None

    def matches(self, service: str, operation: str, rng: random.Random) -> bool:
        if self.service not in (service, "*") or self.operation not in (operation, "*"):
            return False
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        return rng.random() < self.rate


@attrs.define
class Faults:
    """Failures on demand, for reliability tests.

    Attributes:
        unhealthy_green: green task sets never become healthy, so Install waits until its
            timeout (contract section 8, "stuck in Install").
    """

    unhealthy_green: bool = False
    seed: int = 0
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
                ``application-autoscaling``, ``monitoring``, or ``"*"``.
            rate: the share of calls that fail (seeded, so runs repeat).
            count: fail exactly the next ``count`` matching calls instead.
        """
        code = "Throttling" if service == "elasticloadbalancing" else "ThrottlingException"
        self._rules.append(_FaultRule(service, operation, code, 400, rate, count))

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
        code = "ServiceUnavailable" if status == 503 else "InternalFailure"
        self._rules.append(_FaultRule(service, operation, code, status, rate, count))

    def clear(self) -> None:
        self._rules.clear()
        self.unhealthy_green = False

    def match(self, service: str, operation: str) -> _FaultRule | None:
        return next((r for r in self._rules if r.matches(service, operation, self._rng)), None)


def fault_response(rule: _FaultRule, *, json_protocol: bool) -> Response:
    """The answer to a request a fault rule matched, in the service's protocol."""
    message = "Rate exceeded" if "Throttl" in rule.code else "Service unavailable (simulated)"
    if json_protocol:
        return error(ApiError(rule.code, message, rule.status))
    request_id = str(uuid.uuid4())
    kind = "Sender" if rule.status < 500 else "Receiver"
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{rule.code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return (rule.status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body)
