"""Creating a deployment, never twice: the one CreateDeployment path, for ``deploy`` and for
``Deployment.rollback``.

CreateDeployment has no client token, so a retried call can start a second deployment. Each
request's AppSpec starts with a comment holding a request id, which makes its sha256 (which
GetDeployment returns) unique to the request, so a deployment found with that sha256 is
ours. Throttling is retried (AWS refused before doing anything). After an answer that leaves
it open whether the deployment was created (5xx, timeout, dropped connection) the group is
searched for ours first, and the call is retried only when it is not there. A refusal because
a deployment is active (``DeploymentLimitExceededException``) is ours when an earlier attempt
went through unlisted. When looking fails, nothing is retried and ``may_exist`` says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.clock import wall_now
from bluegreen.errors import AWSError, ServiceUnavailableError, ThrottledError
from bluegreen.listing import ACTIVE_STATUSES, batch_get_deployments, list_deployments

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.appspec import AppSpec

__all__ = ["CreateRequest"]

# SigV4 refuses requests signed more than 15 minutes off AWS's clock, so any client that can
# call CreateDeployment at all is within this much of the createTime AWS records.
CLOCK_SKEW = dt.timedelta(minutes=15)


def _clock_now(request: Any) -> Callable[[], dt.datetime]:
    """The caller's clock's "now" (the wall clock for the real one; simulated time on a
    simulator's): the lost-deployment search is on the same time line as AWS's (or the
    simulator's) timestamps."""
    return lambda: wall_now(request.call.clock)


@attrs.define
class CreateRequest:
    """One CreateDeployment request, retried without ever starting two deployments.

    Args:
        aws: the clients.
        call: the ``Caller`` every call goes through (its clock, budget and counts).
        application, deployment_group: where to deploy.
        appspec: what to deploy.
        deployment_config: overrides the group's config when given.
        auto_rollback: CreateDeployment's ``autoRollbackConfiguration`` when given.
        description: the deployment's description.
        override_alarms: CreateDeployment's ``overrideAlarmConfiguration`` when given (the
            analysis's alarm net: ``bluegreen.analysis_alarm.AlarmNet.override``).
        now: the time now (the server's, when known): the search for a lost deployment
            starts ``CLOCK_SKEW`` before it.

    ``may_exist`` is True while it is unknown whether AWS created the deployment: after an
    ambiguous failure that could not be cleared up by looking.
    """

    aws: Clients
    call: Caller
    application: str
    deployment_group: str
    appspec: AppSpec
    deployment_config: str | None = None
    auto_rollback: dict[str, Any] | None = None
    description: str | None = None
    override_alarms: Mapping[str, Any] | None = None
    now: Callable[[], dt.datetime] = attrs.Factory(_clock_now, takes_self=True)
    request_id: str = attrs.Factory(lambda: uuid.uuid4().hex)
    may_exist: bool = False
    _content: str = attrs.field(init=False)
    _sha256: str = attrs.field(init=False)
    _since: dt.datetime = attrs.field(init=False)
    _found: str | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        # The comment changes nothing CodeDeploy reads but makes the sha256 ours alone.
        self._content = f"# bluegreen request {self.request_id}\n" + self.appspec.to_yaml()
        self._sha256 = hashlib.sha256(self._content.encode("utf-8")).hexdigest()
        self._since = self.now() - CLOCK_SKEW

    def _arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "applicationName": self.application,
            "deploymentGroupName": self.deployment_group,
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": self._content, "sha256": self._sha256},
            },
        }
        if self.deployment_config is not None:
            arguments["deploymentConfigName"] = self.deployment_config
        if self.auto_rollback is not None:
            arguments["autoRollbackConfiguration"] = self.auto_rollback
        if self.description is not None:
            arguments["description"] = self.description
        if self.override_alarms is not None:
            arguments["overrideAlarmConfiguration"] = dict(self.override_alarms)
        return arguments

    def create(self) -> str:
        """The id of the deployment this request created (or had created already).

        Raises:
            AWSError: CreateDeployment failed and no deployment of ours exists; or it is
                unknown whether one does (``may_exist``; the message says how to look).
        """
        self._found = None
        try:
            answer = self.call(
                "CreateDeployment",
                self.aws.codedeploy.create_deployment,
                retry_if=self._judge,
                **self._arguments(),
            )
        except AWSError:
            if self._found is not None:
                return self._found
            raise
        return str(answer["deploymentId"])

    def _judge(self, error: AWSError) -> bool:
        """Whether to try again after ``error``, looking for ours first when the error
        leaves it open whether the deployment was created
        (the ``Caller`` judges each error once)."""
        if self.may_exist:
            return False  # never again once it is unknown whether an attempt created it
        if isinstance(error, ThrottledError):
            return True  # refused before anything happened
        if isinstance(error, ServiceUnavailableError):
            # The request may have been carried out with the answer lost.
            self._found = self._look_for_ours(recent=True)
            return self._found is None
        if error.code == "DeploymentLimitExceededException":
            # A deployment is active although the preflight saw none: ours, if an earlier
            # attempt went through and ListDeployments did not show it yet.
            self._found = self._look_for_ours(recent=False)
        return False

    def _look_for_ours(self, *, recent: bool) -> str | None:
        self.may_exist = True
        try:
            found = self._search(recent=recent)
        except AWSError as exc:
            raise ServiceUnavailableError(
                f"CreateDeployment may have created a deployment, and looking for it failed "
                f"({exc}); not trying again, to avoid a second deployment. Look for a "
                f"deployment of revision sha256 {self._sha256} in {self.application}/"
                f"{self.deployment_group} before deploying again",
                operation="CreateDeployment",
                code=exc.code,
            ) from exc
        self.may_exist = False
        return found

    def _search(self, *, recent: bool) -> str | None:
        """Our deployment's id if it exists: the one whose revision has our sha256."""
        for info in self._deployments(recent=recent):
            sha = ((info.get("revision") or {}).get("appSpecContent") or {}).get("sha256")
            if sha == self._sha256:
                return str(info["deploymentId"])
        return None

    def _deployments(self, *, recent: bool) -> Iterator[Mapping[str, Any]]:
        if recent:
            ids = list_deployments(
                self.call,
                self.aws,
                self.application,
                self.deployment_group,
                createTimeRange={"start": self._since},
            )
        else:
            ids = list_deployments(
                self.call, self.aws, self.application, self.deployment_group, ACTIVE_STATUSES
            )
        return batch_get_deployments(self.call, self.aws, ids)
