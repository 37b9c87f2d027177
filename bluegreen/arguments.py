"""The argument checks ``deploy`` and ``plan`` share, made before any call: images against
the image-reference grammar, hooks, flags, names, and the ``clients=``/``session=``/``clock=``
every entry point takes. Every wrong type, empty name or unknown value of one call is listed
in one ``ValidationError`` that names the argument as its reader spells it (``image=`` in
Python, ``--image`` on the command line) and what would be right. Also what
``auto_rollback=`` and ``suspend_scaling=`` turn into. The checks of the ``Deployment``
driver's methods are in ``bluegreen.driver_arguments``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bluegreen._advice import advice
from bluegreen.analysis import Analysis
from bluegreen.errors import ValidationError, show_value
from bluegreen.image_reference import image_reference_problems
from bluegreen.scaling_record import FLAGS
from bluegreen.status import LifecycleEvent
from bluegreen.traffic import TrafficConfig

__all__ = [
    "ROLLBACK_EVENTS",
    "check_arguments",
    "check_connection",
    "connection_problems",
    "group_problems",
    "image_problems",
    "name_problems",
    "rollback_events",
    "rollback_override",
    "scaling_flags",
    "service_problems",
]

ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
"""What ``auto_rollback=True`` turns on: roll back on failure, on alarm and on request."""


def analysis_problems(analysis: object, *, flags: bool = False) -> list[str]:
    """Problems with an ``analysis=`` argument: an ``Analysis`` or None (with ``flags``, as
    ``wait`` takes it, also True or False)."""
    if analysis is None or isinstance(analysis, Analysis) or (flags and isinstance(analysis, bool)):
        return []
    return [
        f"analysis= must be a bluegreen.Analysis, got {show_value(analysis)}: build one with "
        "Analysis(...) or Analysis.from_file(path), or use bluegreen.DEFAULT_ANALYSIS"
    ]


def check_arguments(
    cluster: object,
    service: object,
    *,
    image: object,
    task_definition: object,
    hooks: object,
    traffic_config: object,
    auto_rollback: object,
    description: object,
    application: object,
    deployment_group: object,
    allow_mutable_image_tags: object,
    suspend_scaling: object,
    check_hooks: object,
    clients: object,
    session: object,
    clock: object,
    analysis: object = None,
    budget: object = None,
    hook_role: object = None,
) -> None:
    """Refuse the arguments of ``deploy`` and ``plan`` that cannot work, all at once.

    What needs AWS to judge (a container the task definition lacks, a hook event or rollback
    event that does not exist, a mutable tag) is left to the preflight, which lists it in
    the plan's problems.

    Raises:
        ValidationError: every problem found.
    """
    problems = service_problems(cluster=cluster, service=service)
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
    elif image is not None:
        problems += image_problems(image)
    else:
        problems += name_problems("task_definition", "--task-definition", task_definition, "an ARN")
    problems += _hooks_problems(hooks)
    if traffic_config is not None and not isinstance(traffic_config, TrafficConfig):
        problems += name_problems(
            "traffic_config", "--config", traffic_config, "a deployment config name"
        )
    problems += _names_or_flag("auto_rollback", auto_rollback, ", ".join(ROLLBACK_EVENTS))
    problems += _names_or_flag("suspend_scaling", suspend_scaling, ", ".join(FLAGS))
    if description is not None and not isinstance(description, str):
        problems.append(f"description= must be a string, got {show_value(description)}")
    problems += group_problems(application, deployment_group)
    for name, value in (
        ("allow_mutable_image_tags", allow_mutable_image_tags),
        ("check_hooks", check_hooks),
    ):
        if not isinstance(value, bool):
            problems.append(f"{name}= must be True or False, got {show_value(value)}")
    problems += connection_problems(clients, session, clock, budget)
    problems += analysis_problems(analysis)
    if hook_role is not None:
        problems += name_problems("hook_role", "--hook-role", hook_role, "an IAM role ARN")
    if problems:
        raise ValidationError(problems, subject=advice("deploy arguments", "command line"))


def image_problems(image: object) -> list[str]:
    """Why ``image=`` (one reference, or ``{container: reference}``) cannot be deployed."""
    flag = advice("image", "--image")
    if isinstance(image, str):
        return [f"{flag} {p}" for p in image_reference_problems(image)]
    if not isinstance(image, Mapping):
        return [
            f"{flag}= must be an image reference (a string) or a mapping "
            f"{{container: image}}, got {show_value(image)}"
        ]
    if not image:
        return [
            advice("image= is an empty mapping", "--image names no container")
            + ": name a container and its image"
        ]
    problems = []
    for container, reference in image.items():
        if not isinstance(container, str) or not container.strip():
            problems.append(
                f"{flag}: a container name must be a non-empty string, got {show_value(container)}"
            )
            continue
        problems += [
            f"{flag} of container {container!r}: {p}" for p in image_reference_problems(reference)
        ]
    return problems


def _hooks_problems(hooks: object) -> list[str]:
    if hooks is None:
        return []
    example = "{'AfterAllowTestTraffic': 'CodeDeployHook_verify'}"
    if not isinstance(hooks, Mapping):
        return [
            f"hooks= must be a mapping {{lifecycle event: Lambda function name or ARN}}, e.g. "
            f"{example}, got {show_value(hooks)}"
        ]
    problems = []
    events = ", ".join(e.value for e in LifecycleEvent.hookable())
    for event, function in hooks.items():
        if not isinstance(event, str):
            problems.append(f"hooks= keys are lifecycle events ({events}), got {show_value(event)}")
        if not isinstance(function, str) or not function.strip():
            problems.append(
                f"hooks= value for {event!r:.60}: give a Lambda function name or ARN, "
                f"got {show_value(function)}"
            )
    return problems


def _names_or_flag(name: str, value: object, known: str) -> list[str]:
    """``auto_rollback=``/``suspend_scaling=``: a bool, a comma-separated string or a list of
    strings (which names are known is for the preflight to say)."""
    if value is None or isinstance(value, bool | str):
        return []
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return []
    return [
        f"{name}= takes True, False, or some of {known} (a list or a comma-separated string), "
        f"got {show_value(value)}"
    ]


# -- shared by every entry point ----------------------------------------------------------


def name_problems(python: str, cli: str, value: object, what: str) -> list[str]:
    """A required name: a non-empty string without surrounding whitespace."""
    label = advice(f"{python}=", cli)
    if not isinstance(value, str):
        return [f"{label} must be {what} (a string), got {show_value(value)}"]
    if not value.strip():
        return [f"{label} is empty: give {what}"]
    if value != value.strip():
        return [f"{label} {value!r} has spaces around it: give {value.strip()!r}"]
    return []


def service_problems(*, cluster: object, service: object) -> list[str]:
    return name_problems("cluster", "--cluster", cluster, "a cluster name or ARN") + name_problems(
        "service", "--service", service, "a service name or ARN"
    )


def group_problems(application: object, deployment_group: object) -> list[str]:
    """``application=`` and ``deployment_group=``: two names, or neither."""
    problems = []
    for name, value in (("application", application), ("deployment_group", deployment_group)):
        if value is not None:
            problems += name_problems(name, "--" + name.replace("_", "-"), value, "a name")
    if (application is None) != (deployment_group is None):
        problems.append(
            "give "
            + advice("application= and deployment_group=", "--application and --deployment-group")
            + " together, or neither"
        )
    return problems


def connection_problems(
    clients: object, session: object, clock: object, budget: object = None
) -> list[str]:
    from bluegreen._aws import Clients
    from bluegreen.clock import RateBudget

    problems = []
    if clients is not None and not isinstance(clients, Clients):
        problems.append(f"clients= must be a bluegreen.Clients, got {show_value(clients)}")
    if session is not None:
        if clients is not None:
            problems.append("give clients= or session=, not both")
        elif not callable(getattr(session, "client", None)):
            problems.append(f"session= must be a boto3.Session, got {show_value(session)}")
    if clock is not None and not all(
        callable(getattr(clock, method, None)) for method in ("time", "sleep")
    ):
        problems.append(
            f"clock= must have time() and sleep(seconds) methods, got {show_value(clock)}"
        )
    if budget is not None and not isinstance(budget, RateBudget):
        problems.append(f"budget= must be a bluegreen.RateBudget, got {show_value(budget)}")
    return problems


def check_connection(
    *,
    subject: str,
    clients: object = None,
    session: object = None,
    clock: object = None,
    budget: object = None,
    problems: Sequence[str] = (),
) -> None:
    """Refuse ``clients=``, ``session=``, ``clock=`` and ``budget=`` that cannot work, with
    ``problems`` found in the caller's other arguments."""
    found = [*problems, *connection_problems(clients, session, clock, budget)]
    if found:
        raise ValidationError(found, subject=subject)


# -- what auto_rollback= and suspend_scaling= turn into ---------------------------------------


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
