"""Registering a release's task-definition revision once, and deregistering it when the release
fails: the one RegisterTaskDefinition and DeregisterTaskDefinition path of ``deploy``.

RegisterTaskDefinition has no client token, so a call retried after its answer was lost
registers a second revision, left ACTIVE and unused. Each release therefore tags its revision
with a token of its own (``bluegreen:release=<token>``, beside the tags the revision carries
over from the current one, within ECS's 50 tags). Throttling and an endpoint never reached are
retried directly: nothing happened. After an answer that leaves it open whether the revision
was registered (a 5xx, a reset or timed-out connection) the family's newest revisions are
searched for the token first, and the call is made again only when ours is not there. When
looking fails (or the revision has no room for the tag), nothing is retried, ``may_exist``
says so, and the error says how to look.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._aws import RETRYABLE, UNREACHABLE
from bluegreen.errors import AWSError, ServiceUnavailableError

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = ["MAX_TAGS", "RELEASE_TAG", "Registration", "deregister", "deregister_command"]

RELEASE_TAG = "bluegreen:release"
"""The tag key that names the release a revision was registered for."""

MAX_TAGS = 50
"""ECS's limit of tags per resource."""

NEWEST = 5
"""How many of the family's newest ACTIVE revisions are searched for ours."""


def ambiguous(error: AWSError) -> bool:
    """Whether a failed call may have been carried out: a 5xx, or a connection that failed
    after the request may have been sent (not one that never reached the endpoint)."""
    return isinstance(error, ServiceUnavailableError) and error.code != UNREACHABLE


def deregister_command(arn: str) -> str:
    """The AWS CLI command that deregisters ``arn`` (in its own region)."""
    parts = arn.split(":")
    region = f" --region {parts[3]}" if len(parts) > 5 and parts[3] else ""
    return f"aws ecs deregister-task-definition{region} --task-definition {arn}"


@attrs.define
class Registration:
    """One RegisterTaskDefinition, retried without ever registering two revisions.

    Args:
        aws: the clients.
        call: the ``Caller`` every call goes through (its clock, budget and counts).
        arguments: RegisterTaskDefinition's arguments (``family`` and ``tags`` included).
        token: the release's token, the value of its ``bluegreen:release`` tag.

    ``arn`` is the revision registered (or found) once known; ``may_exist`` is True while it
    is unknown whether an attempt registered one.
    """

    aws: Clients
    call: Caller
    arguments: Mapping[str, Any] = attrs.field(repr=False)  # environment values
    token: str = attrs.Factory(lambda: uuid.uuid4().hex)
    arn: str | None = attrs.field(default=None, init=False)
    may_exist: bool = attrs.field(default=False, init=False)
    _tagged: bool = attrs.field(default=False, init=False)
    _found: str | None = attrs.field(default=None, init=False)

    @property
    def family(self) -> str:
        return str(self.arguments.get("family", ""))

    def register(self) -> str:
        """The ARN of the revision registered (or registered already by a lost attempt).

        Raises:
            AWSError: RegisterTaskDefinition failed and no revision of ours exists; or it is
                unknown whether one does (``may_exist``; a note says how to look).
        """
        arguments = self._tagged_arguments()
        self._found = None
        try:
            answer = self.call(
                "RegisterTaskDefinition",
                self.aws.ecs.register_task_definition,
                retry_if=self._judge,
                **arguments,
            )
        except AWSError as exc:
            if self._found is None:
                if self.may_exist:
                    exc.add_note(self._how_to_look())
                raise
            self.arn = self._found
        else:
            self.arn = str(answer["taskDefinition"]["taskDefinitionArn"])
        return self.arn

    def undo(self, cause: BaseException, *, keep: bool = False) -> None:
        """The release failed: deregister the revision it registered (or found), and say on
        ``cause`` what became of it. ``keep``: a deployment may have been created with it,
        so it stays."""
        if self.arn is None:
            return
        if keep:
            cause.add_note(
                f"task-definition revision {self.arn} was kept: the deployment may have been "
                "created with it"
            )
            return
        deregister(self.call, self.aws, self.arn, cause)

    def _tagged_arguments(self) -> dict[str, Any]:
        """The arguments with our token as a tag; a token copied from the current revision
        is replaced. Without room for it (50 tags already), the tags stay as they are and an
        ambiguous failure cannot be looked into."""
        arguments = dict(self.arguments)
        tags = [dict(t) for t in arguments.get("tags") or () if t.get("key") != RELEASE_TAG]
        self._tagged = len(tags) < MAX_TAGS
        if self._tagged:
            tags.append({"key": RELEASE_TAG, "value": self.token})
        if tags:
            arguments["tags"] = tags
        else:
            arguments.pop("tags", None)
        return arguments

    def _judge(self, error: AWSError) -> bool:
        """Whether to try again after ``error``, looking for ours first when the error
        leaves it open whether the revision was registered
        (the ``Caller`` judges each error once)."""
        if self.may_exist:
            return False  # never again once it is unknown whether an attempt registered one
        if not ambiguous(error):
            return isinstance(error, RETRYABLE)  # refused, or never sent: nothing happened
        self.may_exist = True
        if not self._tagged:
            return False
        try:
            self._found = self._search()
        except AWSError as exc:
            raise ServiceUnavailableError(
                f"RegisterTaskDefinition may have registered a revision of {self.family}, "
                f"and looking for it failed ({exc}); not trying again, to avoid a second "
                "revision",
                operation="RegisterTaskDefinition",
                code=exc.code,
            ) from exc
        self.may_exist = False
        return self._found is None

    def _search(self) -> str | None:
        """Our revision's ARN if it exists: one of the family's newest ACTIVE revisions
        tagged with our token."""
        answer = self.call(
            "ListTaskDefinitions",
            self.aws.ecs.list_task_definitions,
            familyPrefix=self.family,
            status="ACTIVE",
            sort="DESC",
            maxResults=NEWEST,
        )
        arns = [str(a) for a in answer.get("taskDefinitionArns") or ()]
        arns.sort(key=_revision_number, reverse=True)  # an emulator may ignore sort=DESC
        for arn in arns[:NEWEST]:
            described = self.call(
                "DescribeTaskDefinition",
                self.aws.ecs.describe_task_definition,
                taskDefinition=arn,
                include=["TAGS"],
            )
            tags = {t.get("key"): t.get("value") for t in described.get("tags") or ()}
            if tags.get(RELEASE_TAG) == self.token:
                return arn
        return None

    def _how_to_look(self) -> str:
        if not self._tagged:
            return (
                f"a revision of {self.family} may have been registered (its {MAX_TAGS} tags "
                f"left no room for the {RELEASE_TAG} tag, so it cannot be told apart): "
                f"see `aws ecs list-task-definitions --family-prefix {self.family} --sort DESC` "
                f"and deregister one no deployment uses with `{deregister_command('ARN')}`"
            )
        return (
            f"a revision of {self.family} may have been registered: look for the tag "
            f"{RELEASE_TAG}={self.token} among `aws ecs list-task-definitions --family-prefix "
            f"{self.family} --sort DESC` (`aws ecs describe-task-definition --include TAGS "
            f"--task-definition ARN`) and deregister it with `{deregister_command('ARN')}`"
        )


def _revision_number(arn: str) -> int:
    number = arn.rsplit(":", 1)[-1]
    return int(number) if number.isdigit() else 0


def deregister(call: Caller, aws: Clients, arn: str, cause: BaseException) -> None:
    """Deregister ``arn``, registered for a release that failed, and say on ``cause`` whether
    it was; when it could not be, the note gives the command that does it by hand.

    A retry after an ambiguous failure may be refused because the first attempt went through:
    the revision is then read back, and counts as deregistered when it is INACTIVE.
    """
    lost: list[AWSError] = []

    def retry_if(error: AWSError) -> bool:
        if ambiguous(error):
            lost.append(error)
        return isinstance(error, RETRYABLE)

    try:
        call(
            "DeregisterTaskDefinition",
            aws.ecs.deregister_task_definition,
            retry_if=retry_if,
            taskDefinition=arn,
        )
    except AWSError as exc:
        if not (lost and _inactive(call, aws, arn)):
            cause.add_note(
                f"task-definition revision {arn} could not be deregistered ({exc}): "
                f"deregister it by hand with `{deregister_command(arn)}`"
            )
            return
    cause.add_note(f"task-definition revision {arn} was deregistered again")


def _inactive(call: Caller, aws: Clients, arn: str) -> bool:
    try:
        answer = call(
            "DescribeTaskDefinition", aws.ecs.describe_task_definition, taskDefinition=arn
        )
    except AWSError:
        return False
    return bool(answer["taskDefinition"].get("status") == "INACTIVE")
