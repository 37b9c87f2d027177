"""Simulated production traffic and the ALB target-group metrics it leaves in CloudWatch.

Every simulated minute (``Traffic.publish_minute``, run by the simulator's minute ticker)
each deployment group's production listener, and each ECS-native service's production
listener rule, receives about ``requests_per_minute`` requests, split between its target
groups as an ALB splits them: each request by the weights of its moment, so the minute by the
listener's (rule's) weights averaged over ``[minute_start, minute_start + 60)``, each
weighted by the seconds it was in force (``_weights.WeightLog``: every change CodeDeploy or
ECS makes, a shift step or a rollback's reroute to blue, and a user's own ModifyListener or
ModifyRule, is recorded with its simulated time). A
canary that starts 45 s into a minute gets a quarter of its 10 % of that minute, and the
minute of a rollback is shared by green until the reroute and blue after it. A listener
sends its requests as an ALB does, by its rules in priority order, then its default action:
at each moment, the forward of its highest-precedence rule matching every request (path
``*`` or ``/*``: the rule ``bluegreen migrate`` puts in front of a CodeDeploy service), else
its default action's (``WeightLog.routed``; the log also records each rule's creation,
priority and deletion). So the minute of a migration's revert is the rule's until the
listener is re-pointed and the rule deleted, not the old default action's. Each target
group's requests are served by the task set registered with it (for a native service, the
service revision serving it), and behave as the behaviour matching that task definition
says (``Traffic.behave``; healthy by default: no 5xx, median 50 ms, p99 200 ms). The
minute's numbers go to moto's CloudWatch as an ALB publishes them, namespace
``AWS/ApplicationELB``, timestamped with the start of the minute on the simulator's clock:

* per target group (dimensions ``TargetGroup``, ``LoadBalancer``) and per load balancer
  (``LoadBalancer``): ``RequestCount``, ``HTTPCode_Target_5XX_Count`` and
  ``TargetResponseTime`` (seconds), each only when there were requests (5xx only when
  non-zero), as an ALB does;
* per target group: ``HealthyHostCount`` and ``UnHealthyHostCount`` every minute;
* requests sent to a target group with no healthy task (read at the minute's end, for
  its whole share of the minute): ``HTTPCode_ELB_5XX_Count`` (and
  ``HTTPCode_ELB_503_Count``) on the load balancer.

``TargetResponseTime`` is published per target group as statistic sets, one per slice of
the response-time distribution, so ``_metric_data`` can answer percentiles (per load
balancer as one statistic set: averages, minimum and maximum are right, percentiles rough).
All randomness comes from one generator seeded by ``Traffic(seed=...)``: the same run
publishes the same numbers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import attrs

from bluegreen.testing._metric_data import as_naive_utc
from bluegreen.testing._native_rules import find_rule, rule_weights

__all__ = ["Behaviour", "Traffic"]

NAMESPACE = "AWS/ApplicationELB"

# Cumulative shares that cut the response-time distribution into slices.
_SLICES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999)
_Z99 = NormalDist().inv_cdf(0.99)


@attrs.frozen
class Behaviour:
    """How the requests served by matching task sets behave.

    Attributes:
        match: a task-definition ``family:revision``, its ARN, or a container image.
        error_rate: the share of requests answered with a 5xx (0 to 1).
        p50_ms: the median response time in milliseconds.
        p99_ms: the 99th percentile (default four times the median).
    """

    match: str
    error_rate: float = 0.0
    p50_ms: float = 50.0
    p99_ms: float | None = None

    def __attrs_post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.error_rate <= 1.0:
            problems.append(f"error_rate must be between 0 and 1, not {self.error_rate}")
        if self.p50_ms <= 0:
            problems.append(f"p50_ms must be positive, not {self.p50_ms}")
        if self.p99_ms is not None and self.p99_ms < self.p50_ms:
            problems.append(f"p99_ms ({self.p99_ms}) must be at least p50_ms ({self.p50_ms})")
        if problems:
            raise ValueError("; ".join(problems))

    def seconds_at(self, share: float) -> float:
        """The response time (seconds) below which ``share`` of the requests fall."""
        p99 = self.p99_ms if self.p99_ms is not None else 4 * self.p50_ms
        sigma = math.log(p99 / self.p50_ms) / _Z99
        z = NormalDist().inv_cdf(min(max(share, 1e-9), 1 - 1e-9))
        return self.p50_ms * math.exp(sigma * z) / 1000.0


_HEALTHY = Behaviour("*")


@attrs.define(eq=False)
class Traffic:
    """The production traffic the simulator sends, and how each version answers it.

    Args:
        requests_per_minute: requests each production listener receives a minute (0 turns
            the traffic off; host counts are still published).
        seed: seeds the one random generator, so a run repeats.
        while_idle: also serve traffic, publish metrics and evaluate alarms while no
            deployment is in flight. Off by default: a test that moves the clock by days
            would otherwise pay for every simulated minute of them.
    """

    requests_per_minute: int = 600
    seed: int = 0
    while_idle: bool = False
    behaviours: list[Behaviour] = attrs.field(factory=list)
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def behave(
        self,
        match: str,
        *,
        error_rate: float = 0.0,
        p50_ms: float = 50.0,
        p99_ms: float | None = None,
    ) -> Behaviour:
        """Make the task sets running ``match`` (a task definition ``family:revision`` or
        ARN, or a container image) answer this way; a later call for the same version wins."""
        behaviour = Behaviour(match, error_rate=error_rate, p50_ms=p50_ms, p99_ms=p99_ms)
        self.behaviours.append(behaviour)
        return behaviour

    def behaviour_for(self, task_definition: Mapping[str, Any] | None) -> Behaviour:
        if task_definition is None:
            return _HEALTHY
        arn = str(task_definition.get("taskDefinitionArn", ""))
        names = {
            arn,
            arn.rsplit("/", 1)[-1],
            *(str(c.get("image", "")) for c in task_definition.get("containerDefinitions", ())),
        }
        for behaviour in reversed(self.behaviours):
            if behaviour.match in names:
                return behaviour
        return _HEALTHY

    # -- one minute ---------------------------------------------------------------------

    def publish_minute(self, sim: Any, minute_start: float) -> None:
        """Serve one minute of traffic (``[minute_start, +60 s)``) and publish its metrics."""
        data: list[dict[str, Any]] = []
        when = as_naive_utc(minute_start)
        for route in _production_routes(sim):
            data.extend(self._route_minute(sim, route, minute_start))
        for datum in data:
            datum["Timestamp"] = when
        if data:
            sim.moto.cloudwatch.put_metric_data(NAMESPACE, data)

    def _route_minute(self, sim: Any, route: _Route, minute_start: float) -> list[dict[str, Any]]:
        lb, weights = route.load_balancer_and_weights(sim, minute_start, minute_start + 60.0)
        if lb is None or not weights:
            return []
        pair = route.target_groups
        lb_dims = [{"Name": "LoadBalancer", "Value": lb.arn.split(":loadbalancer/")[-1]}]
        out: list[dict[str, Any]] = []
        for tg_arn in sorted({*pair, *(arn for arn, _ in weights)}):
            healthy, unhealthy, _ = _targets(sim, route, tg_arn)
            dims = [{"Name": "TargetGroup", "Value": tg_arn.split(":")[-1]}, *lb_dims]
            out.append(_value("HealthyHostCount", dims, healthy, "Count"))
            out.append(_value("UnHealthyHostCount", dims, unhealthy, "Count"))
        total = self._binomial_total(self.requests_per_minute)
        lb_requests = lb_errors = elb_errors = 0
        lb_times: list[dict[str, Any]] = []
        remaining, weight_left = total, sum(w for _, w in weights)
        for tg_arn, weight in weights:
            share = weight / weight_left if weight_left else 0.0
            served = self._binomial(remaining, share)
            remaining -= served
            weight_left -= weight
            dims = [{"Name": "TargetGroup", "Value": tg_arn.split(":")[-1]}, *lb_dims]
            healthy, _, task_definition = _targets(sim, route, tg_arn)
            if served == 0:
                continue
            lb_requests += served
            if healthy == 0:
                elb_errors += served
                continue
            behaviour = self.behaviour_for(sim.moto.task_definition(task_definition or ""))
            errors = self._binomial(served, behaviour.error_rate)
            times = self._response_times(served, behaviour)
            lb_errors += errors
            lb_times.extend(times)
            out.append(_value("RequestCount", dims, served, "Count"))
            if errors:
                out.append(_value("HTTPCode_Target_5XX_Count", dims, errors, "Count"))
            out.extend({**t, "Dimensions": dims} for t in times)
        if lb_requests:
            out.append(_value("RequestCount", lb_dims, lb_requests, "Count"))
        if lb_errors:
            out.append(_value("HTTPCode_Target_5XX_Count", lb_dims, lb_errors, "Count"))
        if elb_errors:
            out.append(_value("HTTPCode_ELB_5XX_Count", lb_dims, elb_errors, "Count"))
            out.append(_value("HTTPCode_ELB_503_Count", lb_dims, elb_errors, "Count"))
        if lb_times:  # one statistic set: averages, not percentiles, per load balancer
            sets = [t["StatisticValues"] for t in lb_times]
            stats = {
                "SampleCount": sum(v["SampleCount"] for v in sets),
                "Sum": sum(v["Sum"] for v in sets),
                "Minimum": min(v["Minimum"] for v in sets),
                "Maximum": max(v["Maximum"] for v in sets),
            }
            out.append(
                {
                    "MetricName": "TargetResponseTime",
                    "Dimensions": lb_dims,
                    "StatisticValues": stats,
                    "Unit": "Seconds",
                }
            )
        return out

    def _response_times(self, n: int, behaviour: Behaviour) -> list[dict[str, Any]]:
        """``n`` response times as statistic sets, one per slice of the distribution; the
        counts per slice follow the slices' shares (largest remainders round up), so the
        percentiles read back are the behaviour's."""
        shares = [b - a for a, b in zip(_SLICES, (*_SLICES[1:], 1.0), strict=True)]
        counts = [int(n * s) for s in shares]
        by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - n * shares[i])
        for i in by_remainder[: n - sum(counts)]:
            counts[i] += 1
        sets = []
        for i, count in enumerate(counts):
            if not count:
                continue
            low = behaviour.seconds_at(_SLICES[i]) if i else behaviour.seconds_at(0.001)
            high = behaviour.seconds_at(_SLICES[i + 1] if i + 1 < len(_SLICES) else 0.99995)
            stats = {"SampleCount": count, "Sum": count * (low + high) / 2, "Minimum": low}
            sets.append(
                {
                    "MetricName": "TargetResponseTime",
                    "StatisticValues": {**stats, "Maximum": high},
                    "Unit": "Seconds",
                }
            )
        return sets

    # -- randomness ---------------------------------------------------------------------

    def _binomial_total(self, mean: int) -> int:
        if mean <= 0:
            return 0
        return max(0, round(self._rng.gauss(mean, math.sqrt(mean))))

    def _binomial(self, n: int, p: float) -> int:
        if n <= 0 or p <= 0:
            return 0
        if p >= 1:
            return n
        if n <= 2000:
            return sum(1 for _ in range(n) if self._rng.random() < p)
        sd = math.sqrt(n * p * (1 - p))
        return min(n, max(0, round(self._rng.gauss(n * p, sd))))


def _value(name: str, dims: list[dict[str, str]], value: float, unit: str) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": dims, "Value": float(value), "Unit": unit}


@attrs.frozen
class _Route:
    """Where a service's production traffic comes in: a listener (a CodeDeploy deployment
    group's) or an ECS-native service's ``productionListenerRule`` (a listener rule, or an
    NLB's listener)."""

    arn: str
    service: Any
    """moto's ECS service."""
    target_groups: tuple[str, ...]
    native: bool = False

    @property
    def is_rule(self) -> bool:
        return ":listener-rule/" in self.arn

    def load_balancer_and_weights(
        self, sim: Any, start: float, end: float
    ) -> tuple[Any | None, list[tuple[str, float]]]:
        """The load balancer, and the weights averaged over ``[start, end)`` (a listener's:
        by its catch-all rules and default action at each moment, ``WeightLog.routed``)."""
        if not self.is_rule:
            lb = sim.moto.load_balancer_of_listener(self.arn)
            return lb, sim.moto.averaged_weights(self.arn, start, end)
        rule = find_rule(sim.moto, self.arn)
        if rule is None:
            return None, []
        lb = sim.moto.load_balancer_of_listener(rule.listener_arn)
        current = rule_weights(sim.moto, self.arn)
        return lb, sim.moto.weight_log.averaged(self.arn, start, end, current)


def _production_routes(sim: Any) -> list[_Route]:
    """The production listener of every ECS deployment group, and the production listener
    rule of every ECS-native service (one route per listener or rule)."""
    seen: dict[str, _Route] = {}
    for group in list(sim.store.groups.values()):
        services = group.get("ecsServices") or []
        pairs = (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
        if not services or not pairs:
            continue
        service = sim.moto.service(services[0]["clusterName"], services[0]["serviceName"])
        if (
            service is not None
            and (service.deployment_controller or {}).get("type") != "CODE_DEPLOY"
        ):
            continue  # moved to ECS-native: its production listener rule carries the traffic
        names = [tg["name"] for tg in pairs[0].get("targetGroups") or ()]
        arns = tuple(tg.arn for tg in sim.moto.target_groups_by_name(names).values())
        for arn in (pairs[0].get("prodTrafficRoute") or {}).get("listenerArns") or []:
            seen.setdefault(arn, _Route(arn, service, arns))
    for service in list(sim.moto.ecs.services.values()):
        if service.status != "ACTIVE":
            continue
        for lb in service.load_balancers or ():
            advanced = lb.get("advancedConfiguration") or {}
            rule = advanced.get("productionListenerRule")
            if not rule:
                continue
            pair = (lb.get("targetGroupArn", ""), advanced.get("alternateTargetGroupArn", ""))
            seen.setdefault(rule, _Route(rule, service, tuple(a for a in pair if a), native=True))
    return list(seen.values())


def _targets(sim: Any, route: _Route, tg_arn: str) -> tuple[int, int, str | None]:
    """Healthy and unhealthy tasks registered with a target group, and the task definition
    of the task set serving it."""
    service = route.service
    if route.native and not getattr(service, "task_sets", None):
        return _native_targets(sim, route, tg_arn)
    healthy = unhealthy = 0
    task_definition = None
    for task_set in list(getattr(service, "task_sets", None) or ()):
        groups = [lb.get("targetGroupArn") for lb in task_set.load_balancers or ()]
        if tg_arn not in groups or task_set.status == "DRAINING":
            continue
        running = int(getattr(task_set, "running_count", 0) or 0)
        healthy += running
        unhealthy += int(getattr(task_set, "pending_count", 0) or 0)
        if running and task_definition is None:
            task_definition = task_set.task_definition
    return healthy, unhealthy, task_definition


def _native_targets(sim: Any, route: _Route, tg_arn: str) -> tuple[int, int, str | None]:
    """A native service's tasks behind ``tg_arn``: those of its service revisions registered
    with it (``sim.native.store``), the newest running one's task definition; with no
    revision known, the service's own tasks behind its primary target group."""
    service = route.service
    store = getattr(getattr(sim, "native", None), "store", None)
    revisions = [
        r
        for r in (store.revisions.values() if store is not None else ())
        if r.service_arn == service.arn
    ]
    if revisions:
        healthy = unhealthy = 0
        task_definition = None
        for revision in sorted(revisions, key=lambda r: r.created_at, reverse=True):
            if revision.target_group != tg_arn:
                continue
            healthy += int(revision.running)
            unhealthy += int(revision.pending)
            if revision.running and task_definition is None:
                task_definition = revision.task_definition
        return healthy, unhealthy, task_definition
    if not route.target_groups or tg_arn != route.target_groups[0]:
        return 0, 0, None
    running = int(getattr(service, "running_count", 0) or 0) or int(service.desired_count or 0)
    return running, 0, service.task_definition
