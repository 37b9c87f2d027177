"""Every error bluegreen raises, in one tree.

::

    BlueGreenError
    ├── ValidationError (ValueError)      bad input, found before anything in AWS changes;
    │   │                                 carries every problem found, not just the first
    │   ├── AppSpecError                  an AppSpec CodeDeploy would reject
    │   ├── TrafficConfigError            an invalid canary/linear/all-at-once configuration
    │   └── ServiceConfigError            a service or deployment group wired up wrongly
    ├── ConflictError                     something already exists with other settings, or
    │                                     another release's deployment is in flight
    ├── ConfigurationError                this machine's AWS set-up cannot work: no region,
    │                                     no credentials, an unknown profile, an invalid
    │                                     region name or endpoint URL
    ├── AWSError                          an AWS call failed (operation, code, request id)
    │   ├── ResourceNotFoundError (LookupError)
    │   ├── AccessDeniedError (PermissionError)
    │   ├── ThrottledError                retryable
    │   └── ServiceUnavailableError       retryable: 5xx, connection reset, timeout
    ├── DeploymentError                   a deployment ended badly (deployment id, lifecycle
    │                                     event, error code and message, diagnostics,
    │                                     rollback deployment id)
    ├── DeploymentStateError              a control (promote, finish, abort, rollback)
    │                                     called in a status that does not allow it
    ├── WaitTimeoutError (TimeoutError)   a wait's deadline passed before its milestone
    └── MissingExtraError (ImportError)   a feature needs an optional extra that is not
                                          installed, e.g. ``bluegreen[sim]``

botocore exceptions are translated into this tree in exactly one place,
``bluegreen._aws.translate_errors``; nothing else reads ``ClientError.response``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "AWSError",
    "AccessDeniedError",
    "AppSpecError",
    "BlueGreenError",
    "ConfigurationError",
    "ConflictError",
    "DeploymentError",
    "DeploymentStateError",
    "MissingExtraError",
    "ResourceNotFoundError",
    "ServiceConfigError",
    "ServiceUnavailableError",
    "ThrottledError",
    "TrafficConfigError",
    "ValidationError",
    "WaitTimeoutError",
]


class BlueGreenError(Exception):
    """Base class of every error raised by bluegreen."""


class ValidationError(BlueGreenError, ValueError):
    """Input that would be rejected, with every problem found.

    Attributes:
        problems: one sentence per problem, each naming what is wrong and how to fix it.
    """

    subject = "input"

    def __init__(self, problems: Iterable[str], *, subject: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        if subject is not None:
            self.subject = subject
        count = len(self.problems)
        if count == 1:  # one line, as a command-line error is
            super().__init__(f"{self.subject} is invalid: {self.problems[0]}")
            return
        header = f"{self.subject} is invalid ({count} problems):"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


class AppSpecError(ValidationError):
    """An AppSpec that CodeDeploy would reject or that would fail the deployment."""

    subject = "AppSpec"


class TrafficConfigError(ValidationError):
    """A traffic-shifting configuration that CodeDeploy would reject."""

    subject = "traffic configuration"


class ServiceConfigError(ValidationError):
    """An ECS service, load balancer or deployment group that cannot run a blue/green deployment."""

    subject = "blue/green set-up"


class ConflictError(BlueGreenError):
    """Something already exists under this name with different settings, or another
    release's deployment of the service is in flight.

    Attributes:
        deployment_id: the deployment in flight that this release lost to, when known.
    """

    def __init__(self, message: str, *, deployment_id: str | None = None) -> None:
        super().__init__(message)
        self.deployment_id = deployment_id


class ConfigurationError(BlueGreenError):
    """The AWS set-up of this machine cannot work, found before any call reaches AWS: no
    region, no credentials, an unknown profile, an invalid region name or endpoint URL.

    Attributes:
        problem: what is wrong, e.g. ``no AWS region is set``.
        fix: how to fix it, in the words of the caller (Python or the command line).
    """

    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem.rstrip(". ")
        self.fix = fix
        super().__init__(f"{self.problem}: {fix}")


class AWSError(BlueGreenError):
    """An AWS API call failed.

    Attributes:
        operation: the API operation, e.g. ``GetDeploymentGroup``.
        code: AWS's error code, e.g. ``DeploymentGroupDoesNotExistException``.
        request_id: AWS's request id, to quote to AWS Support.
        status_code: the HTTP status, when there was a response.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message
        self.operation = operation
        self.code = code
        self.request_id = request_id
        self.status_code = status_code
        where = f"{operation}: " if operation else ""
        what = f"{code}: " if code else ""
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{where}{what}{message}{rid}")


class ResourceNotFoundError(AWSError, LookupError):
    """The named service, group, listener, deployment or config does not exist."""


class AccessDeniedError(AWSError, PermissionError):
    """The credentials in use may not call this operation."""


class ThrottledError(AWSError):
    """AWS refused the call because of its request rate; safe to retry later."""


class ServiceUnavailableError(AWSError):
    """AWS answered 5xx or the connection failed; safe to retry."""


class DeploymentError(BlueGreenError):
    """A deployment failed, was stopped or was rolled back.

    Attributes:
        deployment_id: the CodeDeploy deployment, ``d-XXXXXXXXX``.
        lifecycle_event: the lifecycle event that failed, if known.
        error_code: CodeDeploy's ``errorInformation.code``, e.g. ``HOOK_EXECUTION_FAILURE``.
        error_message: CodeDeploy's ``errorInformation.message``.
        diagnostics: the failed lifecycle event's diagnostics: its message, then the log
            tail when CodeDeploy has one.
        rollback_deployment_id: the rollback deployment CodeDeploy started, if any.
        status: the deployment's final status (``Failed``, ``Stopped``, ``Succeeded`` for
            one rolled back after success), if known.
        analysis: the ``AnalysisRun`` of the wait that saw it end, if it ran one (its
            ``report()`` says what green and blue measured; ``stopped`` is set when the
            analysis stopped the deployment).
    """

    analysis: Any = None

    def __init__(
        self,
        message: str,
        *,
        deployment_id: str,
        lifecycle_event: str | None = None,
        error_code: str | None = None,
        rollback_deployment_id: str | None = None,
        error_message: str | None = None,
        diagnostics: str | None = None,
        status: str | None = None,
    ) -> None:
        self.message = message
        self.deployment_id = deployment_id
        self.lifecycle_event = lifecycle_event
        self.error_code = error_code
        self.error_message = error_message
        self.diagnostics = diagnostics
        self.rollback_deployment_id = rollback_deployment_id
        self.status = status
        parts = [f"deployment {deployment_id}: {message}"]
        if lifecycle_event:
            parts.append(f"at {lifecycle_event}")
        if error_code:
            parts.append(f"[{error_code}]")
        if rollback_deployment_id:
            parts.append(f"(rolled back by {rollback_deployment_id})")
        super().__init__(" ".join(parts))


class DeploymentStateError(BlueGreenError):
    """A deployment is not in a status that allows the action; the message says what to do.

    Attributes:
        deployment_id: the CodeDeploy deployment.
        status: its status when the action was refused, if known.
    """

    def __init__(self, message: str, *, deployment_id: str, status: str | None = None) -> None:
        self.message = message
        self.deployment_id = deployment_id
        self.status = status
        super().__init__(message)


class WaitTimeoutError(BlueGreenError, TimeoutError):
    """A wait gave up before the deployment reached its milestone.

    Attributes:
        deployment_id: the deployment waited for.
        milestone: the milestone, e.g. ``traffic_shifted``.
        waiting_for: what the deployment was waiting for at the last look.
        elapsed: seconds waited, on the wait's clock.
    """

    def __init__(
        self, *, deployment_id: str, milestone: str, waiting_for: str, elapsed: float
    ) -> None:
        self.deployment_id = deployment_id
        self.milestone = milestone
        self.waiting_for = waiting_for
        self.elapsed = elapsed
        super().__init__(
            f"deployment {deployment_id} did not reach {milestone} within {elapsed:g} s; "
            f"it is waiting for {waiting_for}"
        )


class MissingExtraError(BlueGreenError, ImportError):
    """A feature needs an optional extra of bluegreen that is not installed.

    The message is one line that names the ``pip install`` command to run.

    Attributes:
        feature: what was asked for, e.g. ``bluegreen.testing``.
        extra: the extra that provides it, e.g. ``sim``.
        missing: the module that could not be imported, e.g. ``moto``.
    """

    def __init__(self, feature: str, extra: str, missing: str) -> None:
        self.feature = feature
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{feature} needs bluegreen's {extra!r} extra ({missing} is not installed): "
            f"pip install 'bluegreen[{extra}]'",
            name=missing,
        )


# -- quoting a value in a message ------------------------------------------------------


def escape_text(text: str, *, quotes: bool = True) -> str:
    """``text`` with control and non-ASCII characters escaped (and quotes and backslashes,
    unless ``quotes`` is false), so a message quoting input stays on one readable line."""
    out = []
    for char in text:
        if quotes and char in "\\'":
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif char in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char])
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


def show_value(value: object) -> str:
    """``int 123``: a value's type and a short rendering, safe whatever the value (a
    ``__repr__`` that raises, a huge or multi-line one)."""
    try:
        text = repr(value)
    except Exception:
        text = "(no repr)"
    text = escape_text(text, quotes=False)
    if len(text) > 40:
        text = text[:30] + "..."
    try:
        kind = type(value).__name__
    except Exception:
        kind = "object"
    return f"{kind} {text}"
