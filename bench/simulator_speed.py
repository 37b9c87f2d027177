"""How fast the simulator runs a deployment on its virtual clock, for each predefined config.

Run by hand (never in CI): ``python bench/simulator_speed.py``. For each of the five
``CodeDeployDefault.ECS*`` configs it runs the same deployment (sample environment,
5-minute termination wait) several times and prints, side by side from one run:

* the simulated duration and the min / median / max wall time of ``run_until_done``;
* the speed-up, simulated seconds per wall second;
* the median wall time as a multiple of one ``DescribeServices`` call through moto (median
  of 50, measured in the same simulator: what one ordinary in-process AWS call costs on
  this machine).

Ratios rather than seconds, because this machine is shared and noisy.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from deploying import Deployer  # the tests' deployment helper

from bluegreen.testing import Simulator
from bluegreen.traffic import PREDEFINED_CONFIGS

REPEATS = 5


def baseline_call_seconds(sim: Simulator) -> float:
    ecs = sim.clients().ecs
    samples = []
    for _ in range(50):
        start = time.perf_counter()
        ecs.describe_services(cluster="prod", services=["web"])
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    print(f"{REPEATS} runs per config\n")
    print("| config | simulated | wall, min / median / max | speed-up (median) | x one moto call |")
    print("|---|---|---|---|---|")
    for config in PREDEFINED_CONFIGS:
        walls, calls, simulated = [], [], 0.0
        for _ in range(REPEATS):
            with Simulator() as sim:
                deployer = Deployer.create(sim, deployment_config=config)
                calls.append(baseline_call_seconds(sim))
                deployment_id = deployer.deploy()
                t0, w0 = sim.clock.time(), time.perf_counter()
                deployer.done(deployment_id)
                walls.append(time.perf_counter() - w0)
                simulated = sim.clock.time() - t0
        wall, call = statistics.median(walls), statistics.median(calls)
        spread = " / ".join(f"{w * 1000:.1f}" for w in (min(walls), wall, max(walls)))
        print(
            f"| {config} | {simulated / 60:.1f} min | {spread} ms | {simulated / wall:,.0f}x "
            f"| {wall / call:.1f} |"
        )


if __name__ == "__main__":
    main()
