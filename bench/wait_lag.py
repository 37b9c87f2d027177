"""How soon bluegreen notices a deployment's end, and at what cost, beside boto3's waiter.

Run by hand (never in CI): ``python bench/wait_lag.py [TERMINATION_WAIT_MINUTES]`` (default
5; the console's default is 60). For each of the five predefined
configs it runs the same deployment twice on the simulator's virtual clock (the clock makes
the two runs identical): once watched by ``Deployment.wait()``, once by boto3's
``deployment_successful`` waiter (its 15 s delay and 120 attempts, as shipped), with
botocore's sleep pointed at the virtual clock. It prints, side by side:

* lag: simulated seconds between the deployment reaching its terminal status and the
  watcher returning;
* calls: CodeDeploy API calls the watcher made;
* for the waiter, whether it gave up (its 30-minute cap) while the deployment was healthy.

Simulated seconds and call counts do not depend on how busy this machine is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import botocore.waiter
from deploying import Deployer  # the tests' deployment helper

from bluegreen import Deployment
from bluegreen.testing import Simulator
from bluegreen.traffic import PREDEFINED_CONFIGS

TERMINATION_WAIT_MINUTES = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def codedeploy_calls(sim: Simulator) -> int:
    return sum(1 for _ in sim.api_calls("codedeploy"))


def watch_with_bluegreen(config: str) -> dict[str, Any]:
    with Simulator() as sim:
        deployer = Deployer.create(
            sim, deployment_config=config, termination_wait_minutes=TERMINATION_WAIT_MINUTES
        )
        deployment_id = deployer.deploy()
        before = codedeploy_calls(sim)
        deployment = Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock)
        deployment.wait()
        noticed = sim.clock.time()
        record = sim.deployment(deployment_id)
        assert record.complete_time is not None
        return {
            "lag": noticed - record.complete_time,
            "calls": codedeploy_calls(sim) - before,
            "duration": record.complete_time - record.create_time,
            "outcome": str(record.status),
        }


def watch_with_waiter(config: str) -> dict[str, Any]:
    with Simulator() as sim:
        deployer = Deployer.create(
            sim, deployment_config=config, termination_wait_minutes=TERMINATION_WAIT_MINUTES
        )
        deployment_id = deployer.deploy()
        before = codedeploy_calls(sim)
        real_sleep = botocore.waiter.time.sleep
        botocore.waiter.time.sleep = sim.clock.sleep  # type: ignore[assignment]
        try:
            waiter = sim.clients().codedeploy.get_waiter("deployment_successful")
            waiter.wait(deploymentId=deployment_id)
            outcome = "returned"
        except botocore.exceptions.WaiterError as exc:
            outcome = "gave up" if "Max attempts" in str(exc) else "raised"
        finally:
            botocore.waiter.time.sleep = real_sleep  # type: ignore[assignment]
        noticed = sim.clock.time()
        record = sim.deployment(deployment_id)
        lag = None if record.complete_time is None else noticed - record.complete_time
        return {
            "lag": lag,
            "calls": codedeploy_calls(sim) - before,
            "outcome": outcome,
            "deployment": str(record.status),
        }


def main() -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    header = (
        f"{'config':<50} {'length':>8} | {'bluegreen lag':>13} {'calls':>6} | "
        f"{'waiter lag':>10} {'calls':>6} {'waiter':>9} | {'calls ratio':>11}"
    )
    print(header)
    print("-" * len(header))
    for config in PREDEFINED_CONFIGS:
        ours = watch_with_bluegreen(config)
        theirs = watch_with_waiter(config)
        waiter_lag = "-" if theirs["lag"] is None else f"{theirs['lag']:.0f} s"
        print(
            f"{config:<50} {ours['duration'] / 60:>5.1f} min | {ours['lag']:>11.0f} s "
            f"{ours['calls']:>6} | {waiter_lag:>10} {theirs['calls']:>6} {theirs['outcome']:>9} | "
            f"{ours['calls'] / max(1, theirs['calls']):>10.2f}x"
        )


if __name__ == "__main__":
    main()
