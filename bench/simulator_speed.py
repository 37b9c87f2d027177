"""How fast the simulator runs a deployment on its virtual clock, for each predefined config.

Run by hand (never in CI): ``python bench/simulator_speed.py``. For each of the five
``CodeDeployDefault.ECS*`` configs it runs the same deployment (sample environment,
5-minute termination wait) several times and prints, side by side from one run:

* the simulated duration and the median wall time of ``run_until_done``;
* the speed-up, simulated seconds per wall second;
* the same wall time as a multiple of one ``DescribeServices`` call through moto measured in
  the same run (the baseline: what one ordinary in-process AWS call costs on this machine).

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
    print(f"{'config':<52} {'simulated':>10} {'wall (median)':>14} {'speed-up':>10} {'x call':>8}")
    for config in PREDEFINED_CONFIGS:
        walls, simulated, call = [], 0.0, 0.0
        for _ in range(REPEATS):
            with Simulator() as sim:
                deployer = Deployer.create(sim, deployment_config=config)
                call = baseline_call_seconds(sim)
                deployment_id = deployer.deploy()
                t0, w0 = sim.clock.time(), time.perf_counter()
                deployer.done(deployment_id)
                walls.append(time.perf_counter() - w0)
                simulated = sim.clock.time() - t0
        wall = statistics.median(walls)
        print(
            f"{config:<52} {simulated / 60:>7.1f} min {wall * 1000:>11.1f} ms "
            f"{simulated / wall:>9.0f}x {wall / call:>7.1f}"
        )


if __name__ == "__main__":
    main()
