"""What ``deploy(analysis=...)`` adds to a release: the checks made before anything changes,
the server-side alarm net created before CreateDeployment and named in its overrides, and
the net given back when no deployment was created.

``AnalysisRelease.prepare`` checks, without a call, everything an analysis needs of the
service (an Application Load Balancer and its two target groups; room for one more alarm in
the deployment group; a rollback on alarm) and lists every problem at once. Then
``create_net`` creates the alarm (``bluegreen.analysis_alarm``), ``overrides`` gives
CreateDeployment its ``overrideAlarmConfiguration`` and, when the group's own rollback
settings would not roll back on the net's alarm, an ``autoRollbackConfiguration`` that does;
``attach`` tags the net with the deployment id, and ``give_back`` deletes it after a
CreateDeployment that certainly created nothing (a deployment that may exist keeps its net,
which ``bluegreen recover`` or the EventBridge safety net deletes once it has ended).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen.analysis import Analysis
from bluegreen.analysis_alarm import AlarmNet, net_metric, net_problems
from bluegreen.analysis_query import AnalysisTargets, next_targets
from bluegreen.arguments import rollback_events
from bluegreen.errors import AWSError, ValidationError
from bluegreen.scaling_record import new_release_id

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.deployment_group import DeploymentGroup
    from bluegreen.plan import Plan
    from bluegreen.state import ServiceState

__all__ = ["STOP_ON_ALARM", "AnalysisRelease", "planned"]

STOP_ON_ALARM = "DEPLOYMENT_STOP_ON_ALARM"


@attrs.define
class AnalysisRelease:
    """One release's analysis: what it judges, where, and its alarm net once created."""

    analysis: Analysis
    targets: AnalysisTargets
    group: DeploymentGroup
    rollback: dict[str, Any] | None = None
    """The ``autoRollbackConfiguration`` CreateDeployment needs (None: the caller's own)."""
    net: AlarmNet | None = None

    @classmethod
    def prepare(
        cls,
        analysis: Analysis,
        state: ServiceState,
        group: DeploymentGroup,
        auto_rollback: Sequence[str] | bool | None,
    ) -> AnalysisRelease:
        """Check what the analysis needs of the service, before anything changes.

        Raises:
            ValidationError: every problem at once, each saying how to fix it.
        """
        problems: list[str] = []
        targets: AnalysisTargets | None = None
        try:
            targets = next_targets(state)
        except ValidationError as exc:
            problems += exc.problems
        rollback: dict[str, Any] | None = None
        if net_metric(analysis) is not None:
            problems += net_problems(group.alarm_configuration)
            rollback, problem = _rollback_on_alarm(group, auto_rollback)
            problems += [problem] if problem else []
        if problems or targets is None:
            raise ValidationError(problems, subject="analysis")
        return cls(analysis=analysis, targets=targets, group=group, rollback=rollback)

    def describe(self) -> list[str]:
        """What the release will do for the analysis, for a plan."""
        a = self.analysis
        limits = "; ".join(_limit_words(m) for m in a.metrics)
        stop = []
        if a.failure_limit is not None:
            n = a.failure_limit
            stop.append("its first failed evaluation" if n == 1 else f"{n} failed evaluations")
        if a.consecutive_failure_limit is not None:
            stop.append(f"{a.consecutive_failure_limit} failed evaluations in a row")
        if any(m.critical for m in a.metrics):
            stop.append("a critical metric's first failure")
        lines = [
            f"analysis{' (dry run: reports only)' if a.dry_run else ''}: every {a.interval:g} s "
            f"over the last {a.window} s, green against blue ({limits}); at least "
            f"{a.minimum_sample} requests each, else inconclusive"
            + (f"; a rate fails only {a.confidence:.0%} sure" if a.confidence is not None else "")
            + "; "
            f"stops the deployment with rollback at {' or '.join(stop) or 'nothing'}"
        ]
        metric = net_metric(a)
        if metric is not None:
            lines.append(
                f"analysis alarm net: a CloudWatch alarm on green's {metric.name} against "
                "blue's, named in the deployment's alarms and deleted when it ends"
                + (
                    f"; this deployment also rolls back on {STOP_ON_ALARM}"
                    if self.rollback is not None
                    else ""
                )
            )
        return lines

    def create_net(self, caller: Caller, clients: Clients, cluster: str, service: str) -> None:
        """Create the alarm net (PutMetricAlarm), when the analysis has one."""
        self.net = AlarmNet.create(
            caller,
            clients,
            self.analysis,
            self.targets,
            cluster=cluster,
            service=service,
            release_id=new_release_id(),
            alarm_configuration=self.group.alarm_configuration,
        )

    def overrides(self) -> dict[str, Any]:
        """CreateDeployment's extra arguments: the alarms (the group's and the net) and the
        rollback that the net's alarm triggers."""
        if self.net is None:
            return {}
        out: dict[str, Any] = {"override_alarms": self.net.override(self.group.alarm_configuration)}
        if self.rollback is not None:
            out["auto_rollback"] = self.rollback
        return out

    def attach(self, deployment_id: str) -> None:
        """Tag the net with its deployment, so cleaning up knows when it may go."""
        if self.net is not None:
            self.net.attach(deployment_id)

    def give_back(self, cause: BaseException, *, may_exist: bool) -> None:
        """Delete the net after a release that created no deployment; with ``may_exist``
        (the deployment may have been created) keep it and say who deletes it."""
        if self.net is None:
            return
        if may_exist:
            cause.add_note(
                f"the analysis's alarm net {self.net.name} stays, since the deployment may "
                "have been created: "
                + advice("bluegreen.recover(cluster, service)", "`bluegreen recover`")
                + " deletes it once the group has no deployment in flight"
            )
            return
        try:
            self.net.remove()
        except AWSError as exc:
            cause.add_note(f"the analysis's alarm net {self.net.name} could not be deleted: {exc}")


def _limit_words(metric: Any) -> str:
    parts = []
    if metric.tolerance is not None:
        parts.append(f"+ {metric.tolerance:g}")
    if metric.relative_tolerance is not None:
        parts.append(f"x {1 + metric.relative_tolerance:g}")
    words = f"{metric.name} <= blue {' or '.join(parts)}" if parts else metric.name
    if metric.ceiling is not None:
        words += f", at most {metric.ceiling:g}"
    return words + (" (critical)" if metric.critical else "")


def _rollback_on_alarm(
    group: DeploymentGroup, auto_rollback: Sequence[str] | bool | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The ``autoRollbackConfiguration`` that makes the net's alarm roll back, and the
    problem when ``auto_rollback`` forbids it. With ``auto_rollback`` None (the group's
    settings) the group's events plus DEPLOYMENT_STOP_ON_ALARM, unless it has that already."""
    if auto_rollback is None:
        if STOP_ON_ALARM in group.auto_rollback_events:
            return None, None
        events = [*group.auto_rollback_events, STOP_ON_ALARM]
        return {"enabled": True, "events": events}, None
    chosen, _ = rollback_events(auto_rollback)
    if STOP_ON_ALARM in chosen:
        return None, None
    return None, (
        "the analysis's server-side alarm net rolls a failing green back through "
        f"CodeDeploy's {STOP_ON_ALARM}, which "
        + advice("auto_rollback=", "--rollback-events/--no-rollback")
        + f" leaves off: add {STOP_ON_ALARM}, or turn the net off with "
        + advice("Analysis(server_alarm=False)", "server_alarm: false in the analysis file")
    )


def planned(the_plan: Plan, analysis: Analysis, auto_rollback: Sequence[str] | bool | None) -> Plan:
    """``the_plan`` with what the analysis adds: a note saying how it judges green and what
    the release creates for it, or the problems that would stop ``deploy``."""
    group = the_plan.service.deployment_group
    if group is None:
        return the_plan
    try:
        prepared = AnalysisRelease.prepare(analysis, the_plan.service, group, auto_rollback)
    except ValidationError as exc:
        return attrs.evolve(
            the_plan, problems=(*the_plan.problems, *(f"analysis: {p}" for p in exc.problems))
        )
    return attrs.evolve(the_plan, notes=(*the_plan.notes, *prepared.describe()))
