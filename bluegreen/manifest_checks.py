"""The checks of a release manifest's text and values, in the file's own words.

``bluegreen.manifest_load`` reads the structure (waves, defaults, precedence); this module
judges each value where it is written (``region: 'eu-west' is not a region name...``) and
turns it into what ``ServiceRelease`` holds. It reuses the library's own rules rather than
restating them: the image-reference grammar (``bluegreen.image_reference``), the lifecycle
events that take a hook, the rollback events and kinds of scaling ``deploy`` knows, and the
predefined traffic configs. Messages name the manifest's keys, not ``deploy``'s keyword
arguments or the command line's flags, and quote a value only as far as needed to find it
(``show_value`` cuts it). Reading the file itself (YAML or JSON) reports a key given twice
in one mapping, which the readers would silently let the last one win.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen.arguments import ROLLBACK_EVENTS
from bluegreen.errors import escape_text, show_value
from bluegreen.image_reference import image_reference_problems
from bluegreen.manifest import NAME_PATTERN
from bluegreen.scaling_record import FLAGS
from bluegreen.status import LifecycleEvent
from bluegreen.traffic import PREDEFINED_CONFIGS, PREDEFINED_PREFIX

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "REGION_PATTERN",
    "ROLE_PATTERN",
    "SERVICE_KEYS",
    "SHARED_KEYS",
    "TOP_KEYS",
    "WAVE_KEYS",
    "check_value",
    "key_problems",
    "name_problems",
    "read_manifest_file",
    "shown_key",
]

TOP_KEYS = ("release", "id", "on_failure", "defaults", "waves")
SHARED_KEYS = (
    "cluster",
    "image",
    "task_definition",
    "region",
    "role",
    "traffic_config",
    "analysis",
    "hooks",
    "auto_rollback",
    "suspend_scaling",
    "allow_mutable_image_tags",
    "check_hooks",
    "timeout",
)
"""The service settings ``defaults`` and a wave may also give (service > wave > defaults)."""
SERVICE_ONLY_KEYS = ("service", "application", "deployment_group")
"""Settings that name one service, so only a service entry gives them."""
SERVICE_KEYS = (*SERVICE_ONLY_KEYS, *SHARED_KEYS)
WAVE_ONLY_KEYS = ("name", "concurrency", "bake", "services")
WAVE_KEYS = (*WAVE_ONLY_KEYS, *SHARED_KEYS)

REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
"""An AWS region name: ``eu-west-1``, ``us-gov-west-1``, ``ap-southeast-2``."""
ROLE_PATTERN = re.compile(r"arn:aws[-a-z]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
"""An IAM role ARN (``arn:aws:iam::123456789012:role/deployer``, with a path or not)."""
_CONFIG_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,100}")
_FUNCTION = re.compile(r"[A-Za-z0-9_:.$/-]{1,170}")
_HOOK_EVENTS = tuple(event.value for event in LifecycleEvent.hookable())


def shown_key(key: object) -> str:
    """A key as a message shows it: quoted, escaped and cut when long."""
    if not isinstance(key, str):
        return show_value(key)
    text = escape_text(key)
    return f"'{text[:40]}...'" if len(text) > 43 else f"'{text}'"


def key_problems(data: Mapping[Any, Any], known: Sequence[str], *, level: str) -> list[str]:
    """``key: problem`` for every key of ``data`` that ``known`` lacks, with the closest
    known key when one is close (``imgae``: did you mean ``image``?). ``level`` is
    ``defaults``, ``a wave`` or ``a service``: a key that belongs elsewhere says where."""
    problems = []
    for key in data:
        if key in known or (level == "the release" and _is_extension(key)):
            continue
        if not isinstance(key, str):
            problems.append(
                f"key {show_value(key)}: keys are names, e.g. 'image' (YAML reads on, off, "
                "yes and no without quotes as true and false)"
            )
            continue
        if key in SERVICE_ONLY_KEYS:
            problems.append(
                f"{key}: names one service, so it belongs in a service entry (under services), "
                f"not in {level}"
            )
        elif key in WAVE_ONLY_KEYS and level in ("defaults", "the release"):
            problems.append(f"{key}: belongs to a wave (under waves), not in {level}")
        elif key in SHARED_KEYS and level == "the release":
            problems.append(
                f"{key}: is a service setting: give it under defaults (for every service), on "
                "a wave or on a service"
            )
        elif key in TOP_KEYS and level != "the release":
            problems.append(f"{key}: belongs at the top of the file, not in {level}")
        else:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(known)}"
            problems.append(f"{shown_key(key)}: unknown key in {level}; {hint}")
    return problems


def _is_extension(key: object) -> bool:
    """``x-...`` at the top of the file: a place for YAML anchors, ignored (as in Docker
    Compose files)."""
    return isinstance(key, str) and key.startswith("x-")


def name_problems(value: object, what: str, example: str) -> list[str]:
    """A release, id or wave name: ``NAME_PATTERN``, because it goes into deployment
    descriptions (``bluegreen release <id> wave <wave>: ...``) as one word."""
    if isinstance(value, str) and NAME_PATTERN.fullmatch(value):
        return []
    shown = show_value(value) if not isinstance(value, str) else f"'{escape_text(value)[:60]}'"
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown += " (YAML reads it as a number: put it in quotes)"
    return [
        f"{shown} is not a {what}: give 1 to 64 letters, digits, '.', '_' or '-', starting "
        f"with a letter or digit (e.g. {example}); it goes into the description of every "
        "deployment the release creates ('bluegreen release <id> wave <wave>: ...')"
    ]


def check_value(key: str, value: object) -> tuple[Any, list[str]]:
    """``value`` of service setting ``key`` as ``ServiceRelease`` holds it, and why it
    cannot be (then the value is meaningless). ``analysis`` and ``timeout`` are the
    loader's: they need the manifest's directory and the duration parser."""
    converted, problems = _CHECKS[key](value)
    return converted, problems


def _text(value: object, what: str) -> list[str]:
    if not isinstance(value, str):
        return [f"must be {what} (a string), got {show_value(value)}"]
    if not value.strip():
        return [f"is empty: give {what}"]
    if value != value.strip():
        return [f"'{escape_text(value)[:60]}' has spaces around it: remove them"]
    return []


def _named(what: str) -> Any:
    def check(value: object) -> tuple[Any, list[str]]:
        return value, _text(value, what)

    return check


def _image(value: object) -> tuple[Any, list[str]]:
    if isinstance(value, str):
        return value, image_reference_problems(value)
    if not isinstance(value, Mapping):
        return value, [
            "give an image reference (e.g. registry.example.com/web:2.4.0) or a mapping "
            f"{{container: image reference}}, got {show_value(value)}"
        ]
    if not value:
        return value, ["is an empty mapping: name a container and its image"]
    problems = []
    for container, reference in value.items():
        if not isinstance(container, str) or not container.strip():
            problems.append(
                f"a container name must be a non-empty string, got {shown_key(container)}"
            )
            continue
        problems += [
            f"of container {shown_key(container)}: {p}" for p in image_reference_problems(reference)
        ]
    return dict(value), problems


def _region(value: object) -> tuple[Any, list[str]]:
    problems = _text(value, "a region name such as eu-west-1")
    if not problems and not REGION_PATTERN.fullmatch(str(value)):
        problems = [
            f"'{escape_text(str(value))[:60]}' is not a region name: give one such as "
            "eu-west-1 or us-east-1"
        ]
    return value, problems


def _role(value: object) -> tuple[Any, list[str]]:
    problems = _text(value, "an IAM role ARN")
    if not problems and not ROLE_PATTERN.fullmatch(str(value)):
        problems = [
            f"{show_value(value)} is not an IAM role ARN: give one such as "
            "arn:aws:iam::123456789012:role/deployer (the role to assume for this "
            "service's account)"
        ]
    return value, problems


def _traffic_config(value: object) -> tuple[Any, list[str]]:
    problems = _text(value, "a deployment config name such as CodeDeployDefault.ECSAllAtOnce")
    if problems:
        return value, problems
    name = str(value)
    if not _CONFIG_NAME.fullmatch(name):
        return value, [
            f"{show_value(value)} is not a deployment config name: 1-100 characters from "
            "A-Z a-z 0-9 + = , . @ _ -"
        ]
    if name.startswith(PREDEFINED_PREFIX) and name not in PREDEFINED_CONFIGS:
        close = difflib.get_close_matches(name, list(PREDEFINED_CONFIGS), n=1, cutoff=0.6)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "the ECS ones are " + ", ".join(PREDEFINED_CONFIGS)
        )
        return value, [f"'{name}' is not one of AWS's predefined ECS configs; {hint}"]
    return value, []


def _hooks(value: object) -> tuple[Any, list[str]]:
    example = "{AfterAllowTestTraffic: CodeDeployHook_verify}"
    if not isinstance(value, Mapping):
        return value, [
            f"give a mapping {{lifecycle event: Lambda function name or ARN}}, e.g. {example}, "
            f"got {show_value(value)}"
        ]
    problems = []
    for event, function in value.items():
        if event not in _HOOK_EVENTS:
            close = (
                difflib.get_close_matches(event, _HOOK_EVENTS, n=1, cutoff=0.6)
                if isinstance(event, str)
                else []
            )
            hint = f"did you mean {close[0]!r}?" if close else "use " + ", ".join(_HOOK_EVENTS)
            problems.append(
                f"{shown_key(event)} is not a lifecycle event that takes a hook; {hint}"
            )
        if not isinstance(function, str) or not _FUNCTION.fullmatch(function):
            problems.append(
                f"{shown_key(event)}: give a Lambda function name or ARN, got "
                f"{show_value(function)}"
            )
    return dict(value), problems


def _names_or_flag(what: str, known: Sequence[str], off: str) -> Any:
    def check(value: object) -> tuple[Any, list[str]]:
        if isinstance(value, bool):
            return value, []
        items: list[object]
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, Sequence) and not isinstance(value, bytes):
            items = list(value)
        else:
            return value, [
                f"give true, false, or some of {', '.join(known)} (a list or a comma-separated "
                f"string), got {show_value(value)}"
            ]
        if not items:
            return value, [f"lists no {what}: give some of {', '.join(known)}, or {off}"]
        unknown = [shown_key(i) for i in items if i not in known]
        if unknown:
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            return value, [
                f"unknown {what} {', '.join(unknown[:3])}{more}: use some of {', '.join(known)}"
            ]
        return tuple(dict.fromkeys(str(i) for i in items)), []

    return check


def _flag(value: object) -> tuple[Any, list[str]]:
    if isinstance(value, bool):
        return value, []
    return value, [f"must be true or false, got {show_value(value)}"]


_CHECKS: dict[str, Any] = {
    "cluster": _named("a cluster name or ARN"),
    "service": _named("a service name or ARN"),
    "image": _image,
    "task_definition": _named("a task-definition ARN"),
    "region": _region,
    "role": _role,
    "traffic_config": _traffic_config,
    "hooks": _hooks,
    "auto_rollback": _names_or_flag(
        "rollback events", ROLLBACK_EVENTS, "false to turn rollback off"
    ),
    "suspend_scaling": _names_or_flag(
        "kinds of scaling", tuple(FLAGS), "false to leave scaling alone"
    ),
    "allow_mutable_image_tags": _flag,
    "check_hooks": _flag,
    "application": _named("a CodeDeploy application name"),
    "deployment_group": _named("a deployment group name"),
}


# -- the file's text -----------------------------------------------------------------------------


def read_manifest_file(path: Path) -> tuple[object, list[str]]:
    """The data of the manifest file at ``path`` (JSON when it ends in ``.json`` or starts
    with ``{``, else YAML), and why it cannot be read. A key given twice in one mapping is a
    problem: YAML and JSON readers would silently keep the last."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [f"cannot read it ({reason}): give the path of a YAML or JSON file"]
    return read_manifest_text(text, path.suffix.lower() == ".json")


def read_manifest_text(text: str, json_file: bool = False) -> tuple[object, list[str]]:
    """``read_manifest_file`` for a manifest's text (a Temporal workflow carries it)."""
    if json_file or text.lstrip().startswith("{"):
        return _read_json(text)
    return _read_yaml(text)


def _read_json(text: str) -> tuple[object, list[str]]:
    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        twice.extend(key for i, key in enumerate(keys) if key in keys[:i])
        return dict(items)

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return None, [f"not well-formed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
    return data, [f"key {shown_key(key)} is given twice in one mapping: keep one" for key in twice]


def _read_yaml(text: str) -> tuple[object, list[str]]:
    import yaml

    twice: list[str] = []

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[object] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                if key_node.value in seen:
                    line = key_node.start_mark.line + 1
                    twice.append(
                        f"line {line}: key {shown_key(key_node.value)} is given twice in one "
                        "mapping (the reader would keep the last): keep one"
                    )
                seen.add(key_node.value)
            return super().construct_mapping(node, deep=deep)

    loader = Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [f"not well-formed YAML{at}: {exc.problem}"]
    except yaml.YAMLError as exc:
        return None, [f"not well-formed YAML: {type(exc).__name__}"]
    finally:
        loader.dispose()
    return data, twice
