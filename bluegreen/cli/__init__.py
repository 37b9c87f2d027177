"""The ``bluegreen`` command. One module per sub-command.

Exit codes, for scripts:

==  ==========================================================================
0   success
1   the deployment failed, was stopped or was rolled back (only that)
2   invalid input or configuration, found before anything changed: bad arguments, an
    invalid AppSpec or traffic configuration, a control that does not apply to the
    deployment's status (promote before Ready), no region, no credentials, an unknown
    profile, an invalid ``--endpoint-url``, a missing extra (``bluegreen[sim]``)
3   timed out waiting (the deployment goes on in AWS)
4   an AWS call failed (not found, access denied, throttled, unavailable) or AWS could
    not be reached (the network failed after the retries); retrying may help
5   an unexpected error inside bluegreen: a bug (``BLUEGREEN_DEBUG=1`` shows the
    traceback); please report it
130 interrupted (Ctrl-C); the deployment goes on in AWS
141 the reader of the output went away (``| head``); the deployment goes on in AWS
==  ==========================================================================

Every failure is one line on stderr, never a traceback.

Every AWS command takes ``--endpoint-url`` (or ``BLUEGREEN_ENDPOINT_URL``; boto3 itself reads
``AWS_ENDPOINT_URL``) so it runs against ``bluegreen sim serve``.

Where things are: this module parses the command line and maps errors to exit codes; each
sub-command is a module of its own (``deploy``, ``wait``, ...). What they share lives in
small modules beside them: ``_exit_codes``, ``_options`` (the common options),
``_aws_setup`` (clients and the deployment a command acts on), ``_hints`` (the commands a
message suggests), ``_clock`` (the clock waits read, which tests replace) and ``_progress``
(what a followed deployment shows). None of them imports this module.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bluegreen._advice import set_audience
from bluegreen.cli._exit_codes import (
    EXIT_AWS_ERROR,
    EXIT_BROKEN_PIPE,
    EXIT_DEPLOYMENT_FAILED,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_TIMEOUT,
)
from bluegreen.cli._hints import reattach_hint
from bluegreen.errors import (
    AWSError,
    BlueGreenError,
    ConfigurationError,
    DeploymentError,
    DeploymentStateError,
    ValidationError,
    WaitTimeoutError,
)

__all__ = [
    "EXIT_AWS_ERROR",
    "EXIT_DEPLOYMENT_FAILED",
    "EXIT_INTERNAL_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "build_parser",
    "main",
]

DEBUG_VARIABLE = "BLUEGREEN_DEBUG"


def build_parser() -> argparse.ArgumentParser:
    from bluegreen.cli import (
        abort,
        appspec,
        demo,
        deploy,
        finish,
        hooks,
        iam,
        inspect,
        migrate,
        plan,
        promote,
        recover,
        release,
        rollback,
        schedule,
        sim,
        status,
        wait,
        worker,
    )

    parser = argparse.ArgumentParser(
        prog="bluegreen",
        description="Amazon ECS blue/green, linear and canary deployments, through AWS CodeDeploy "
        "or ECS itself (the kind is read from the service).",
        epilog="Exit codes: 0 ok, 1 deployment failed/stopped/rolled back, 2 invalid input "
        "or configuration (arguments, region, credentials, endpoint) or a control that does "
        "not apply, 3 timed out, 4 AWS error or AWS unreachable, 5 a bug in bluegreen, "
        "130 interrupted, 141 the reader of the output went away (| head).",
    )
    from bluegreen import __version__

    parser.add_argument("--version", action="version", version=f"bluegreen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (
        demo,
        deploy,
        plan,
        release,
        status,
        wait,
        promote,
        finish,
        abort,
        rollback,
        recover,
        appspec,
        inspect,
        migrate,
        schedule,
        sim,
        hooks,
        iam,
        worker,
    ):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code. Messages give command-line advice (flags, not
    keyword arguments) from here on."""
    previous = set_audience("cli")
    try:
        return _main(argv)
    finally:
        set_audience(previous)  # main() called from Python (a test, a script) hands it back


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()  # a reader gone away shows here, not at the interpreter's exit
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more, not even at exit's flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # the last line of defence: one line, never a traceback
        from botocore.exceptions import BotoCoreError

        if isinstance(exc, BotoCoreError):  # one that escaped translate_errors
            from bluegreen._aws import translate

            error = translate(exc)
            print(f"bluegreen: {error}", file=sys.stderr)
            return EXIT_INVALID if isinstance(error, ConfigurationError) else EXIT_AWS_ERROR
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(
            f"bluegreen: unexpected error ({type(exc).__name__}: {exc}); this is a bug in "
            f"bluegreen: run again with {DEBUG_VARIABLE}=1 for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


def _say(exc: BaseException) -> None:
    """The error on stderr, one ``bluegreen:`` line for it and one per note on it (what was
    put back, what was kept and the command that finishes the job)."""
    print(f"bluegreen: {exc}", file=sys.stderr)
    for note in getattr(exc, "__notes__", ()):
        print(f"bluegreen: {note}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.run(args)
    except ValidationError as exc:
        _say(exc)
        return EXIT_INVALID
    except DeploymentError as exc:
        _say(exc)
        return EXIT_DEPLOYMENT_FAILED
    except DeploymentStateError as exc:
        _say(exc)
        return EXIT_INVALID
    except WaitTimeoutError as exc:
        _say(exc)
        print(
            f"bluegreen: the deployment goes on in AWS; follow it again with: "
            f"{reattach_hint(args, exc.deployment_id)}",
            file=sys.stderr,
        )
        return EXIT_TIMEOUT
    except AWSError as exc:
        _say(exc)
        return EXIT_AWS_ERROR
    except ConfigurationError as exc:
        _say(exc)
        return EXIT_INVALID
    except BlueGreenError as exc:
        _say(exc)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("bluegreen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code
