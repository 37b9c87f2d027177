"""The argument checks of the ``Deployment`` driver, made before any call: ``attach``,
``current``, ``wait``, ``abort`` and ``rollback``. Every problem of one call is listed in one
``ValidationError`` naming the argument and what would be right."""

from __future__ import annotations

import math
import re

from bluegreen._advice import advice
from bluegreen.arguments import (
    analysis_problems,
    check_connection,
    group_problems,
    service_problems,
)
from bluegreen.errors import ValidationError, show_value
from bluegreen.native_status import StageMilestone, is_native_deployment_id
from bluegreen.polling import Milestone, interval_problems

__all__ = [
    "DESCRIPTION_LIMIT",
    "check_abort",
    "check_attach",
    "check_current",
    "check_deployment_id",
    "check_rollback",
    "check_wait",
]

DESCRIPTION_LIMIT = 256
"""The most characters CodeDeploy takes in a deployment's description."""

_DEPLOYMENT_ID = re.compile(r"d-[A-Z0-9]{9}")
"""CodeDeploy deployment ids: ``d-`` and nine upper-case letters or digits (``d-A1B2C3123``,
``d-QZMRGSTEX`` in AWS's documentation)."""


def _deployment_id_problems(deployment_id: object) -> list[str]:
    if isinstance(deployment_id, str) and _DEPLOYMENT_ID.fullmatch(deployment_id):
        return []
    if is_native_deployment_id(deployment_id):
        return []
    hint = ""
    if isinstance(deployment_id, str) and _DEPLOYMENT_ID.fullmatch(deployment_id.strip().upper()):
        hint = f" (did you mean {deployment_id.strip().upper()!r}?)"
    shown = repr(deployment_id) if isinstance(deployment_id, str) else show_value(deployment_id)
    return [
        f"deployment id {shown} is not a CodeDeploy deployment id: expected "
        f"'d-' followed by 9 upper-case letters or digits, like 'd-A1B2C3D4E'{hint}, or an "
        "ECS service deployment ARN, 'arn:aws:ecs:<region>:<account>:service-deployment/"
        "<cluster>/<service>/<id>'"
    ]


def check_deployment_id(deployment_id: object) -> str:
    """``deployment_id`` if it has the form of a CodeDeploy deployment id or of an ECS
    service deployment ARN (an ECS-native deployment's id).

    Raises:
        ValidationError: it does not (checked before any AWS call).
    """
    problems = _deployment_id_problems(deployment_id)
    if problems:
        raise ValidationError(problems, subject=advice("deployment id", "--deployment-id"))
    assert isinstance(deployment_id, str)
    return deployment_id


def check_attach(deployment_id: object, **connection: object) -> str:
    """``Deployment.attach``'s arguments; returns the deployment id."""
    check_connection(
        subject=advice("Deployment.attach arguments", "--deployment-id"),
        problems=_deployment_id_problems(deployment_id),
        **connection,
    )
    assert isinstance(deployment_id, str)
    return deployment_id


def check_current(
    cluster: object,
    service: object,
    application: object,
    deployment_group: object,
    **connection: object,
) -> None:
    """``Deployment.current``'s arguments: a service, and a group named in full or not at all."""
    problems = service_problems(cluster=cluster, service=service)
    problems += group_problems(application, deployment_group)
    check_connection(subject="Deployment.current arguments", problems=problems, **connection)


def _timeout_problems(timeout: object) -> list[str]:
    if timeout is None:
        return []
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or math.isnan(timeout)
        or timeout < 0
    ):
        return [
            advice("timeout=", "--timeout")
            + f" must be a number of seconds, 0 or more (or {advice('None', 'left out')} for no "
            f"limit), got {show_value(timeout)}"
        ]
    return []


def _callback_problems(on_progress: object) -> list[str]:
    if on_progress is None or callable(on_progress):
        return []
    return [
        "on_progress= must be a function taking a DeploymentSnapshot (or None), "
        f"got {show_value(on_progress)}"
    ]


def check_wait(
    until: object,
    *,
    timeout: object,
    min_interval: object,
    max_interval: object,
    on_progress: object,
    analysis: object = None,
    on_evaluation: object = None,
    light: object = False,
) -> Milestone | StageMilestone:
    """The milestone ``Deployment.wait`` waits for (a ``Milestone``, or a native lifecycle
    stage ``ecs:<STAGE>``); refuses every wrong argument at once.

    Raises:
        ValidationError: every problem found.
    """
    problems: list[str] = []
    milestone = _milestone(until, problems)
    problems += _timeout_problems(timeout)
    problems += interval_problems(min_interval, max_interval)
    problems += _callback_problems(on_progress)
    problems += analysis_problems(analysis, flags=True)
    if on_evaluation is not None and not callable(on_evaluation):
        problems.append(
            "on_evaluation= must be a function taking an AnalysisRun (or None), "
            f"got {show_value(on_evaluation)}"
        )
    if not isinstance(light, bool):
        problems.append(f"light= must be True or False, got {show_value(light)}")
    if problems or milestone is None:
        raise ValidationError(problems, subject=advice("wait arguments", "command line"))
    return milestone


def _milestone(until: object, problems: list[str]) -> Milestone | StageMilestone | None:
    if isinstance(until, Milestone | StageMilestone):
        return until
    names = [m.value for m in Milestone]
    if isinstance(until, str) and until in names:
        return Milestone(until)
    stage = StageMilestone.parse(until)
    if stage is not None:
        return stage
    hint = ""
    if isinstance(until, str):
        guess = until.strip().lower().replace("-", "_")
        hint = f" (did you mean {guess!r}?)" if guess in names else ""
        if guess.startswith("ecs:"):
            hint = " (no such ECS lifecycle stage)"
    problems.append(
        advice("until=", "--until")
        + f" {show_value(until)} is not a milestone{hint}: use one of {', '.join(names)}, "
        f"or an ECS-native lifecycle stage: {', '.join(StageMilestone.names())}"
    )
    return None


def check_abort(wait: object, timeout: object, on_progress: object) -> None:
    """``Deployment.abort``'s arguments."""
    problems = []
    if not isinstance(wait, bool):
        problems.append(f"wait= must be True or False, got {show_value(wait)}")
    problems += _timeout_problems(timeout)
    problems += _callback_problems(on_progress)
    if problems:
        raise ValidationError(problems, subject="abort arguments")


def check_rollback(description: object) -> None:
    """``Deployment.rollback``'s description: None, or a string CodeDeploy takes."""
    if description is None:
        return
    label = advice("description=", "--description")
    if not isinstance(description, str):
        problem = f"{label} must be a string, got {show_value(description)}"
    elif len(description) > DESCRIPTION_LIMIT:
        problem = (
            f"{label} is {len(description)} characters; CodeDeploy takes at most "
            f"{DESCRIPTION_LIMIT}"
        )
    else:
        return
    raise ValidationError([problem], subject="rollback arguments")
