"""The same release on a CodeDeploy service and on an ECS-native one, side by side.

Run by hand (never in CI)::

    python bench/native_vs_codedeploy.py [RUNS]

(default 7). Every run builds, on a fresh simulator (virtual clock), the sample environment
with both kinds of service on one cluster and load balancer (``create_environment(native=
True, ...)``): ``web`` (CodeDeploy, ``CodeDeployDefault.ECSCanary10Percent5Minutes``, a
5-minute termination wait) and ``web-native`` (ECS controller, strategy ``CANARY``, 10% for
5 minutes, a 5-minute bake). Both have a test listener, an alarm and a scalable target; no
hooks. Each service is then released twice with ``bluegreen.deploy(cluster, service,
image=...)`` (the library finds the kind; each release draws from a fresh ``RateBudget``, so
none inherits another's spent tokens), followed once with ``wait(on_progress=...)`` and once
with a plain ``wait()``; which kind goes first alternates from run to run. One run before
them warms the process up (first imports, moto's first requests) and is not counted.

Per release:

* **deploy() calls**: every request the simulator received during ``deploy`` (planning,
  registration, the start);
* **follow calls**: ``Deployment.calls`` after the wait (the reads that followed it), and
  the requests the simulator received during the wait (those plus what the end costs
  outside ``calls``: the CodeDeploy service's scaling restore);
* **deploy to end**: simulated minutes from calling ``deploy`` to the server's end
  (``completeTime`` / ``finishedAt``), and to ``wait`` returning;
* **lag**: simulated seconds from the server's end to ``wait`` returning (as
  ``bench/wait_lag.py``; the simulator's clean-up of blue is its default 30 s here);
* **CPU / wall**: the process's CPU time and the wall time of ``deploy`` plus ``wait``:
  the library and the in-process simulator (moto included) together.

Ratios native / CodeDeploy are paired per run (the same run's two releases of the mode).

The failure case: a Lambda hook that reports failure, given as
``hooks={"AfterAllowTestTraffic": ...}`` (native: ``POST_TEST_TRAFFIC_SHIFT``) or
``{"AfterAllowTraffic": ...}`` (native: ``POST_PRODUCTION_TRAFFIC_SHIFT``), each on a fresh
environment, followed with ``wait(on_progress=...)`` and, on another, with ``wait()``. From
the hook's failure (when it returned or reported it), in simulated seconds: to **blue 100%
again** (production and test listener both forwarding only to blue; the simulator's weights
probed every 0.5 s), to the **rollback's end** on the server (the CodeDeploy rollback
deployment's ``completeTime``, native ``ROLLBACK_SUCCESSFUL`` ``finishedAt``) and to ``wait``
raising. Simulated seconds and call counts do not depend on how busy the machine is; CPU and
wall times do.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

import bluegreen
from bluegreen import RateBudget
from bluegreen.errors import DeploymentError
from bluegreen.testing import Simulator
from bluegreen.testing._native_rules import rule_weights

CONFIG = "CodeDeployDefault.ECSCanary10Percent5Minutes"
ENVIRONMENT: dict[str, Any] = {
    "deployment_config": CONFIG,
    "termination_wait_minutes": 5,
    "native": True,
    "native_strategy": "CANARY",
    "native_percent": 10,
    "native_step_minutes": 5,
    "native_bake_minutes": 5,
}
IMAGE = "public.ecr.aws/nginx/nginx:1.{}"
HOOK = "bench-failing-hook"
HOOK_ROLE = "arn:aws:iam::123456789012:role/ecsLambdaHooks"
KINDS = ("codedeploy", "native")
MODES = ("on_progress", "plain")
FAIL_STAGES = ("AfterAllowTestTraffic", "AfterAllowTraffic")
PROBE_SECONDS = 0.5


def _service(env: Any, kind: str) -> str:
    return str(env.service if kind == "codedeploy" else env.native.service)


def _server_end(sim: Simulator, deployment_id: str) -> float | None:
    """When the server ended the deployment (and, for CodeDeploy, the rollback it started)."""
    if deployment_id.startswith("arn:"):
        return sim.service_deployment(deployment_id).finished_at
    record = sim.deployment(deployment_id)
    rollback = (record.rollback_info or {}).get("rollbackDeploymentId")
    if rollback:
        return sim.deployment(rollback).complete_time
    return record.complete_time


def release(sim: Simulator, env: Any, kind: str, mode: str, image: str) -> dict[str, Any]:
    """One release of ``image`` to the ``kind`` service, followed as ``mode`` says."""
    snapshots: list[Any] = []
    start_calls = len(sim.calls)
    t0 = sim.clock.time()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    deployment = bluegreen.deploy(
        env.cluster,
        _service(env, kind),
        image=image,
        clients=sim.clients(),
        clock=sim.clock,
        budget=RateBudget(),
    )
    deploy_calls = len(sim.calls) - start_calls
    wait_start = len(sim.calls)
    if mode == "on_progress":
        deployment.wait(on_progress=snapshots.append)
    else:
        deployment.wait()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    returned = sim.clock.time()
    end = _server_end(sim, deployment.id)
    assert end is not None, deployment.id
    return {
        "deploy calls": deploy_calls,
        "follow calls (Deployment.calls)": deployment.calls,
        "follow calls (simulator)": len(sim.calls) - wait_start,
        "snapshots": len(snapshots),
        "deploy to end, min": (end - t0) / 60,
        "deploy to wait returned, min": (returned - t0) / 60,
        "lag, s": returned - end,
        "CPU, ms": cpu * 1000,
        "wall, ms": wall * 1000,
    }


def run_releases(runs: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{mode: {kind: [one release's figures per run]}}``."""
    results: dict[str, dict[str, list[dict[str, Any]]]] = {m: {k: [] for k in KINDS} for m in MODES}
    for run in range(runs):
        with Simulator() as sim:
            env = sim.create_environment(**ENVIRONMENT)
            order = KINDS if run % 2 == 0 else KINDS[::-1]
            for n, mode in enumerate(MODES):
                for kind in order:
                    results[mode][kind].append(release(sim, env, kind, mode, IMAGE.format(28 + n)))
    return results


def _blue_only(weights: list[tuple[str, int]], blue: str) -> bool:
    return bool(weights) and all(w == 0 for tg, w in weights if tg != blue)


def failure(kind: str, stage: str, mode: str) -> dict[str, Any]:
    """A release whose ``stage`` hook fails, on a fresh environment, followed as ``mode``
    says."""
    with Simulator() as sim:
        env = sim.create_environment(**ENVIRONMENT)
        failed_at: list[float] = []
        blue_at: list[float] = []
        codedeploy = sim.clients().codedeploy

        def hook(event: dict[str, Any], context: Any) -> dict[str, str] | None:
            failed_at.append(sim.clock.time())
            if "DeploymentId" in event:  # CodeDeploy: report through its API
                codedeploy.put_lifecycle_event_hook_execution_status(
                    deploymentId=event["DeploymentId"],
                    lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                    status="Failed",
                )
                return None
            return {"hookStatus": "FAILED"}

        sim.register_hook(HOOK, hook)
        if kind == "codedeploy":
            blue = env.target_group_arns[0]
            listeners = [a for a in (env.production_listener_arn, env.test_listener_arn) if a]

            def weights() -> list[list[tuple[str, int]]]:
                return [sim.listener_weights(arn) for arn in listeners]

        else:
            native = env.native
            assert native is not None
            blue = native.target_group_arns[0]
            rules = [a for a in (native.production_rule_arn, native.test_rule_arn) if a]

            def weights() -> list[list[tuple[str, int]]]:
                with sim.lock:
                    return [rule_weights(sim.moto, arn) for arn in rules]

        def probe() -> None:
            if failed_at and not blue_at and all(_blue_only(w, blue) for w in weights()):
                blue_at.append(sim.clock.time())

        sim.clock.every(PROBE_SECONDS, probe)
        extra: dict[str, Any] = {} if kind == "codedeploy" else {"hook_role": HOOK_ROLE}
        t0 = sim.clock.time()
        deployment = bluegreen.deploy(
            env.cluster,
            _service(env, kind),
            image=IMAGE.format(28),
            hooks={stage: HOOK},
            clients=sim.clients(),
            clock=sim.clock,
            budget=RateBudget(),
            **extra,
        )
        raised = ""
        try:
            if mode == "on_progress":
                deployment.wait(on_progress=lambda snapshot: None)
            else:
                deployment.wait()
        except DeploymentError as exc:
            raised = type(exc).__name__
        returned = sim.clock.time()
        end = _server_end(sim, deployment.id)
        status = (
            sim.service_deployment(deployment.id).status
            if kind == "native"
            else str(sim.deployment(deployment.id).status)
        )
        fail = failed_at[0] if failed_at else None
        return {
            "status": status,
            "raised": raised or "(returned)",
            "deploy to failure, s": None if fail is None else fail - t0,
            "failure to blue 100%, s": None if fail is None or not blue_at else blue_at[0] - fail,
            "failure to rollback end, s": None if fail is None or end is None else end - fail,
            "failure to wait raised, s": None if fail is None else returned - fail,
            "follow calls (Deployment.calls)": deployment.calls,
        }


def _spread(values: list[float | None], fmt: str) -> str:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return "-"
    text = " / ".join(
        format(v, fmt) for v in (min(numbers), statistics.median(numbers), max(numbers))
    )
    return text if len(numbers) == len(values) else f"{text} ({len(numbers)} of {len(values)})"


_FORMATS = {
    "deploy calls": ".0f",
    "follow calls (Deployment.calls)": ".0f",
    "follow calls (simulator)": ".0f",
    "snapshots": ".0f",
    "deploy to end, min": ".2f",
    "deploy to wait returned, min": ".2f",
    "lag, s": ".2f",
    "CPU, ms": ".0f",
    "wall, ms": ".0f",
}


def print_releases(results: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    for mode in MODES:
        label = "wait(on_progress=...)" if mode == "on_progress" else "wait()"
        print(f"\nfollowed with {label}, min / median / max over {len(results[mode]['native'])}")
        print("\n| figure | CodeDeploy | ECS-native | native / CodeDeploy (paired) |")
        print("|---|---|---|---|")
        cd, native = results[mode]["codedeploy"], results[mode]["native"]
        for name, fmt in _FORMATS.items():
            ratios = [
                n[name] / c[name] if c[name] else None for c, n in zip(cd, native, strict=True)
            ]
            print(
                f"| {name} | {_spread([r[name] for r in cd], fmt)} "
                f"| {_spread([r[name] for r in native], fmt)} | {_spread(ratios, '.2f')} |"
            )


def print_failures(rows: dict[tuple[str, str, str], list[dict[str, Any]]]) -> None:
    names = (
        "deploy to failure, s",
        "failure to blue 100%, s",
        "failure to rollback end, s",
        "failure to wait raised, s",
        "follow calls (Deployment.calls)",
    )
    print("\nfailing hook, min / median / max")
    print("\n| hook at | kind | followed with | status | wait | " + " | ".join(names) + " |")
    print("|---|---|---|---|---|" + "---|" * len(names))
    for (stage, kind, mode), runs in rows.items():
        statuses = ", ".join(sorted({r["status"] for r in runs}))
        raised = ", ".join(sorted({r["raised"] for r in runs}))
        cells = " | ".join(
            _spread([r[n] for r in runs], ".0f" if "calls" in n else ".1f") for n in names
        )
        label = "wait(on_progress=...)" if mode == "on_progress" else "wait()"
        print(f"| {stage} | {kind} | {label} | {statuses} | {raised} | {cells} |")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    started = time.perf_counter()
    print(
        f"{runs} runs; {CONFIG} (5-min termination wait) against CANARY 10% for 5 min "
        "(5-min bake); each release a fresh RateBudget"
    )
    run_releases(1)  # warm-up, not counted: first imports and first calls of each kind
    print_releases(run_releases(runs))
    rows: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for run in range(runs):
        for stage in FAIL_STAGES:
            for mode in MODES:
                for kind in KINDS if run % 2 == 0 else KINDS[::-1]:
                    rows.setdefault((stage, kind, mode), []).append(failure(kind, stage, mode))
    print_failures({k: rows[k] for k in sorted(rows, key=_order)})
    print(f"\nwall {time.perf_counter() - started:.0f} s")


def _order(key: tuple[str, str, str]) -> tuple[int, int, int]:
    return FAIL_STAGES.index(key[0]), MODES.index(key[2]), KINDS.index(key[1])


if __name__ == "__main__":
    main()
