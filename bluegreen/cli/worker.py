"""``bluegreen worker``: run a Temporal worker for releases (``bluegreen[temporal]``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from bluegreen.cli._exit_codes import EXIT_INVALID, EXIT_OK
from bluegreen.cli._options import add_aws_options
from bluegreen.errors import ConfigurationError, ValidationError

TEMPORAL_VARIABLE = "TEMPORAL_ADDRESS"
STICKY_SECONDS = 10.0
"""``bluegreen.temporal.worker.STICKY_SECONDS``, spelled out so building the parser imports
nothing of the extra."""


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "worker",
        help="run a Temporal worker that carries out releases (bluegreen[temporal])",
        description="Run a Temporal worker for `bluegreen release FILE --temporal HOST:PORT`: "
        "it runs the release workflows and the AWS calls of the services of its task "
        "queues (bluegreen-<region>, or bluegreen-<account>-<region> for a service that "
        "names a role; bluegreen-default for one that names neither), with this machine's "
        "AWS credentials. Start as many as you like; when one dies another carries on, "
        "never deploying a service twice. Runs until Ctrl-C or SIGTERM.",
    )
    parser.add_argument(
        "--temporal",
        metavar="HOST:PORT",
        help=f"the Temporal server's frontend, e.g. localhost:7233 (default: {TEMPORAL_VARIABLE})",
    )
    parser.add_argument("--namespace", default="default", help="the Temporal namespace")
    parser.add_argument(
        "--task-queue",
        action="append",
        metavar="QUEUE",
        help="a task queue to poll (repeatable); default: bluegreen (the workflows) and "
        "bluegreen-default (services that name no region or role)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=100,
        help="how many AWS steps (deployments followed) run at once (default 100)",
    )
    parser.add_argument(
        "--sticky-timeout",
        type=float,
        default=STICKY_SECONDS,
        metavar="SECONDS",
        help="how long a release's next step waits for this worker (which has the release "
        "in memory) before any worker may take it: how long releases pause when this "
        f"worker dies (default {STICKY_SECONDS:g})",
    )
    add_aws_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli._aws_setup import clients_from
    from bluegreen.cli._clock import clock
    from bluegreen.release_accounts import Accounts
    from bluegreen.temporal.worker import run_worker

    problems = []
    args.temporal = args.temporal or os.environ.get(TEMPORAL_VARIABLE) or ""
    if not args.temporal:
        problems.append(
            f"give the Temporal server with --temporal HOST:PORT (or {TEMPORAL_VARIABLE})"
        )
    elif ":" not in args.temporal:
        problems.append(f"--temporal must be HOST:PORT, not {args.temporal!r}")
    if args.threads < 1:
        problems.append(f"--threads must be at least 1, not {args.threads}")
    if not args.sticky_timeout > 0:
        problems.append(f"--sticky-timeout must be positive, not {args.sticky_timeout:g}")
    if problems:
        raise ValidationError(problems, subject="command line")
    clients = clients_from(args)
    accounts = Accounts(clients=clients, session=clients.session, endpoint_url=clients.endpoint_url)

    def ready(queues: Sequence[str]) -> None:
        print(
            f"bluegreen worker: polling {', '.join(queues)} on {args.temporal} "
            f"(namespace {args.namespace}); Ctrl-C to stop",
            flush=True,
        )

    async def serve() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await run_worker(
            args.temporal,
            args.task_queue,
            args.namespace,
            accounts=accounts,
            clock=clock(),
            threads=args.threads,
            sticky_seconds=args.sticky_timeout,
            stop=stop,
            ready=ready,
        )

    try:
        asyncio.run(serve())
    except ConfigurationError as exc:
        # After a failed connect, temporalio's core runtime (1.35) aborts the interpreter
        # while it shuts down ("Fatal Python error: PyGILState_Release", exit 134): say what
        # is wrong, in one line as every command does, and leave without that shutdown.
        print(f"bluegreen: {exc}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(EXIT_INVALID)
    print("bluegreen worker: stopped", file=sys.stderr)
    return EXIT_OK
