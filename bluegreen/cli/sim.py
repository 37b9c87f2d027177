"""``bluegreen sim serve``: the simulator as a local endpoint for boto3 and the AWS CLI."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bluegreen.cli._exit_codes import EXIT_INVALID, EXIT_OK

if TYPE_CHECKING:
    from bluegreen.testing import Simulator

DEFAULT_PORT = 5055
NATIVE_STRATEGIES = ("BLUE_GREEN", "CANARY", "LINEAR")


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "sim",
        help="run the local CodeDeploy ECS blue/green simulator",
        description="The bluegreen simulator: moto for ECS, ELBv2, CloudWatch and "
        "Application Auto Scaling, plus a simulated CodeDeploy for ECS blue/green.",
    )
    sim_commands = parser.add_subparsers(dest="sim_command", metavar="COMMAND", required=True)
    serve = sim_commands.add_parser(
        "serve",
        help="serve the simulator on 127.0.0.1 with a ready sample environment",
        description="Serve the simulator on 127.0.0.1 for boto3 (endpoint_url=) and the AWS "
        "CLI (--endpoint-url), seeded with a sample environment: a VPC, an ALB with a "
        "production listener :80 and a test listener :8080, two target groups, cluster "
        "prod with the Fargate service web (CODE_DEPLOY controller), a CodeDeploy "
        "application and deployment group, a scalable target with a target-tracking "
        "policy, and an alarm (with --native, an ECS-native blue/green service beside it). "
        "Runs until Ctrl-C or SIGTERM.",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the port to listen on, 0 for any free one (default {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--speed",
        type=float,
        default=60.0,
        metavar="X",
        help="simulated seconds per real second (default 60: a minute passes in a second)",
    )
    serve.add_argument("--region", default="us-east-1", help="the region served (us-east-1)")
    serve.add_argument(
        "--no-seed", dest="seed", action="store_false", help="start empty, without the sample"
    )
    serve.add_argument(
        "--config",
        default="CodeDeployDefault.ECSAllAtOnce",
        metavar="NAME",
        help="the sample deployment group's deployment config (default ECSAllAtOnce)",
    )
    serve.add_argument(
        "--ready-wait",
        type=int,
        default=None,
        metavar="MINUTES",
        help="wait this long for a promotion before rerouting (STOP_DEPLOYMENT); "
        "default: reroute as soon as green is ready",
    )
    serve.add_argument(
        "--termination-wait",
        type=int,
        default=5,
        metavar="MINUTES",
        help="how long blue is kept after success (default 5)",
    )
    serve.add_argument(
        "--blue-cleanup",
        type=float,
        default=None,
        metavar="SECONDS",
        help="simulated seconds from the end of the termination wait until blue is deleted "
        "and the deployment is Succeeded (default: the drain time, 30)",
    )
    serve.add_argument(
        "--no-test-listener",
        dest="test_listener",
        action="store_false",
        help="no test listener on :8080 in the sample",
    )
    native = serve.add_argument_group("ECS-native service (--native)")
    native.add_argument(
        "--native",
        nargs="?",
        const=True,
        default=False,
        metavar="NAME",
        help="also seed an ECS-native blue/green service on the same cluster and load "
        "balancer (ECS deployment controller, its own target groups and listener rules); "
        "NAME defaults to web-native",
    )
    native.add_argument(
        "--native-strategy",
        choices=NATIVE_STRATEGIES,
        default="BLUE_GREEN",
        help="its deploymentConfiguration.strategy (default BLUE_GREEN)",
    )
    native.add_argument(
        "--native-percent",
        type=float,
        default=None,
        metavar="PERCENT",
        help="CANARY: the canary's percent (default 5); LINEAR: each step's (default 10)",
    )
    native.add_argument(
        "--native-step-minutes",
        type=int,
        default=None,
        metavar="MINUTES",
        help="CANARY: how long the canary bakes (default 10); LINEAR: minutes between "
        "steps (default 6)",
    )
    native.add_argument(
        "--native-bake",
        type=int,
        default=None,
        metavar="MINUTES",
        help="bakeTimeInMinutes: how long blue is kept after production traffic moved "
        "(default: --termination-wait)",
    )
    serve.add_argument(
        "--hook",
        action="append",
        default=[],
        metavar="FUNCTION=MODULE:CALLABLE",
        help="stand a Python callable in for the Lambda function FUNCTION named in AppSpec "
        "hooks, e.g. CodeDeployHook_verify=hooks.verify:handler (repeatable); its boto3 "
        "clients reach this server through AWS_ENDPOINT_URL",
    )
    serve.add_argument(
        "--verbose", action="store_true", help="print an access log line per request"
    )
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen._aws import translate_errors
    from bluegreen.errors import ValidationError
    from bluegreen.testing import SimSettings, Simulator
    from bluegreen.testing._server import SimServer

    problems = []
    if args.speed <= 0:
        problems.append(f"--speed must be positive, not {args.speed:g}")
    if not 0 <= args.port <= 65535:
        problems.append(f"--port must be between 0 and 65535, not {args.port}")
    if args.blue_cleanup is not None and args.blue_cleanup < 0:
        problems.append(f"--blue-cleanup must not be negative, not {args.blue_cleanup:g}")
    problems += _native_problems(args)
    if problems:
        raise ValidationError(problems, subject="command line")
    settings = SimSettings(blue_cleanup_seconds=args.blue_cleanup)
    simulator = Simulator(settings=settings, speed=args.speed, region=args.region)
    server = SimServer(simulator, port=args.port, log_requests=args.verbose)
    bound = False
    environment = None

    def prepare(bound_server: SimServer) -> None:
        # The port is bound but refuses connections until this returns, so nobody sees
        # the account before the sample environment is in it.
        nonlocal bound, environment
        bound = True
        _point_boto3_at(bound_server.endpoint_url, args.region)
        if args.seed:
            with translate_errors("seeding the sample environment"):
                environment = bound_server.create_environment(**environment_options(args))

    def ready() -> None:
        print(f"bluegreen simulator serving on {server.endpoint_url}")
        print(f"  region {args.region}, simulated time runs {args.speed:g}x real time")
        print()
        print("Point boto3 and the AWS CLI at it (the credentials are not checked):")
        print(f"  export AWS_ENDPOINT_URL={server.endpoint_url}")
        print(
            "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            f"AWS_DEFAULT_REGION={args.region}"
        )
        if environment is not None:
            print()
            print("Sample environment:")
            print(environment.describe())
        print()
        print("Press Ctrl-C to stop.", flush=True)

    try:
        _register_hooks(simulator, args.hook)
        server.serve_until_stopped(prepare=prepare, ready=ready)
    except OSError as exc:
        if bound:
            raise
        print(f"bluegreen: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        server.stop()
    print("bluegreen simulator stopped", flush=True)
    return EXIT_OK


def environment_options(args: argparse.Namespace) -> dict[str, Any]:
    """The sample environment's options (``build_environment``) the command line asks for."""
    options: dict[str, Any] = {
        "deployment_config": args.config,
        "ready_wait_minutes": args.ready_wait,
        "termination_wait_minutes": args.termination_wait,
        "test_listener": args.test_listener,
    }
    if args.native:
        options.update(
            native=args.native,
            native_strategy=args.native_strategy,
            native_percent=args.native_percent,
            native_step_minutes=args.native_step_minutes,
            native_bake_minutes=args.native_bake,
        )
    return options


def _native_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with the ``--native*`` options, in command-line words."""
    problems = []
    given = [
        flag
        for flag, value in (
            ("--native-percent", args.native_percent),
            ("--native-step-minutes", args.native_step_minutes),
            ("--native-bake", args.native_bake),
        )
        if value is not None
    ]
    if args.native_strategy != "BLUE_GREEN":
        given.insert(0, "--native-strategy")
    if not args.native:
        if given:
            problems.append(f"{', '.join(given)} needs --native (the ECS-native service)")
        return problems
    if not args.seed:
        problems.append("--native seeds a service in the sample: drop --no-seed")
    if args.native is not True and args.native == "web":
        problems.append("--native NAME must not be web, the CodeDeploy service's name")
    if args.native_strategy == "BLUE_GREEN" and (
        args.native_percent is not None or args.native_step_minutes is not None
    ):
        problems.append(
            "--native-percent and --native-step-minutes need --native-strategy CANARY or LINEAR"
        )
    low = 3.0 if args.native_strategy == "LINEAR" else 0.1
    if args.native_percent is not None and not low <= args.native_percent <= 100:
        problems.append(
            f"--native-percent must be between {low:g} and 100, not {args.native_percent:g}"
        )
    for flag, value in (
        ("--native-step-minutes", args.native_step_minutes),
        ("--native-bake", args.native_bake),
    ):
        if value is not None and not 0 <= value <= 1440:
            problems.append(f"{flag} must be between 0 and 1440, not {value}")
    return problems


def _register_hooks(simulator: Simulator, specs: list[str]) -> None:
    """Register each ``FUNCTION=MODULE:CALLABLE`` as a hook; modules import from the cwd."""
    import importlib
    import os

    from bluegreen.errors import ValidationError

    if specs and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for spec in specs:
        function, _, target = spec.partition("=")
        module_name, _, attribute = target.partition(":")
        if not function or not module_name or not attribute:
            raise ValidationError(
                [f"--hook {spec!r} must look like FUNCTION=MODULE:CALLABLE"], subject="command line"
            )
        try:
            found: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as exc:
            raise ValidationError(
                [f"--hook {spec!r}: cannot load {target}: {exc}"], subject="command line"
            ) from exc
        if not callable(found):
            raise ValidationError(
                [f"--hook {spec!r}: {target} is not callable"], subject="command line"
            )
        simulator.register_hook(function, found)


def _point_boto3_at(endpoint_url: str, region: str) -> None:
    """Send every boto3 client of this process (hooks included) to the server, with fake
    credentials, so nothing in the serving process can reach AWS."""
    import os

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
    )
