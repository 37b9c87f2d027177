"""Starting an ECS-native deployment, never twice: UpdateService with the new task definition
(and the whole ``deploymentConfiguration`` when the plan changes it), and the service
deployment it started.

UpdateService has no client token. Throttling and an endpoint never reached are retried
directly (nothing happened). After an answer that leaves it open whether the service was
updated (a 5xx, a reset connection) the service's recent deployments are searched first
(ListServiceDeployments, then DescribeServiceRevisions of their target revisions): one whose
target revision runs our task definition, and that the service did not have before, is ours,
and UpdateService is not sent again. When looking fails, nothing is retried and ``may_exist``
says so. UpdateService's answer names the new deployment (``currentServiceDeployment``); when
it does not, the same search finds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._aws import RETRYABLE
from bluegreen.clock import wall_now
from bluegreen.errors import AWSError, ServiceConfigError, ServiceUnavailableError
from bluegreen.native_description import record_description
from bluegreen.registration import Registration, ambiguous

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.plan import Plan

__all__ = ["NativeUpdate", "start_native"]

CLOCK_SKEW = dt.timedelta(minutes=15)
"""SigV4 refuses requests signed further than this off AWS's clock: the search for a lost
deployment starts this long before the caller's clock says it is now."""


def _clock_now(request: Any) -> Callable[[], dt.datetime]:
    """The caller's clock's "now" (the wall clock for the real one; simulated time on a
    simulator's): the lost-deployment search is on the same time line as AWS's (or the
    simulator's) timestamps."""
    return lambda: wall_now(request.call.clock)


@attrs.define
class NativeUpdate:
    """One UpdateService that starts a service deployment, retried without starting two.

    Args:
        aws, call: the clients and the ``Caller``.
        cluster, service: the service.
        task_definition: the revision to deploy (ARN).
        deployment_configuration: the whole ``deploymentConfiguration`` to send, or None to
            keep the service's.
        known: service deployments that existed before (never taken for ours).
    """

    aws: Clients
    call: Caller
    cluster: str
    service: str
    task_definition: str
    deployment_configuration: Mapping[str, Any] | None = None
    known: frozenset[str] = frozenset()
    now: Callable[[], dt.datetime] = attrs.Factory(_clock_now, takes_self=True)
    may_exist: bool = False
    _since: dt.datetime = attrs.field(init=False)
    _found: str | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        self._since = self.now() - CLOCK_SKEW

    def start(self) -> str:
        """The ARN of the service deployment this update started (or had started already).

        Raises:
            AWSError: UpdateService failed and no deployment of ours exists; or it is unknown
                whether one does (``may_exist``; a note says how to look).
        """
        arguments: dict[str, Any] = {
            "cluster": self.cluster,
            "service": self.service,
            "taskDefinition": self.task_definition,
        }
        if self.deployment_configuration is not None:
            arguments["deploymentConfiguration"] = dict(self.deployment_configuration)
        self._found = None
        try:
            answer = self.call(
                "UpdateService", self.aws.ecs.update_service, retry_if=self._judge, **arguments
            )
        except AWSError:
            if self._found is not None:
                return self._found
            raise
        current = (answer.get("service") or {}).get("currentServiceDeployment")
        if current and current not in self.known:
            return str(current)
        found = self._look()
        if found is None:
            raise ServiceUnavailableError(
                f"UpdateService of {self.cluster}/{self.service} was accepted, but no service "
                f"deployment of {self.task_definition} was found: "
                f"`aws ecs list-service-deployments --cluster {self.cluster} --service "
                f"{self.service}` shows what ECS started",
                operation="UpdateService",
            )
        return found

    def _judge(self, error: AWSError) -> bool:
        """Whether to send UpdateService again after ``error``: only when nothing happened,
        or when looking shows our deployment does not exist."""
        if self.may_exist:
            return False
        if not ambiguous(error):
            return isinstance(error, RETRYABLE)
        self._found = self._look()
        return self._found is None

    def _look(self) -> str | None:
        self.may_exist = True
        try:
            found = self._search()
        except AWSError as exc:
            raise ServiceUnavailableError(
                f"UpdateService may have started a deployment of {self.task_definition}, and "
                f"looking for it failed ({exc}); not trying again, to avoid a second "
                f"deployment. See `aws ecs list-service-deployments --cluster {self.cluster} "
                f"--service {self.service}` before deploying again",
                operation="UpdateService",
                code=exc.code,
            ) from exc
        self.may_exist = False
        return found

    def recent(self) -> list[str]:
        """The service deployments created since the search window opened."""
        return [str(b.get("serviceDeploymentArn")) for b in self._recent_briefs()]

    def _recent_briefs(self) -> list[Mapping[str, Any]]:
        answer = self.call(
            "ListServiceDeployments",
            self.aws.ecs.list_service_deployments,
            cluster=self.cluster,
            service=self.service,
            createdAt={"after": self._since},
        )
        return list(answer.get("serviceDeployments") or ())

    def _search(self) -> str | None:
        """Our deployment's ARN if it exists: a new one whose target revision runs our task
        definition (the newest such)."""
        briefs = [
            b for b in self._recent_briefs() if b.get("serviceDeploymentArn") not in self.known
        ]
        targets = {
            str(b["targetServiceRevisionArn"]) for b in briefs if b.get("targetServiceRevisionArn")
        }
        ours = set(self._revisions_running(targets))
        mine = [b for b in briefs if b.get("targetServiceRevisionArn") in ours]
        if not mine:
            return None
        newest = max(mine, key=lambda b: str(b.get("createdAt") or ""))
        return str(newest["serviceDeploymentArn"])

    def _revisions_running(self, arns: Iterable[str]) -> Iterable[str]:
        wanted = sorted(arns)
        for start in range(0, len(wanted), 20):
            answer = self.call(
                "DescribeServiceRevisions",
                self.aws.ecs.describe_service_revisions,
                serviceRevisionArns=wanted[start : start + 20],
            )
            for revision in answer.get("serviceRevisions") or ():
                if revision.get("taskDefinition") == self.task_definition:
                    yield str(revision["serviceRevisionArn"])


def start_native(aws: Clients, call: Caller, plan: Plan) -> str:
    """Register the plan's revision (when it registers one) and start the deployment;
    the service deployment's ARN. A refused UpdateService, or a service with no room for the
    description tag, deregisters the revision again.

    Raises:
        AWSError: as ``Registration.register`` and ``NativeUpdate.start``.
    """
    state = plan.service
    registration: Registration | None = None
    arn = plan.new_task_definition_arn
    if plan.registers_task_definition:
        registration = Registration(aws, call, plan.new_task_definition)
        arn = registration.register()
    assert arn is not None  # a plan without problems has one
    configuration = None
    if plan.changes_strategy and plan.strategy is not None:
        configuration = plan.strategy.to_api()
    update = NativeUpdate(
        aws, call, state.cluster, state.service, arn, deployment_configuration=configuration
    )
    if not plan.registers_task_definition:
        # A revision deployed before may be in a recent deployment: those are not ours.
        update.known = frozenset(update.recent())
    try:
        if plan.description is not None:  # H7: the description, a tag (native_description)
            record_description(
                call,
                aws,
                cluster=state.cluster,
                service=state.service,
                service_arn=state.service_arn,
                task_definition_arn=arn,
                description=plan.description,
            )
        return update.start()
    except (AWSError, ServiceConfigError) as exc:  # a refused update, or no room for the tag
        if registration is not None:
            registration.undo(exc, keep=update.may_exist)
        raise
