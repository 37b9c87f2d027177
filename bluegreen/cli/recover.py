"""``bluegreen recover``: restore the scaling a dead release process left suspended, and delete
the analysis's alarm nets whose deployment has ended."""

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

    from bluegreen._aws import Clients
    from bluegreen.analysis_alarm_cleanup import NetCleanup
    from bluegreen.deployment import Deployment
    from bluegreen.errors import AWSError


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "recover",
        help="restore the autoscaling a killed deploy left suspended",
        description="Reconcile the scaling records releases left on the service (tags "
        "bluegreen:scaling:<release id>, and the older single bluegreen:scaling): remove "
        "those whose deployment (and any rollback) has ended, and once none is left in force "
        "restore exactly the autoscaling state from before any release. Refuses (exit 2) "
        "while a record is still in force unless --force. Also deletes the analysis's alarm "
        "nets (CloudWatch alarms bluegreen-net-<cluster>-<service>-*) whose deployment has "
        "ended.",
    )
    parser.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
    parser.add_argument("--service", required=True, help="ECS service name or ARN")
    parser.add_argument(
        "--force",
        action="store_true",
        help="restore even though a deployment is still running",
    )
    parser.add_argument(
        "--pending-minutes",
        type=float,
        default=None,
        metavar="MINUTES",
        help="how long a record without a deployment id stays in force (a release between "
        "recording and CreateDeployment; default 10)",
    )
    add_aws_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt

    from bluegreen.errors import BlueGreenError, ValidationError
    from bluegreen.scaling import PENDING_LIMIT, recover

    pending = PENDING_LIMIT
    if args.pending_minutes is not None:
        if not args.pending_minutes >= 0:
            raise ValidationError(
                [f"--pending-minutes takes a number of minutes >= 0, not {args.pending_minutes}"]
            )
        pending = dt.timedelta(minutes=args.pending_minutes)
    aws = clients_from(args)
    nets, nets_error = _remove_nets(args, aws)
    try:
        result = recover(
            args.cluster,
            args.service,
            force=args.force,
            pending_limit=pending,
            clients=aws,
            clock=clock(),
        )
    except BlueGreenError:
        if nets is not None and nets.removed:
            print(nets, file=sys.stderr)
        raise
    if args.output == "json":
        document = {
            "restored": list(result.restored),
            "missing": list(result.missing),
            "already_restored": result.already_restored,
            "record": result.record.to_dict() if result.record is not None else None,
            "removed": [r.to_dict() for r in result.removed],
            "alarm_nets": nets.to_dict() if nets is not None else None,
        }
        print(json.dumps(document))
    else:
        print(result)
        if nets is not None and (nets.removed or nets.kept):
            print(nets)
    if nets_error is not None:
        raise nets_error
    return EXIT_OK


def _remove_nets(
    args: argparse.Namespace, aws: Clients
) -> tuple[NetCleanup | None, AWSError | None]:
    """Delete the service's ended alarm nets: ``(NetCleanup, None)``, or ``(None, error)``
    when AWS refused (raised once the scaling has been restored)."""
    from bluegreen._aws import Caller
    from bluegreen.analysis_alarm_cleanup import remove_ended_nets
    from bluegreen.errors import AWSError

    injected = clock()
    caller = Caller(clock=injected) if injected is not None else Caller()
    try:
        return remove_ended_nets(caller, aws, args.cluster, args.service), None
    except AWSError as exc:
        return None, exc


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
