"""How soon a watcher notices a deployment's end, and at what cost: ``Deployment.wait()``
beside boto3's ``deployment_successful`` waiter and a plain 10-second poller.

Run by hand (never in CI)::

    python bench/wait_lag.py [SAMPLES] [TERMINATION_WAIT_MINUTES] [SEED]

(defaults 30, 5 and 2026; the console's default termination wait is 60 minutes, past the
waiter's 30-minute cap). For each predefined config it draws SAMPLES pairs of

* a start phase: the watcher starts 0-15 s (uniform) after CreateDeployment returned, and
* a clean-up time: blue is deleted and the deployment Succeeded 0-120 s (uniform) after
  the termination wait ends (the simulator's ``blue_cleanup_seconds``),

and for each pair runs the same deployment three times on fresh simulators (the virtual
clock makes the three identical), each watched by one of:

* ``bluegreen``: ``Deployment.wait()`` with its defaults (``min_interval=5``,
  ``max_interval=60``, no progress callback);
* ``waiter``: boto3's ``deployment_successful`` waiter as shipped (a GetDeployment every
  15 s, 120 at most), botocore's sleep pointed at the virtual clock;
* ``poll10``: GetDeployment every 10 s until the status is final (what ecspresso does).

Lag is the simulated time from the deployment's ``completeTime`` to the watcher returning.
Reads are the CodeDeploy calls the watcher made to follow the deployment, counted from the
simulator's request log (GetDeployment, GetDeploymentTarget, ListDeploymentTargets);
``wait()`` also restores the autoscaling a deploy suspended at the end (GetDeploymentGroup
and Application Auto Scaling calls), counted apart as "restore". A waiter that gave up
(its 30-minute cap) has no lag and is counted apart. Simulated seconds and call counts do
not depend on how busy this machine is; the seed makes a run repeatable.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import botocore.exceptions
import botocore.waiter
from deploying import Deployer  # the tests' deployment helper

from bluegreen import Deployment
from bluegreen.testing import SimSettings, Simulator
from bluegreen.traffic import PREDEFINED_CONFIGS

_READS = ("GetDeployment", "GetDeploymentTarget", "ListDeploymentTargets")
WATCHERS = ("bluegreen", "waiter", "poll10")


def _watch_bluegreen(sim: Simulator, deployment_id: str) -> str:
    Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock).wait()
    return "returned"


def _watch_waiter(sim: Simulator, deployment_id: str) -> str:
    real_sleep = botocore.waiter.time.sleep
    botocore.waiter.time.sleep = sim.clock.sleep  # type: ignore[assignment]
    try:
        waiter = sim.clients().codedeploy.get_waiter("deployment_successful")
        waiter.wait(deploymentId=deployment_id)
        return "returned"
    except botocore.exceptions.WaiterError as exc:
        return "gave up" if "Max attempts" in str(exc) else "raised"
    finally:
        botocore.waiter.time.sleep = real_sleep  # type: ignore[assignment]


def _watch_poll10(sim: Simulator, deployment_id: str) -> str:
    codedeploy = sim.clients().codedeploy
    while True:
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        if info["status"] in ("Succeeded", "Failed", "Stopped"):
            return "returned"
        sim.clock.sleep(10.0)


_WATCH: dict[str, Callable[[Simulator, str], str]] = {
    "bluegreen": _watch_bluegreen,
    "waiter": _watch_waiter,
    "poll10": _watch_poll10,
}


def run_once(
    watcher: str, config: str, *, phase: float, cleanup: float, termination_wait: int
) -> dict[str, Any]:
    """One deployment of ``config`` on a fresh simulator, watched by ``watcher``."""
    with Simulator(settings=SimSettings(blue_cleanup_seconds=cleanup)) as sim:
        deployer = Deployer.create(
            sim, deployment_config=config, termination_wait_minutes=termination_wait
        )
        deployment_id = deployer.deploy()
        sim.clock.sleep(phase)
        before = len(list(sim.api_calls()))
        outcome = _WATCH[watcher](sim, deployment_id)
        noticed = sim.clock.time()
        calls = list(sim.api_calls())[before:]
        record = sim.deployment(deployment_id)
        done = record.complete_time is not None and outcome == "returned"
        reads = sum(1 for _, svc, op in calls if svc == "codedeploy" and op in _READS)
        return {
            "lag": noticed - record.complete_time if done and record.complete_time else None,
            "reads": reads,
            "restore": len(calls) - reads,
            "outcome": outcome,
            "length": (record.complete_time or noticed) - record.create_time,
        }


def _spread(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "-" if ours is None or not theirs else f"{ours / theirs:.3f}"


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    termination_wait = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2026
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    rng = random.Random(seed)
    started = time.perf_counter()
    print(
        f"{samples} samples per config, termination wait {termination_wait} min, seed {seed}; "
        "start phase 0-15 s, clean-up 0-120 s (uniform)\n"
    )
    print(
        "| config | length (min) | watcher | lag, min / median / max (s) | mean lag (s) "
        "| reads, min / median / max | mean reads | restore calls | gave up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ratios: list[str] = []
    for config in PREDEFINED_CONFIGS:
        draws = [(rng.uniform(0, 15), rng.uniform(0, 120)) for _ in range(samples)]
        runs = {
            w: [
                run_once(w, config, phase=p, cleanup=c, termination_wait=termination_wait)
                for p, c in draws
            ]
            for w in WATCHERS
        }
        lengths = _spread([r["length"] / 60 for r in runs["bluegreen"]], ".1f")
        means: dict[str, tuple[float | None, float]] = {}
        for w in WATCHERS:
            lags = [r["lag"] for r in runs[w] if r["lag"] is not None]
            reads = [float(r["reads"]) for r in runs[w]]
            gave_up = sum(1 for r in runs[w] if r["outcome"] != "returned")
            mean_lag = statistics.fmean(lags) if lags else None
            means[w] = (mean_lag, statistics.fmean(reads))
            print(
                f"| {config.removeprefix('CodeDeployDefault.')} | {lengths} | {w} "
                f"| {_spread(lags, '.2f')} | {'-' if mean_lag is None else f'{mean_lag:.2f}'} "
                f"| {_spread(reads, '.0f')} | {means[w][1]:.1f} "
                f"| {_spread([float(r['restore']) for r in runs[w]], '.0f')} "
                f"| {gave_up}/{samples} |"
            )
        (lag, reads), (w_lag, w_reads), (p_lag, p_reads) = (means[w] for w in WATCHERS)
        ratios.append(
            f"| {config.removeprefix('CodeDeployDefault.')} | {_ratio(lag, w_lag)} "
            f"| {_ratio(reads, w_reads)} | {_ratio(lag, p_lag)} | {_ratio(reads, p_reads)} |"
        )
    print(
        "\n| config | mean lag, ours / waiter | mean reads, ours / waiter "
        "| mean lag, ours / poll10 | mean reads, ours / poll10 |"
    )
    print("|---|---|---|---|---|")
    print(*ratios, sep="\n")
    print(f"\nwall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
