"""How fast a bad canary is stopped, and how much production traffic it served first:
bluegreen's analysis beside CodeDeploy's alarm-only rollback, on the simulator.

Run by hand (never in CI)::

    python bench/analysis_stop.py [--phases 12] [--rpm 1000] [--error-rates 0.05 0.3]
        [--low-rpm 30] [--base-error-rate 0.005] [--seed 2026] [--methods ...] [--configs ...]
        [--skip ...]

For each deployment config (``ECSCanary10Percent5Minutes``, ``ECSLinear10PercentEvery1Minutes``)
and each error rate of the bad version, ``--phases`` draws (draw i: the simulator starts i/N
of the way into a minute, with traffic seed ``seed + i``) each run the same deployment
(sample environment, no hooks, 5-minute termination wait) once per method on a fresh
simulator, the bad image failing ``error rate`` of its requests from its first one:

* ``alarm``: alarm-only. The group watches a typical CloudWatch alarm on green's target
  group: ``FILL(5xx, 0) / RequestCount * 100 > 1`` (metric math), period 60 s, 3 evaluation
  periods, 2 datapoints to alarm, missing data not breaching; no analysis.
* ``alarm-lb``: the same alarm on the load balancer's metrics (every target group together),
  the other form users write: green's errors are diluted by blue's healthy requests.
* ``default``: ``deploy(analysis=DEFAULT_ANALYSIS)`` and ``wait()``, no alarm on the group and
  ``server_alarm=False`` (the client-side analysis alone: the 5xx rate, window 180 s,
  ``minimum_sample=50``, ``failure_limit=1``, ``confidence=0.99``).
* ``sample20``: the default with ``minimum_sample=20``: a conclusive first evaluation for
  more start phases, the Wilson gate guarding the smaller sample (not in the default run:
  ``--methods alarm default sample20``).
* ``no-confidence``: the same with ``confidence=None``: a rate fails as soon as green's
  observed rate is over the limit, not only when the lower bound of its Wilson interval is
  (what the confidence gate saves in false stops, and costs in time).
* ``default+net``: ``DEFAULT_ANALYSIS`` as shipped, with its server-side alarm net if
  ``deploy`` makes one (the table says when it made none).

Per run, in simulated seconds (deterministic for a seed):

* **to stop**: from AllowTraffic's ``startTime`` (GetDeploymentTarget; green takes its first
  production requests then, so its error rate crosses the limit then) to the deployment's
  ``completeTime`` (GetDeployment): the moment CodeDeploy marked it Stopped, which on the
  simulator is the moment of the alarm check or of StopDeployment.
* **bad requests**: the requests green's target group served (``RequestCount``, summed with
  GetMetricStatistics) before production went back to blue (the rollback's AllowTraffic
  start), plus the load balancer's 5xx of those minutes (``HTTPCode_ELB_5XX_Count``: green's
  share of the minute of the reroute, which reaches a drained task set by the minute's end),
  and **share**: those as a share of all the requests from the minute of the shift to that
  moment. The simulator splits each minute as an ALB does, by the listener's weights
  averaged over the minute, so a shift 45 s into a minute gives green a quarter of its
  weight of that minute. **expected** is ``rpm`` times the integral of green's weight until
  the reroute (the deployment record's shift steps): the same without the draws' noise.
* **first evaluation late**: from when the analysis's first evaluation was due
  (``metrics_delay`` after the first whole minute of the shift) to when ``wait()`` made it.

A deployment that was not stopped counts green's requests to its end and has no time.
Two more tables, where the analysis should stop nothing: ``--low-rpm`` requests a minute (a
version whose every request fails, the analysis must never judge on a sample under
``minimum_sample``; and a version as good as blue), and a version as good as blue at
``--rpm`` (``--base-error-rate`` errors in both): every stop there is a false one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import attrs
import botocore
import moto
from deploying import Deployer, run_deploy  # the tests' deployment helpers

from bluegreen import AWSError, DeploymentError
from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis
from bluegreen.analysis_alarm import NET_PREFIX
from bluegreen.testing import Simulator, Traffic

CONFIGS = (
    "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
)
BAD = "public.ecr.aws/nginx/nginx:1.29-bad"
START = 1_796_000_040.0  # a whole minute; the phases are added to it
ALARM = "green-errors"

ANALYSES: dict[str, Analysis | None] = {
    "alarm": None,
    "alarm-lb": None,
    "default": attrs.evolve(DEFAULT_ANALYSIS, server_alarm=False),
    "no-confidence": attrs.evolve(DEFAULT_ANALYSIS, confidence=None, server_alarm=False),
    "sample20": attrs.evolve(DEFAULT_ANALYSIS, minimum_sample=20, server_alarm=False),
    "default+net": DEFAULT_ANALYSIS,
}
METHODS = tuple(ANALYSES)


# -- the alarm-only side --------------------------------------------------------------------


def _dimensions(d: Deployer, scope: str, role: str = "green") -> list[dict[str, str]]:
    """The load balancer's dimensions (``lb``), or those of green's (or blue's) target group."""
    lb = [{"Name": "LoadBalancer", "Value": d.env.load_balancer_arn.split(":loadbalancer/")[-1]}]
    if scope == "lb":
        return lb
    arn = next(a for a in d.env.target_group_arns if f"/web-{role}/" in a)
    return [{"Name": "TargetGroup", "Value": arn.split(":")[-1]}, *lb]


def _stat(metric: str, dimensions: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Metric": {
            "Namespace": "AWS/ApplicationELB",
            "MetricName": metric,
            "Dimensions": dimensions,
        },
        "Period": 60,
        "Stat": "Sum",
    }


def put_typical_alarm(d: Deployer, scope: str) -> None:
    """The 5xx-rate alarm (1%, 1-minute period, 2 of 3) on green's target group (``tg``) or
    the load balancer (``lb``), watched by the deployment group alone."""
    dims = _dimensions(d, scope)
    d.cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        Metrics=[
            {
                "Id": "errors",
                "MetricStat": _stat("HTTPCode_Target_5XX_Count", dims),
                "ReturnData": False,
            },
            {"Id": "requests", "MetricStat": _stat("RequestCount", dims), "ReturnData": False},
            {"Id": "rate", "Expression": "FILL(errors, 0) / requests * 100", "ReturnData": True},
        ],
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    d.codedeploy.update_deployment_group(
        applicationName=d.env.application,
        currentDeploymentGroupName=d.env.deployment_group,
        alarmConfiguration={"enabled": True, "alarms": [{"name": ALARM}]},
    )


# -- one run ------------------------------------------------------------------------------------


def _allow_traffic_start(d: Deployer, deployment_id: str) -> float | None:
    event = d.event(deployment_id, "AllowTraffic")
    start = event.get("startTime")
    return None if start is None else float(start.timestamp())


def _sum(d: Deployer, metric: str, dims: list[dict[str, str]], start: float, end: float) -> float:
    """``metric``'s Sum over the whole minutes that start in ``[start, end)``."""
    if end <= start:
        return 0.0
    points = d.cloudwatch.get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName=metric,
        Dimensions=dims,
        StartTime=dt.datetime.fromtimestamp(start, dt.UTC),
        EndTime=dt.datetime.fromtimestamp(end, dt.UTC),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points if start <= p["Timestamp"].timestamp() < end))


def _expected(weights: list[tuple[float, int]], end: float, rpm: int) -> float:
    """The requests green would serve until ``end`` at ``rpm`` a minute, split by the
    listener's weight of each moment (``[(when, green's percent)]``), without the noise."""
    total = 0.0
    ends = [when for when, _ in weights[1:]] + [end]
    for (when, percent), following in zip(weights, ends, strict=False):  # none: no shift
        total += percent / 100 * max(0.0, min(following, end) - when)
    return total * rpm / 60


def run_once(
    method: str,
    config: str,
    *,
    error_rate: float,
    rpm: int,
    start: float,
    seed: int,
    blue_error_rate: float = 0.0,
) -> dict[str, Any]:
    """One deployment of the bad version with ``config``, stopped (or not) by ``method``."""
    analysis = ANALYSES[method]
    traffic = Traffic(requests_per_minute=rpm, seed=seed)
    with Simulator(traffic=traffic, start_time=start) as sim:
        d = Deployer.create(sim, deployment_config=config, alarms=False)
        if analysis is None:
            put_typical_alarm(d, "lb" if method == "alarm-lb" else "tg")
        sim.traffic.behave(BAD, error_rate=error_rate)
        if blue_error_rate:
            sim.traffic.behave(d.env.image, error_rate=blue_error_rate)
        deployment = run_deploy(sim, image=BAD, analysis=analysis)
        net = any(
            a["AlarmName"].startswith(NET_PREFIX)
            for a in d.cloudwatch.describe_alarms()["MetricAlarms"]
        )
        evaluated: list[float] = []
        refused = False
        try:
            deployment.wait(on_evaluation=lambda run: evaluated.append(sim.clock.time()))
        except DeploymentError:
            pass  # a stopped deployment: measured below
        except AWSError as exc:  # a FAILED verdict while CodeDeploy deletes blue
            if "can no longer be stopped" not in str(exc):
                raise
            refused = True
            sim.run_until_done(deployment.id)
        info = d.info(deployment.id)
        shift = _allow_traffic_start(d, deployment.id)
        stopped = info["status"] == "Stopped"
        complete = info["completeTime"].timestamp()
        rollback = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
        back = _allow_traffic_start(d, rollback) if rollback else None
        end = back if back is not None else complete
        d.advance_to(max(sim.clock.time(), (end // 60 + 1) * 60 + 1))  # end's minute published
        first_minute = (shift // 60) * 60 if shift is not None else complete
        green = _sum(d, "RequestCount", _dimensions(d, "tg"), first_minute, end)
        green += _sum(d, "HTTPCode_ELB_5XX_Count", _dimensions(d, "lb"), first_minute, end)
        blue = _sum(d, "RequestCount", _dimensions(d, "tg", "blue"), first_minute, end)
        run = deployment.analysis
        weights = sim.deployment(deployment.id).extras.get("weights", [])
        return {
            "phase": None if shift is None else shift % 60,
            "to_stop": complete - shift if stopped and shift is not None else None,
            "stopped": stopped,
            "refused": refused,
            "bad": green,
            "expected": _expected(weights, end, rpm),
            "share": green / (green + blue) if green + blue else 0.0,
            "net": net,
            "evaluations": [str(e.outcome) for e in run.evaluations] if run else [],
            "fail_samples": [
                e.requests.get("green", 0.0)
                for e in (run.evaluations if run else ())
                if str(e.outcome) == "fail"
            ],
            "first_eval_late": _first_late(run, evaluated),
        }


def _first_late(run: Any, evaluated: list[float]) -> float | None:
    """Seconds from when the first evaluation was due (``metrics_delay`` after the first whole
    minute of the shift) to when it happened."""
    if run is None or run.shift_started is None or not evaluated:
        return None
    shift = run.shift_started.timestamp()
    due = (shift // 60 + 1) * 60 + run.analysis.metrics_delay
    return float(evaluated[0] - due)


# -- the tables ------------------------------------------------------------------------------


def _spread(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(theirs: float | None, ours: float | None) -> str:
    return "-" if theirs is None or not ours else f"{theirs / ours:.2f}"


def _label(method: str, runs: list[dict[str, Any]]) -> str:
    """The method's name; says so when an analysis with ``server_alarm`` got no net."""
    analysis = ANALYSES[method]
    if analysis is not None and analysis.server_alarm and not any(r["net"] for r in runs):
        return f"{method} (deploy made no net)"
    return method


def _outcomes(method: str, runs: list[dict[str, Any]]) -> str:
    """How many evaluations failed, were inconclusive and passed, over all the runs."""
    if ANALYSES[method] is None:
        return "-"
    every = [o for r in runs for o in r["evaluations"]]
    return " / ".join(str(every.count(o)) for o in ("fail", "inconclusive", "pass"))


def _stopped(runs: list[dict[str, Any]]) -> str:
    """Stopped runs of all; and the FAILED verdicts whose StopDeployment came too late (blue
    was being deleted: ``wait()`` raised AWSError and the deployment succeeded)."""
    refused = sum(r["refused"] for r in runs)
    shown = f"{sum(r['stopped'] for r in runs)}/{len(runs)}"
    return shown + (f" ({refused} refused)" if refused else "")


def _short(config: str) -> str:
    return config.removeprefix("CodeDeployDefault.ECS")


Draws = list[tuple[float, int]]


def _runs(method: str, config: str, draws: Draws, **options: Any) -> list[dict[str, Any]]:
    """One run per draw (start time, traffic seed): the same draws for every method."""
    return [run_once(method, config, start=s, seed=seed, **options) for s, seed in draws]


def _bad_versions(args: argparse.Namespace, draws: Draws) -> list[float]:
    """The main table and the ratios; returns the shift phases seen."""
    print(
        "| config | bad error rate | method | to stop, min / median / max (s) "
        "| bad requests, min / median / max | expected | share (%) | stopped "
        "| evaluations fail / inconclusive / pass | first evaluation late (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios: list[str] = []
    phases: list[float] = []
    for config in args.configs:
        for error_rate in args.error_rates:
            medians: dict[str, tuple[float | None, ...]] = {}
            for method in args.methods:
                runs = _runs(method, config, draws, error_rate=error_rate, rpm=args.rpm)
                phases += [r["phase"] for r in runs if r["phase"] is not None]
                stops = [r["to_stop"] for r in runs if r["to_stop"] is not None]
                bad = [r["bad"] for r in runs]
                expected = [r["expected"] for r in runs]
                late = [r["first_eval_late"] for r in runs if r["first_eval_late"] is not None]
                medians[method] = (_median(stops), _median(bad), _median(expected))
                print(
                    f"| {_short(config)} | {error_rate:.0%} | {_label(method, runs)} "
                    f"| {_spread(stops, '.0f')} | {_spread(bad, '.0f')} "
                    f"| {_spread(expected, '.0f')} "
                    f"| {_spread([100 * r['share'] for r in runs], '.1f')} "
                    f"| {_stopped(runs)} | {_outcomes(method, runs)} "
                    f"| {_spread(late, '.0f')} |"
                )
            base = medians.get("alarm", (None, None, None))
            for method in args.methods:
                if ANALYSES[method] is None:
                    continue
                pairs = zip(base, medians[method], strict=True)
                shown = (_ratio(theirs, ours) for theirs, ours in pairs)
                ratios.append(
                    f"| {_short(config)} | {error_rate:.0%} | {method} | {' | '.join(shown)} |"
                )
    print(
        "\nalarm / analysis, ratio of the medians (2 or more: the analysis stops at least "
        "twice as fast)\n"
    )
    print("| config | bad error rate | method | to stop | bad requests | expected |")
    print("|---|---|---|---|---|---|")
    print(*ratios, sep="\n")
    return phases


def _good_versions(
    title: str,
    cases: list[tuple[str, float, float]],
    rpm: int,
    args: argparse.Namespace,
    draws: Draws,
) -> None:
    """A table of ``cases`` (name, green's error rate, blue's) at ``rpm``: who stops what."""
    print(f"\n{title}\n")
    print(
        "| config | green | method | stopped | to stop, min / median / max (s) "
        "| green's requests, min / median / max | evaluations fail / inconclusive / pass "
        "| fewest green requests in a failing evaluation |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for config in args.configs:
        for case, error_rate, blue_error_rate in cases:
            for method in args.methods:
                runs = _runs(
                    method,
                    config,
                    draws,
                    error_rate=error_rate,
                    rpm=rpm,
                    blue_error_rate=blue_error_rate,
                )
                stops = [r["to_stop"] for r in runs if r["to_stop"] is not None]
                samples = [n for r in runs for n in r["fail_samples"]]
                fewest = f"{min(samples):.0f}" if samples else "-"
                print(
                    f"| {_short(config)} | {case} | {_label(method, runs)} "
                    f"| {_stopped(runs)} | {_spread(stops, '.0f')} "
                    f"| {_spread([r['bad'] for r in runs], '.0f')} | {_outcomes(method, runs)} "
                    f"| {fewest} |"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", type=int, default=12, help="start times within a minute")
    parser.add_argument("--rpm", type=int, default=1000, help="production requests a minute")
    parser.add_argument("--error-rates", type=float, nargs="+", default=[0.05, 0.3])
    parser.add_argument("--low-rpm", type=int, default=30, help="the low-traffic table's rpm")
    parser.add_argument(
        "--base-error-rate",
        type=float,
        default=0.005,
        help="the error rate of blue and of a green as good as blue",
    )
    parser.add_argument("--seed", type=int, default=2026, help="draw i uses seed + i")
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=METHODS, metavar="METHOD"
    )
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=CONFIGS)
    parser.add_argument("--skip", nargs="*", default=[], choices=("bad", "low", "healthy"))
    args = parser.parse_args()
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    started = time.perf_counter()
    draws = [(START + 60.0 * i / args.phases, args.seed + i) for i in range(args.phases)]
    print(
        f"{args.phases} draws per row (start time i/{args.phases} of a minute, traffic seed "
        f"{args.seed} + i), {args.rpm} requests/minute; "
        f"Python {platform.python_version()}, "
        f"moto {moto.__version__}, botocore {botocore.__version__}\n"
    )
    if "bad" not in args.skip:
        phases = _bad_versions(args, draws)
        print(f"\nshift phases (AllowTraffic start, s past the minute): {_spread(phases, '.1f')}")
    base = args.base_error_rate
    as_good = f"as good as blue: {base:.1%} errors in both"
    if "low" not in args.skip:
        _good_versions(
            f"Low traffic: {args.low_rpm} requests/minute",
            [("bad: every request fails", 1.0, 0.0), (as_good, base, base)],
            args.low_rpm,
            args,
            draws,
        )
    if "healthy" not in args.skip:
        _good_versions(
            f"A version as good as blue at {args.rpm} requests/minute (any stop is a false one)",
            [(as_good, base, base)],
            args.rpm,
            args,
            draws,
        )
    print(f"\nwall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
