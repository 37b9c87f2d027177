"""``bluegreen demo``: three releases on the embedded simulator, with real traffic to watch.

Text shows one line per change (lifecycle events, production weights, the responses each
version served at each weight, each evaluation of the third release's analysis with green's
and blue's numbers) and the autoscaling state around each release; ``--output json`` gives
one JSON object per line, the last one ``done`` with every check. ``--native`` tells the same
story on the sample's ECS-native service (``bluegreen.demo.target``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

from bluegreen.cli._exit_codes import EXIT_DEPLOYMENT_FAILED, EXIT_INVALID, EXIT_OK

if TYPE_CHECKING:
    from bluegreen.analysis import Analysis
    from bluegreen.analysis_query import MetricReading
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.analysis_verdict import Evaluation
    from bluegreen.cli._progress import Reporter
    from bluegreen.demo import DemoResult, Phase
    from bluegreen.demo.judging import Sizing
    from bluegreen.demo.target import DemoTarget
    from bluegreen.deployment import DeploymentSnapshot
    from bluegreen.errors import DeploymentError
    from bluegreen.scaling import ScalingStatus
    from bluegreen.testing import Environment

DEFAULT_SPEED = 30.0
FAST_SPEED = 300.0


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="watch three releases on the embedded simulator, with real local traffic",
        description="Start the simulator with a sample service, four tiny HTTP apps for "
        "versions v1 to v4 (v3's health check fails; v4 passes it but answers 3 in 10 "
        "requests with a 500), a proxy for the production and test listeners that follows "
        "the live weights and publishes the ALB metrics of what production really served, "
        "and a load generator on 127.0.0.1; then release v2 (succeeds: 10%, then 100%), v3 "
        "(the test-listener hook fails and CodeDeploy rolls back) with the real "
        "hooks/verify_test_listener.py, and v4 with an analysis (green's 5xx rate is worse "
        "than blue's during the canary: the analysis stops it and CodeDeploy rolls back). "
        "No AWS account needed. Exits 0 when everything behaved as described.",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help=f"compress time much more ({FAST_SPEED:g}x instead of {DEFAULT_SPEED:g}x): a "
        "few seconds, for tests",
    )
    parser.add_argument(
        "--speed",
        type=float,
        metavar="X",
        help="simulated seconds per real second (overrides --fast)",
    )
    parser.add_argument(
        "--native",
        action="store_true",
        help="release the sample's ECS-native blue/green service instead (ECS deployment "
        "controller, CANARY 10%% for 5 minutes, the hook at POST_TEST_TRAFFIC_SHIFT): the "
        "same three releases, with ECS shifting a listener rule and rolling back",
    )
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="text (a line per change) or json (one JSON object per line)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.demo import run_demo

    speed = args.speed if args.speed is not None else FAST_SPEED if args.fast else DEFAULT_SPEED
    if not speed > 0:
        print("bluegreen: --speed must be positive", file=sys.stderr)
        return EXIT_INVALID
    narrator: _Text | _Json = _Json(sys.stdout) if args.output == "json" else _Text(sys.stdout)
    try:
        result = run_demo(narrator, speed=speed, native=args.native)
    except FileNotFoundError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if result.ok:
        return EXIT_OK
    failed = [c.name for c in result.checks if not c.ok]
    print(f"bluegreen: the demo did not behave as described: {'; '.join(failed)}", file=sys.stderr)
    return EXIT_DEPLOYMENT_FAILED


def _system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _event_words(event: str | None, native: bool) -> str:
    """A lifecycle event; for an ECS-native deployment with the stage it stands for."""
    if not native or event is None:
        return str(event)
    from bluegreen.native_status import STAGE_EVENTS

    stage = next((s for s, e in STAGE_EVENTS.items() if str(e) == event), None)
    return f"{event} (ECS stage {stage})" if stage is not None else event


def _shown(analysis: Analysis, name: str, reading: MetricReading | None) -> str:
    if reading is None or reading.value is None:
        return "no data"
    metric = analysis.metric(name)
    if metric.per is not None:
        return f"{reading.value:.1%} ({reading.count:g}/{reading.total:g})"
    if metric.metric.endswith("ResponseTime"):
        return f"{reading.value * 1000:.1f} ms"
    return f"{reading.value:g}"


def evaluation_line(analysis: Analysis, number: int, evaluation: Evaluation) -> str:
    """One evaluation on one line: its window, outcome, and green's and blue's numbers."""
    head = (
        f"analysis {number} ({evaluation.start:%H:%M}-{evaluation.end:%H:%M} UTC): "
        f"{evaluation.outcome}"
    )
    green = evaluation.requests.get("green", 0.0)
    blue = evaluation.requests.get("blue", 0.0)
    if evaluation.error:
        return f"{head}, {evaluation.error}"
    if green < analysis.minimum_sample:
        return (
            f"{head}, green served {green:g} requests (blue {blue:g}), "
            f"{analysis.minimum_sample} needed to judge"
        )
    parts = [
        f"{m.name} green {_shown(analysis, m.name, m.green)} vs blue "
        f"{_shown(analysis, m.name, m.blue)} {m.outcome}"
        if m.outcome != "inconclusive"
        else m.sentence
        for m in evaluation.metrics
    ]
    return f"{head}: " + "; ".join(parts)


class _Text:
    """Lines for a person: the progress lines of ``bluegreen wait`` plus the responses."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.now: Callable[[], dt.datetime] = _system_now
        self.reporter: Reporter | None = None
        self.printed = 0
        self.deployment_id = ""
        self.native = False

    def _print(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def intro(
        self,
        environment: Environment,
        urls: Mapping[str, str],
        speed: float,
        now: Callable[[], dt.datetime],
        target: DemoTarget | None = None,
    ) -> None:
        from bluegreen.cli._progress import PlainLines

        self.now = now
        self.reporter = PlainLines(self.stream, now)
        self._print(f"bluegreen demo: the simulator runs {speed:g}x faster than real time")
        self._print(environment.describe())
        if target is not None:
            self.native = target.native
            self._print(f"  {target.describe()}")
        for name, url in urls.items():
            self._print(f"  {name:<18} {url}")

    def autoscaling(self, when: str, status: ScalingStatus) -> None:
        lines = str(status).splitlines()
        self._print(f"Autoscaling {when}:")
        for line in lines[1:]:
            self._print(line)

    def release_started(self, label: str, image: str, deployment_id: str) -> None:
        self.deployment_id = deployment_id
        self._print()
        self._print(f"== {label}: {image} as {deployment_id}")

    def analysis_sized(self, sizing: Sizing) -> None:
        self._print(f"  analysis: {sizing.describe()}")

    def _phases(self, phases: tuple[Phase, ...], upto: int) -> None:
        for phase in phases[self.printed : upto]:
            self._print(f"  production responses  {phase.describe()}")
        self.printed = max(self.printed, upto)

    def progress(self, snapshot: DeploymentSnapshot, phases: tuple[Phase, ...]) -> None:
        self._phases(phases, len(phases) - 1)
        if self.reporter is not None:
            self.reporter.update(snapshot)

    def evaluation(self, run: AnalysisRun, phases: tuple[Phase, ...]) -> None:
        self._phases(phases, len(phases) - 1)
        when = f"{self.now():%H:%M:%S} {self.deployment_id}"
        if run.last is not None:
            line = evaluation_line(run.analysis, len(run.evaluations), run.last)
            self._print(f"{when} {line}")
        if run.stopped:
            self._print(f"{when} analysis {run.verdict}: stopping {run.stopped} with rollback")
        elif run.is_over:
            self._print(f"{when} analysis {run.verdict}: {run.reason}")

    def release_ended(
        self,
        label: str,
        phases: tuple[Phase, ...],
        error: DeploymentError | None,
        hook_reports: tuple[str, ...],
        analysis: AnalysisRun | None = None,
        *,
        ending: str | None = None,
    ) -> None:
        self._phases(phases, len(phases))
        for report in hook_reports:
            self._print(f"  the hook reported {report}")
        if error is None:
            self._print(f"== {label} succeeded")
            self._analysis(analysis)
            return
        self._print(f"== {label} failed, as it should: {error.message}")
        self._print(f"  lifecycle event  {_event_words(error.lifecycle_event, self.native)}")
        if error.error_code:  # an ECS-native service deployment has none
            self._print(f"  error code       {error.error_code}")
        if error.error_message:
            self._print(f"  error message    {error.error_message}")
        if error.diagnostics:
            self._print(f"  diagnostics      {error.diagnostics}")
        if error.rollback_deployment_id:
            self._print(f"  rolled back by   {error.rollback_deployment_id}")
        elif ending == "rolled_back":  # ECS-native: the same service deployment rolled back
            self._print("  rolled back by   ECS, in the same service deployment")
        self._analysis(analysis)

    def _analysis(self, analysis: AnalysisRun | None) -> None:
        """The verdict, with the numbers of the metric that decided it."""
        if analysis is None:
            return
        self._print(f"  analysis         {analysis.reason or analysis.verdict}")
        if analysis.stopped:
            call = "StopServiceDeployment" if self.native else "StopDeployment"
            self._print(f"  stopped by       the analysis: {call} {analysis.stopped}")

    def summary(self, result: DemoResult) -> None:
        self._print()
        served = "  ".join(
            f"{v} {n}" + (f" ({result.failed[v]} of them 5xx)" if result.failed.get(v) else "")
            for v, n in sorted(result.served.items())
        )
        self._print(f"Production responses in all: {served or 'none'}; {result.errors} unanswered")
        for check in result.checks:
            self._print(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        verdict = "everything behaved as described" if result.ok else "something went wrong"
        self._print(f"demo {'OK' if result.ok else 'FAILED'} in {result.seconds:.1f}s: {verdict}")


class _Json:
    """One JSON object per line: the progress records of ``bluegreen wait --output json``
    plus ``demo_started``, ``autoscaling``, ``release_started``, ``analysis_sized``,
    ``responses``, ``analysis`` (each evaluation, as ``bluegreen wait --output json`` gives
    it), ``release_ended`` (with the analysis's verdict and evaluations when one ran), and last
    ``done`` with the checks."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.now: Callable[[], dt.datetime] = _system_now
        self.reporter: Reporter | None = None
        self.printed = 0
        self.deployment_id: str | None = None

    def _emit(self, kind: str, **fields: Any) -> None:
        record = {
            "type": kind,
            "timestamp": self.now().isoformat(),
            "deployment_id": self.deployment_id,
        }
        record.update(fields)
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()

    def intro(
        self,
        environment: Environment,
        urls: Mapping[str, str],
        speed: float,
        now: Callable[[], dt.datetime],
        target: DemoTarget | None = None,
    ) -> None:
        from bluegreen.cli._progress import JsonLines

        self.now = now
        self.reporter = JsonLines(self.stream, now)
        self._emit(
            "demo_started",
            speed=speed,
            cluster=environment.cluster,
            service=target.service if target is not None else environment.service,
            controller="ECS" if target is not None and target.native else "CODE_DEPLOY",
            urls=dict(urls),
        )

    def autoscaling(self, when: str, status: ScalingStatus) -> None:
        self._emit("autoscaling", when=when, **status.to_dict())

    def release_started(self, label: str, image: str, deployment_id: str) -> None:
        self.deployment_id = deployment_id
        self._emit("release_started", release=label, image=image)

    def analysis_sized(self, sizing: Sizing) -> None:
        self._emit("analysis_sized", description=sizing.describe(), **sizing.to_dict())

    def _phases(self, phases: tuple[Phase, ...], upto: int) -> None:
        for phase in phases[self.printed : upto]:
            self._emit("responses", **phase.to_dict())
        self.printed = max(self.printed, upto)

    def progress(self, snapshot: DeploymentSnapshot, phases: tuple[Phase, ...]) -> None:
        self._phases(phases, len(phases) - 1)
        if self.reporter is not None:
            self.reporter.update(snapshot)

    def evaluation(self, run: AnalysisRun, phases: tuple[Phase, ...]) -> None:
        self._phases(phases, len(phases) - 1)
        self._emit(
            "analysis",
            number=len(run.evaluations),
            evaluation=None if run.last is None else run.last.to_dict(),
            verdict=str(run.verdict),
            reason=run.reason,
            stopped=run.stopped,
        )

    def release_ended(
        self,
        label: str,
        phases: tuple[Phase, ...],
        error: DeploymentError | None,
        hook_reports: tuple[str, ...],
        analysis: AnalysisRun | None = None,
        *,
        ending: str | None = None,
    ) -> None:
        self._phases(phases, len(phases))
        fields: dict[str, Any] = {
            "release": label,
            "outcome": "succeeded",
            "hook_reports": list(hook_reports),
        }
        if analysis is not None:
            fields["analysis"] = analysis.to_dict()
        if error is not None:
            fields.update(
                outcome="rolled_back"
                if error.rollback_deployment_id or ending == "rolled_back"
                else "failed",
                lifecycle_event=error.lifecycle_event,
                error_code=error.error_code,
                error_message=error.error_message,
                diagnostics=error.diagnostics,
                rollback_deployment_id=error.rollback_deployment_id,
            )
        self._emit("release_ended", **fields)

    def summary(self, result: DemoResult) -> None:
        self.deployment_id = None
        self._emit(
            "done",
            outcome="ok" if result.ok else "failed",
            exit_code=EXIT_OK if result.ok else EXIT_DEPLOYMENT_FAILED,
            **result.to_dict(),
        )
