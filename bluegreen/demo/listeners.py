"""The demo's listeners: a proxy per listener (production, test) that sends each request to the
version the weights the simulated CodeDeploy wrote to the listener pick at that moment, and
(production) counts what each target group served for the load balancer's metrics."""

from __future__ import annotations

import collections
import http.client
import json
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.demo.apps import HOST, Served, reply
from bluegreen.demo.results import Phase

if TYPE_CHECKING:
    from bluegreen.demo.metrics import LoadBalancerMetrics
    from bluegreen.testing import Simulator


@attrs.define
class Router:
    """Which version each target group of a listener stands for, read from the simulator."""

    sim: Simulator
    cluster: str
    service: str
    _versions: dict[str, str] = attrs.Factory(dict)

    def targets(self, listener_arn: str) -> list[tuple[str, str, int]]:
        """``(target group ARN, version, weight)`` of the listener right now."""
        with self.sim.lock:
            weights = self.sim.listener_weights(listener_arn)
            by_group = self._group_versions()
        return [(tg, by_group.get(tg, "none"), weight) for tg, weight in weights]

    def _group_versions(self) -> dict[str, str]:
        svc = self.sim.moto.service(self.cluster, self.service)
        found: dict[str, str] = {}
        # A task set being drained gives way to a live one on the same target group.
        task_sets = sorted(svc.task_sets if svc else (), key=lambda t: t.status != "DRAINING")
        for task_set in task_sets:
            version = self._version(str(task_set.task_definition))
            for lb in task_set.load_balancers or ():
                if lb.get("targetGroupArn"):
                    found[lb["targetGroupArn"]] = version
        return found

    def _version(self, task_definition: str) -> str:
        if task_definition not in self._versions:
            td = self.sim.moto.task_definition(task_definition) or {}
            containers = td.get("containerDefinitions") or [{}]
            image = str(containers[0].get("image", ""))
            self._versions[task_definition] = image.rpartition(":")[2] or "none"
        return self._versions[task_definition]


@attrs.define
class Proxy:
    """A listener: each request goes to the version the live weights pick, in the exact
    proportions (smooth weighted round robin, so shares are exact rather than random).
    With ``metrics``, what each target group served is counted there."""

    listener_arn: str
    router: Router
    apps: Mapping[str, Served]
    metrics: LoadBalancerMetrics | None = None
    phases: list[Phase] = attrs.Factory(list)
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _key: tuple[tuple[str, int], ...] | None = None
    _credit: dict[str, int] = attrs.Factory(dict)
    _served: Served | None = None

    def pick(self) -> tuple[str | None, str | None, Phase | None]:
        """``(target group ARN, version, phase)`` for the next request; no target group
        when no weight is set."""
        targets = self.router.targets(self.listener_arn)
        key = tuple((tg, weight) for tg, _, weight in targets)
        with self._lock:
            if key != self._key:
                self._key = key
                self._credit = {tg: 0 for tg, _, _ in targets}
                weights: dict[str, int] = {}
                for _, version, weight in targets:
                    weights[version] = weights.get(version, 0) + weight
                self.phases.append(Phase(weights))
            total = sum(weight for _, _, weight in targets)
            if total <= 0:
                return None, None, self.phases[-1]
            for tg, _, weight in targets:
                self._credit[tg] += weight
            chosen = max(self._credit, key=lambda tg: self._credit[tg])
            self._credit[chosen] -= total
            version = next(v for tg, v, _ in targets if tg == chosen)
            return chosen, version, self.phases[-1]

    def count(self, phase: Phase | None, version: str, status: int) -> None:
        if phase is not None:
            with self._lock:
                phase.served[version] += 1
                if status >= 500:
                    phase.failed[version] += 1

    def snapshot(self) -> tuple[Phase, ...]:
        with self._lock:
            return tuple(
                Phase(dict(p.weights), collections.Counter(p.served), collections.Counter(p.failed))
                for p in self.phases
            )

    def start(self, name: str) -> Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive on both legs: a connection (and a server thread) per client and app,
            # not per request, so one load thread sends a few hundred requests a second.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go at once, not 40 ms apart
            upstream: dict[int, http.client.HTTPConnection]

            def setup(self) -> None:
                super().setup()
                self.upstream = {}

            def finish(self) -> None:
                for connection in self.upstream.values():
                    connection.close()
                super().finish()

            def forward(self, port: int) -> tuple[int, bytes]:
                connection = self.upstream.get(port)
                if connection is None:
                    connection = http.client.HTTPConnection(HOST, port, timeout=5)
                    self.upstream[port] = connection
                try:
                    connection.request("GET", self.path)
                    answer = connection.getresponse()
                    return answer.status, answer.read()
                except (OSError, http.client.HTTPException):
                    connection.close()  # reconnects on the next request
                    del self.upstream[port]
                    raise

            def do_GET(self) -> None:
                target_group, version, phase = proxy.pick()
                app = proxy.apps.get(version or "")
                if app is None or target_group is None:
                    body = json.dumps({"error": f"no healthy target ({version})"}).encode()
                    reply(self, 503, body, "none")
                    return
                started = time.perf_counter()
                status, body = self.forward(app.port)
                if proxy.metrics is not None:
                    proxy.metrics.record(target_group, status, time.perf_counter() - started)
                proxy.count(phase, version or "none", status)
                reply(self, status, body, version or "none")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._served = Served.start(Handler, f"bluegreen-demo-{name}-listener")
        return self

    @property
    def url(self) -> str:
        assert self._served is not None
        return self._served.url

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None
