"""Loading a release manifest (YAML or JSON, or a mapping) into a ``Manifest``.

Every problem of the whole file is found before anything else happens and listed at once in
one ``ValidationError``, each naming where it is and how to fix it::

    waves[1] (rest).services[3] (prod/api): image: 'web:' has an empty tag ...

Service settings may be written on the service, on its wave or in ``defaults``; the closest
wins (service > wave > defaults). ``image`` and ``task_definition`` are one setting: a level
that gives either replaces both from the levels above it. A setting given as ``null`` is the
setting's own default whatever the levels above say (``analysis: null`` turns the analysis
off for a service). An analysis written in ``defaults`` or on a wave is loaded once and
shared by its services. Nothing here touches AWS. ``docs/release.md`` describes the file.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis
from bluegreen.arguments import check_arguments
from bluegreen.errors import ValidationError, escape_text, show_value
from bluegreen.manifest import FailurePolicy, Manifest, ServiceRelease, Wave
from bluegreen.manifest_checks import (
    SERVICE_KEYS,
    SHARED_KEYS,
    TOP_KEYS,
    WAVE_KEYS,
    check_value,
    key_problems,
    name_problems,
    read_manifest_file,
    read_manifest_text,
)

__all__ = ["format_duration", "load_manifest", "load_manifest_text", "parse_duration"]

_INVALID: Any = object()
"""A setting whose value has a problem (already reported): later checks leave it be."""
_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?"
)
_DURATION_EXAMPLES = "seconds (90) or a string such as '90s', '5m', '1h' or '1h30m'"
_ID_SUFFIX = 9  # "-" and 8 hex digits of the content
_NAME_LIMIT = 64


def load_manifest(
    manifest: str | os.PathLike[str] | Mapping[str, Any], /, *, source: str | None = None
) -> Manifest:
    """The release manifest in a file (YAML, or JSON), or in an already parsed mapping.

    Args:
        manifest: the path of the file, or the manifest's data.
        source: for a mapping, where it came from (a file name): it names the manifest in
            errors, becomes its ``source``, and relative analysis paths start from its
            directory (without it, from the current directory).

    Returns:
        The manifest: its waves of ``ServiceRelease`` values, each with its settings
        resolved (service > wave > defaults) and its analysis loaded.

    Raises:
        ValidationError: every problem of the whole manifest, each naming where it is
            (``waves[1] (rest).services[3] (prod/api): image: ...``) and how to fix it.
    """
    if isinstance(manifest, Mapping):
        data: object = manifest
        problems: list[str] = []
        subject = source or "release manifest"
        base = Path(source).parent if source else Path()
    elif isinstance(manifest, str | os.PathLike):
        path = Path(manifest)
        source = str(manifest)
        subject = source
        data, problems = read_manifest_file(path)
        if data is None and not problems:
            problems = ["the file is empty: give release: and waves: (docs/release.md)"]
        base = path.parent
    else:
        raise ValidationError(
            [
                "give the path of a manifest file or its data as a mapping, not "
                + show_value(manifest)
            ],
            subject="release manifest",
        )
    loader = _Loader(base)
    loader.problems += problems
    loaded = loader.manifest(data, source) if data is not None else None
    if loader.problems or loaded is None:
        raise ValidationError(loader.problems, subject=subject)
    return loaded


def load_manifest_text(text: str, source: str | None = None) -> Manifest:
    """``load_manifest`` of a manifest's text (YAML or JSON), as if read from the file
    ``source`` (its name, and where relative analysis paths start); every problem at once.

    Raises:
        ValidationError: as ``load_manifest``.
    """
    json_file = source is not None and source.lower().endswith(".json")
    data, problems = read_manifest_text(text, json_file)
    if problems or not isinstance(data, Mapping):
        problems = problems or ["the manifest is not a mapping: give release: and waves:"]
        raise ValidationError(problems, subject=source or "release manifest")
    return load_manifest(data, source=source)


def parse_duration(value: object) -> float:
    """Seconds from a duration as a manifest writes it: a number of seconds (``90``,
    ``1.5``) or a string of hours, minutes and seconds in that order (``"90s"``, ``"5m"``,
    ``"1h30m"``, ``"2.5m"``; a bare ``"90"`` is seconds).

    Raises:
        ValueError: not a duration, or a negative one; the message says what to write.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"give {_DURATION_EXAMPLES}, not {show_value(value)}")
    if isinstance(value, str):
        text = value.strip().lower()
        shown = f"'{escape_text(value)[:40]}'"
        if text.startswith("-"):
            raise ValueError(f"{shown} is negative: give {_DURATION_EXAMPLES}")
        try:
            seconds = float(text)
        except ValueError:
            found = _DURATION.fullmatch(text)
            if not text or found is None or not any(found.groups()):
                raise ValueError(f"{shown} is not a duration: give {_DURATION_EXAMPLES}") from None
            hours, minutes, rest = (float(found[unit] or 0) for unit in "hms")
            return hours * 3600 + minutes * 60 + rest
        value = seconds
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a duration: give {_DURATION_EXAMPLES}")
    if value < 0:
        raise ValueError(f"{value:g} is negative: give {_DURATION_EXAMPLES}")
    return float(value)


def format_duration(seconds: float) -> str:
    """A duration as a manifest writes it, in the fewest units (``1h30m``, ``5m``,
    ``1m30.5s``, ``0s``), to the millisecond: ``parse_duration`` reads it back."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    if millis or not (hours or minutes):
        parts.append(f"{millis / 1000:.3f}".rstrip("0").rstrip(".") + "s")
    return "".join(parts)


# -- the structure ----------------------------------------------------------------------


@attrs.define
class _Loader:
    """One load: the problems found so far, the analyses read, the services seen."""

    base: Path
    problems: list[str] = attrs.Factory(list)
    _analyses: dict[Path, Analysis | None] = attrs.Factory(dict)
    _seen: dict[tuple[str | None, str, str], str] = attrs.Factory(dict)

    def manifest(self, data: object, source: str | None) -> Manifest | None:
        if not isinstance(data, Mapping):
            self.problems.append(
                "give a mapping with release: and waves: at the top (docs/release.md), got "
                f"{type(data).__name__}"
            )
            return None
        self.problems += key_problems(data, TOP_KEYS, level="the release")
        name = data.get("release")
        self._name("release", name, "release name", "checkout-2026-12")
        release_id = data.get("id")
        if release_id is not None:
            self._name("id", release_id, "release id", "checkout-2026-12-1")
        elif isinstance(name, str) and _NAME_LIMIT - _ID_SUFFIX < len(name) <= _NAME_LIMIT:
            self.problems.append(
                f"release: '{name}' is {len(name)} characters; the release id adds "
                f"'-<8 hex digits>' and must stay within {_NAME_LIMIT}: shorten the name to "
                f"{_NAME_LIMIT - _ID_SUFFIX} or give an id:"
            )
        on_failure = self._failure_policy(data.get("on_failure") or "stop")
        defaults: dict[str, Any] = {}
        raw_defaults = data.get("defaults")
        if raw_defaults is not None and not isinstance(raw_defaults, Mapping):
            self.problems.append(
                "defaults: give a mapping of service settings (region, traffic_config, "
                f"analysis...), got {show_value(raw_defaults)}"
            )
        elif raw_defaults is not None:
            self.problems += [
                f"defaults: {p}" for p in key_problems(raw_defaults, SHARED_KEYS, level="defaults")
            ]
            defaults = self._settings(raw_defaults, "defaults", SHARED_KEYS)
        waves = self._waves(data.get("waves"), defaults)
        if self.problems:
            return None
        return Manifest(
            name=str(name),
            waves=waves,
            on_failure=on_failure,
            id=str(release_id or ""),
            source=source,
        )

    def _name(self, key: str, value: object, what: str, example: str) -> None:
        if value is None:
            self.problems.append(f"{key}: missing: give the {what}, e.g. {key}: {example}")
        else:
            self.problems += [f"{key}: {p}" for p in name_problems(value, what, example)]

    def _failure_policy(self, value: object) -> FailurePolicy:
        if isinstance(value, str) and value in tuple(FailurePolicy):
            return FailurePolicy(value)
        self.problems.append(
            f"on_failure: {show_value(value)} is not a failure policy: give stop (stop every "
            "deployment in flight) or rollback (also roll back the services the release "
            "already released)"
        )
        return FailurePolicy.STOP

    def _waves(self, raw: object, defaults: dict[str, Any]) -> tuple[Wave, ...]:
        if raw is None or (isinstance(raw, Sequence) and not isinstance(raw, str) and not raw):
            self.problems.append(
                "waves: missing: give a list of waves, each with a name and its services"
            )
            return ()
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            self.problems.append(f"waves: give a list of waves, got {show_value(raw)}")
            return ()
        names: dict[str, int] = {}
        waves = []
        for index, item in enumerate(raw):
            wave = self._wave(index, item, defaults, names)
            if wave is not None:
                waves.append(wave)
        return tuple(waves)

    def _wave(
        self, index: int, raw: object, defaults: dict[str, Any], names: dict[str, int]
    ) -> Wave | None:
        if not isinstance(raw, Mapping):
            self.problems.append(
                f"waves[{index}]: give a mapping with name: and services:, got {show_value(raw)}"
            )
            return None
        name = raw.get("name")
        where = f"waves[{index}]" + (
            f" ({escape_text(name)[:64]})" if isinstance(name, str) else ""
        )
        self.problems += [f"{where}: {p}" for p in key_problems(raw, WAVE_KEYS, level="a wave")]
        if name is None:
            self.problems.append(f"{where}: name: missing: give the wave a name, e.g. canary")
        else:
            self.problems += [
                f"{where}: name: {p}" for p in name_problems(name, "wave name", "canary")
            ]
        if isinstance(name, str) and name in names:
            self.problems.append(
                f"{where}: name: '{name}' is also the name of waves[{names[name]}]: give each "
                "wave its own name (deployments are marked with it)"
            )
        elif isinstance(name, str):
            names[name] = index
        concurrency = raw.get("concurrency")
        if concurrency is not None and (
            isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
        ):
            self.problems.append(
                f"{where}: concurrency: give a whole number, 1 or more (how many of the wave's "
                f"services deploy at once), got {show_value(concurrency)}"
            )
            concurrency = None
        bake = self._duration(raw, "bake", where)
        own = self._settings(raw, where, SHARED_KEYS)
        inherited = _merge(defaults, own)
        services = raw.get("services")
        if services is None or (isinstance(services, Sequence) and not services):
            self.problems.append(
                f"{where}: services: the wave has no services: list at least one, or remove "
                "the wave"
            )
            services = ()
        elif isinstance(services, str) or not isinstance(services, Sequence):
            self.problems.append(
                f"{where}: services: give a list of services, got {show_value(services)}"
            )
            services = ()
        built = [self._service(where, i, item, inherited) for i, item in enumerate(services)]
        return Wave(
            name=str(name),
            services=tuple(s for s in built if s is not None),
            concurrency=concurrency,
            bake=bake or 0.0,
        )

    def _service(
        self, wave: str, index: int, raw: object, inherited: dict[str, Any]
    ) -> ServiceRelease | None:
        where = f"{wave}.services[{index}]"
        if not isinstance(raw, Mapping):
            self.problems.append(
                f"{where}: give a mapping with cluster:, service: and image: (or "
                f"task_definition:), got {show_value(raw)}"
            )
            return None
        cluster, service = raw.get("cluster", inherited.get("cluster")), raw.get("service")
        if isinstance(cluster, str) and isinstance(service, str):
            where += f" ({escape_text(cluster)[:60]}/{escape_text(service)[:60]})"
        found = len(self.problems)
        self.problems += [
            f"{where}: {p}" for p in key_problems(raw, SERVICE_KEYS, level="a service")
        ]
        settings = _merge(inherited, self._settings(raw, where, SERVICE_KEYS))
        for key, what in (("cluster", "the ECS cluster"), ("service", "the ECS service")):
            if settings.get(key) is None:
                place = "" if key == "service" else " (here, on the wave or in defaults)"
                self.problems.append(f"{where}: {key}: missing: give {what}{place}")
        if settings.get("image") is None and settings.get("task_definition") is None:
            self.problems.append(
                f"{where}: give image (a new image for the service's current task definition) "
                "or task_definition (a task-definition ARN to deploy as it is)"
            )
        if (settings.get("application") is None) != (settings.get("deployment_group") is None):
            self.problems.append(
                f"{where}: give application and deployment_group together (the service's "
                "CodeDeploy group), or neither to find it from the service"
            )
        self._once(where, settings)
        if len(self.problems) > found or _INVALID in settings.values():
            return None
        return self._release(where, settings)

    def _once(self, where: str, settings: dict[str, Any]) -> None:
        cluster, service, region = (settings.get(k) for k in ("cluster", "service", "region"))
        if not (isinstance(cluster, str) and isinstance(service, str)):
            return
        key = (region if isinstance(region, str) else None, cluster, service)
        first = self._seen.setdefault(key, where)
        if first != where:
            self.problems.append(
                f"{where}: {cluster}/{service}"
                + (f" in {region}" if key[0] else "")
                + f" is already released by {first}: a service appears once in a release; "
                "remove one of them"
            )

    def _release(self, where: str, settings: dict[str, Any]) -> ServiceRelease | None:
        fields = {k: v for k, v in settings.items() if v is not None}
        analysis = fields.pop("analysis", None)
        if analysis is not None:
            fields["analysis"], fields["analysis_source"] = analysis
        service = ServiceRelease(**fields)
        try:  # deploy's own checks: what it would refuse, the manifest refuses now
            check_arguments(
                service.cluster,
                service.service,
                **service.deploy_arguments(),
                description=None,
                clients=None,
                session=None,
                clock=None,
            )
        except ValidationError as exc:
            self.problems += [f"{where}: {p}" for p in exc.problems]
            return None
        return service

    # -- one level's settings ---------------------------------------------------------------

    def _settings(self, raw: Mapping[Any, Any], where: str, known: Sequence[str]) -> dict[str, Any]:
        """The settings ``raw`` gives (of ``known``), checked and converted; a setting with
        a problem is ``_INVALID``."""
        settings: dict[str, Any] = {}
        for key in known:
            if key not in raw:
                continue
            value = raw[key]
            if value is None:
                settings[key] = None
            elif key == "analysis":
                settings[key] = self._analysis(value, where)
            elif key == "timeout":
                seconds = self._duration(raw, key, where)
                if seconds == 0:
                    self.problems.append(
                        f"{where}: timeout: 0 would give up at once: give the longest wait "
                        "for the deployment to end, e.g. 1h, or null for no limit"
                    )
                settings[key] = seconds if seconds else _INVALID
            else:
                converted, problems = check_value(key, value)
                self.problems += [f"{where}: {key}: {p}" for p in problems]
                settings[key] = _INVALID if problems else converted
        if settings.get("image") is not None and settings.get("task_definition") is not None:
            self.problems.append(
                f"{where}: give image or task_definition, not both: image deploys a new image "
                "in the service's current task definition, task_definition deploys that one "
                "as it is"
            )
            settings["image"] = _INVALID
        return settings

    def _duration(self, raw: Mapping[Any, Any], key: str, where: str) -> float | None:
        value = raw.get(key)
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problems.append(f"{where}: {key}: {exc}")
            return None

    def _analysis(self, value: object, where: str) -> Any:
        """``(Analysis, how the file named it)``, or ``_INVALID``."""
        if value == "default":
            return (DEFAULT_ANALYSIS, "default")
        if isinstance(value, Mapping):
            try:
                return (Analysis.from_dict(value, source="inline"), "inline")
            except ValidationError as exc:
                self.problems += [f"{where}: analysis: {p}" for p in exc.problems]
                return _INVALID
        if not isinstance(value, str) or not value.strip():
            self.problems.append(
                f"{where}: analysis: give default, the path of an analysis file (relative to "
                f"the manifest) or a mapping of analysis fields, got {show_value(value)}"
            )
            return _INVALID
        path = self.base / value
        if path not in self._analyses:
            try:
                self._analyses[path] = Analysis.from_file(path)
            except ValidationError as exc:
                self._analyses[path] = None
                self.problems += [f"{where}: analysis: file {path}: {p}" for p in exc.problems]
        loaded = self._analyses[path]
        return _INVALID if loaded is None else (loaded, value)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on ``base``: the closer level wins, and image/task_definition go together."""
    merged = dict(base)
    if "image" in over or "task_definition" in over:
        merged.pop("image", None)
        merged.pop("task_definition", None)
    merged.update(over)
    return merged
