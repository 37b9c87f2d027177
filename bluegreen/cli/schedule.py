"""``bluegreen schedule``: the production weights a traffic configuration produces, over time."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bluegreen.cli._exit_codes import EXIT_OK


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "schedule",
        help="print the traffic schedule and expected duration of a deployment config",
        description="Print when production traffic moves to green, and how long the "
        "deployment takes with the given ready and termination waits.",
    )
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "config",
        nargs="?",
        help="a predefined name, e.g. CodeDeployDefault.ECSCanary10Percent5Minutes",
    )
    kind.add_argument("--canary", metavar="PERCENT/MINUTES", help="custom canary, e.g. 20/10")
    kind.add_argument("--linear", metavar="PERCENT/MINUTES", help="custom linear, e.g. 25/2")
    parser.add_argument(
        "--ready-wait",
        type=_minutes,
        default=0,
        metavar="MINUTES",
        help="the group's wait for promotion (STOP_DEPLOYMENT), default 0",
    )
    parser.add_argument(
        "--termination-wait",
        type=_minutes,
        default=0,
        metavar="MINUTES",
        help="the group's terminationWaitTimeInMinutes, default 0",
    )
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def _minutes(value: str) -> int:
    """A whole, non-negative number of minutes (argparse reports anything else)."""
    if not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of minutes (0 or more)")
    return int(value)


def parse_percent_minutes(value: str, flag: str) -> tuple[int, int]:
    """``PERCENT/MINUTES`` of ``--canary``/``--linear`` as two whole numbers.

    Raises:
        ValidationError: the value does not look like that.
    """
    from bluegreen.errors import ValidationError

    percent, sep, minutes = value.partition("/")
    if not sep or not percent.strip().isdigit() or not minutes.strip().isdigit():
        raise ValidationError(
            [f"{flag} {value!r} must look like PERCENT/MINUTES, e.g. 10/5"], subject="command line"
        )
    return int(percent), int(minutes)


def run(args: argparse.Namespace) -> int:
    from bluegreen.traffic import TrafficConfig

    if args.canary:
        config = TrafficConfig.canary(*parse_percent_minutes(args.canary, "--canary"))
    elif args.linear:
        config = TrafficConfig.linear(*parse_percent_minutes(args.linear, "--linear"))
    else:
        config = TrafficConfig.named(args.config)
    schedule = config.schedule(
        ready_wait_minutes=args.ready_wait, termination_wait_minutes=args.termination_wait
    )
    if args.output == "json":
        print(
            json.dumps(
                {
                    "config": config.name,
                    "steps": [
                        {"minute": s.minute, "green_percent": s.green_percent}
                        for s in schedule.steps
                    ],
                    "ready_wait_minutes": schedule.ready_wait_minutes,
                    "shift_minutes": schedule.shift_minutes,
                    "termination_wait_minutes": schedule.termination_wait_minutes,
                    "total_minutes": schedule.total_minutes,
                }
            )
        )
    else:
        print(config)
        print(schedule)
    return EXIT_OK
