"""``bluegreen wait``: follow a deployment to a milestone or to its end."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bluegreen.cli._analysis import add_analysis_option, check_analysis
from bluegreen.cli._aws_setup import deployment_from
from bluegreen.cli._options import (
    add_deployment_options,
    add_output_option,
    add_wait_options,
    check_wait_options,
)
from bluegreen.cli._telling import Telling, add_telling_options, telling_problems

if TYPE_CHECKING:
    from bluegreen.analysis import Analysis
    from bluegreen.cli._progress.reporter import Reporter
    from bluegreen.deployment import Deployment


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "wait",
        help="follow a deployment until a milestone or its end",
        description="Follow a deployment (started by `bluegreen deploy --no-wait`, the "
        "console or a pipeline) until --until, showing its progress. Re-attaching after an "
        "interrupted wait is just running it again. Exit 0 when reached, 1 when the "
        "deployment fails or is rolled back, 3 on --timeout (the deployment goes on).",
    )
    add_deployment_options(parser)
    add_analysis_option(parser)
    add_wait_options(parser)
    add_telling_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_wait_options(args, extra=telling_problems(args))
    analysis = check_analysis(args)
    return follow_to_milestone(args, deployment_from(args), analysis=analysis)


def follow_to_milestone(
    args: argparse.Namespace, deployment: Deployment, *, analysis: Analysis | None = None
) -> int:
    """Wait for ``--until`` with the live view or JSON lines, for wait, deploy and rollback.

    ``analysis`` (``wait --analysis``) is run by the wait; ``deploy --analysis`` gave its
    own to the deployment. Every evaluation is reported, and the final report with the end.

    Ctrl-C or SIGTERM restores the autoscaling the deployment suspended before the process
    goes: nobody may be left to restore it at the end. The deployment goes on in AWS.
    """
    from bluegreen.cli._progress import follow
    from bluegreen.cli.recover import restore_after_interrupt, sigterm_as_interrupt

    telling = Telling.from_args(args, deployment)

    def wait(reporter: Reporter) -> Any:
        error: BaseException | None = None
        try:
            return deployment.wait(
                args.until,
                timeout=args.timeout,
                min_interval=args.min_interval,
                max_interval=args.max_interval,
                on_progress=telling.on_progress(reporter.update),
                analysis=analysis,
                on_evaluation=telling.on_evaluation(reporter.evaluated),
            )
        except KeyboardInterrupt:
            restore_after_interrupt(deployment)
            raise
        except Exception as exc:
            error = exc
            raise
        finally:
            reporter.analysis = deployment.analysis  # for the final report
            telling.finish(deployment, error)

    with sigterm_as_interrupt():
        return follow(args, deployment.id, wait, now=deployment.server_now)
