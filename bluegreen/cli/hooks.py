"""``bluegreen hooks package`` and ``bluegreen hooks invoke``: ship and try the Lambda
lifecycle hooks, the ready-made ones (``bluegreen.hooks.handlers``) and your own.

``package`` builds the Lambda deployment zip: a thin file per ready-made handler and each of
your handler files at its root, the ``bluegreen`` library (without ``bluegreen.cli`` and
``bluegreen.testing``, which a hook never imports) and the hook kit's runtime dependencies
copied from the current environment. boto3, botocore and their own dependencies stay out,
because the Lambda Python runtime provides them; so do PyYAML and rich, which only the CLI
uses. Every dependency is pure Python, so the zip runs on either Lambda architecture; build it
with the Python version of the function's runtime. It needs no source checkout.

``invoke`` runs a handler (a ready-made one by name, or a file) here, with the event CodeDeploy
sends (``DeploymentId``, ``LifecycleEventHookExecutionId``) and a Lambda-like context, against
AWS, ``bluegreen sim serve`` (``--endpoint-url``) or the in-process simulator of a test.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from bluegreen.cli import (
    ENDPOINT_URL_VARIABLE,
    EXIT_AWS_ERROR,
    EXIT_DEPLOYMENT_FAILED,
    EXIT_OK,
    _positive_seconds,
    add_aws_options,
)
from bluegreen.errors import AWSError, ValidationError
from bluegreen.hooks.handlers import READY_MADE, thin_handler_source

DEFAULT_OUTPUT = "bluegreen-hooks.zip"

HOOK_REQUIREMENTS = ("attrs", "tenacity", "httpx")
"""What ``bluegreen.hooks`` imports besides the standard library and boto3."""

PROVIDED_BY_LAMBDA = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
"""Distributions the Lambda Python runtime already has; never copied into the zip."""

LEFT_OUT_OF_PACKAGE = ("cli", "testing")
"""Sub-packages of ``bluegreen`` a hook never imports (they need PyYAML, rich or moto)."""

# A fixed timestamp makes two builds of the same files byte-identical.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "hooks",
        help="package the Lambda hooks (ready-made and your own), or run one locally",
        description="Build the Lambda zip of the lifecycle hook handlers, or run a handler "
        "locally with a real CodeDeploy event.",
    )
    hook_commands = parser.add_subparsers(dest="hooks_command", metavar="COMMAND", required=True)

    package = hook_commands.add_parser(
        "package",
        help="build the Lambda deployment zip of the handlers",
        description="Build a Lambda deployment zip: the ready-made handlers "
        f"({', '.join(READY_MADE)}) and your own handler files at its root, the bluegreen "
        "library and its runtime dependencies from this environment, without boto3 and "
        "botocore (the Lambda runtime provides them). Prints its size and the handler names "
        "to configure.",
    )
    package.add_argument(
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help=f"where to write the zip (default {DEFAULT_OUTPUT})",
    )
    package.add_argument(
        "--handler",
        action="append",
        default=[],
        metavar="FILE",
        help="one of your own handler files to include as well (repeatable); the _*.py "
        "helpers beside it come along",
    )
    package.add_argument(
        "--no-ready-made",
        dest="ready_made",
        action="store_false",
        help="leave the ready-made handlers out (then give --handler)",
    )
    package.set_defaults(run=run_package)

    invoke = hook_commands.add_parser(
        "invoke",
        help="run a handler file locally with a real CodeDeploy event",
        description="Load a handler (a ready-made one by name, or a file by path) and call it "
        "with the event CodeDeploy sends and a Lambda-like context, then print the checks' "
        "result as JSON. Its boto3 clients reach --endpoint-url (e.g. `bluegreen sim serve`) "
        "or AWS. Without --execution-id the checks run and CodeDeploy refuses the report, "
        "which is expected. Exit 0 if the checks passed, 1 if they failed, 4 if a report "
        "with a real --execution-id could not be delivered.",
    )
    invoke.add_argument(
        "file",
        metavar="HANDLER",
        help=f"a ready-made handler ({', '.join(READY_MADE)}) or a handler file, "
        "e.g. my_hooks/verify.py",
    )
    invoke.add_argument("--deployment-id", required=True, metavar="ID", help="d-XXXXXXXXX")
    invoke.add_argument(
        "--execution-id",
        metavar="ID",
        help="the LifecycleEventHookExecutionId from the event CodeDeploy sent the hook's "
        "function (it is in that invocation's event only). Default: a made-up one, so the "
        "checks run but CodeDeploy refuses the report",
    )
    invoke.add_argument(
        "--function-name",
        default="CodeDeployHook_local",
        metavar="NAME",
        help="the context's function name (default CodeDeployHook_local)",
    )
    invoke.add_argument(
        "--function-timeout",
        type=_positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="the Lambda timeout the context counts down from (default 60)",
    )
    invoke.add_argument(
        "--attribute",
        default="handler",
        metavar="NAME",
        help="the handler's name in the file (default handler)",
    )
    add_aws_options(invoke)
    invoke.set_defaults(run=run_invoke)


# -- package ------------------------------------------------------------------------------


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
    problems = [f"{path} is not a Python file" for path in handlers if not _is_python(path)]
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


def _is_python(path: Path) -> bool:
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


# -- invoke -------------------------------------------------------------------------------


@attrs.define
class LocalContext:
    """The Lambda context a local invocation passes: the remaining time counts down from
    ``--function-timeout`` on the real clock."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def run_invoke(args: argparse.Namespace) -> int:
    import json

    handler = _checked_invocation(args)
    made_up = args.execution_id is None
    event = {
        "DeploymentId": args.deployment_id,
        "LifecycleEventHookExecutionId": args.execution_id or f"local-{uuid.uuid4()}",
    }
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    context = LocalContext(
        function_name=args.function_name,
        invoked_function_arn=(
            f"arn:aws:lambda:{region or 'us-east-1'}:123456789012:function:{args.function_name}"
        ),
        aws_request_id=str(uuid.uuid4()),
        deadline=time.monotonic() + args.function_timeout,
        log_group_name=f"/aws/lambda/{args.function_name}",
    )
    refused: AWSError | None = None
    with _aws_environment(args), _hook_log() as log:
        try:
            result = handler(event, context)
        except AWSError as exc:
            # The kit raises when its report cannot be delivered (Lambda would retry); the
            # checks ran all the same, and their result is in the kit's log lines.
            refused, result = exc, log.result()
    status = result.get("status") if isinstance(result, dict) else None
    if refused is not None:
        result = {**result, "reported": False, "report_error": str(refused)}
    print(json.dumps(result, indent=2, default=str), flush=True)
    if refused is not None:
        if not made_up:
            print(f"bluegreen: the checks ran, but the report failed: {refused}", file=sys.stderr)
            return EXIT_AWS_ERROR
        outcome = {"Succeeded": "passed", "Failed": "failed"}.get(str(status), "gave no status")
        print(
            f"bluegreen: the checks {outcome}; CodeDeploy refused the report "
            f"({refused.code or refused.message}), as it refuses any report without a real "
            "execution id. To report for real, pass --execution-id with the "
            "LifecycleEventHookExecutionId of the event CodeDeploy sent the hook's function "
            "(it appears only in that event, e.g. in the function's log).",
            file=sys.stderr,
        )
    elif status is None:
        print("bluegreen: the handler returned no status", file=sys.stderr)
    return EXIT_OK if status == "Succeeded" else EXIT_DEPLOYMENT_FAILED


def _checked_invocation(args: argparse.Namespace) -> Any:
    """The handler to invoke, once the handler and the deployment id are both right (every
    problem reported at once, before anything is sent)."""
    from bluegreen.deployment import check_deployment_id

    problems: list[str] = []
    handler = None
    try:
        handler = resolve_handler(args.file, args.attribute)
    except ValidationError as exc:
        problems += exc.problems
    try:
        check_deployment_id(args.deployment_id)
    except ValidationError as exc:
        problems += exc.problems
    if problems:
        raise ValidationError(problems, subject="command line")
    return handler


def resolve_handler(target: str, attribute: str = "handler") -> Any:
    """The handler ``target`` names: a ready-made handler by name (``verify_test_listener``),
    unless a file of that name exists here, or a handler file by path (``load_handler``).

    Raises:
        ValidationError: neither, or the handler cannot be loaded.
    """
    import importlib

    if target in READY_MADE and not Path(target).is_file():
        module = importlib.import_module(f"bluegreen.hooks.handlers.{target}")
        handler = getattr(module, attribute, None)
        if not callable(handler):
            offered = ", ".join(READY_MADE[target])
            raise ValidationError(
                [f"the ready-made handler {target} has no {attribute!r}; it offers {offered}"],
                subject="command line",
            )
        return handler
    path = Path(target)
    if not path.exists() and path.suffix != ".py":
        raise ValidationError(
            [
                f"{target!r} is neither a ready-made handler ({', '.join(READY_MADE)}) "
                "nor a handler file"
            ],
            subject="command line",
        )
    return load_handler(path, attribute)


class _HookLog(logging.Handler):
    """The hook kit's JSON log lines, shown on stderr as Lambda would log them, and kept to
    rebuild the checks' result when the report itself fails."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        import json

        message = record.getMessage()
        print(message, file=sys.stderr, flush=True)
        with contextlib.suppress(ValueError):
            parsed = json.loads(message)
            if isinstance(parsed, dict):
                self.records.append(parsed)

    def result(self) -> dict[str, Any]:
        """What the handler would have returned: the status and reason it tried to report,
        and every check result it logged."""
        checks = [
            {k: v for k, v in r.items() if k not in ("event", "deployment_id", "execution_id")}
            for r in self.records
            if r.get("event") == "check"
        ]
        failed = [r for r in self.records if r.get("event") == "report_failed"]
        last = failed[-1] if failed else {}
        return {"status": last.get("status"), "reason": last.get("reason"), "checks": checks}


@contextlib.contextmanager
def _hook_log() -> Iterator[_HookLog]:
    """Route the ``bluegreen.hooks`` logger (only it: the root logger's level stays, so
    httpx and botocore add no line per request) to stderr for the call."""
    logger = logging.getLogger("bluegreen.hooks")
    handler = _HookLog()
    saved_level, saved_propagate = logger.level, logger.propagate
    if logger.level == logging.NOTSET:
        name = os.environ.get("BLUEGREEN_LOG_LEVEL", "INFO").strip().upper()
        logger.setLevel(logging.getLevelNamesMapping().get(name, logging.INFO))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate


def load_handler(path: Path, attribute: str = "handler") -> Any:
    """The callable ``attribute`` of the file at ``path``, imported as Lambda does: under
    the file's own name, with its folder first on ``sys.path`` (so ``_*.py`` helpers beside
    it import).

    Raises:
        ValidationError: the file does not exist, does not import or has no such callable.
    """
    import importlib.util

    if not _is_python(path):
        raise ValidationError([f"{path} is not a Python file"], subject="command line")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ValidationError([f"cannot load {path}"], subject="command line")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(path.stem, None)
        raise ValidationError(
            [f"importing {path} failed: {type(exc).__name__}: {exc}"], subject="command line"
        ) from exc
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise ValidationError([f"{path} has no callable {attribute!r}"], subject="command line")
    return handler


@contextlib.contextmanager
def _aws_environment(args: argparse.Namespace) -> Iterator[None]:
    """Point the handler's boto3 clients (made from the environment, as on Lambda) at
    ``--endpoint-url``, ``--region`` and ``--profile`` for the call, then restore."""
    wanted = {
        "AWS_ENDPOINT_URL": args.endpoint_url or os.environ.get(ENDPOINT_URL_VARIABLE),
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
        "AWS_PROFILE": args.profile,
    }
    saved = {name: os.environ.get(name) for name in wanted}
    try:
        for name, value in wanted.items():
            if value:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
