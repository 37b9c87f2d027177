"""Following a deployment: ``follow`` runs a wait with the reporter ``--output`` and the
terminal ask for, reports its end, its error or a Ctrl-C; ``print_result`` says what a
control (promote, finish, abort --no-wait) did."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from bluegreen.cli._clock import wall_clock
from bluegreen.cli._exit_codes import EXIT_INTERRUPTED, EXIT_OK
from bluegreen.cli._hints import reattach_hint
from bluegreen.cli._progress.json_lines import JsonLines
from bluegreen.cli._progress.live_view import LiveView
from bluegreen.cli._progress.plain_lines import PlainLines
from bluegreen.cli._progress.reading import iso, json_default
from bluegreen.cli._progress.reporter import Now, Reporter
from bluegreen.errors import BlueGreenError

if TYPE_CHECKING:
    from bluegreen.deployment import ControlResult, DeploymentSnapshot

Wait = Callable[[Reporter], "DeploymentSnapshot | None"]
"""What ``follow`` runs: a wait that feeds the reporter its snapshots (``update``) and its
analysis's evaluations (``evaluated``)."""


def reporter_for(output: str, *, stream: IO[str] | None = None, now: Now | None = None) -> Reporter:
    """The reporter for ``--output``: JSON lines, a live view on a terminal, else lines."""
    stream = stream if stream is not None else sys.stdout
    now = now if now is not None else wall_clock()
    if output == "json":
        return JsonLines(stream, now)
    if _is_terminal(stream):
        return LiveView(stream, now)
    return PlainLines(stream, now)


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def follow(
    args: argparse.Namespace, deployment_id: str, wait: Wait, *, now: Now | None = None
) -> int:
    """Run ``wait(reporter)`` with the reporter ``args.output`` asks for.

    ``now`` is the clock every time shown is read from: pass ``Deployment.server_now`` so
    they are the server's (default: ``wall_clock()``, the local one).

    Errors are reported (in JSON, as the last ``error`` and ``done`` lines) and raised again
    for ``main`` to print and map to an exit code. Ctrl-C ends the command with 130 and says
    how to follow the deployment again; it goes on in AWS.

    Returns:
        ``EXIT_OK`` once ``wait`` returned.
    """
    reporter = reporter_for(args.output, now=now)
    with reporter:
        try:
            final = wait(reporter)
        except KeyboardInterrupt:
            current = reporter.last.deployment_id if reporter.last is not None else deployment_id
            hint = reattach_hint(args, current)
            reporter.interrupted(current, hint)
            print(
                f"bluegreen: interrupted; deployment {current} goes on in AWS. "
                f"Follow it again with: {hint}",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        except BlueGreenError as exc:
            reporter.failed(exc)
            raise
        if final is None:
            reporter.started(deployment_id)
        else:
            reporter.done(final)
    return EXIT_OK


def print_result(args: argparse.Namespace, result: ControlResult, now: Now) -> None:
    """What a control (promote, finish, abort --no-wait) did: a sentence, or one JSON
    ``done`` line stamped with the server's time."""
    if getattr(args, "output", "text") == "json":
        record: dict[str, Any] = {
            "type": "done",
            "timestamp": iso(now()),
            "deployment_id": result.deployment_id,
            "outcome": result.action,
            "exit_code": EXIT_OK,
        }
        record.update(result.to_dict())
        print(json.dumps(record, default=json_default), flush=True)
    else:
        print(str(result), flush=True)
