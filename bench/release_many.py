"""A release of 20 services deployed concurrently from one process, on the simulator.

Run by hand (never in CI): ``python bench/release_many.py [SERVICES] [SPEED] [RUNS]``
(defaults 20, ``virtual`` and 5). By default the simulator runs on its virtual clock, shared
by the threads through ``sim.clock.worker()``: simulated time moves only when every thread
sleeps, so a run is the same whatever the machine does, and what a call costs is the
budget's pause, not moto's wall time. A number for ``SPEED`` runs it in real time
compressed that many times instead (as the bench did before ``worker()`` existed: the
wall time of moto's calls then becomes simulated time). Each run builds SERVICES sample
environments on a fresh simulator (``svc0`` ..., cluster ``prod``, canary 10% then 5
minutes, 1-minute termination wait, the simulator's default 30 s clean-up of blue, no
hooks), then starts one thread per service that enters ``sim.clock.worker()`` and calls
``bluegreen.deploy(...)`` and ``.wait()``; every call draws from the process-wide
``DEFAULT_BUDGET`` (5 calls/s, burst 10, in simulated seconds).

What a run measures, split in two because the parts behave differently:

* planning: from the first ``deploy`` called to the last deployment created. ``deploy``
  checks the live service first (about 17 calls each, from the shared budget). On the
  virtual clock this part is the budget alone (its pauses); in real time, 20 planners share
  this machine's 2 cores, and their wall time, multiplied by SPEED, is simulated time too,
  so it varies from run to run. It is printed in wall seconds as well.
* deploying: the longest time from a deployment created to its ``wait`` returned, against
  the longest single deployment (CodeDeploy's create-to-complete time of the slowest one).
  This part is the schedule and the shared budget: the deployments run in lockstep, and
  what is added to the longest is the lag between a deployment ending and its ``wait``
  returning, which the budget lengthens when every wait reads at once.

The whole release (first ``deploy`` to last ``wait``) over the longest deployment is printed
as well, with the budgeted reads (the waits' GetDeployment/GetDeploymentTarget calls) per
simulated second against the budget's rate, the busiest one-second window of those reads,
the time callers slept waiting for the budget, and every AWS call of the process.

Every figure is given as min / median / max over RUNS runs.
"""

from __future__ import annotations

import collections
import os
import statistics
import sys
import threading
import time
from typing import Any

import bluegreen
from bluegreen.clock import DEFAULT_BUDGET
from bluegreen.deployment import Deployment
from bluegreen.testing import Simulator, build_environment

CONFIG = "CodeDeployDefault.ECSCanary10Percent5Minutes"
_WAIT_READS = ("GetDeployment", "GetDeploymentTarget")


def one_release(services: int, speed: float | None) -> dict[str, float]:
    """One release of ``services`` services on a fresh simulator; its figures.

    ``speed`` None runs it on the virtual clock, a number in real time that much faster."""
    with Simulator(speed=speed) as sim:
        clients = sim.clients()
        envs = [
            build_environment(
                clients=clients,
                name=f"svc{i}",
                cluster="prod",
                deployment_config=CONFIG,
                termination_wait_minutes=1,
                image="registry.example.com/app:1",
            )
            for i in range(services)
        ]
        results: dict[str, dict[str, Any]] = {}
        failures: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(services)

        def release(service: str) -> None:
            with sim.clock.worker():  # a no-op in real time
                barrier.wait(timeout=60)  # every thread registered before any sleeps
                release_service(service)

        def release_service(service: str) -> None:
            try:
                d: Deployment = bluegreen.deploy(
                    "prod",
                    service,
                    image="registry.example.com/app:2",
                    clients=sim.clients(),
                    clock=sim.clock,
                )
                planned_wall = time.perf_counter()
                final = d.wait(timeout=4 * 3600)
            except Exception as exc:  # a bench reports every failure, then goes on
                with lock:
                    failures.append(f"{service}: {exc}")
                return
            assert final.create_time is not None
            assert final.complete_time is not None
            with lock:
                results[service] = {
                    "created": final.create_time.timestamp(),
                    "completed": final.complete_time.timestamp(),
                    "length": (final.complete_time - final.create_time).total_seconds(),
                    "calls": d.calls,
                    "returned": sim.clock.time(),
                    "planned_wall": planned_wall,
                }

        threads = [
            threading.Thread(target=release, args=(e.service,), name=f"release-{e.service}")
            for e in envs
        ]
        waited_before = DEFAULT_BUDGET.waited
        calls_before = len(list(sim.api_calls()))
        start_sim, start_wall = sim.clock.time(), time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=3600)
        wall = time.perf_counter() - start_wall
        calls = [c for c in list(sim.api_calls())[calls_before:] if c[0] >= start_sim]
        reads = [c for c in calls if c[1] == "codedeploy" and c[2] in _WAIT_READS]

    if failures:
        print("FAILED:", *failures, sep="\n  ")
    done = list(results.values())
    last_return = max(r["returned"] for r in done)
    first_created = min(r["created"] for r in done)
    longest = max(r["length"] for r in done)
    total = last_return - start_sim
    budgeted = sum(r["calls"] for r in done)
    per_second = collections.Counter(int(t - start_sim) for t, _, _ in reads)
    lags = [r["returned"] - r["completed"] for r in done]
    return {
        "succeeded": len(done),
        "planning_sim": max(r["created"] for r in done) - start_sim,
        "planning_wall": max(r["planned_wall"] for r in done) - start_wall,
        "created_spread": max(r["created"] for r in done) - first_created,
        "deploying": max(r["returned"] - r["created"] for r in done),
        "longest": longest,
        "deploying_ratio": max(r["returned"] - r["created"] for r in done) / longest,
        "release": total,
        "release_ratio": total / longest,
        "lag_median": statistics.median(lags),
        "lag_max": max(lags),
        "budgeted": budgeted,
        "budget_ratio": budgeted / total / DEFAULT_BUDGET.rate,
        "busiest": max(per_second.values(), default=0),
        "slept": DEFAULT_BUDGET.waited - waited_before,
        "all_calls": len(calls),
        "wall": wall,
    }


ROWS = (
    ("deployments succeeded", "succeeded", "{:.0f}"),
    ("planning, simulated s (first deploy to last created)", "planning_sim", "{:.1f}"),
    ("planning, wall s", "planning_wall", "{:.2f}"),
    ("deployments created within, simulated s", "created_spread", "{:.1f}"),
    ("deploying, simulated min (longest created to wait returned)", "deploying", "{:.2f}"),
    ("longest single deployment, min", "longest", "{:.2f}"),
    ("**deploying / longest**", "deploying_ratio", "{:.3f}"),
    ("release, simulated min (first deploy to last wait)", "release", "{:.2f}"),
    ("release / longest (planning included)", "release_ratio", "{:.3f}"),
    ("lag, deployment end to its wait returning, median s", "lag_median", "{:.1f}"),
    ("lag, longest s", "lag_max", "{:.1f}"),
    ("budgeted calls (the waits' reads)", "budgeted", "{:.0f}"),
    ("budgeted calls per second / budget's 5/s", "budget_ratio", "{:.3f}"),
    ("busiest second of reads (budget allows 10 + 5)", "busiest", "{:.0f}"),
    ("slept waiting for the budget, all threads, s", "slept", "{:.0f}"),
    ("every AWS call of the process", "all_calls", "{:.0f}"),
    ("wall s", "wall", "{:.1f}"),
)
_MINUTES = {"deploying", "longest", "release"}


def main() -> None:
    services = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    given = sys.argv[2] if len(sys.argv) > 2 else "virtual"
    speed = None if given == "virtual" else float(given)
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    figures = []
    for n in range(runs):
        figures.append(one_release(services, speed))
        print(
            f"run {n + 1}/{runs}: deploying/longest {figures[-1]['deploying_ratio']:.3f}, "
            f"release/longest {figures[-1]['release_ratio']:.3f}",
            file=sys.stderr,
        )
    clock = "virtual clock, threads as workers" if speed is None else f"at {speed:g}x"
    print(
        f"{services} services, {CONFIG}, 1-min termination wait, simulator {clock}, {runs} runs\n"
    )
    print("| figure | min | median | max |")
    print("|---|---|---|---|")
    for label, key, fmt in ROWS:
        values = [f[key] / (60 if key in _MINUTES else 1) for f in figures]
        cells = (fmt.format(v) for v in (min(values), statistics.median(values), max(values)))
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
