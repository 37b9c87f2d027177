"""The checks of an AppSpec: its own fields, and how it fits a task definition and a
deployment group.

``AppSpec`` runs ``model_problems`` when it is built and ``problems_against`` in
``AppSpec.problems``; the parser runs ``field_problems`` on what a broken document still gave.
Every check returns the list of problems it found (empty: none), so one ``AppSpecError`` can
report them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from bluegreen._advice import advice
from bluegreen.appspec_hook import hooks_problems
from bluegreen.placement import AwsVpcConfiguration, strategy_problems
from bluegreen.status import LifecycleEvent

if TYPE_CHECKING:
    from bluegreen.deployment_group import DeploymentGroup

__all__ = [
    "field_problems",
    "model_problems",
    "mutable_image_tags",
    "problems_against",
    "task_definition_problems",
]

_TASK_DEF_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/(?P<family>[^:/]+)(?::(?P<rev>[^:/]*))?$"
)
_TASK_DEF_SHORT = re.compile(r"^(?P<family>[A-Za-z0-9_-]{1,255})(?::(?P<rev>[^:/]*))?$")


class _Spec(Protocol):
    """What the checks read of an ``AppSpec``."""

    @property
    def task_definition(self) -> str: ...

    @property
    def container_name(self) -> str: ...

    @property
    def container_port(self) -> int: ...

    @property
    def network_configuration(self) -> AwsVpcConfiguration | None: ...

    def hook_for(self, event: LifecycleEvent | str) -> str | None: ...


def task_definition_problems(value: str) -> list[str]:
    """Why ``value`` cannot be an AppSpec ``TaskDefinition`` (empty list when it can)."""
    if not value:
        return ["TaskDefinition is empty: give the full task-definition ARN"]
    match = _TASK_DEF_ARN.match(value) or _TASK_DEF_SHORT.match(value)
    if match is None:
        return [
            f"TaskDefinition {value!r} is not a task-definition ARN "
            "(arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION)"
        ]
    revision = match.group("rev")
    if revision is None or revision == "":
        return [
            f"TaskDefinition {value!r} names a family without a revision: CodeDeploy needs "
            "the full ARN with a numeric revision, e.g. ...:task-definition/web:12"
        ]
    if not revision.isdigit():
        return [
            f"TaskDefinition {value!r} has revision {revision!r}; CodeDeploy fails with "
            f"'Invalid revision number. Number: {revision}': give the numeric revision"
        ]
    return []


def model_problems(fields: Mapping[str, Any]) -> list[str]:
    """Every problem of a complete AppSpec's fields (``attrs.asdict(spec, recurse=False)``)."""
    problems = field_problems(fields)
    if not fields["container_name"]:
        problems.append("LoadBalancerInfo.ContainerName is empty: name the container to route to")
    port = fields["container_port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problems.append(
            f"LoadBalancerInfo.ContainerPort must be a port number 1-65535, got {port!r}"
        )
    version = fields["platform_version"]
    if version is not None and not version:
        problems.append("PlatformVersion is empty: omit it or give e.g. LATEST or 1.4.0")
    return problems


def field_problems(fields: Mapping[str, Any]) -> list[str]:
    """Checks of the task definition, network, capacity providers and hooks that apply
    to a complete AppSpec and to what a broken document still gave."""
    problems = []
    if "task_definition" in fields:
        problems += task_definition_problems(fields["task_definition"])
    network = fields.get("network_configuration")
    if network is not None:
        problems += network.problems()
    strategy = fields.get("capacity_provider_strategy")
    if strategy is not None:
        problems += strategy_problems(strategy)
    problems += hooks_problems(fields.get("hooks", ()))
    return problems


def problems_against(
    spec: _Spec,
    *,
    task_definition: Mapping[str, Any] | None = None,
    deployment_group: DeploymentGroup | None = None,
    allow_mutable_image_tags: bool = False,
    mutable_tags: Iterable[str] = ("latest",),
) -> list[str]:
    """Every reason ``spec`` would fail against a task definition and group
    (``AppSpec.problems`` documents the arguments)."""
    problems: list[str] = []
    if task_definition is not None:
        problems += _task_definition_problems(spec, task_definition)
        if not allow_mutable_image_tags:
            for container, image in mutable_image_tags(task_definition, mutable_tags):
                problems.append(
                    f"container {container!r} uses image {image!r}, whose tag can move: "
                    "pin a version tag or an @sha256 digest so a rollback restores the "
                    "same code (or "
                    + advice("pass allow_mutable_image_tags=True", "add --allow-mutable-image-tags")
                    + ")"
                )
    if deployment_group is not None:
        problems += _deployment_group_problems(spec, deployment_group)
    return problems


def mutable_image_tags(
    task_definition: Mapping[str, Any], mutable_tags: Iterable[str] = ("latest",)
) -> list[tuple[str, str]]:
    """``(container, image)`` for every container whose image tag can move.

    An image pinned by ``@sha256:`` digest is immutable; one with no tag means ``latest``.
    """
    mutable = set(mutable_tags)
    found = []
    for container in task_definition.get("containerDefinitions", ()):
        image = str(container.get("image", ""))
        if "@" in image:
            continue
        name_part = image.rsplit("/", 1)[-1]
        tag = name_part.split(":", 1)[1] if ":" in name_part else "latest"
        if tag in mutable:
            found.append((str(container.get("name", "?")), image))
    return found


def _task_definition_problems(spec: _Spec, task_definition: Mapping[str, Any]) -> list[str]:
    problems = []
    containers = {c.get("name"): c for c in task_definition.get("containerDefinitions", ())}
    container = containers.get(spec.container_name)
    if container is None:
        known = ", ".join(repr(n) for n in containers) or "none"
        problems.append(
            f"container {spec.container_name!r} is not in the task definition (containers: "
            f"{known}); CodeDeploy would fail with ECS_UPDATE_ERROR"
        )
    else:
        ports = [m.get("containerPort") for m in container.get("portMappings", ())]
        if spec.container_port not in ports:
            shown = ", ".join(str(p) for p in ports) or "none"
            problems.append(
                f"container {spec.container_name!r} does not map port {spec.container_port} "
                f"(mapped: {shown}); add a portMapping or fix ContainerPort"
            )
    family = task_definition.get("family")
    revision = task_definition.get("revision")
    match = _TASK_DEF_ARN.match(spec.task_definition) or _TASK_DEF_SHORT.match(spec.task_definition)
    if family and match and match.group("family") != family:
        problems.append(
            f"TaskDefinition names family {match.group('family')!r} but the task definition "
            f"checked is {family!r}"
        )
    elif revision and match and (match.group("rev") or "") not in ("", str(revision)):
        problems.append(
            f"TaskDefinition names revision {match.group('rev')} but the task definition "
            f"checked is revision {revision}"
        )
    mode = task_definition.get("networkMode")
    if spec.network_configuration is not None and mode not in (None, "awsvpc"):
        problems.append(
            f"NetworkConfiguration is given but the task definition uses network mode "
            f"{mode!r}; it applies only to awsvpc tasks: remove it"
        )
    return problems


def _deployment_group_problems(spec: _Spec, group: DeploymentGroup) -> list[str]:
    problems = []
    where = f"deployment group {group.application}/{group.name}"
    if group.compute_platform not in (None, "ECS"):
        problems.append(f"{where} is for {group.compute_platform}, not ECS")
    if not group.is_blue_green:
        problems.append(f"{where} must use deploymentStyle BLUE_GREEN with WITH_TRAFFIC_CONTROL")
    if group.target_group_names is None:
        problems.append(f"{where} has no target-group pair in loadBalancerInfo")
    if group.test_listener_arn is None:
        for event in (LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC,):
            if spec.hook_for(event):
                problems.append(
                    f"{where} has no test listener, so the {event} hook would never run: add "
                    "a testTrafficRoute to the group or move the hook to BeforeAllowTraffic"
                )
    return problems
