"""``run_demo``: the simulator, the apps, the listeners and the load set up, then three
releases (v2 succeeds; v3 fails at its hook and is rolled back; v4 passes its hook but fails
production requests in the canary, and the analysis stops it) and the checks made on what
production served; on the sample's CodeDeploy service, or on its ECS-native one
(``native=True``, ``target``)."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import time
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.demo.apps import Served, start_app
from bluegreen.demo.environment import collect_hook_reports, demo_environment, load_hook
from bluegreen.demo.judging import CANARY_SHARE, ERRORS_PER_TEN, Sizing, sized_analysis
from bluegreen.demo.listeners import Proxy, Router
from bluegreen.demo.load import Load
from bluegreen.demo.metrics import LoadBalancerMetrics
from bluegreen.demo.results import Check, DemoResult, Phase
from bluegreen.demo.target import (
    CANARY_CONFIG,
    HOOK_EVENT,
    HOOK_FUNCTION,
    IMAGE_REPOSITORY,
    DemoTarget,
    create_target,
)
from bluegreen.errors import DeploymentError

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.demo.environment import HookReports
    from bluegreen.demo.narrator import Narrator
    from bluegreen.deployment import DeploymentSnapshot
    from bluegreen.scaling import ScalingStatus
    from bluegreen.testing import Environment, Simulator

__all__ = ["CANARY_CONFIG", "HOOK_FUNCTION", "run_demo"]

BROKEN_VERSION = "v3"
"""Its ``/health`` fails: the test-listener hook stops it."""
FAILING_VERSION = "v4"
"""Its ``/health`` passes, but it fails a share of production requests: the analysis stops it."""
_WAIT_TIMEOUT = 3 * 3600.0
"""Simulated seconds any one wait may take before the demo gives up."""
_SETTLE_REQUESTS = 20
"""Production requests to see after a release before reading what production serves."""


@attrs.define
class _Run:
    sim: Simulator
    environment: Environment
    target: DemoTarget
    production: Proxy
    load: Load
    narrator: Narrator
    hook_reports: HookReports
    checks: list[Check] = attrs.Factory(list)
    analysis: AnalysisRun | None = None
    """The last release's analysis, when it ran one."""

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, bool(ok), detail))

    def scaling(self) -> ScalingStatus:
        from bluegreen.scaling import scaling_state

        return scaling_state(self.target.cluster, self.target.service, clients=self.sim.clients())

    def release(
        self, label: str, version: str, sizing: Sizing | None = None
    ) -> tuple[DeploymentSnapshot | None, Any]:
        """Deploy ``version`` (judged by ``sizing``'s analysis, if given) and follow it (and
        its rollback); returns the deployment's last snapshot and the ``DeploymentError`` if
        the release failed."""
        import bluegreen
        from bluegreen.deployment import Deployment

        before = self.scaling()
        self.narrator.autoscaling(f"before {label}", before)
        image = f"{IMAGE_REPOSITORY}:{version}"
        judge = sizing.analysis if sizing is not None else None
        config = sizing.traffic_config if sizing is not None else None
        # The wait judges green with the analysis deploy() was given (on CodeDeploy with an
        # alarm net too); a failed verdict stops it (StopDeployment / StopServiceDeployment).
        deployment = bluegreen.deploy(
            self.target.cluster,
            self.target.service,
            image=image,
            hooks=self.target.hooks,
            clients=self.sim.clients(),
            clock=self.sim.clock,
            analysis=judge,
            traffic_config=config,
        )
        self.production.router.forget()
        self.narrator.release_started(label, image, deployment.id)
        if sizing is not None:
            self.narrator.analysis_sized(sizing)
        during: list[ScalingStatus] = []
        last: list[DeploymentSnapshot] = []  # the deployment's own, not its rollback's

        def on_progress(snapshot: DeploymentSnapshot) -> None:
            if snapshot.deployment_id == deployment.id:
                last.append(snapshot)
            if not during and str(snapshot.status) == "InProgress":
                during.append(self.scaling())
            self.narrator.progress(snapshot, self.production.snapshot())

        def on_evaluation(run: AnalysisRun) -> None:
            self.narrator.evaluation(run, self.production.snapshot())

        error: DeploymentError | None = None
        try:
            deployment.wait(
                timeout=_WAIT_TIMEOUT,
                on_progress=on_progress,
                on_evaluation=on_evaluation,
            )
        except DeploymentError as exc:
            error = exc
            if exc.rollback_deployment_id:
                rollback = Deployment.attach(
                    exc.rollback_deployment_id, clients=self.sim.clients(), clock=self.sim.clock
                )
                rollback.wait(timeout=_WAIT_TIMEOUT, on_progress=on_progress)
        self.analysis = deployment.analysis
        self.load.see_more(_SETTLE_REQUESTS)
        self.narrator.release_ended(
            label,
            self.production.snapshot(),
            error,
            self.hook_reports.of(deployment.id),
            deployment.analysis,
            ending=last[-1].ending if last else None,
        )
        if during:
            self.narrator.autoscaling(f"during {label}", during[0])
        after = self.scaling()
        self.narrator.autoscaling(f"after {label}", after)
        self.check(
            f"{label}: autoscaling restored",
            after.targets == before.targets and after.record is None,
            "the scalable target is as before the release"
            if after.targets == before.targets
            else f"before {[str(t) for t in before.targets]}, after "
            f"{[str(t) for t in after.targets]}",
        )
        if during:
            self._check_scaling_during(label, during[0])
        return (last[-1] if last else None), error

    def _check_scaling_during(self, label: str, during: ScalingStatus) -> None:
        """CodeDeploy: the release suspends autoscaling while it runs. ECS-native: it leaves
        it alone, since Application Auto Scaling turns scale-in off itself while an ECS
        deployment runs (``docs/native.md``)."""
        suspended = ", ".join(s for t in during.targets for s in t.suspended)
        if self.target.native:
            self.check(
                f"{label}: autoscaling left to ECS during the deployment",
                not suspended and during.record is None,
                "nothing suspended by bluegreen" if not suspended else f"suspended: {suspended}",
            )
            return
        self.check(
            f"{label}: autoscaling suspended during the deployment",
            bool(suspended),
            f"suspended: {suspended}" if suspended else "nothing was suspended while it ran",
        )


def _check_rolled_back(
    run: _Run, label: str, snapshot: DeploymentSnapshot | None, error: DeploymentError | None
) -> None:
    """CodeDeploy rolls back with a rollback deployment of its own; ECS rolls the same
    service deployment back (``ROLLBACK_SUCCESSFUL``)."""
    if error is not None and error.rollback_deployment_id:
        ok, detail = True, f"rollback {error.rollback_deployment_id}"
    elif error is not None and snapshot is not None and snapshot.ending == "rolled_back":
        ok, detail = True, f"{snapshot.deployment_id} {snapshot.outcome}"
    else:
        ok, detail = False, "no rollback"
    run.check(f"{label}: {run.target.deployer} rolled back", ok, detail)


def _code(error: DeploymentError) -> str:
    """`` [CODE]``: CodeDeploy's error code (an ECS-native deployment has none)."""
    return f" [{error.error_code}]" if error.error_code else ""


def _last_phase_serving(phases: tuple[Phase, ...]) -> Phase | None:
    return next((p for p in reversed(phases) if p.total), None)


def _check_success(run: _Run, snapshot: DeploymentSnapshot | None, error: Any) -> None:
    label = "release 1 (v2)"
    run.check(
        f"{label}: succeeded",
        error is None and snapshot is not None and snapshot.succeeded,
        "Succeeded" if error is None else str(error),
    )
    hook = snapshot.event(HOOK_EVENT) if snapshot is not None else None
    run.check(
        f"{label}: the test-listener hook passed",
        hook is not None and str(hook.status) == "Succeeded",
        f"{HOOK_EVENT} {hook.status if hook else 'not run'}",
    )
    phases = run.production.snapshot()
    canary = [p for p in phases if p.weights.get("v2") == 10 and p.weights.get("v1") == 90]
    seen = sum(p.total for p in canary)
    v2 = sum(p.served["v2"] for p in canary)
    share = 100.0 * v2 / seen if seen else 0.0
    run.check(
        f"{label}: production served v2 to about 10% during the canary",
        seen > 0 and v2 > 0 and abs(share - 10.0) <= 5.0 + 100.0 / seen,
        f"{v2} of {seen} responses ({share:.1f}%) at weights v1 90 / v2 10",
    )
    full = [p for p in phases if p.weights.get("v2") == 100]
    only_v2 = bool(full) and all(set(p.served) <= {"v2"} for p in full)
    served = sum(p.total for p in full)
    run.check(
        f"{label}: production then served v2 only",
        only_v2 and served > 0,
        f"{served} responses at weight v2 100, all v2" if only_v2 else "no phase at v2 100%",
    )


def _check_rollback(
    run: _Run,
    snapshot: DeploymentSnapshot | None,
    error: DeploymentError | None,
    v3_before: int,
    phases_before: int,
) -> None:
    label = "release 2 (v3)"
    failed_hook = error is not None and error.lifecycle_event == HOOK_EVENT
    detail = (
        "no error: the broken release succeeded"
        if error is None
        else f"{error.lifecycle_event}{_code(error)} {error.diagnostics or ''}".strip()
    )
    run.check(f"{label}: failed at the test-listener hook", failed_hook, detail)
    _check_rolled_back(run, label, snapshot, error)
    served, _, _ = run.load.counts()
    phases = run.production.snapshot()[phases_before:]
    v3_weighted = [p for p in phases if p.weights.get("v3")]
    run.check(
        f"{label}: production served no v3 response",
        served["v3"] == v3_before == 0 and not v3_weighted,
        f"{served['v3']} v3 responses; production weight on v3: "
        + ("never" if not v3_weighted else ", ".join(p.describe() for p in v3_weighted)),
    )
    last = _last_phase_serving(run.production.snapshot())
    run.check(
        f"{label}: production serves v2 after the rollback",
        last is not None and set(last.served) == {"v2"},
        last.describe() if last is not None else "no response seen",
    )


def _share(phase: Phase, version: str) -> float:
    """``version``'s share of the phase's weights, from 0 to 1."""
    total = sum(phase.weights.values())
    return phase.weights.get(version, 0) / total if total else 0.0


def _check_analysis_stop(
    run: _Run,
    snapshot: DeploymentSnapshot | None,
    error: DeploymentError | None,
    *,
    live: str,
    served_before: collections.Counter[str],
    phases_before: int,
) -> None:
    label = f"release 3 ({FAILING_VERSION})"
    hook = snapshot.event(HOOK_EVENT) if snapshot is not None else None
    run.check(
        f"{label}: the test-listener hook passed",
        hook is not None and str(hook.status) == "Succeeded",
        f"{HOOK_EVENT} {hook.status if hook else 'not run'}",
    )
    analysis = run.analysis
    last = analysis.last if analysis is not None else None
    rate = next((m for m in last.metrics if m.name == "5xx rate"), None) if last else None
    worse = (
        rate is not None
        and str(rate.outcome) == "fail"
        and rate.green is not None
        and (rate.green.value or 0.0) > ((rate.blue.value if rate.blue else None) or 0.0)
    )
    run.check(
        f"{label}: the analysis failed on the 5xx rate, green worse than blue",
        analysis is not None and str(analysis.verdict) == "failed" and worse,
        (analysis.reason or str(analysis.verdict)) if analysis is not None else "no analysis ran",
    )
    stopped = error is not None and analysis is not None and analysis.stopped == error.deployment_id
    run.check(
        f"{label}: the analysis stopped the deployment (not a CloudWatch alarm)",
        stopped and error is not None and error.error_code != "ALARM_ACTIVE",
        "no error: the failing release succeeded"
        if error is None
        else f"{error.status}{_code(error)}"
        + (f" by the analysis's {run.target.stop_call}" if stopped else ", not by the analysis"),
    )
    _check_rolled_back(run, label, snapshot, error)
    phases = run.production.snapshot()
    during = phases[phases_before:]
    served, _, _ = run.load.counts()
    seen = served - served_before
    total = sum(seen.values())
    share = seen[FAILING_VERSION] / total if total else 0.0
    weight = max((_share(p, FAILING_VERSION) for p in during), default=0.0)
    failed = sum(p.failed[FAILING_VERSION] for p in during)
    run.check(
        f"{label}: production sent {FAILING_VERSION} no more than the canary's 10%",
        weight <= CANARY_SHARE and share <= CANARY_SHARE,
        f"{FAILING_VERSION} answered {seen[FAILING_VERSION]} of {total} production requests "
        f"in the release ({share:.1%}), {failed} of them with a 5xx; weight on "
        f"{FAILING_VERSION} at most {weight:.0%}",
    )
    after = _last_phase_serving(phases)
    run.check(
        f"{label}: production serves {live} again",
        after is not None and set(after.served) == {live},
        after.describe() if after is not None else "no response seen",
    )


def _requests_per_minute(sim: Simulator, load: Load, since: tuple[float, int]) -> float:
    """Production requests per simulated minute since ``(simulated time, requests sent)``."""
    elapsed = sim.clock.time() - since[0]
    return 60.0 * (load.counts()[2] - since[1]) / elapsed if elapsed > 0 else 0.0


def run_demo(narrator: Narrator, *, speed: float = 30.0, native: bool = False) -> DemoResult:
    """Run the demo; every server and thread is stopped before it returns or raises.

    Args:
        narrator: what shows the demo as it goes.
        speed: simulated seconds per real second.
        native: release the sample's ECS-native service instead of its CodeDeploy one (the
            same story: ECS shifts a listener rule, the hook runs at POST_TEST_TRAFFIC_SHIFT,
            ECS rolls back).

    Returns:
        The checks made, and the production responses counted.

    Raises:
        BlueGreenError: an unexpected failure of the library (the checks cover the
            expected one).
    """
    from bluegreen.testing import Simulator, Traffic

    started = time.monotonic()
    handler = load_hook()
    apps: dict[str, Served] = {}
    with contextlib.ExitStack() as stack:
        for version in ("v1", "v2", "v3", FAILING_VERSION):
            apps[version] = start_app(
                version,
                broken_health=version == BROKEN_VERSION,
                errors_per_ten=ERRORS_PER_TEN if version == FAILING_VERSION else 0,
            )
            stack.callback(apps[version].stop)
        stack.enter_context(
            demo_environment(
                {
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_REGION": "us-east-1",
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "BLUEGREEN_CHECK_PATH": "/health",
                }
            )
        )
        reports = stack.enter_context(collect_hook_reports())
        # No simulated traffic: the ALB metrics are what the production proxy really served.
        sim = stack.enter_context(Simulator(speed=speed, traffic=Traffic(requests_per_minute=0)))
        environment, target = create_target(sim, native=native)
        router = Router(sim, target.cluster, target.service, native=target.native)
        metrics = LoadBalancerMetrics(environment.load_balancer_arn, sim.clock, sim.clients())
        metrics.start()
        stack.callback(metrics.stop)
        production = Proxy(target.production_arn, router, apps, metrics=metrics).start("production")
        stack.callback(production.stop)
        test = Proxy(target.test_arn, router, apps).start("test")
        stack.callback(test.stop)
        os.environ["BLUEGREEN_TEST_URL"] = test.url
        sim.register_hook(HOOK_FUNCTION, handler, timeout_seconds=900)
        load = Load(production.url).start()
        stack.callback(load.stop)
        urls = {"production": production.url, "test": test.url}
        urls.update({f"app {v}": a.url for v, a in apps.items()})
        clock = sim.clock
        narrator.intro(
            environment,
            urls,
            speed,
            lambda: dt.datetime.fromtimestamp(clock.time(), dt.UTC),
            target=target,
        )
        load.see_more(_SETTLE_REQUESTS)
        measured_since = (clock.time(), load.counts()[2])

        run = _Run(sim, environment, target, production, load, narrator, reports)
        snapshot, error = run.release("release 1 (v2)", "v2")
        _check_success(run, snapshot, error)
        v3_before = load.counts()[0]["v3"]
        phases_before = len(production.snapshot())
        snapshot, error = run.release("release 2 (v3)", "v3")
        _check_rollback(run, snapshot, error, v3_before, phases_before)

        live_phase = _last_phase_serving(production.snapshot())
        live = min(live_phase.served) if live_phase is not None else "v2"
        served_before = load.counts()[0]
        phases_before = len(production.snapshot())
        sizing = sized_analysis(_requests_per_minute(sim, load, measured_since))
        snapshot, error = run.release(f"release 3 ({FAILING_VERSION})", FAILING_VERSION, sizing)
        _check_analysis_stop(
            run,
            snapshot,
            error,
            live=live,
            served_before=served_before,
            phases_before=phases_before,
        )

        served, errors, _ = load.counts()
        failed = load.failures()
        run.check(
            "production answered every request",
            errors == 0,
            f"{sum(served.values())} answered, {errors} unanswered",
        )
        run.check(
            f"only {FAILING_VERSION} answered production with a 5xx",
            set(failed) <= {FAILING_VERSION},
            ", ".join(f"{v}: {n} of {served[v]}" for v, n in sorted(failed.items())) or "none",
        )
        run.check(
            f"the production {target.route} published its metrics to CloudWatch",
            metrics.published > 0 and not metrics.failures,
            f"{metrics.published} minutes published"
            + (f"; failed: {'; '.join(metrics.failures)}" if metrics.failures else ""),
        )
        result = DemoResult(
            checks=tuple(run.checks),
            served=dict(served),
            failed=dict(failed),
            errors=errors,
            phases=production.snapshot(),
            seconds=time.monotonic() - started,
        )
    narrator.summary(result)
    return result
