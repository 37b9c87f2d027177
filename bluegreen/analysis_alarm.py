"""The analysis's server-side safety net: a CloudWatch alarm on green's error rate against
blue's, attached to the deployment, so CodeDeploy stops (and rolls back) a bad green even when
the release process that runs the analysis has died.

The alarm (``net_alarm_request``) is metric math on the analysis's first rate metric (the
default ``5xx rate``): each minute, green's rate minus blue's. A target group that served fewer
requests than its per-minute share of ``minimum_sample`` counts as no sample: green's excess is
then 0 (an inconclusive minute never stops a deployment) and blue's rate is taken as 0 (blue
has no traffic once it all went to green, e.g. in the termination wait, so green is held to the
tolerance alone). Three breaching minutes in a row put it in ALARM (``DATAPOINTS_TO_ALARM``): a
backstop that trips after the default analysis would have stopped the deployment.

A release creates it (``AlarmNet.create``) before CreateDeployment, names it in
CreateDeployment's ``overrideAlarmConfiguration`` (``AlarmNet.override``: the group's own
alarms plus the net; the group is never modified, but the caller needs
``codedeploy:UpdateDeploymentGroup``), tags it with the deployment id (``attach``) and deletes it
once the deployment has ended (``remove``). Deleting it while the deployment runs would stop
the deployment (CodeDeploy cannot poll it), so whoever cleans up for a dead release
(``bluegreen recover``, the EventBridge safety net, the end of ``Deployment.wait``, all
through ``bluegreen.analysis_alarm_cleanup``) deletes only the nets whose deployment, and the
rollback it started, has ended, and a net without a deployment id only when the group has no
deployment in flight and the net is older than the pending limit (its release may be about to
create its deployment).
Every call goes through ``bluegreen._aws.Caller``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen.clock import wall_now
from bluegreen.errors import ResourceNotFoundError, ServiceConfigError

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.analysis import Analysis, Metric
    from bluegreen.analysis_query import AnalysisTargets

__all__ = [
    "CLUSTER_TAG",
    "CREATED_TAG",
    "DEPLOYMENT_TAG",
    "MAX_ALARMS",
    "NET_PREFIX",
    "RELEASE_TAG",
    "SERVICE_TAG",
    "AlarmNet",
    "delete_alarms",
    "net_alarm_request",
    "net_metric",
    "net_name",
    "net_prefix",
    "net_problems",
    "short_name",
]

NET_PREFIX = "bluegreen-net-"
"""Every net alarm's name starts so: ``bluegreen-net-<cluster>-<service>-<release id>``."""
CLUSTER_TAG = "bluegreen:cluster"
SERVICE_TAG = "bluegreen:service"
RELEASE_TAG = "bluegreen:release"
CREATED_TAG = "bluegreen:created"
"""When the release created the net (ISO 8601, UTC, on the release's clock)."""
DEPLOYMENT_TAG = "bluegreen:deployment"
"""The deployment the net is attached to, written once CreateDeployment answered."""
MAX_ALARMS = 10
"""CodeDeploy's limit of alarms in one alarm configuration."""

PERIOD = 60
EVALUATION_PERIODS = 3
DATAPOINTS_TO_ALARM = 3
"""Three minutes in a row must breach: the net is the backstop. The default analysis stops a
bad green at its first evaluation that proves it, one or two minutes into the canary (the
first window may hold too few of green's requests); the net alarms a minute or more later, so
the analysis's verdict, with green's and blue's numbers, is what stops a bad green while the
release process runs, and the net is what stops it once that process is gone."""
NET_MIN_ERRORS = 5
"""A minute breaches only when green answered at least this many errors in it: the alarm's
significance gate (metric math has no confidence interval). Without it one error in a quiet
minute is over a 1% tolerance: a good green at 0.8% 5xx with 90 requests a minute has an
error in about half its minutes and trips three in a row within an hour almost surely. With
it, five errors in 90 requests at 0.8% come about once in 1,200 minutes, three minutes in a
row about once in two billion."""
_NAME_LIMIT = 255
_RELEASE_LENGTH = 12  # bluegreen.scaling_record.new_release_id
_NOT_NAME_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names


# -- the alarm ----------------------------------------------------------------------------------


def short_name(name: str) -> str:
    """A cluster or service name from a name or an ARN."""
    return name.rsplit("/", 1)[-1]


def net_prefix(cluster: str, service: str) -> str:
    """``bluegreen-net-<cluster>-<service>-``: what every net of the service starts with (a
    longer name is cut and ends with a hash of it, so any release finds the same prefix)."""
    middle = _NOT_NAME_SAFE.sub("_", f"{short_name(cluster)}-{short_name(service)}")
    room = _NAME_LIMIT - len(NET_PREFIX) - 1 - _RELEASE_LENGTH
    if len(middle) > room:
        digest = hashlib.sha256(middle.encode()).hexdigest()[:8]
        middle = f"{middle[: room - 9]}-{digest}"
    return f"{NET_PREFIX}{middle}-"


def net_name(cluster: str, service: str, release_id: str) -> str:
    """The net alarm's name for one release: ``bluegreen-net-<cluster>-<service>-<release
    id>``, at most 255 characters of ``A-Z a-z 0-9 _ . -``."""
    return (net_prefix(cluster, service) + _NOT_NAME_SAFE.sub("_", release_id))[:_NAME_LIMIT]


def net_metric(analysis: Analysis) -> Metric | None:
    """The metric the net watches: the analysis's first rate metric; None when it has none
    or ``server_alarm`` is off (then there is no net)."""
    if not analysis.server_alarm:
        return None
    return next((m for m in analysis.metrics if m.kind == "rate"), None)


def _number(value: float) -> str:
    """A number as metric math reads it (no exponent)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def _stat(targets: AnalysisTargets, role: str, metric: str, query_id: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": metric,
                "Dimensions": targets.dimensions(role),
            },
            "Period": PERIOD,
            "Stat": "Sum",
        },
        "Label": f"{role} {metric}",
        "ReturnData": False,
    }


def _excess(metric: Metric, blue_known: str) -> tuple[str, float]:
    """The expression of green's excess over blue (``green_rate``, ``blue_rate``) and its
    threshold: with a tolerance, green minus blue against the tolerance (less blue's share
    when a relative tolerance is looser); with only a relative tolerance, green minus blue
    times ``1 + relative_tolerance`` against 0 (nothing while blue has no sample); with only
    a ceiling, green against it. A ceiling makes any green above it breach."""
    tolerance, relative, ceiling = metric.tolerance, metric.relative_tolerance, metric.ceiling
    if tolerance is not None:
        threshold = float(tolerance)
        value = "green_rate - blue_rate"
        if relative is not None:
            share, t = _number(relative), _number(tolerance)
            value += f" - IF(blue_rate * {share} > {t}, blue_rate * {share} - {t}, 0)"
    elif relative is not None:
        threshold = 0.0
        value = f"IF({blue_known}, green_rate - blue_rate * {_number(1 + relative)}, 0)"
    else:
        assert ceiling is not None  # a metric has at least one limit
        return "green_rate", float(ceiling)
    if ceiling is not None:
        over = f"green_rate - {_number(ceiling)}"
        if threshold:
            over += f" + {_number(threshold)}"
        value = f"IF(green_rate > {_number(ceiling)}, {over}, {value})"
    return value, threshold


def net_alarm_request(
    analysis: Analysis,
    targets: AnalysisTargets,
    *,
    cluster: str,
    service: str,
    release_id: str,
    description: str | None = None,
) -> dict[str, Any] | None:
    """The keyword arguments of PutMetricAlarm for the net of one release, or None when the
    analysis has no rate metric or ``server_alarm`` is off (no net).

    Each minute (Period 60): a role's rate is its errors (``FILL(...,0)``: the ALB publishes
    them only when there are some) over its requests when it served at least its per-minute
    share of ``minimum_sample`` requests (``minimum_sample * 60 / window``), else 0; the
    datapoint is green's excess over blue (see ``_excess``), 0 while green has no sample or
    fewer than ``NET_MIN_ERRORS`` errors. ``DATAPOINTS_TO_ALARM`` breaching datapoints of
    ``EVALUATION_PERIODS`` put it in ALARM; missing data does not breach.
    """
    metric = net_metric(analysis)
    if metric is None or metric.per is None:
        return None
    minimum = _number(round(analysis.minimum_sample * 60 / analysis.window, 4))
    queries = [
        _stat(targets, "green", metric.metric, "green_errors"),
        _stat(targets, "green", metric.per, "green_total"),
        _stat(targets, "blue", metric.metric, "blue_errors"),
        _stat(targets, "blue", metric.per, "blue_total"),
    ]
    sample = {"green": "green_total", "blue": "blue_total"}
    if metric.per != "RequestCount":
        queries += [
            _stat(targets, "green", "RequestCount", "green_requests"),
            _stat(targets, "blue", "RequestCount", "blue_requests"),
        ]
        sample = {"green": "green_requests", "blue": "blue_requests"}
    known = {role: f"FILL({sample[role]}, 0) >= {minimum}" for role in sample}
    for role in ("green", "blue"):
        queries.append(
            {
                "Id": f"{role}_rate",
                "Expression": f"IF({known[role]}, FILL({role}_errors, 0) / {role}_total, 0)",
                "Label": f"{role} {metric.name}",
                "ReturnData": False,
            }
        )
    value, threshold = _excess(metric, known["blue"])
    metric_errors = "green_errors"
    queries.append(
        {
            "Id": "excess",
            "Expression": (
                f"IF({known['green']}, IF(FILL({metric_errors}, 0) >= {NET_MIN_ERRORS}, "
                f"{value}, 0), 0)"
            ),
            "Label": f"green {metric.name} over blue's",
            "ReturnData": True,
        }
    )
    name = net_name(cluster, service, release_id)
    text = description or (
        f"bluegreen alarm net of {short_name(cluster)}/{short_name(service)} "
        f"(release {release_id}): "
        f"green's {metric.name} over blue's, each minute; CodeDeploy stops the deployment "
        "when 3 minutes in a row breach. Deleted when the deployment ends; `bluegreen recover` "
        "deletes it if its release died."
    )
    return {
        "AlarmName": name,
        "AlarmDescription": text[:1024],
        "ActionsEnabled": False,
        "Metrics": queries,
        "EvaluationPeriods": EVALUATION_PERIODS,
        "DatapointsToAlarm": DATAPOINTS_TO_ALARM,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "Tags": [
            {"Key": CLUSTER_TAG, "Value": short_name(cluster)},
            {"Key": SERVICE_TAG, "Value": short_name(service)},
            {"Key": RELEASE_TAG, "Value": release_id},
        ],
    }


# -- the deployment's alarm configuration -------------------------------------------------------


def _group_alarms(alarm_configuration: Mapping[str, Any] | None) -> list[str]:
    config = alarm_configuration or {}
    if not config.get("enabled"):
        return []
    return list(dict.fromkeys(str(a.get("name", "")) for a in config.get("alarms") or ()))


def net_problems(alarm_configuration: Mapping[str, Any] | None) -> list[str]:
    """What stops the net from being added to the deployment group's alarms (each naming the
    fix), or ``[]``; check it before creating anything.

    Args:
        alarm_configuration: the group's ``alarmConfiguration`` (GetDeploymentGroup), or None.
    """
    alarms = _group_alarms(alarm_configuration)
    if len(alarms) + 1 <= MAX_ALARMS:
        return []
    turn_off = advice("Analysis(server_alarm=False)", "server_alarm: false in the analysis")
    return [
        f"the deployment group has {len(alarms)} alarms and CodeDeploy takes at most "
        f"{MAX_ALARMS}, so the analysis's alarm net cannot be added: remove one from the "
        f"group's alarm configuration, or give {turn_off} (the analysis still runs in the "
        "release process, without the net)"
    ]


@attrs.define(kw_only=True)
class AlarmNet:
    """One release's net alarm; make it with ``AlarmNet.create``.

    Attributes:
        name: the alarm's name.
        cluster, service, release_id: whose net it is.
        deployment_id: the deployment it is attached to, once ``attach`` was called.
    """

    name: str
    cluster: str
    service: str
    release_id: str
    deployment_id: str | None = None
    _caller: Caller = attrs.field(alias="caller", repr=False)
    _clients: Clients = attrs.field(alias="clients", repr=False)
    _arn: str | None = attrs.field(default=None, alias="arn", repr=False)
    _removed: bool = attrs.field(default=False, init=False, repr=False)

    @classmethod
    def create(
        cls,
        caller: Caller,
        clients: Clients,
        analysis: Analysis,
        targets: AnalysisTargets,
        *,
        cluster: str,
        service: str,
        release_id: str,
        alarm_configuration: Mapping[str, Any] | None = None,
    ) -> AlarmNet | None:
        """Create the net alarm for a release (PutMetricAlarm, with its tags), or return None
        when the analysis has no rate metric or ``server_alarm`` is off.

        Args:
            alarm_configuration: the group's ``alarmConfiguration``: checked with
                ``net_problems`` before anything is created.

        Raises:
            ServiceConfigError: the net cannot be added to the group's alarms.
            AWSError: PutMetricAlarm failed.
        """
        problems = net_problems(alarm_configuration)
        if problems:
            raise ServiceConfigError(problems)
        request = net_alarm_request(
            analysis, targets, cluster=cluster, service=service, release_id=release_id
        )
        if request is None:
            return None
        created = wall_now(caller.clock).strftime("%Y-%m-%dT%H:%M:%SZ")
        request["Tags"].append({"Key": CREATED_TAG, "Value": created})
        caller("PutMetricAlarm", clients.cloudwatch.put_metric_alarm, **request)
        # The alarm lives in the target groups' partition, region and account: its ARN is
        # known without a DescribeAlarms.
        partition, _, region, account = targets.green_target_group_arn.split(":")[1:5]
        return cls(
            name=request["AlarmName"],
            cluster=short_name(cluster),
            service=short_name(service),
            release_id=release_id,
            caller=caller,
            clients=clients,
            arn=f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{request['AlarmName']}",
        )

    def override(self, alarm_configuration: Mapping[str, Any] | None) -> dict[str, Any]:
        """CreateDeployment's ``overrideAlarmConfiguration``: the group's own alarms (when its
        alarm configuration is enabled) and the net; ``ignorePollAlarmFailure`` as the group
        has it (default false).

        Raises:
            ServiceConfigError: the group has ``MAX_ALARMS`` alarms already.
        """
        problems = net_problems(alarm_configuration)
        if problems:
            raise ServiceConfigError(problems)
        names = [n for n in _group_alarms(alarm_configuration) if n != self.name]
        ignore = bool((alarm_configuration or {}).get("ignorePollAlarmFailure", False))
        return {
            "enabled": True,
            "ignorePollAlarmFailure": ignore,
            "alarms": [{"name": n} for n in [*names, self.name]],
        }

    def attach(self, deployment_id: str) -> None:
        """Tag the net with the deployment it watches (``bluegreen:deployment``), so anyone
        can tell when it may be deleted.

        Raises:
            ResourceNotFoundError: the net alarm no longer exists.
        """
        arn = self._arn or _alarm_arn(self._caller, self._clients, self.name)
        self._arn = arn
        self._caller(
            "TagResource",
            self._clients.cloudwatch.tag_resource,
            ResourceARN=arn,
            Tags=[{"Key": DEPLOYMENT_TAG, "Value": deployment_id}],
        )
        self.deployment_id = deployment_id

    def remove(self) -> None:
        """Delete the net alarm; an alarm already gone is fine, a second call does nothing.
        Call it once the deployment (and its rollback) has ended, or when CreateDeployment
        failed: deleting it while the deployment runs makes CodeDeploy stop the deployment."""
        if self._removed:
            return
        delete_alarms(self._caller, self._clients, [self.name])
        self._removed = True


def _alarm_arn(caller: Caller, clients: Clients, name: str) -> str:
    found = caller("DescribeAlarms", clients.cloudwatch.describe_alarms, AlarmNames=[name]).get(
        "MetricAlarms", []
    )
    if not found:
        raise ResourceNotFoundError(
            f"the alarm net {name} does not exist (deleted while its release ran?); "
            "deploy again to create a new one",
            operation="DescribeAlarms",
            code="ResourceNotFound",
        )
    return str(found[0]["AlarmArn"])


def delete_alarms(caller: Caller, clients: Clients, names: list[str]) -> None:
    """DeleteAlarms, 100 names a call; alarms already gone are fine."""
    for start in range(0, len(names), _DELETE_BATCH):
        with contextlib.suppress(ResourceNotFoundError):  # deleted already
            caller(
                "DeleteAlarms",
                clients.cloudwatch.delete_alarms,
                AlarmNames=names[start : start + _DELETE_BATCH],
            )
