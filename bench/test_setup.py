"""What a test on the simulator pays before its first own call: a started simulator, the
sample environment and the five clients a release uses, made as the suite made them before
(new clients, the environment through its 17 calls) and as it makes them now (clients kept
for the process, the environment copied into a pristine simulator).

Run by hand (never in CI)::

    python bench/test_setup.py [--runs N] [--native]

(default 15 runs). Each run makes both, alternating which goes first, after one warm-up of
each (the models parsed, the first copy made). The figure is the wall time of each setup,
in process, on a virtual clock; the ratio is now / before, paired per run. Nothing but the
setup is measured: the suite's other costs (the tests' own calls, real-time waits, processes
started) are as they were.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bluegreen._aws import Clients
from bluegreen.testing import Simulator
from bluegreen.testing._client_pool import fake_session
from bluegreen.testing._environment import build_environment

_SERVICES = ("ecs", "elbv2", "codedeploy", "autoscaling", "cloudwatch")


def before(native: bool) -> float:
    """New clients for the environment and the test; the environment through the API."""
    started = time.perf_counter()
    with Simulator() as sim:
        build_environment(clients=Clients(session=fake_session(sim.region)), native=native)
        mine = Clients(session=fake_session(sim.region))
        for service in _SERVICES:
            getattr(mine, service)
    return time.perf_counter() - started


def now(native: bool) -> float:
    """The simulator's kept clients; the environment copied."""
    started = time.perf_counter()
    with Simulator() as sim:
        sim.create_environment(native=native)
        mine = sim.clients()
        for service in _SERVICES:
            getattr(mine, service)
    return time.perf_counter() - started


def _spread(values: list[float], scale: float = 1000.0, unit: str = " ms", digits: int = 1) -> str:
    low, mid, high = (v * scale for v in (min(values), statistics.median(values), max(values)))
    return f"{low:.{digits}f} / {mid:.{digits}f} / {high:.{digits}f}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--native", action="store_true", help="with the ECS-native service")
    args = parser.parse_args()

    ways: dict[str, Callable[[bool], float]] = {"before": before, "now": now}
    for way in ways.values():
        way(args.native)  # warm-up: models parsed, the first copy made
    times: dict[str, list[float]] = {name: [] for name in ways}
    for run in range(args.runs):
        order = list(ways) if run % 2 == 0 else list(reversed(ways))
        for name in order:
            times[name].append(ways[name](args.native))
    ratios = [n / b for n, b in zip(times["now"], times["before"], strict=True)]
    kind = "with the ECS-native service" if args.native else "CodeDeploy service only"
    print(f"test setup, {kind}, {args.runs} runs (min / median / max)")
    for name in ways:
        print(f"  {name:7s} {_spread(times[name])}")
    print(f"  now / before  {_spread(ratios, 1.0, '', 3)}")


if __name__ == "__main__":
    main()
