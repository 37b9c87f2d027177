"""The ECS AppSpec: the model, built by hand, from a live service or from text, and rendered.

An ``AppSpec`` is checked when it is built, whether by hand, from a live service
(``AppSpec.for_service``) or from a file (``AppSpec.parse``); every problem found is
reported in one ``AppSpecError``. ``AppSpec.validate`` adds the checks that need the task
definition and the deployment group. YAML support is imported only when YAML is rendered
or parsed, so Lambda hooks that never touch an AppSpec do not pay for it.

The checks live in ``bluegreen.appspec_checks``, the parser in ``bluegreen.appspec_parser``,
``Hook`` in ``bluegreen.appspec_hook`` and the network and capacity-provider values in
``bluegreen.placement``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from bluegreen.appspec_checks import (
    field_problems,
    model_problems,
    mutable_image_tags,
    problems_against,
    task_definition_problems,
)
from bluegreen.appspec_hook import Hook, to_hooks
from bluegreen.appspec_parser import load_document, read_document
from bluegreen.errors import AppSpecError, show_value
from bluegreen.placement import AwsVpcConfiguration, CapacityProviderStrategyItem
from bluegreen.status import LifecycleEvent

if TYPE_CHECKING:
    from bluegreen.deployment_group import DeploymentGroup
    from bluegreen.state import ServiceState

__all__ = [
    "AppSpec",
    "AwsVpcConfiguration",
    "CapacityProviderStrategyItem",
    "Hook",
    "mutable_image_tags",
    "task_definition_problems",
]

Format = Literal["yaml", "json"]


def _to_strategy(
    value: Iterable[CapacityProviderStrategyItem] | None,
) -> tuple[CapacityProviderStrategyItem, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen(kw_only=True)
class AppSpec:
    """An ECS AppSpec: one ``AWS::ECS::Service`` target and up to five hooks.

    Raises:
        AppSpecError: on construction, listing every problem with the values given.
    """

    task_definition: str
    container_name: str
    container_port: int
    platform_version: str | None = None
    network_configuration: AwsVpcConfiguration | None = None
    capacity_provider_strategy: tuple[CapacityProviderStrategyItem, ...] | None = attrs.field(
        default=None, converter=_to_strategy
    )
    hooks: tuple[Hook, ...] = attrs.field(default=(), converter=to_hooks)

    def __attrs_post_init__(self) -> None:
        problems = model_problems(attrs.asdict(self, recurse=False))
        if problems:
            raise AppSpecError(problems)

    # -- building ---------------------------------------------------------------------

    @classmethod
    def for_service(
        cls,
        service: ServiceState,
        task_definition: str,
        *,
        hooks: Iterable[Hook] | Mapping[Any, str] | None = None,
    ) -> AppSpec:
        """The AppSpec that deploys ``task_definition`` to a live service.

        Carries the service's network configuration, platform version and capacity
        provider strategy (CodeDeploy would otherwise drop the strategy), and takes the
        container name and port from the service's load balancer.

        Raises:
            AppSpecError: ``service`` is not a ``ServiceState`` or ``task_definition`` is not
                a task-definition ARN or ``family:revision``; both are said at once.
        """
        problems = []
        if not callable(getattr(service, "load_balancer_binding", None)):
            problems.append(
                "service must be a ServiceState (what bluegreen.discover(cluster, service) "
                f"returns), got {show_value(service)}"
            )
        if not isinstance(task_definition, str) or not task_definition.strip():
            problems.append(
                "task_definition must be a task-definition ARN or family:revision, got "
                f"{show_value(task_definition)}"
            )
        if problems:
            raise AppSpecError(problems)
        binding = service.load_balancer_binding()
        return cls(
            task_definition=task_definition,
            container_name=binding.container_name,
            container_port=binding.container_port,
            platform_version=service.platform_version,
            network_configuration=service.network_configuration,
            capacity_provider_strategy=service.capacity_provider_strategy or None,
            hooks=hooks,
        )

    def with_task_definition(self, task_definition: str) -> AppSpec:
        """The same AppSpec for another task-definition revision."""
        return attrs.evolve(self, task_definition=task_definition)

    def hook_for(self, event: LifecycleEvent | str) -> str | None:
        """The function called at ``event``, or None."""
        wanted = LifecycleEvent(event)
        return next((h.function for h in self.hooks if h.event is wanted), None)

    # -- rendering --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The AppSpec document, with AWS's key spelling and ``version: 0.0``."""
        properties: dict[str, Any] = {
            "TaskDefinition": self.task_definition,
            "LoadBalancerInfo": {
                "ContainerName": self.container_name,
                "ContainerPort": self.container_port,
            },
        }
        if self.platform_version is not None:
            properties["PlatformVersion"] = self.platform_version
        if self.network_configuration is not None:
            properties["NetworkConfiguration"] = {
                "AwsvpcConfiguration": self.network_configuration.to_appspec()
            }
        if self.capacity_provider_strategy is not None:
            properties["CapacityProviderStrategy"] = [
                item.to_appspec() for item in self.capacity_provider_strategy
            ]
        document: dict[str, Any] = {
            "version": 0.0,
            "Resources": [
                {"TargetService": {"Type": "AWS::ECS::Service", "Properties": properties}}
            ],
        }
        if self.hooks:
            document["Hooks"] = [{str(h.event): h.function} for h in self.hooks]
        return document

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def render(self, format: Format = "yaml") -> str:
        """The document as YAML or JSON text."""
        return self.to_yaml() if format == "yaml" else self.to_json()

    def sha256(self, format: Format = "yaml") -> str:
        """The hex SHA-256 of the rendered text, as sent beside ``AppSpecContent``."""
        return hashlib.sha256(self.render(format).encode("utf-8")).hexdigest()

    def revision(self, format: Format = "yaml") -> dict[str, Any]:
        """The ``revision`` argument of CreateDeployment (``AppSpecContent`` with sha256)."""
        content = self.render(format)
        return {
            "revisionType": "AppSpecContent",
            "appSpecContent": {
                "content": content,
                "sha256": hashlib.sha256(content.encode("utf-8")).hexdigest(),
            },
        }

    # -- parsing ----------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> AppSpec:
        """Parse AppSpec text, YAML or JSON.

        Accepts AWS's examples as written (unquoted ``version: 0.0``) and lower-case
        top-level keys.

        Raises:
            AppSpecError: the text is not YAML/JSON or has any problem; all are listed.
        """
        return cls.from_dict(load_document(text))

    @classmethod
    def from_dict(cls, document: Any) -> AppSpec:
        """Build from a parsed document, reporting every problem in one ``AppSpecError``."""
        fields, problems = read_document(document)
        if not problems:
            try:
                return cls(**fields)
            except AppSpecError as exc:
                problems += exc.problems
        else:
            problems += field_problems(fields)
        raise AppSpecError(dict.fromkeys(problems))

    # -- validation -------------------------------------------------------------------

    def problems(
        self,
        *,
        task_definition: Mapping[str, Any] | None = None,
        deployment_group: DeploymentGroup | None = None,
        allow_mutable_image_tags: bool = False,
        mutable_tags: Iterable[str] = ("latest",),
    ) -> list[str]:
        """Every reason this AppSpec would fail against a task definition and group.

        Args:
            task_definition: the ``taskDefinition`` of DescribeTaskDefinition (or the
                arguments of RegisterTaskDefinition).
            deployment_group: the group that will run the deployment.
            allow_mutable_image_tags: accept images such as ``app:latest`` whose tag can
                move under a running deployment (a rollback would then not restore the old
                code).
            mutable_tags: tags treated as mutable; an image with no tag counts as ``latest``.
        """
        return problems_against(
            self,
            task_definition=task_definition,
            deployment_group=deployment_group,
            allow_mutable_image_tags=allow_mutable_image_tags,
            mutable_tags=mutable_tags,
        )

    def validate(
        self,
        *,
        task_definition: Mapping[str, Any] | None = None,
        deployment_group: DeploymentGroup | None = None,
        allow_mutable_image_tags: bool = False,
        mutable_tags: Iterable[str] = ("latest",),
    ) -> None:
        """Raise ``AppSpecError`` listing everything ``problems()`` finds."""
        problems = self.problems(
            task_definition=task_definition,
            deployment_group=deployment_group,
            allow_mutable_image_tags=allow_mutable_image_tags,
            mutable_tags=mutable_tags,
        )
        if problems:
            raise AppSpecError(problems)

    def __str__(self) -> str:
        return self.to_yaml()
