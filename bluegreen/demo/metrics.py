"""The demo's load balancer metrics: what the production listener really served, per target
group and per minute of simulated time, published to the simulator's CloudWatch as an
Application Load Balancer publishes them, so an analysis can judge green against blue.

The production proxy ``record``s every request it forwarded: the target group that served
it, whether the answer was a 5xx, and how long the app took (real seconds, measured around
the upstream call: the time it really took, as ``TargetResponseTime`` is the time the target
took; green and blue are measured the same way, which is what the comparison needs). A
background thread, woken at each whole simulated minute by the simulator's clock, publishes
every minute that has ended with PutMetricData (namespace ``AWS/ApplicationELB``,
dimensions ``TargetGroup`` and ``LoadBalancer``, ``Timestamp`` the minute's start):
``RequestCount`` (a ``Sum``, when the group served requests), ``HTTPCode_Target_5XX_Count``
(only when non-zero, as an ALB leaves out zero error counts) and ``TargetResponseTime`` as
values and counts (each to a tenth of a millisecond), so the simulator's GetMetricData reads
exact percentiles. Serving a request only takes a lock to add to a counter; the calls to
CloudWatch happen on the thread.

Only the per-target-group metrics are published, not the load balancer's own totals: the
demo's group alarm (``web-5xx``) watches those, and the demo shows the analysis stopping a bad
canary, not the alarm.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from bluegreen._aws import Clients
    from bluegreen.testing._clock import Clock

NAMESPACE = "AWS/ApplicationELB"
_MINUTE = 60.0
_VALUES_PER_DATUM = 150
"""PutMetricData takes at most 150 distinct values in one datum."""
_DATA_PER_CALL = 500
"""Data sent in one PutMetricData call (CloudWatch takes at most 1000)."""


@attrs.define
class _Served:
    """One target group's requests in one minute."""

    requests: int = 0
    errors: int = 0
    times: collections.Counter[float] = attrs.Factory(collections.Counter)


def _dimensions(target_group_arn: str, load_balancer_arn: str) -> list[dict[str, str]]:
    return [
        {"Name": "TargetGroup", "Value": target_group_arn.rpartition(":")[2]},
        {"Name": "LoadBalancer", "Value": load_balancer_arn.partition(":loadbalancer/")[2]},
    ]


def minute_data(
    served: dict[str, _Served], load_balancer_arn: str, minute: float
) -> list[dict[str, Any]]:
    """The PutMetricData ``MetricData`` of one minute, per target group, as an ALB sends it."""
    when = dt.datetime.fromtimestamp(minute, dt.UTC)
    data: list[dict[str, Any]] = []
    for target_group_arn, numbers in sorted(served.items()):
        if not numbers.requests:
            continue
        dims = _dimensions(target_group_arn, load_balancer_arn)
        base = {"Dimensions": dims, "Timestamp": when}
        data.append(
            {
                **base,
                "MetricName": "RequestCount",
                "Value": float(numbers.requests),
                "Unit": "Count",
            }
        )
        if numbers.errors:
            data.append(
                {
                    **base,
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Value": float(numbers.errors),
                    "Unit": "Count",
                }
            )
        times = sorted(numbers.times.items())
        for start in range(0, len(times), _VALUES_PER_DATUM):
            chunk = times[start : start + _VALUES_PER_DATUM]
            data.append(
                {
                    **base,
                    "MetricName": "TargetResponseTime",
                    "Values": [value for value, _ in chunk],
                    "Counts": [float(count) for _, count in chunk],
                    "Unit": "Seconds",
                }
            )
    return data


@attrs.define
class LoadBalancerMetrics:
    """Counts what a listener served per target group and simulated minute, and publishes
    each minute once it has ended (see the module's docstring).

    Args:
        load_balancer_arn: the load balancer whose listener is counted.
        clock: the simulator's clock (simulated time decides the minute).
        clients: the simulator's clients (its CloudWatch receives the metrics).
    """

    load_balancer_arn: str
    clock: Clock
    clients: Clients
    published: int = 0
    """Minutes published so far (one PutMetricData each, or more for a busy minute)."""
    failures: list[str] = attrs.Factory(list)
    """Why a minute could not be published (the demo goes on; the analysis sees less)."""
    _minutes: dict[float, dict[str, _Served]] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _wake: threading.Event = attrs.Factory(threading.Event)
    _stop: threading.Event = attrs.Factory(threading.Event)
    _thread: threading.Thread | None = None

    def record(self, target_group_arn: str, status: int, seconds: float) -> None:
        """Count one request the target group answered with ``status`` in ``seconds``."""
        with self._lock:
            # Read under the lock: a minute popped by ``flush`` gets no late request.
            minute = self.clock.time() // _MINUTE * _MINUTE
            served = self._minutes.setdefault(minute, {})
            numbers = served.setdefault(target_group_arn, _Served())
            numbers.requests += 1
            if status >= 500:
                numbers.errors += 1
            numbers.times[round(seconds, 4)] += 1

    def start(self) -> LoadBalancerMetrics:
        # The client is made here: a boto3 session must not make clients in two threads.
        _ = self.clients.cloudwatch
        # The clock's minute ticker only sets an event: its thread runs the simulation and
        # must not wait for CloudWatch.
        self.clock.every(_MINUTE, self._wake.set)
        self._thread = threading.Thread(
            target=self._run, name="bluegreen-demo-metrics", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Publish every minute that has ended."""
        current = self.clock.time() // _MINUTE * _MINUTE
        with self._lock:
            ended = sorted(m for m in self._minutes if m < current)
            minutes = [(m, self._minutes.pop(m)) for m in ended]
        for minute, served in minutes:
            self._publish(minute, served)

    def _publish(self, minute: float, served: dict[str, _Served]) -> None:
        from bluegreen._aws import Caller
        from bluegreen.errors import AWSError

        data = minute_data(served, self.load_balancer_arn, minute)
        # The simulated load balancer's own calls: no share of the release's rate budget.
        call = Caller(clock=self.clock, budget=None, attempts=3, patience=30.0)
        try:
            for start in range(0, len(data), _DATA_PER_CALL):
                call(
                    "PutMetricData",
                    self.clients.cloudwatch.put_metric_data,
                    Namespace=NAMESPACE,
                    MetricData=data[start : start + _DATA_PER_CALL],
                )
        except AWSError as exc:
            self.failures.append(f"{dt.datetime.fromtimestamp(minute, dt.UTC):%H:%M}: {exc}")
            return
        self.published += 1
