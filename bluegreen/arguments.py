"""The arguments ``deploy`` and ``plan`` share: which combinations are refused before any
call, and what ``auto_rollback=`` and ``suspend_scaling=`` turn into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bluegreen._advice import advice
from bluegreen.errors import ValidationError
from bluegreen.scaling import FLAGS

__all__ = [
    "ROLLBACK_EVENTS",
    "check_arguments",
    "rollback_events",
    "rollback_override",
    "scaling_flags",
]

ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
"""What ``auto_rollback=True`` turns on: roll back on failure, on alarm and on request."""


def check_arguments(
    image: str | Mapping[str, str] | None,
    task_definition: str | None,
    application: str | None,
    deployment_group: str | None,
) -> None:
    problems = []
    if (image is None) == (task_definition is None):
        problems.append(
            "give exactly one of "
            + advice(
                "image= (a new image for the current task definition) and task_definition= "
                "(an existing task-definition ARN)",
                "--image (a new image for the current task definition) and --task-definition "
                "(an existing task-definition ARN)",
            )
        )
    if (application is None) != (deployment_group is None):
        problems.append(
            "give "
            + advice("application= and deployment_group=", "--application and --deployment-group")
            + " together, or neither"
        )
    if problems:
        raise ValidationError(problems, subject="deploy arguments")


def rollback_events(value: Sequence[str] | bool | None) -> tuple[tuple[str, ...], list[str]]:
    """The events ``auto_rollback=`` turns on, and problems with it (None: the group's)."""
    if value is None or value is False:
        return (), []
    if value is True:
        return ROLLBACK_EVENTS, []
    items = value.split(",") if isinstance(value, str) else list(value)
    events = tuple(dict.fromkeys(e.strip() for e in items if e and e.strip()))
    problems = []
    what = advice("auto_rollback=", "--rollback-events")
    if not events:
        off = advice("False", "--no-rollback")
        problems.append(
            f"{what} lists no events: give some of {', '.join(ROLLBACK_EVENTS)}, or {off} to "
            "turn rollback off"
        )
    unknown = [e for e in events if e not in ROLLBACK_EVENTS]
    if unknown:
        problems.append(
            f"{what} names unknown event(s) {', '.join(unknown)}: use {', '.join(ROLLBACK_EVENTS)}"
        )
    return events, problems


def rollback_override(value: Sequence[str] | bool | None) -> dict[str, Any] | None:
    """CreateDeployment's ``autoRollbackConfiguration`` for ``auto_rollback=``."""
    if value is None:
        return None
    events, _ = rollback_events(value)
    if not events:
        return {"enabled": False}
    return {"enabled": True, "events": list(events)}


def scaling_flags(value: bool | Sequence[str]) -> tuple[str, ...]:
    """The kinds of scaling ``suspend_scaling=`` names (True: all three; False: none)."""
    if value is True:
        return tuple(FLAGS)
    if value is False:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))
