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
sends (``DeploymentId``, ``LifecycleEventHookExecutionId``), or with ``--native`` (or a service
deployment ARN) the event ECS sends an ECS-native hook at ``--stage``, invoking it again after
each ``IN_PROGRESS`` as ECS would, and a Lambda-like context, against AWS, ``bluegreen sim
serve`` (``--endpoint-url``) or the in-process simulator of a test.

``package`` lives in ``bluegreen.cli.hooks.package``, ``invoke`` in ``bluegreen.cli.hooks.invoke``;
this module builds their command line.
"""

from __future__ import annotations

import argparse
from typing import Any

from bluegreen.cli._options import add_aws_options, positive_seconds
from bluegreen.cli.hooks.invoke import LocalContext, load_handler, resolve_handler, run_invoke
from bluegreen.cli.hooks.package import (
    DEFAULT_OUTPUT,
    HOOK_REQUIREMENTS,
    LEFT_OUT_OF_PACKAGE,
    PROVIDED_BY_LAMBDA,
    PackageReport,
    build_package,
    run_package,
)
from bluegreen.hooks.handlers import READY_MADE

__all__ = [
    "DEFAULT_OUTPUT",
    "HOOK_REQUIREMENTS",
    "LEFT_OUT_OF_PACKAGE",
    "PROVIDED_BY_LAMBDA",
    "LocalContext",
    "PackageReport",
    "add_parser",
    "build_package",
    "load_handler",
    "resolve_handler",
]


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
        "which is expected. With --native (implied by a service deployment ARN as "
        "--deployment-id) it sends the event ECS sends an ECS-native hook at --stage and "
        "prints the hookStatus answer; an IN_PROGRESS answer is followed by another "
        "invocation after its callBackDelay, as ECS does, unless --once. Exit 0 if the checks "
        "passed, 1 if they failed, 3 if a native hook has not decided (--once), 4 if a "
        "report with a real --execution-id could not be delivered.",
    )
    invoke.add_argument(
        "file",
        metavar="HANDLER",
        help=f"a ready-made handler ({', '.join(READY_MADE)}) or a handler file, "
        "e.g. my_hooks/verify.py",
    )
    invoke.add_argument(
        "--deployment-id",
        required=True,
        metavar="ID",
        help="d-XXXXXXXXX, or an ECS service deployment ARN for an ECS-native hook",
    )
    invoke.add_argument(
        "--execution-id",
        metavar="ID",
        help="the LifecycleEventHookExecutionId from the event CodeDeploy sent the hook's "
        "function (it is in that invocation's event only). Default: a made-up one, so the "
        "checks run but CodeDeploy refuses the report",
    )
    native = invoke.add_argument_group("ECS-native hooks")
    native.add_argument(
        "--native",
        action="store_true",
        help="send the event ECS sends a Lambda hook of a service deployment (implied when "
        "--deployment-id is a service deployment ARN)",
    )
    native.add_argument(
        "--stage",
        metavar="STAGE",
        help="the lifecycleStage of the event, e.g. POST_TEST_TRAFFIC_SHIFT (default: the "
        "ready-made handler's own stage, else POST_TEST_TRAFFIC_SHIFT)",
    )
    native.add_argument(
        "--hook-details",
        metavar="JSON",
        help="the hook's configured hookDetails, a JSON object",
    )
    native.add_argument(
        "--target-revision",
        metavar="ARN",
        help="the targetServiceRevisionArn (default: read with DescribeServiceDeployments)",
    )
    native.add_argument(
        "--once",
        action="store_true",
        help="invoke once, even when the answer is IN_PROGRESS",
    )
    invoke.add_argument(
        "--function-name",
        default="CodeDeployHook_local",
        metavar="NAME",
        help="the context's function name (default CodeDeployHook_local)",
    )
    invoke.add_argument(
        "--function-timeout",
        type=positive_seconds,
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
