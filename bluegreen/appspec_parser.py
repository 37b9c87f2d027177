"""Reading AppSpec text: YAML or JSON into a document, and a document into ``AppSpec`` fields.

The parser walks the document once and notes every problem before anything is built, so
``AppSpec.parse`` can report them all in one ``AppSpecError``. It accepts AWS's examples as
written (unquoted ``version: 0.0``) and keys in any case. YAML is imported only when YAML is
parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bluegreen.appspec_hook import HOOK_NAMES, Hook
from bluegreen.errors import AppSpecError
from bluegreen.placement import AwsVpcConfiguration, CapacityProviderStrategyItem
from bluegreen.status import LifecycleEvent

__all__ = ["load_document", "read_document", "read_hooks"]

_PROPERTIES = (
    "TaskDefinition",
    "LoadBalancerInfo",
    "PlatformVersion",
    "NetworkConfiguration",
    "CapacityProviderStrategy",
)


def load_document(text: str) -> Any:
    """The document in AppSpec text, JSON when it starts with ``{``, else YAML.

    Raises:
        AppSpecError: the text is not well-formed.
    """
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise AppSpecError([f"not well-formed JSON: {exc}"]) from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AppSpecError([f"not well-formed YAML: {exc}"]) from None


def read_document(document: Any) -> tuple[dict[str, Any], list[str]]:
    """The ``AppSpec`` fields a parsed document gives, and every problem met reading it."""
    parser = _Parser(document)
    return parser.fields(), parser.problems


def read_hooks(text: str) -> tuple[tuple[Hook, ...], list[str]]:
    """Only the ``Hooks`` of AppSpec text, and every problem met reading them: for readers
    that need the hooks alone (a migration), so that a template's placeholder such as
    ``TaskDefinition: <TASK_DEFINITION>`` is no problem."""
    try:
        document = load_document(text)
    except AppSpecError as exc:
        return (), list(exc.problems)
    if not isinstance(document, Mapping):
        return (), ["the AppSpec must be a mapping with version, Resources and optional Hooks"]
    parser = _Parser(document)
    hooks = parser._hooks(_get(document, "Hooks") if _has(document, "Hooks") else None)
    return hooks, parser.problems


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

    def fields(self) -> dict[str, Any]:
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
                self.problems.append(f"unknown hook event {name!r}: hooks may name {HOOK_NAMES}")
                continue
            if not isinstance(function, str):
                self.problems.append(f"hook {name} has no Lambda function: give a name or ARN")
                continue
            parsed.append(Hook(event, function))
        return tuple(parsed)
