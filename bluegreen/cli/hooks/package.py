"""``bluegreen hooks package``: the Lambda deployment zip of the ready-made handlers and your
own, the ``bluegreen`` library (without ``bluegreen.cli`` and ``bluegreen.testing``) and the
hook kit's runtime dependencies copied from the current environment, without what the Lambda
Python runtime provides (boto3, botocore and their dependencies)."""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.errors import ValidationError
from bluegreen.hooks.handlers import READY_MADE, thin_handler_source

DEFAULT_OUTPUT = "bluegreen-hooks.zip"

HOOK_REQUIREMENTS = ("attrs", "tenacity", "httpx")
"""What ``bluegreen.hooks`` imports besides the standard library and boto3."""

PROVIDED_BY_LAMBDA = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
"""Distributions the Lambda Python runtime already has; never copied into the zip."""

LEFT_OUT_OF_PACKAGE = (
    "cli",
    "testing",
    "demo",
    "pytest_plugin.py",
    "iam.py",
    "iam_actions.py",
    "iam_infrastructure.py",
    "iam_migration.py",
    "iam_native.py",
    "iam_recording.py",
    "iam_resources.py",
)
"""Parts of ``bluegreen`` a hook never imports (they need PyYAML, rich, moto or pytest, or
only write IAM policies)."""

# A fixed timestamp makes two builds of the same files byte-identical.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@attrs.frozen(kw_only=True)
class PackageReport:
    """What ``build_package`` wrote."""

    path: Path
    size: int
    handlers: tuple[str, ...]
    """``module.handler`` for each handler file: the Lambda ``Handler`` setting."""
    distributions: tuple[str, ...]
    """``name version`` of each dependency copied in."""
    files: int


def run_package(args: argparse.Namespace) -> int:
    handlers = [Path(name) for name in args.handler]
    report = build_package(Path(args.output), handlers, ready_made=args.ready_made)
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    print(f"wrote {report.path} ({_size(report.size)}, {report.files} files)")
    print(f"  dependencies: {', '.join(report.distributions)}")
    print("  left out: boto3 and botocore (the Lambda runtime provides them), PyYAML, rich")
    print(f"Lambda runtime {runtime}; handlers to configure (function names CodeDeployHook_*):")
    for handler in report.handlers:
        print(f"  {handler}")
    return EXIT_OK


def build_package(
    output: Path, handlers: Sequence[Path] = (), *, ready_made: bool = True
) -> PackageReport:
    """Write the Lambda zip of the ready-made handlers (unless ``ready_made`` is false) and
    your own ``handlers`` files to ``output``.

    Raises:
        ValidationError: a handler file is missing, two share a name (a ready-made one's
            included), or there is nothing to package.
    """
    problems = [f"{path} is not a Python file" for path in handlers if not is_python_file(path)]
    names = [path.name for path in handlers]
    problems += [
        f"two handler files are named {n}" for n in sorted(set(names)) if names.count(n) > 1
    ]
    if ready_made:
        problems += [
            f"{path} has the name of a ready-made handler: rename it, or leave the ready-made "
            "ones out with --no-ready-made"
            for path in handlers
            if path.stem in READY_MADE
        ]
    elif not handlers:
        problems.append("nothing to package: give --handler FILE, or keep the ready-made ones")
    if problems:
        raise ValidationError(problems, subject="command line")

    entries: dict[str, Path | bytes] = {}
    entry_points: list[str] = []
    if ready_made:
        for name, attributes in READY_MADE.items():
            entries[f"{name}.py"] = thin_handler_source(name).encode()
            entry_points += [f"{name}.{attribute}" for attribute in attributes]
    for path in handlers:
        entries[path.name] = path
        entry_points.append(f"{path.stem}.handler")
        for helper in sorted(path.parent.glob("_*.py")):
            entries.setdefault(helper.name, helper)
    entries.update(_library_files())
    distributions = _dependency_distributions()
    for dist in distributions:
        entries.update(_distribution_files(dist))

    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            content = entries[name]
            archive.writestr(info, content if isinstance(content, bytes) else content.read_bytes())
    return PackageReport(
        path=output,
        size=output.stat().st_size,
        handlers=tuple(entry_points),
        distributions=tuple(f"{d.metadata['Name']} {d.version}" for d in distributions),
        files=len(entries),
    )


def is_python_file(path: Path) -> bool:
    return path.suffix == ".py" and path.is_file()


def _library_files() -> dict[str, Path]:
    """``bluegreen``'s own files, read from where it is imported (an editable install
    lists no package files in its metadata)."""
    import bluegreen

    root = Path(bluegreen.__file__).parent
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or "__pycache__" in relative.parts:
            continue
        if relative.parts[0] in LEFT_OUT_OF_PACKAGE or path.suffix == ".pyc":
            continue
        files[f"bluegreen/{relative.as_posix()}"] = path
    return files


def _dependency_distributions() -> list[Any]:
    """The installed distributions the kit needs, with their own requirements, minus those
    the Lambda runtime provides. A requirement counts when it carries no ``extra`` marker and
    is installed here: pip already evaluated the other markers for this interpreter."""
    from importlib import metadata

    found: dict[str, Any] = {}
    pending = list(HOOK_REQUIREMENTS)
    while pending:
        name = _normalise(pending.pop())
        if name in found or name in PROVIDED_BY_LAMBDA:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for requirement in dist.requires or ():
            spec, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue
            pending.append(_requirement_name(spec))
    return [found[name] for name in sorted(found)]


def _requirement_name(spec: str) -> str:
    name = spec.strip()
    for stop in " ([<>=!~;":
        name = name.split(stop, 1)[0]
    return name


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _distribution_files(dist: Any) -> dict[str, Path]:
    files = {}
    for file in dist.files or ():
        name = file.as_posix()
        if name.startswith("..") or "__pycache__" in name or name.endswith(".pyc"):
            continue  # scripts outside site-packages, and bytecode Lambda writes itself
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            files[name] = path
    return files


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"
