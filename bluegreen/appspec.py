"""The ECS AppSpec: model, rendering, parsing and validation.

An ``AppSpec`` is checked when it is built, whether by hand, from a live service
(``AppSpec.for_service``) or from a file (``AppSpec.parse``); every problem found is
reported in one ``AppSpecError``. ``AppSpec.validate`` adds the checks that need the task
definition and the deployment group. YAML support is imported only when YAML is rendered
or parsed, so Lambda hooks that never touch an AppSpec do not pay for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from bluegreen._advice import advice
from bluegreen.errors import AppSpecError
from bluegreen.status import LifecycleEvent

if TYPE_CHECKING:
    from bluegreen.state import DeploymentGroup, ServiceState

__all__ = [
    "AppSpec",
    "AwsVpcConfiguration",
    "CapacityProviderStrategyItem",
    "Hook",
    "mutable_image_tags",
]

Format = Literal["yaml", "json"]

_TASK_DEF_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/(?P<family>[^:/]+)(?::(?P<rev>[^:/]*))?$"
)
_TASK_DEF_SHORT = re.compile(r"^(?P<family>[A-Za-z0-9_-]{1,255})(?::(?P<rev>[^:/]*))?$")
_LAMBDA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$"
)
_PUBLIC_IP = ("ENABLED", "DISABLED")
_HOOK_NAMES = ", ".join(e.value for e in LifecycleEvent.hookable())
_PROPERTIES = (
    "TaskDefinition",
    "LoadBalancerInfo",
    "PlatformVersion",
    "NetworkConfiguration",
    "CapacityProviderStrategy",
)


@attrs.frozen(kw_only=True)
class AwsVpcConfiguration:
    """Subnets, security groups and public-IP setting for awsvpc tasks (all three or none)."""

    subnets: tuple[str, ...] = attrs.field(converter=tuple)
    security_groups: tuple[str, ...] = attrs.field(converter=tuple)
    assign_public_ip: str = "DISABLED"

    @classmethod
    def from_ecs(cls, awsvpc: Mapping[str, Any]) -> AwsVpcConfiguration:
        """From ECS's ``networkConfiguration.awsvpcConfiguration`` (camelCase)."""
        return cls(
            subnets=awsvpc.get("subnets", ()),
            security_groups=awsvpc.get("securityGroups", ()),
            assign_public_ip=awsvpc.get("assignPublicIp", "DISABLED"),
        )

    def to_appspec(self) -> dict[str, Any]:
        return {
            "Subnets": list(self.subnets),
            "SecurityGroups": list(self.security_groups),
            "AssignPublicIp": self.assign_public_ip,
        }

    def problems(self) -> list[str]:
        problems = []
        if not self.subnets:
            problems.append("NetworkConfiguration.AwsvpcConfiguration.Subnets must list a subnet")
        if any(not s for s in self.subnets):
            problems.append("NetworkConfiguration.AwsvpcConfiguration.Subnets has an empty entry")
        if any(not s for s in self.security_groups):
            problems.append(
                "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups has an empty entry"
            )
        if self.assign_public_ip not in _PUBLIC_IP:
            problems.append(
                "NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp must be ENABLED or "
                f"DISABLED, got {self.assign_public_ip!r}"
            )
        return problems


@attrs.frozen(kw_only=True)
class CapacityProviderStrategyItem:
    """One capacity provider with its base and weight."""

    capacity_provider: str
    base: int = 0
    weight: int = 0

    @classmethod
    def from_ecs(cls, item: Mapping[str, Any]) -> CapacityProviderStrategyItem:
        return cls(
            capacity_provider=item["capacityProvider"],
            base=item.get("base", 0),
            weight=item.get("weight", 0),
        )

    def to_appspec(self) -> dict[str, Any]:
        return {
            "Base": self.base,
            "CapacityProvider": self.capacity_provider,
            "Weight": self.weight,
        }


def _to_event(value: LifecycleEvent | str) -> LifecycleEvent:
    try:
        return LifecycleEvent(value)
    except ValueError:
        raise AppSpecError(
            [f"unknown hook event {value!r}: hooks may name {_HOOK_NAMES}"]
        ) from None


@attrs.frozen
class Hook:
    """A Lambda function (name or ARN) that CodeDeploy calls at one lifecycle event."""

    event: LifecycleEvent = attrs.field(converter=_to_event)
    function: str


def _to_hooks(value: Iterable[Hook] | Mapping[Any, str] | None) -> tuple[Hook, ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(Hook(event, function) for event, function in value.items())
    return tuple(value)


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
    hooks: tuple[Hook, ...] = attrs.field(default=(), converter=_to_hooks)

    def __attrs_post_init__(self) -> None:
        problems = _model_problems(self)
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
        """
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
        stripped = text.lstrip()
        if stripped.startswith("{"):
            try:
                document = json.loads(text)
            except json.JSONDecodeError as exc:
                raise AppSpecError([f"not well-formed JSON: {exc}"]) from None
        else:
            import yaml

            try:
                document = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise AppSpecError([f"not well-formed YAML: {exc}"]) from None
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: Any) -> AppSpec:
        """Build from a parsed document, reporting every problem in one ``AppSpecError``."""
        return _Parser(document).build()

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
        problems: list[str] = []
        if task_definition is not None:
            problems += _task_definition_problems(self, task_definition)
            if not allow_mutable_image_tags:
                for container, image in mutable_image_tags(task_definition, mutable_tags):
                    problems.append(
                        f"container {container!r} uses image {image!r}, whose tag can move: "
                        "pin a version tag or an @sha256 digest so a rollback restores the "
                        "same code (or "
                        + advice(
                            "pass allow_mutable_image_tags=True", "add --allow-mutable-image-tags"
                        )
                        + ")"
                    )
        if deployment_group is not None:
            problems += _deployment_group_problems(self, deployment_group)
        return problems

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


# -- checks shared by construction and parsing ------------------------------------------


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


def _lambda_problems(hook: Hook) -> list[str]:
    if not hook.function or not hook.function.strip():
        return [f"hook {hook.event} has no Lambda function: give a function name or ARN"]
    if not (_LAMBDA_NAME.match(hook.function) or _LAMBDA_ARN.match(hook.function)):
        return [
            f"hook {hook.event}: {hook.function!r} is not a Lambda function name "
            "(1-64 of A-Z a-z 0-9 - _) or function ARN"
        ]
    return []


def _model_problems(spec: AppSpec) -> list[str]:
    problems = _field_problems(attrs.asdict(spec, recurse=False))
    if not spec.container_name:
        problems.append("LoadBalancerInfo.ContainerName is empty: name the container to route to")
    if (
        isinstance(spec.container_port, bool)
        or not isinstance(spec.container_port, int)
        or not 1 <= spec.container_port <= 65535
    ):
        problems.append(
            f"LoadBalancerInfo.ContainerPort must be a port number 1-65535, got "
            f"{spec.container_port!r}"
        )
    if spec.platform_version is not None and not spec.platform_version:
        problems.append("PlatformVersion is empty: omit it or give e.g. LATEST or 1.4.0")
    return problems


def _field_problems(fields: Mapping[str, Any]) -> list[str]:
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
        problems += _strategy_problems(strategy)
    seen: set[LifecycleEvent] = set()
    for hook in fields.get("hooks", ()):
        if not hook.event.accepts_hook:
            problems.append(f"{hook.event} cannot carry a hook: hooks may name {_HOOK_NAMES}")
        if hook.event in seen:
            problems.append(f"hook {hook.event} is given more than once: each event runs one hook")
        seen.add(hook.event)
        problems += _lambda_problems(hook)
    return problems


def _strategy_problems(strategy: Sequence[CapacityProviderStrategyItem]) -> list[str]:
    problems = []
    if not strategy:
        problems.append("CapacityProviderStrategy is empty: omit it or list a provider")
        return problems
    names = [item.capacity_provider for item in strategy]
    if any(not n for n in names):
        problems.append("CapacityProviderStrategy has an item without a CapacityProvider")
    if len(set(names)) != len(names):
        problems.append("CapacityProviderStrategy lists a capacity provider more than once")
    for item in strategy:
        if not isinstance(item.base, int) or not 0 <= item.base <= 100000:
            problems.append(
                f"CapacityProviderStrategy {item.capacity_provider}: Base must be 0-100000"
            )
        if not isinstance(item.weight, int) or not 0 <= item.weight <= 1000:
            problems.append(
                f"CapacityProviderStrategy {item.capacity_provider}: Weight must be 0-1000"
            )
    if sum(1 for item in strategy if item.base) > 1:
        problems.append("CapacityProviderStrategy: only one capacity provider may set a Base")
    if not any(item.weight for item in strategy if isinstance(item.weight, int)):
        problems.append(
            "CapacityProviderStrategy: at least one provider needs Weight > 0, or no task "
            "is placed beyond the base"
        )
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


def _task_definition_problems(spec: AppSpec, task_definition: Mapping[str, Any]) -> list[str]:
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


def _deployment_group_problems(spec: AppSpec, group: DeploymentGroup) -> list[str]:
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


# -- parsing -------------------------------------------------------------------------------


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    """``mapping[key]``, matching the key without regard to case."""
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return None


def _has(mapping: Mapping[str, Any], key: str) -> bool:
    return any(isinstance(k, str) and k.lower() == key.lower() for k in mapping)


class _Parser:
    """Walks a parsed document once, noting every problem before anything is built."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.problems: list[str] = []

    def build(self) -> AppSpec:
        fields = self._fields()
        if not self.problems:
            try:
                return AppSpec(**fields)
            except AppSpecError as exc:
                self.problems += exc.problems
        else:
            self.problems += _field_problems(fields)
        raise AppSpecError(dict.fromkeys(self.problems))

    def _fields(self) -> dict[str, Any]:
        doc = self.document
        if not isinstance(doc, Mapping):
            self.problems.append(
                "the AppSpec must be a mapping with version, Resources and optional Hooks"
            )
            return {}
        self._check_version(doc)
        fields = self._resource(doc)
        fields["hooks"] = self._hooks(_get(doc, "Hooks"))
        return fields

    def _check_version(self, doc: Mapping[str, Any]) -> None:
        if not _has(doc, "version"):
            self.problems.append("version is missing: add `version: 0.0`")
            return
        version = _get(doc, "version")
        if str(version) not in ("0.0", "0"):
            self.problems.append(f"version must be 0.0, got {version!r}")

    def _resource(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        resources = _get(doc, "Resources")
        if resources is None:
            self.problems.append("Resources is missing: list one TargetService")
            return {}
        if not isinstance(resources, list):
            self.problems.append("Resources must be a list with one TargetService entry")
            return {}
        if len(resources) != 1:
            self.problems.append(
                f"Resources must hold exactly one resource for ECS, found {len(resources)}"
            )
            if not resources:
                return {}
        entry = resources[0]
        if not isinstance(entry, Mapping) or len(entry) != 1:
            self.problems.append("Resources[0] must be a map with the single key TargetService")
            return {}
        ((logical_name, target),) = entry.items()
        if logical_name != "TargetService":
            self.problems.append(
                f"Resources[0] is named {logical_name!r}; ECS AppSpecs name it TargetService"
            )
        if not isinstance(target, Mapping):
            self.problems.append("TargetService must be a map with Type and Properties")
            return {}
        kind = _get(target, "Type")
        if kind != "AWS::ECS::Service":
            self.problems.append(f"TargetService Type must be AWS::ECS::Service, got {kind!r}")
        properties = _get(target, "Properties")
        if not isinstance(properties, Mapping):
            self.problems.append("TargetService Properties is missing or not a map")
            return {}
        return self._properties(properties)

    def _properties(self, props: Mapping[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key in props:
            if not any(isinstance(key, str) and key.lower() == p.lower() for p in _PROPERTIES):
                self.problems.append(
                    f"unknown property {key!r} in TargetService Properties "
                    f"(allowed: {', '.join(_PROPERTIES)})"
                )
        task_definition = _get(props, "TaskDefinition")
        if not isinstance(task_definition, str):
            self.problems.append("TaskDefinition is missing: give the full task-definition ARN")
        else:
            fields["task_definition"] = task_definition
        lb = _get(props, "LoadBalancerInfo")
        if isinstance(lb, list):
            self.problems.append(
                "LoadBalancerInfo must be a map (ContainerName, ContainerPort), not a list; "
                "CodeDeploy rejects a list as 'not well-formed yaml'"
            )
        elif not isinstance(lb, Mapping):
            self.problems.append(
                "LoadBalancerInfo is missing: give ContainerName and ContainerPort"
            )
        else:
            name = _get(lb, "ContainerName")
            if not isinstance(name, str) or not name:
                self.problems.append("LoadBalancerInfo.ContainerName is missing or empty")
            else:
                fields["container_name"] = name
            port = _get(lb, "ContainerPort")
            if isinstance(port, bool) or not isinstance(port, int):
                self.problems.append(
                    f"LoadBalancerInfo.ContainerPort must be a number, got {port!r}"
                    + (" (remove the quotes)" if isinstance(port, str) else "")
                )
            else:
                fields["container_port"] = port
        if _has(props, "PlatformVersion"):
            version = _get(props, "PlatformVersion")
            if not isinstance(version, str):
                self.problems.append(f"PlatformVersion must be a string, got {version!r}")
            else:
                fields["platform_version"] = version
        if _has(props, "NetworkConfiguration"):
            fields["network_configuration"] = self._network(_get(props, "NetworkConfiguration"))
        if _has(props, "CapacityProviderStrategy"):
            fields["capacity_provider_strategy"] = self._strategy(
                _get(props, "CapacityProviderStrategy")
            )
        return fields

    def _network(self, network: Any) -> AwsVpcConfiguration | None:
        awsvpc = _get(network, "AwsvpcConfiguration") if isinstance(network, Mapping) else None
        if not isinstance(awsvpc, Mapping):
            self.problems.append(
                "NetworkConfiguration must hold AwsvpcConfiguration with Subnets, "
                "SecurityGroups and AssignPublicIp"
            )
            return None
        keys = ("Subnets", "SecurityGroups", "AssignPublicIp")
        present = [k for k in keys if _has(awsvpc, k)]
        if len(present) != len(keys):
            missing = ", ".join(k for k in keys if k not in present)
            self.problems.append(
                "NetworkConfiguration.AwsvpcConfiguration needs all of Subnets, SecurityGroups "
                f"and AssignPublicIp or none of them; missing: {missing}"
            )
            return None
        subnets, groups = _get(awsvpc, "Subnets"), _get(awsvpc, "SecurityGroups")
        ok = True
        for key, value in (("Subnets", subnets), ("SecurityGroups", groups)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problems.append(
                    f"NetworkConfiguration.AwsvpcConfiguration.{key} must be a list of strings"
                )
                ok = False
        public_ip = _get(awsvpc, "AssignPublicIp")
        if not isinstance(public_ip, str):
            self.problems.append("AssignPublicIp must be ENABLED or DISABLED")
            ok = False
        if not ok:
            return None
        return AwsVpcConfiguration(
            subnets=subnets, security_groups=groups, assign_public_ip=public_ip
        )

    def _strategy(self, strategy: Any) -> tuple[CapacityProviderStrategyItem, ...] | None:
        if not isinstance(strategy, list):
            self.problems.append(
                "CapacityProviderStrategy must be a list of {CapacityProvider, Base, Weight}"
            )
            return None
        items = []
        for i, raw in enumerate(strategy):
            provider = _get(raw, "CapacityProvider") if isinstance(raw, Mapping) else None
            if not isinstance(provider, str):
                self.problems.append(f"CapacityProviderStrategy[{i}] needs a CapacityProvider")
                continue
            base, weight = _get(raw, "Base"), _get(raw, "Weight")
            for key, value in (("Base", base), ("Weight", weight)):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    self.problems.append(
                        f"CapacityProviderStrategy[{i}].{key} must be a whole number"
                    )
            items.append(
                CapacityProviderStrategyItem(
                    capacity_provider=provider,
                    base=base if isinstance(base, int) else 0,
                    weight=weight if isinstance(weight, int) else 0,
                )
            )
        return tuple(items)

    def _hooks(self, hooks: Any) -> tuple[Hook, ...]:
        if hooks is None:
            return ()
        if not isinstance(hooks, list):
            self.problems.append(
                "Hooks must be a list of single-key maps such as `- AfterAllowTestTraffic: fn`"
            )
            return ()
        parsed = []
        for i, entry in enumerate(hooks):
            if not isinstance(entry, Mapping) or len(entry) != 1:
                self.problems.append(
                    f"Hooks[{i}] must be a single-key map `EventName: LambdaFunction`"
                )
                continue
            ((name, function),) = entry.items()
            try:
                event = LifecycleEvent(name)
            except ValueError:
                self.problems.append(f"unknown hook event {name!r}: hooks may name {_HOOK_NAMES}")
                continue
            if not isinstance(function, str):
                self.problems.append(f"hook {name} has no Lambda function: give a name or ARN")
                continue
            parsed.append(Hook(event, function))
        return tuple(parsed)
