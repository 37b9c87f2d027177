"""A release of 20 services deployed concurrently from one process, on the simulator.

Run by hand (never in CI): ``python bench/release_many.py [SERVICES] [SPEED]`` (defaults 20
and 20). The simulator runs in real time compressed ``SPEED`` times (a virtual clock cannot be
moved by 20 waiting threads at once). It builds SERVICES sample environments (``svc0`` ...,
cluster ``prod``, canary 10% then 5 minutes, 1-minute termination wait, no hooks), then
starts one thread per service that calls ``bluegreen.deploy(...)`` and ``.wait()``; every
``Deployment`` draws from the process-wide ``DEFAULT_BUDGET`` (5 calls/s, burst 10, in
simulated seconds). It prints, side by side from the same run:

* the release's total simulated time (first ``deploy`` called to last ``wait`` returned)
  against the longest single deployment (CodeDeploy's create-to-complete time of the slowest
  one), as a ratio;
* where the difference goes: how far apart the 20 deployments were created (``deploy``
  plans against the live service first, about 30 unbudgeted calls each), and the longest
  lag between a deployment ending and its ``wait`` returning;
* the calls that drew from the budget (the waits' CodeDeploy reads, ``Deployment.calls``)
  per simulated second against the budget's rate, as a ratio, with the busiest
  one-second window, and the time the budget made callers sleep;
* every AWS call the process made in the release (deploy's planning and scaling calls too,
  which do not draw from the budget) per simulated second.

Simulated time is the simulator's clock; because moto's calls take real time and the clock
runs ``SPEED`` times faster, a busy machine stretches simulated time a little (a 5 ms call is
0.1 simulated s at 20x). The wall time is printed too.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from typing import Any

import bluegreen
from bluegreen.deployment import DEFAULT_BUDGET, Deployment
from bluegreen.testing import Simulator, build_environment

CONFIG = "CodeDeployDefault.ECSCanary10Percent5Minutes"
_WAIT_READS = ("GetDeployment", "GetDeploymentTarget")


def main() -> None:
    services = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    speed = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

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
            barrier.wait(timeout=60)
            try:
                d: Deployment = bluegreen.deploy(
                    "prod",
                    service,
                    image="registry.example.com/app:2",
                    clients=sim.clients(),
                    clock=sim.clock,
                )
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
        total = max((r["returned"] for r in results.values()), default=sim.clock.time())
        total -= start_sim
        wall = time.perf_counter() - start_wall
        calls = [c for c in list(sim.api_calls())[calls_before:] if c[0] >= start_sim]
        reads = [c for c in calls if c[1] == "codedeploy" and c[2] in _WAIT_READS]

    if failures:
        print("FAILED:", *failures, sep="\n  ")
    longest = max(r["length"] for r in results.values())
    budgeted = sum(r["calls"] for r in results.values())
    per_second = collections.Counter(int(t - start_sim) for t, _, _ in reads)
    busiest = max(per_second.values(), default=0)
    rate = budgeted / total
    print(f"{services} services, {CONFIG}, 1-min termination wait, simulator at {speed:g}x")
    print(f"  deployments succeeded         {len(results)}/{services}")
    print(f"  release, simulated            {total / 60:.2f} min  (wall {wall:.1f} s)")
    print(f"  longest single deployment     {longest / 60:.2f} min")
    print(f"  release / longest             {total / longest:.3f}")
    created = [r["created"] - start_sim for r in results.values()]
    lag = max(r["returned"] - r["completed"] for r in results.values())
    print(f"  deployments created between   {min(created):.1f} s and {max(created):.1f} s")
    print(f"  longest end-to-return lag     {lag:.1f} s")
    print(f"  budgeted calls (waits)        {budgeted}  = {rate:.2f}/s simulated")
    budget = f"{DEFAULT_BUDGET.rate:g}/s, burst {DEFAULT_BUDGET.burst:g}"
    print(f"  budget                        {budget}")
    print(f"  budgeted calls / budget       {rate / DEFAULT_BUDGET.rate:.3f}")
    print(f"  busiest second of reads       {busiest} GetDeployment(Target) calls")
    print(f"  slept waiting for the budget  {DEFAULT_BUDGET.waited - waited_before:.1f} s in all")
    print(f"  all AWS calls                 {len(calls)}  = {len(calls) / total:.2f}/s simulated")


if __name__ == "__main__":
    main()
