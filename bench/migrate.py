"""Moving a service from CodeDeploy to ECS-native blue/green and back: what each step costs,
how long it takes, and what happens to the traffic meanwhile.

Run by hand (never in CI)::

    python bench/migrate.py [--runs N]

(default 7). Everything runs in process on the simulator (virtual clock), on the sample
environment ``create_environment()``: the CodeDeploy service ``web`` (``CodeDeployDefault.
ECSAllAtOnce``, a 5-minute termination wait, a test listener, an alarm, a scalable target,
no hooks), migrated with ``create_role=`` (apply creates the infrastructure role, revert
deletes it).

Part 1, cost. Per run, on a fresh simulator (its default traffic: only while a deployment
runs): ``plan_migration``, ``apply_migration(verify="describe")``, ``revert_migration``, then
``plan_migration`` again (not counted), ``apply_migration(verify="deploy")`` (a no-op native
BLUE_GREEN deployment of the same task definition, followed to its end) and
``revert_migration``; and, as the scale of the figures, one ordinary CodeDeploy release of
the same service: ``bluegreen.plan`` plus ``bluegreen.deploy(image=...).wait()`` (a fresh
``RateBudget``), before the migrations on even runs, after them on odd ones. One warm-up run
is not counted. Per step:

* **AWS calls**: every request the simulator received during the step (its request log:
  what the library sent, retries included; IAM too);
* **CPU**: the process's CPU time of the step: the library and the in-process simulator
  (moto included) together, as in ``bench/native_vs_codedeploy.py``;
* **simulated**: the virtual clock's seconds from the step's call to its return.

Ratios step / release are paired per run. Calls and simulated seconds do not depend on how
busy the machine is; CPU does.

Part 2, traffic. Per run, on a fresh simulator whose traffic flows every minute
(``Traffic(while_idle=True, seed=run)``, about 600 requests a minute on the production
listener), two scenarios:

* **A**: ``apply_migration(verify="deploy")``, a native deploy of a new image (followed to
  its end), ``revert_migration``;
* **B**: ``apply_migration(verify="describe")``, the same native deploy, ``revert_migration``:
  one swap of the target groups, so revert must point the listeners at ``web-green`` before
  it deletes the rules.

Each step starts at a whole minute plus a phase that differs from run to run, and the clock
then runs to the end of the step's last minute, so the minutes a step spans are its own.
For those minutes the ALB metrics the simulator published (GetMetricStatistics, ``Sum``):
``RequestCount`` and ``HTTPCode_Target_5XX_Count`` per target group (served by it), and the
load balancer's ``HTTPCode_ELB_5XX_Count`` (sent to a target group with no healthy task);
the requests are the two added up. Apart from the metrics, a probe reads every 0.1 simulated
second (the migration's calls are 0.2 s apart on the virtual clock, paced by the default
``RateBudget``, so it sees every state between two of them) where an ALB would send each
listener's requests: the target groups with a weight above 0 in the highest-precedence rule
on the listener (the rule apply creates, path ``*``), else in its default action. A change
counts as **moved** when no deployment (native or CodeDeploy) was in flight then. The
metrics are the simulator's traffic model (it sends a CodeDeploy service's traffic by its
listener's highest-precedence catch-all rule, else its default action, a native one's by its
production rule); the probe is the ALB's
rule precedence. A step whose minutes had 5xx also gets a line of its runs: when in its
minute the step started, and the 5xx of its minutes. Nothing here depends on how busy the
machine is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import bluegreen
from bluegreen import RateBudget
from bluegreen.testing import Simulator, Traffic
from bluegreen.testing._moto import forward_weights

IMAGE = "public.ecr.aws/nginx/nginx:1.{}"
ROLE = "ecsInfrastructure-web"


def _start() -> float:
    """The next whole minute of the wall clock: the traffic runs' simulators start there.
    (Not a fixed time in the past: ``bluegreen.deploy`` looks for the native deployment it
    started among those created after the wall clock's now minus 15 minutes.)"""
    return (time.time() // 60 + 1) * 60


COST_STEPS = (
    "release (CodeDeploy)",
    "plan_migration",
    "apply (describe)",
    "revert (after apply describe)",
    "apply (deploy)",
    "revert (after apply deploy)",
)
SCENARIOS = {
    "A": ("apply (deploy)", "native deploy", "revert"),
    "B": ("apply (describe)", "native deploy", "revert"),
}
PROBE_SECONDS = 0.1


def _kw(sim: Simulator) -> dict[str, Any]:
    return {"clients": sim.clients(), "clock": sim.clock}


def _measure(sim: Simulator, step: Callable[[], Any]) -> dict[str, float]:
    """Run ``step``: the requests the simulator received, CPU ms and simulated seconds."""
    calls, t0, cpu0 = len(sim.calls), sim.clock.time(), time.process_time()
    step()
    cpu = time.process_time() - cpu0
    return {
        "AWS calls": len(sim.calls) - calls,
        "CPU, ms": cpu * 1000,
        "simulated, s": sim.clock.time() - t0,
    }


def _release(sim: Simulator, env: Any, image: str) -> None:
    """An ordinary CodeDeploy release: plan, deploy, wait to the end."""
    budget = RateBudget()
    plan = bluegreen.plan(env.cluster, env.service, image=image, budget=budget, **_kw(sim))
    assert plan.ok, plan.problems
    bluegreen.deploy(env.cluster, env.service, image=image, budget=budget, **_kw(sim)).wait()


def _plan(sim: Simulator, env: Any) -> Any:
    plan = bluegreen.plan_migration(env.cluster, env.service, create_role=ROLE, **_kw(sim))
    assert not plan.problems, plan.problems
    assert not plan.differences, plan.differences
    return plan


def _apply(sim: Simulator, plan: Any, verify: str) -> None:
    result = bluegreen.apply_migration(plan, verify=verify, **_kw(sim))  # type: ignore[arg-type]
    assert result.verified, result


def _revert(sim: Simulator, env: Any) -> None:
    result = bluegreen.revert_migration(env.cluster, env.service, **_kw(sim))
    assert result.verified, result


# -- part 1: cost ----------------------------------------------------------------------------


def cost_run(run: int) -> dict[str, dict[str, float]]:
    """One run of part 1: ``{step: figures}``."""
    out: dict[str, dict[str, float]] = {}
    with Simulator() as sim:
        env = sim.create_environment()

        def release() -> None:
            out[COST_STEPS[0]] = _measure(sim, lambda: _release(sim, env, IMAGE.format(28)))

        if run % 2 == 0:
            release()
        plans: list[Any] = []
        out["plan_migration"] = _measure(sim, lambda: plans.append(_plan(sim, env)))
        out["apply (describe)"] = _measure(sim, lambda: _apply(sim, plans[-1], "describe"))
        out["revert (after apply describe)"] = _measure(sim, lambda: _revert(sim, env))
        plans.append(_plan(sim, env))
        out["apply (deploy)"] = _measure(sim, lambda: _apply(sim, plans[-1], "deploy"))
        out["revert (after apply deploy)"] = _measure(sim, lambda: _revert(sim, env))
        if run % 2 == 1:
            release()
    return out


def _spread(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    low, mid, high = min(values), statistics.median(values), max(values)
    return " / ".join(format(v, fmt) for v in (low, mid, high))


def print_costs(runs: list[dict[str, dict[str, float]]]) -> None:
    print(f"\npart 1: cost per step, min / median / max over {len(runs)} runs")
    print(
        "\n| step | AWS calls | x release | CPU, ms | x release | simulated, s | x release |"
        "\n|---|---|---|---|---|---|---|"
    )
    base = COST_STEPS[0]
    for step in COST_STEPS:
        cells = []
        for name, fmt in (("AWS calls", ".0f"), ("CPU, ms", ".0f"), ("simulated, s", ".1f")):
            values = [r[step][name] for r in runs]
            ratios = [r[step][name] / r[base][name] for r in runs if r[base][name]]
            cells += [_spread(values, fmt), _spread(ratios, ".3f")]
        print(f"| {step} | " + " | ".join(cells) + " |")


# -- part 2: traffic -------------------------------------------------------------------------


def _effective(sim: Simulator, listener_arn: str) -> tuple[str, ...]:
    """The target groups (names) an ALB sends the listener's requests to now: those with a
    weight above 0 in its highest-precedence rule's forward action, else its default's."""
    with sim.lock:
        listener = sim.moto.listener(listener_arn)
        if listener is None:
            return ()
        rules = list(getattr(listener, "_non_default_rules", {}).values())
        if rules:
            rule = min(rules, key=lambda r: int(r.priority))
            weights = forward_weights(rule.actions)
        else:
            weights = forward_weights(listener.default_actions)
    return tuple(sorted(tg.split("/")[-2] for tg, w in weights if w > 0))


def _in_flight(sim: Simulator) -> bool:
    with sim.lock:
        native = any(not r.is_terminal for r in sim.native.store.deployments.values())
        codedeploy = any(not r.status.is_terminal for r in sim.codedeploy.deployments.values())
    return native or codedeploy


class _Probe:
    """Every ``PROBE_SECONDS``: where each listener sends its requests; changes while no
    deployment is in flight are moves."""

    def __init__(self, sim: Simulator, listeners: dict[str, str]) -> None:
        self.sim, self.listeners = sim, listeners
        self.last = {name: _effective(sim, arn) for name, arn in listeners.items()}
        self.changes: list[tuple[float, str, tuple[str, ...], tuple[str, ...], bool]] = []
        sim.clock.every(PROBE_SECONDS, self.probe)

    def probe(self) -> None:
        deploying = _in_flight(self.sim)
        for name, arn in self.listeners.items():
            now = _effective(self.sim, arn)
            if now != self.last[name]:
                self.changes.append((self.sim.clock.time(), name, self.last[name], now, deploying))
                self.last[name] = now


def _sum(sim: Simulator, metric: str, dims: list[dict[str, str]], start: float, end: float) -> int:
    """The metric's ``Sum`` over the whole minutes ``[start, end)``."""
    points = sim.clients().cloudwatch.get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName=metric,
        Dimensions=dims,  # type: ignore[arg-type]
        StartTime=dt.datetime.fromtimestamp(start, dt.UTC),
        EndTime=dt.datetime.fromtimestamp(end, dt.UTC),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return round(sum(p["Sum"] for p in points))


def traffic_run(run: int, runs: int, scenario: str) -> dict[str, dict[str, Any]]:
    """One scenario of part 2 on a fresh simulator: ``{step: figures}``."""
    phase = (7.0 + run * 60.0 / max(runs, 1)) % 60.0
    traffic = Traffic(seed=run, while_idle=True)
    out: dict[str, dict[str, Any]] = {}
    with Simulator(traffic=traffic, start_time=_start()) as sim:
        env = sim.create_environment()
        lb = [{"Name": "LoadBalancer", "Value": env.load_balancer_arn.split(":loadbalancer/")[-1]}]
        names = dict(zip(env.target_group_arns, env.target_group_names, strict=True))
        listeners = {"production": env.production_listener_arn, "test": env.test_listener_arn}
        probe = _Probe(sim, {name: arn for name, arn in listeners.items() if arn})
        steps: dict[str, Callable[[], object]] = {
            "apply (deploy)": lambda: _apply(sim, _plan(sim, env), "deploy"),
            "apply (describe)": lambda: _apply(sim, _plan(sim, env), "describe"),
            "native deploy": lambda: bluegreen.deploy(
                env.cluster, env.service, image=IMAGE.format(28), budget=RateBudget(), **_kw(sim)
            ).wait(),
            "revert": lambda: _revert(sim, env),
        }
        spans: dict[str, tuple[float, float, int]] = {}
        for step in SCENARIOS[scenario]:
            sim.advance((sim.clock.time() // 60 + 1) * 60 + phase - sim.clock.time())
            seen = len(probe.changes)
            start = sim.clock.time()
            steps[step]()
            end = sim.clock.time()
            spans[step] = (start, end, seen)
            sim.advance((end // 60 + 1) * 60 + 1 - end)  # the step's last minute published
        for step, (start, end, seen) in spans.items():
            first, last = start // 60 * 60, (end // 60 + 1) * 60
            served = dict.fromkeys(env.target_group_names, 0)
            target_5xx = 0
            for arn, name in names.items():
                dims = [{"Name": "TargetGroup", "Value": arn.split(":")[-1]}, *lb]
                served[name] = _sum(sim, "RequestCount", dims, first, last)
                target_5xx += _sum(sim, "HTTPCode_Target_5XX_Count", dims, first, last)
            elb_5xx = _sum(sim, "HTTPCode_ELB_5XX_Count", lb, first, last)
            changes = [c for c in probe.changes[seen:] if start <= c[0] <= end + PROBE_SECONDS]
            out[step] = {
                "simulated, s": end - start,
                "phase, s": start - first,
                "minutes": round((last - first) / 60),
                # moto matches dimensions as a subset: the load balancer's own RequestCount
                # would add the target groups' too, so the requests are counted from these
                "requests": sum(served.values()) + elb_5xx,
                **served,
                "target 5xx": target_5xx,
                "ELB 5xx": elb_5xx,
                "moved": [c for c in changes if not c[4]],
                "shifted": [c for c in changes if c[4]],
            }
    return out


def _changes(rows: list[dict[str, Any]], key: str) -> str:
    seen = sorted(
        {f"{c[1]} {'+'.join(c[2]) or '-'} -> {'+'.join(c[3]) or '-'}" for r in rows for c in r[key]}
    )
    total = sum(len(r[key]) for r in rows)
    return f"{total}" + (f" ({'; '.join(seen)})" if seen else "")


def print_traffic(
    results: dict[str, list[dict[str, dict[str, Any]]]], tg_names: tuple[str, ...]
) -> None:
    runs = len(next(iter(results.values())))
    print(
        f"\npart 2: traffic in the minutes each step spans, min / median / max over {runs} runs"
        " (failures and moves: totals over the runs)"
    )
    print(
        "\n| scenario | step | simulated, s | minutes | requests | "
        + " | ".join(f"served by {n}" for n in tg_names)
        + " | target 5xx | ELB 5xx | moved, no deployment in flight | changed by a deployment |"
        + "\n|---|---|---|---|---|"
        + "---|" * len(tg_names)
        + "---|---|---|---|"
    )
    for scenario, rows in results.items():
        for step in SCENARIOS[scenario]:
            r = [row[step] for row in rows]
            cells = [
                _spread([x["simulated, s"] for x in r], ".1f"),
                _spread([x["minutes"] for x in r], ".0f"),
                _spread([x["requests"] for x in r], ".0f"),
                *(_spread([x[n] for x in r], ".0f") for n in tg_names),
                f"{sum(x['target 5xx'] for x in r)} of {sum(x['requests'] for x in r)}",
                f"{sum(x['ELB 5xx'] for x in r)} of {sum(x['requests'] for x in r)}",
                _changes(r, "moved"),
                _changes(r, "shifted"),
            ]
            print(f"| {scenario} | {step} | " + " | ".join(cells) + " |")
    for scenario, rows in results.items():
        for step in SCENARIOS[scenario]:
            failed = [row[step] for row in rows if row[step]["ELB 5xx"] or row[step]["target 5xx"]]
            if failed:
                detail = ", ".join(
                    f"{x['phase, s']:.0f} s: {x['ELB 5xx'] + x['target 5xx']} of {x['requests']}"
                    for x in sorted(failed, key=lambda x: float(x["phase, s"]))
                )
                print(
                    f"\n{scenario} {step}: 5xx per run, by the step's start in its minute: {detail}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per part (default 7)")
    runs = parser.parse_args().runs
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    started = time.perf_counter()
    print(
        f"{runs} runs; sample environment (CodeDeployDefault.ECSAllAtOnce, 5-min termination wait)"
    )
    cost_run(0)  # warm-up, not counted: first imports and first calls of each kind
    print_costs([cost_run(run) for run in range(runs)])
    results = {s: [traffic_run(run, runs, s) for run in range(runs)] for s in SCENARIOS}
    print_traffic(results, ("web-blue", "web-green"))
    print(f"\nwall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
