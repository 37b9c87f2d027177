"""The demo's listeners: a proxy per listener (production, test) that sends each request to the
version the weights the simulated CodeDeploy wrote to the listener pick at that moment, and
(production) counts what each target group served for the load balancer's metrics. For an
ECS-native service the proxy stands for its listener rule (production or test), whose weights
ECS rewrites."""

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
from bluegreen.testing._native_rules import rule_weights

if TYPE_CHECKING:
    from bluegreen.demo.metrics import LoadBalancerMetrics
    from bluegreen.testing import Simulator


@attrs.define
class Router:
    """Which version each target group of a listener (or listener rule) stands for, read
    from the simulator: from the service's task sets (CodeDeploy), or from its service
    revisions (ECS-native, ``native=True``)."""

    sim: Simulator
    cluster: str
    service: str
    native: bool = False
    _versions: dict[str, str] = attrs.Factory(dict)
    _revisions: NativeRevisions | None = None

    def targets(self, listener_arn: str) -> list[tuple[str, str, int]]:
        """``(target group ARN, version, weight)`` of the listener (rule) right now."""
        with self.sim.lock:
            if ":listener-rule/" in listener_arn:
                weights = rule_weights(self.sim.moto, listener_arn)
            else:
                weights = self.sim.listener_weights(listener_arn)
            by_group = {} if self.native else self._group_versions()
        if self.native:
            if self._revisions is None:
                self._revisions = NativeRevisions(self.sim, self.cluster, self.service)
            by_group = {
                tg: self._version(task_definition)
                for tg, task_definition in self._revisions.groups(listener_arn, weights).items()
            }
        return [(tg, by_group.get(tg, "none"), weight) for tg, weight in weights]

    def forget(self) -> None:
        """A deployment was just started: read the native service's revisions again at the
        next request (its green may take the target group an earlier green failed on, with
        the very weights that green had)."""
        if self._revisions is not None:
            self._revisions.forget()

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
class NativeRevisions:
    """The task definition behind each target group of an ECS-native service, read through
    the ECS API (the newest service deployment's source and target revisions, their
    ``resolvedConfiguration``) whenever a rule's weights change: ECS registers green on the
    target group blue is not on, and that alternates from one deployment to the next."""

    sim: Simulator
    cluster: str
    service: str
    _weights: dict[str, tuple[tuple[str, int], ...]] = attrs.Factory(dict)
    _groups: dict[str, str] = attrs.Factory(dict)
    _ecs: Any = None
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def groups(self, rule_arn: str, weights: list[tuple[str, int]]) -> dict[str, str]:
        """``{target group ARN: task definition ARN}``, read again when the weights of
        ``rule_arn`` differ from the last time it asked."""
        key = tuple(weights)
        with self._lock:
            if self._weights.get(rule_arn) != key or not self._groups:
                self._weights[rule_arn] = key
                self._groups = self._read()
            return dict(self._groups)

    def forget(self) -> None:
        with self._lock:
            self._groups = {}

    def _read(self) -> dict[str, str]:
        from bluegreen._aws import Caller
        from bluegreen.errors import AWSError

        if self._ecs is None:
            self._ecs = self.sim.clients().ecs
        # The simulated load balancer's own reads: no share of the release's rate budget.
        call = Caller(clock=self.sim.clock, budget=None, attempts=3, patience=30.0)
        try:
            return self._revision_groups(call) or self._service_groups(call)
        except AWSError:
            return dict(self._groups)  # read again at the next change

    def _revision_groups(self, call: Any) -> dict[str, str]:
        """From the newest service deployment's source and target revisions."""
        ecs = self._ecs
        answer = call(
            "ListServiceDeployments",
            ecs.list_service_deployments,
            cluster=self.cluster,
            service=self.service,
        )
        briefs = answer.get("serviceDeployments") or []
        if not briefs:
            return {}
        newest = max(briefs, key=_recency)
        [deployment] = call(
            "DescribeServiceDeployments",
            ecs.describe_service_deployments,
            serviceDeploymentArns=[newest["serviceDeploymentArn"]],
        )["serviceDeployments"]
        revisions = [r["arn"] for r in deployment.get("sourceServiceRevisions") or ()]
        target = (deployment.get("targetServiceRevision") or {}).get("arn")
        if target:
            revisions.append(target)  # the newest wins a target group it shares
        if not revisions:
            return {}
        answered = call(
            "DescribeServiceRevisions",
            ecs.describe_service_revisions,
            serviceRevisionArns=revisions,
        )
        by_arn = {r["serviceRevisionArn"]: r for r in answered["serviceRevisions"]}
        found: dict[str, str] = {}
        for arn in revisions:
            revision = by_arn.get(arn) or {}
            resolved = (revision.get("resolvedConfiguration") or {}).get("loadBalancers") or ()
            for lb in resolved:
                if lb.get("targetGroupArn"):
                    found[lb["targetGroupArn"]] = revision["taskDefinition"]
        return found

    def _service_groups(self, call: Any) -> dict[str, str]:
        """No deployment yet: the service's tasks are behind its own target group."""
        [service] = call(
            "DescribeServices",
            self._ecs.describe_services,
            cluster=self.cluster,
            services=[self.service],
        )["services"]
        return {
            lb["targetGroupArn"]: service["taskDefinition"]
            for lb in service.get("loadBalancers") or ()
        }


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


_ENDED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


def _recency(brief: Mapping[str, Any]) -> tuple[bool, Any, Any]:
    """Orders service deployments: the one in flight first, then by creation and start (a
    service's first deployment and the next may be created in the same second)."""
    created = brief.get("createdAt")
    return (brief.get("status") not in _ENDED, created, brief.get("startedAt") or created)
