"""``bluegreen hooks invoke``: run a handler (a ready-made one by name, or a file) here, with
the event CodeDeploy sends (``DeploymentId``, ``LifecycleEventHookExecutionId``), or, for a
service deployment ARN or ``--native``, the event ECS sends an ECS-native hook
(``invoke_native``), and a Lambda-like context, against AWS, ``bluegreen sim serve``
(``--endpoint-url``) or the in-process simulator of a test."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from bluegreen.cli._exit_codes import (
    EXIT_AWS_ERROR,
    EXIT_DEPLOYMENT_FAILED,
    EXIT_OK,
    EXIT_TIMEOUT,
)
from bluegreen.cli._options import ENDPOINT_URL_VARIABLE
from bluegreen.cli.hooks.package import is_python_file
from bluegreen.errors import AWSError, ValidationError
from bluegreen.hooks.handlers import READY_MADE


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
    if _is_native(args):
        return _run_native(args, handler)
    made_up = args.execution_id is None
    event = {
        "DeploymentId": args.deployment_id,
        "LifecycleEventHookExecutionId": args.execution_id or f"local-{uuid.uuid4()}",
    }
    context = _context(args)
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


def _context(args: argparse.Namespace) -> LocalContext:
    """A fresh Lambda-like context, its remaining time counting down from now."""
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return LocalContext(
        function_name=args.function_name,
        invoked_function_arn=(
            f"arn:aws:lambda:{region or 'us-east-1'}:123456789012:function:{args.function_name}"
        ),
        aws_request_id=str(uuid.uuid4()),
        deadline=time.monotonic() + args.function_timeout,
        log_group_name=f"/aws/lambda/{args.function_name}",
    )


def _is_native(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "native", False)) or str(args.deployment_id).startswith("arn:aws")


def _run_native(args: argparse.Namespace, handler: Any) -> int:
    """Invoke ``handler`` with ECS-native events as ECS would, and print its last answer with
    the reason and checks it logged."""
    import json

    from bluegreen.cli.hooks.invoke_native import (
        DEFAULT_STAGES,
        native_event,
        run_native_invocations,
        target_revision,
    )

    stage = args.stage or DEFAULT_STAGES.get(args.file, "POST_TEST_TRAFFIC_SHIFT")
    details = json.loads(args.hook_details) if args.hook_details else None
    invocations = 0

    def show(answer: dict[str, Any]) -> None:
        nonlocal invocations
        invocations += 1
        if answer.get("hookStatus") == "IN_PROGRESS" and not args.once:
            print(
                f"bluegreen: IN_PROGRESS; invoking again in {answer.get('callBackDelay', 30)} s "
                "with the hookDetails it returned, as ECS would",
                file=sys.stderr,
                flush=True,
            )

    with _aws_environment(args), _hook_log() as log:
        target = args.target_revision
        if target is None:
            from bluegreen.hooks._clients import default_clients

            target, why = target_revision(args.deployment_id, default_clients().ecs)
            if why:
                print(f"bluegreen: {why}; using {target}", file=sys.stderr)
        event = native_event(args.deployment_id, stage, target, hook_details=details)
        answer = run_native_invocations(
            handler,
            event,
            lambda: _context(args),
            once=args.once,
            sleep=time.sleep,
            show=show,
        )
        answered = [r for r in log.records if r.get("event") == "answered"]
        checks = log.result()["checks"]
    reason = answered[-1].get("reason") if answered else None
    print(
        json.dumps(
            {**answer, "reason": reason, "invocations": invocations, "checks": checks},
            indent=2,
            default=str,
        ),
        flush=True,
    )
    status = answer.get("hookStatus")
    if status == "SUCCEEDED":
        return EXIT_OK
    if status == "IN_PROGRESS":
        print("bluegreen: the hook has not decided yet (--once)", file=sys.stderr)
        return EXIT_TIMEOUT
    if status is None:
        print("bluegreen: the handler returned no hookStatus", file=sys.stderr)
    return EXIT_DEPLOYMENT_FAILED


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
    native_options = [
        f"--{name.replace('_', '-')}"
        for name in ("stage", "hook_details", "target_revision")
        if getattr(args, name, None) is not None
    ] + (["--once"] if getattr(args, "once", False) else [])
    if _is_native(args):
        from bluegreen.cli.hooks.invoke_native import native_problems

        problems += native_problems(args.deployment_id, args.stage, args.hook_details)
        if args.execution_id is not None:
            problems.append("--execution-id is for CodeDeploy hooks: ECS makes its own")
    elif native_options:
        problems.append(
            f"{', '.join(native_options)} only apply to an ECS-native hook: give --native "
            "and a service deployment ARN as --deployment-id"
        )
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
            {
                k: v
                for k, v in r.items()
                if k not in ("event", "deployment_id", "execution_id", "stage")
            }
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

    if not is_python_file(path):
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
    from unittest import mock

    with mock.patch.dict(os.environ):  # puts the whole environment back afterwards
        os.environ.update({name: value for name, value in wanted.items() if value})
        yield
