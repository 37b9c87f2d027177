"""``bluegreen recover``: restore the scaling a dead release process left suspended."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bluegreen.cli._aws_setup import clients_from
from bluegreen.cli._clock import clock
from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._options import add_aws_options, add_output_option

if TYPE_CHECKING:
    from types import FrameType

    from bluegreen.deployment import Deployment


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "recover",
        help="restore the autoscaling a killed deploy left suspended",
        description="Find the scaling record (tag bluegreen:scaling) a release left on the "
        "service and restore exactly the recorded autoscaling state, once its deployment "
        "(and any rollback) has ended. Refuses while it is still running unless --force.",
    )
    parser.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
    parser.add_argument("--service", required=True, help="ECS service name or ARN")
    parser.add_argument(
        "--force",
        action="store_true",
        help="restore even though the deployment is still running",
    )
    add_aws_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.scaling import recover

    result = recover(
        args.cluster, args.service, force=args.force, clients=clients_from(args), clock=clock()
    )
    if args.output == "json":
        document = {
            "restored": list(result.restored),
            "missing": list(result.missing),
            "already_restored": result.already_restored,
            "record": result.record.to_dict() if result.record is not None else None,
        }
        print(json.dumps(document))
    else:
        print(result)
    return EXIT_OK


def restore_after_interrupt(deployment: Deployment) -> None:
    """Put back the scaling suspended for ``deployment`` and say what was done (stderr)."""
    from bluegreen.errors import AWSError

    try:
        result = deployment.release_scaling()
    except AWSError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", ()):
            print(f"bluegreen: {note}", file=sys.stderr)
        return
    if result is not None:
        print(f"bluegreen: {result}", file=sys.stderr)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises ``KeyboardInterrupt`` inside the block, as Ctrl-C does, so the
    scaling record is restored before a CI runner's kill ends the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
