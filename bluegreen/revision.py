"""The task-definition revision a deployment runs: the one the service runs now, the new one
``deploy(image=...)`` registers (only the images differ), or the one given, and the diff
between them.

``Revisions`` reads them for the preflight; a revision that cannot be built is a problem
(``problems``), not an exception, so the rest of the preflight still runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen.errors import (
    AccessDeniedError,
    AWSError,
    ServiceConfigError,
    ServiceUnavailableError,
    ThrottledError,
)
from bluegreen.sensitive import Entry, contains_sensitive, is_sensitive, masked

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.state import ServiceState

__all__ = ["READ_ONLY_TASK_DEFINITION_FIELDS", "Revisions", "diff", "registrable", "short_arn"]

READ_ONLY_TASK_DEFINITION_FIELDS = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)
"""Fields DescribeTaskDefinition returns that RegisterTaskDefinition does not take."""


@attrs.define
class Revisions:
    """Reads the task definitions of a deployment; what is wrong goes to ``problems``,
    what is worth knowing to ``notes`` (lists shared with the preflight)."""

    aws: Clients
    call: Caller
    image: str | Mapping[str, str] | None
    task_definition: str | None
    problems: list[str] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)
    forecast: bool = True
    """Read the family's newest revision to forecast the new revision's number (for
    ``plan``); ``deploy`` learns it from RegisterTaskDefinition and saves the call."""

    def current(self, state: ServiceState) -> dict[str, Any]:
        """The task definition the service runs (with its tags); empty when unreadable."""
        return self._current_task_definition(state)

    def new(
        self, state: ServiceState, current: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None, bool]:
        """The RegisterTaskDefinition arguments (or the description) of the revision to
        deploy, its (expected) ARN, and whether ``deploy`` registers it."""
        if self.image is not None:
            return self._new_revision(state, current)
        return self._given_task_definition(current)

    def _describe(self, task_definition: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        answer = self.call(
            "DescribeTaskDefinition",
            self.aws.ecs.describe_task_definition,
            taskDefinition=task_definition,
            include=["TAGS"],
        )
        tags = [
            {"key": t.get("key", ""), "value": t.get("value", "")} for t in answer.get("tags") or ()
        ]
        return dict(answer["taskDefinition"]), tags

    def _current_task_definition(self, state: ServiceState) -> dict[str, Any]:
        arn = state.primary.task_definition if state.primary else state.task_definition
        if not arn:
            self.problems.append(f"service {state.service} has no task definition to start from")
            return {}
        try:
            described, tags = self._describe(arn)
        except AWSError as exc:
            if isinstance(exc, AccessDeniedError | ThrottledError | ServiceUnavailableError):
                raise
            self.problems.append(f"the service's task definition {arn} cannot be read: {exc}")
            return {}
        if tags:
            described["tags"] = tags
        return described

    def _new_revision(
        self, state: ServiceState, current: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None, bool]:
        """The RegisterTaskDefinition arguments of the new revision and its expected ARN."""
        if not current:
            return {}, None, True
        images = self._images(state, current)
        if images is None:
            return {}, None, True
        new = self._registration_arguments(current)
        containers = {c["name"]: c for c in new.get("containerDefinitions", ())}
        changed = False
        for name, uri in images.items():
            if containers[name].get("image") != uri:
                containers[name]["image"] = uri
                changed = True
        asked = 1 if isinstance(self.image, str) else len(self.image or {})
        if not changed and len(images) == asked:  # (a bad entry is reported already)
            running = ", ".join(f"{n}={u}" for n, u in images.items())
            arn = str(current.get("taskDefinitionArn"))
            again = advice(f"pass task_definition={arn!r}", f"give --task-definition {arn}")
            self.problems.append(
                f"task definition {short_arn(arn)} already runs {running}: nothing to deploy. "
                "To start the same revision again (to pick up new secret values, say), "
                f"{again} instead"
            )
        return new, self._expected_arn(current), True

    def _images(self, state: ServiceState, current: Mapping[str, Any]) -> dict[str, str] | None:
        """``{container: image}`` to set; containers the task definition lacks, and images
        that are not strings, are problems and left out, so the rest can still be checked."""
        names = [str(c.get("name")) for c in current.get("containerDefinitions", ())]
        known = ", ".join(repr(n) for n in names) or "none"
        revision = short_arn(current.get("taskDefinitionArn"))
        if isinstance(self.image, str):
            try:
                container = state.load_balancer_binding().container_name
            except ServiceConfigError as exc:
                self.problems += exc.problems
                return None
            wanted = {container: self.image}
        else:
            assert self.image is not None
            wanted = dict(self.image)
            if not wanted:
                self.problems.append(
                    advice("image= is an empty mapping", "--image names no container")
                    + ": name a container and image"
                )
                return None
        images = {}
        for container, uri in wanted.items():
            if container not in names:
                self.problems.append(
                    f"container {container!r} is not in task definition {revision} "
                    f"(containers: {known})"
                )
            elif not isinstance(uri, str) or not uri.strip() or uri != uri.strip():
                self.problems.append(f"image {uri!r} for container {container!r} is not an image")
            else:
                images[container] = uri
        return images or None

    def _registration_arguments(self, current: Mapping[str, Any]) -> dict[str, Any]:
        model = self.aws.ecs.meta.service_model.operation_model("RegisterTaskDefinition")
        shape = model.input_shape
        accepted = set(shape.members) if shape is not None else set(current)
        arguments = {}
        for key, value in current.items():
            if key in READ_ONLY_TASK_DEFINITION_FIELDS:
                continue
            if key not in accepted:
                self.notes.append(
                    f"the current task definition's field {key!r} is not a "
                    "RegisterTaskDefinition argument and is left out of the new revision"
                )
                continue
            arguments[key] = json.loads(json.dumps(value, default=str))  # a deep copy
        return arguments

    def _expected_arn(self, current: Mapping[str, Any]) -> str | None:
        arn = str(current.get("taskDefinitionArn") or "")
        family = current.get("family")
        if not arn or not family:
            return None
        latest = int(current.get("revision") or 0)
        if not self.forecast:
            return f"{arn.rsplit(':', 1)[0]}:{latest + 1}"
        try:
            newest = self.call(
                "DescribeTaskDefinition",
                self.aws.ecs.describe_task_definition,
                taskDefinition=str(family),
            )
            latest = max(latest, int(newest["taskDefinition"].get("revision") or 0))
        except AWSError:
            pass  # the number is only a forecast; the current revision's is good enough
        return f"{arn.rsplit(':', 1)[0]}:{latest + 1}"

    def _given_task_definition(
        self, current: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None, bool]:
        assert self.task_definition is not None
        try:
            described, tags = self._describe(self.task_definition)
        except AWSError as exc:
            if isinstance(exc, AccessDeniedError | ThrottledError | ServiceUnavailableError):
                raise
            self.problems.append(
                f"task definition {self.task_definition!r} cannot be read ({exc.message}): "
                "give the ARN of a registered revision"
            )
            return {}, None, False
        if tags:
            described["tags"] = tags
        arn = str(described["taskDefinitionArn"])
        if described.get("status") not in (None, "ACTIVE"):
            self.problems.append(
                f"task definition {short_arn(arn)} is {described.get('status')}; register it "
                "again or deploy an ACTIVE revision"
            )
        if current and arn == current.get("taskDefinitionArn"):
            self.notes.append(
                f"{short_arn(arn)} is the revision the service runs now: the deployment "
                "replaces its tasks with new ones of the same revision"
            )
        return described, arn, False

    # -- AppSpec and traffic ------------------------------------------------------------


def short_arn(arn: object) -> str:
    """``web:12`` from a task-definition ARN."""
    return str(arn).rsplit("/", 1)[-1] if arn else "?"


def registrable(task_definition: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a task definition that RegisterTaskDefinition takes."""
    return {k: v for k, v in task_definition.items() if k not in READ_ONLY_TASK_DEFINITION_FIELDS}


def _keyed(items: Sequence[Any]) -> dict[str, Any] | None:
    """A list of named entries (containers, variables, tags) as a dict, or None."""
    for key in ("name", "key"):
        if items and all(isinstance(i, Mapping) and isinstance(i.get(key), str) for i in items):
            names = [i[key] for i in items]
            if len(set(names)) == len(names):
                return {i[key]: {k: v for k, v in i.items() if k != key} for i in items}
    return None


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


_ABSENT = object()


def diff(old: Any, new: Any, *, show_values: bool = False) -> Iterator[str]:
    """``path: old -> new`` for every difference, keyed by name inside named lists.

    A sensitive value (``bluegreen.sensitive``) gets a line of its own that says only
    whether it was added, removed or changed, ``path: (sensitive value changed)``, unless
    ``show_values``.
    """
    yield from _diff(old, new, (), show_values)


def _diff(old: Any, new: Any, path: tuple[str | Entry, ...], show_values: bool) -> Iterator[str]:
    if old == new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*old, *(k for k in new if k not in old)]:
            sub = (*path, str(key))
            yield from _diff(old.get(key, _ABSENT), new.get(key, _ABSENT), sub, show_values)
        return
    if isinstance(old, list) and isinstance(new, list):
        old_keyed, new_keyed = _keyed(old), _keyed(new)
        if old_keyed is not None or new_keyed is not None:  # [] is an empty named list
            old_keyed = {} if old_keyed is None and not old else old_keyed
            new_keyed = {} if new_keyed is None and not new else new_keyed
        if old_keyed is not None and new_keyed is not None:
            for key in [*old_keyed, *(k for k in new_keyed if k not in old_keyed)]:
                sub = (*path, Entry(key))
                yield from _diff(
                    old_keyed.get(key, _ABSENT), new_keyed.get(key, _ABSENT), sub, show_values
                )
            return
        if len(old) == len(new):
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                yield from _diff(a, b, (*path, Entry(i)), show_values)
            return
    where = "".join(
        f"[{s.name}]" if isinstance(s, Entry) else f".{s}" if i else s for i, s in enumerate(path)
    )
    if show_values or not (contains_sensitive(old, path) or contains_sensitive(new, path)):
        yield f"{where}: {_show(old)} -> {_show(new)}"
    elif is_sensitive(path):
        change = "added" if old is _ABSENT else "removed" if new is _ABSENT else "changed"
        yield f"{where}: (sensitive value {change})"
    # An entry added or removed whole: a line per field, so each sensitive one says so.
    elif old is _ABSENT and _is_container(new):
        yield from _diff({} if isinstance(new, Mapping) else [], new, path, show_values)
    elif new is _ABSENT and _is_container(old):
        yield from _diff(old, {} if isinstance(old, Mapping) else [], path, show_values)
    else:
        yield f"{where}: {_show(_masked(old, path))} -> {_show(_masked(new, path))}"


def _is_container(value: Any) -> bool:
    return isinstance(value, Mapping) or (isinstance(value, list) and _keyed(value) is not None)


def _masked(value: Any, path: tuple[str | Entry, ...]) -> Any:
    return value if value is _ABSENT else masked(value, path)
