"""``bluegreen release``: release many services in waves from a manifest file.

- ``bluegreen release FILE``: plan every service (every problem at once, exit 2, before any
  change), then run the waves in this process (``bluegreen.release``), showing every
  service as it goes; exit 0 when all succeeded, 1 when one failed (every deployment in
  flight is stopped, and with ``on_failure: rollback`` the released ones rolled back), 130
  when interrupted (Ctrl-C stops the deployments in flight the same way).
- ``bluegreen release status FILE``: where every service of the release is, read from AWS
  (the deployments' descriptions): works from any shell, while the release runs or after.
- ``bluegreen release resume FILE``: continue a release whose process died, re-attaching
  to the deployments it created (never a second one for a service).
- ``bluegreen release plan FILE``: what the release would do to each service, changing
  nothing; exit 2 with every problem of every service.

With ``--temporal HOST:PORT`` the release is handed to a Temporal workflow instead
(``bluegreen[temporal]``; ``bluegreen worker`` runs its workers). ``--notify``, ``--slack``
and ``--summary`` tell people as ``bluegreen deploy``'s do, per service and per release.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from bluegreen.cli._aws_setup import clients_from
from bluegreen.cli._clock import clock, wall_clock
from bluegreen.cli._exit_codes import (
    EXIT_DEPLOYMENT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
)
from bluegreen.cli._options import add_aws_options, add_output_option
from bluegreen.cli._telling import NOTIFY_VARIABLE, add_telling_options, notify_urls
from bluegreen.clock import plural
from bluegreen.errors import BlueGreenError, ValidationError

if TYPE_CHECKING:
    from bluegreen.manifest import Manifest
    from bluegreen.release_accounts import Accounts
    from bluegreen.release_events import ReleaseEvent
    from bluegreen.release_notify import Outbox
    from bluegreen.release_result import ReleaseResult

ACTIONS = ("status", "resume", "plan")
_USAGE = "bluegreen release [status|resume|plan] FILE"


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "release",
        help="release many services in waves from a manifest (status, resume, plan)",
        usage=f"{_USAGE} [options]",
        description="`bluegreen release FILE` plans every service of the manifest (every "
        "problem at once, exit 2, before any change), then runs its waves: per-wave "
        "concurrency, a bake between waves, one rate budget per account and region; one "
        "failure (or Ctrl-C) stops every deployment in flight. A live view on a terminal, a "
        "line per change otherwise, one JSON object per event with --output json. Exit 0 "
        "when every service succeeded, 1 when one failed, 130 when interrupted. `release "
        "status FILE` reads where each service is from AWS (from any shell), `release resume "
        "FILE` continues a release whose process died (never a second deployment for a "
        "service), `release plan FILE` prints what would be done to each service.",
    )
    parser.add_argument(
        "words",
        nargs="+",
        metavar="[status|resume|plan] FILE",
        help="the release manifest (YAML or JSON, docs/release.md), after the action if any; "
        "give options before the action or after FILE",
    )
    parser.add_argument(
        "--rate",
        type=_positive_rate,
        default=5.0,
        metavar="CALLS",
        help="AWS calls per second, per account and region, shared by every service there "
        "(default 5)",
    )
    parser.add_argument(
        "--temporal",
        metavar="HOST:PORT",
        help="hand the release to a Temporal workflow on this server instead of running it "
        "here (needs bluegreen[temporal] and `bluegreen worker`s)",
    )
    add_telling_options(parser)
    add_output_option(parser)
    add_aws_options(parser)
    parser.set_defaults(run=run)


def _positive_rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of calls per second") from None
    if not (rate > 0 and rate != float("inf")):
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number of calls per second")
    return rate


def _action(args: argparse.Namespace) -> tuple[str, str]:
    """(action, FILE) from the positional words: ``run`` when no action is given."""
    words = list(args.words)
    if len(words) == 1 and not (words[0] in ACTIONS and not os.path.exists(words[0])):
        return "run", words[0]
    if len(words) == 2 and words[0] in ACTIONS:
        return words[0], words[1]
    raise ValidationError(
        [f"give the release manifest: {_USAGE} (got {' '.join(words)!r})"],
        subject="command line",
    )


def option_problems(args: argparse.Namespace, action: str) -> list[str]:
    """What is wrong with the options for ``action``, before anything is read or changed."""
    from bluegreen.cli._telling import telling_problems

    problems = []
    telling = [
        flag
        for flag, given in (
            ("--notify", bool(getattr(args, "notify", []))),
            ("--slack", getattr(args, "slack", False)),
            ("--summary", getattr(args, "summary", None) is not None),
            ("--temporal", args.temporal is not None),
        )
        if given
    ]
    if action in ("status", "plan") and telling:
        problems.append(
            f"{' and '.join(telling)} apply to `bluegreen release FILE` and `release resume "
            f"FILE`, not `release {action}`: leave them out"
        )
        return problems
    problems += telling_problems(args)
    if args.temporal is not None:
        host, _, port = args.temporal.rpartition(":")
        if not host or not port.isdigit():
            problems.append(
                f"--temporal {args.temporal!r}: give the Temporal server as HOST:PORT, e.g. "
                "localhost:7233"
            )
        if action == "resume":
            problems.append(
                "--temporal: a release on Temporal continues on its own when a worker dies; "
                "`release resume` is for a release run in-process: leave out --temporal"
            )
        told = [f for f in telling if f != "--temporal"] or (
            ["--notify"] if notify_urls(args) else []
        )
        if told:
            problems.append(
                f"{' and '.join(told)} tell what this process sees, and with --temporal the "
                f"release runs on the workers: leave out {' and '.join(told)}"
                + (f" (and unset {NOTIFY_VARIABLE})" if os.environ.get(NOTIFY_VARIABLE) else "")
            )
    return problems


def _manifest_and_checks(args: argparse.Namespace, action: str, path: str) -> Manifest:
    """The manifest, once every problem of the file and of the options was found; raises
    one ``ValidationError`` with all of them."""
    from bluegreen.manifest_load import load_manifest

    problems = option_problems(args, action)
    try:
        manifest = load_manifest(path)
    except ValidationError as exc:
        if not problems:
            raise
        problems += [f"{path}: {problem}" for problem in exc.problems]
        raise ValidationError(problems, subject="command line and manifest") from exc
    if problems:
        raise ValidationError(problems, subject="command line")
    return manifest


def run(args: argparse.Namespace) -> int:
    action, path = _action(args)
    manifest = _manifest_and_checks(args, action, path)
    if action == "status":
        return _status(args, manifest)
    if action == "plan":
        return _plan(args, manifest)
    if args.temporal is not None:
        return _hand_to_temporal(args, manifest, path)
    from bluegreen.cli.recover import sigterm_as_interrupt

    with sigterm_as_interrupt():
        return _release(args, manifest, resume=action == "resume")


# -- status and plan --------------------------------------------------------------------------


def _accounts(args: argparse.Namespace, manifest: Manifest) -> Accounts:
    from bluegreen.clock import MonotonicClock
    from bluegreen.release_accounts import Accounts

    return Accounts(
        clients=clients_from(args),
        rate=args.rate,
        clock=clock() or MonotonicClock(),
        session_name=f"bluegreen-{manifest.id}"[:64],
    )


def _status(args: argparse.Namespace, manifest: Manifest) -> int:
    from bluegreen.cli._exit_codes import EXIT_AWS_ERROR
    from bluegreen.cli._progress.reading import json_default
    from bluegreen.release_state import read_release

    accounts = _accounts(args, manifest)
    state = read_release(manifest, accounts)
    if args.output == "json":
        print(json.dumps(state.to_dict(), default=json_default), flush=True)
    else:
        print(str(state), flush=True)
    # Every service is shown, those that could not be read with why; a script learns of them.
    return EXIT_AWS_ERROR if state.problems else EXIT_OK


def _plan(args: argparse.Namespace, manifest: Manifest) -> int:
    from bluegreen.cli._progress.reading import json_default
    from bluegreen.release_plan import plan_release

    accounts = _accounts(args, manifest)
    plans = plan_release(manifest, manifest.services, accounts, clock=accounts.clock)
    if args.output == "json":
        services = [
            {"service": s.name, "wave": w.name, "plan": plans[s.name].to_dict()}
            for w in manifest.waves
            for s in w.services
        ]
        record = {"release": manifest.name, "id": manifest.id, "services": services}
        print(json.dumps(record, default=json_default), flush=True)
        return EXIT_OK
    waves = len(manifest.waves)
    counted = plural(len(manifest.services), "service")
    print(f"release {manifest.id}: {counted} in {plural(waves, 'wave')}")
    for wave in manifest.waves:
        bake = f", then bake {_duration(wave.bake)}" if wave.bake else ""
        print(f"\nwave {wave.name} ({wave.width} at once{bake})")
        for service in wave.services:
            print(f"\n== {wave.name} · {service.name}")
            print(plans[service.name].text())
    sys.stdout.flush()
    return EXIT_OK


def _duration(seconds: float) -> str:
    from bluegreen.clock import format_duration

    return format_duration(seconds)


# -- the release --------------------------------------------------------------------------------


def _outbox(args: argparse.Namespace) -> Outbox | None:
    """The webhooks of ``--notify``, behind an ``Outbox`` (a slow one never holds the
    release up)."""
    urls = notify_urls(args)
    if not urls:
        return None
    from bluegreen.cli._telling import WEBHOOK_PATIENCE
    from bluegreen.clock import MonotonicClock
    from bluegreen.notify_webhook import Webhook
    from bluegreen.release_notify import Outbox

    waits_on = clock() or MonotonicClock()
    slack = getattr(args, "slack", False)
    return Outbox(
        [Webhook(url, slack=slack, patience=WEBHOOK_PATIENCE, clock=waits_on) for url in urls]
    )


def _release(args: argparse.Namespace, manifest: Manifest, *, resume: bool) -> int:
    from bluegreen.cli._progress.release_view import release_view_for
    from bluegreen.release_notify import ReleaseNotifier
    from bluegreen.release_result import ReleaseError
    from bluegreen.waves import release

    aws = clients_from(args)
    view = release_view_for(args.output, manifest, now=wall_clock())
    outbox = _outbox(args)
    notifier = ReleaseNotifier([outbox]) if outbox is not None else None
    events: list[ReleaseEvent] = []

    def on_event(event: ReleaseEvent) -> None:
        events.append(event)
        view.update(event)
        if notifier is not None:
            notifier.update(event)

    result: ReleaseResult | None = None
    error: BaseException | None = None
    code = EXIT_OK
    try:
        with view:
            try:
                result = release(
                    manifest,
                    resume=resume,
                    on_event=on_event,
                    clients=aws,
                    clock=clock(),
                    rate=args.rate,
                )
            except ReleaseError as exc:
                result, error = exc.result, exc
                interrupted = (result.reason or "").startswith("interrupted")
                code = EXIT_INTERRUPTED if interrupted else EXIT_DEPLOYMENT_FAILED
            except (BlueGreenError, KeyboardInterrupt) as exc:
                view.failed(exc, _exit_code_of(exc))
                _tell_github(args, None, exc, events)
                raise
    finally:
        if outbox is not None:
            outbox.close()
    _tell_github(args, result, error, events)
    if error is not None:
        for line in str(error).splitlines():
            print(f"bluegreen: {line}", file=sys.stderr)
        if code == EXIT_INTERRUPTED:
            print(
                "bluegreen: interrupted; the deployments in flight were stopped (and rolled "
                "back); see where each service is with: bluegreen release status "
                f"{manifest.source or 'FILE'}",
                file=sys.stderr,
            )
    return code


def _exit_code_of(exc: BaseException) -> int:
    from bluegreen.cli._exit_codes import EXIT_AWS_ERROR
    from bluegreen.errors import AWSError

    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_AWS_ERROR if isinstance(exc, AWSError) else EXIT_INVALID


def _tell_github(
    args: argparse.Namespace,
    result: ReleaseResult | None,
    error: BaseException | None,
    events: list[ReleaseEvent],
) -> None:
    """``--summary FILE``, and in GitHub Actions the job summary and the annotations (on
    stderr, so stdout stays the release's lines)."""
    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    path = getattr(args, "summary", None)
    if path is None and not in_actions:
        return
    from bluegreen.release_summary import release_annotations, release_summary
    from bluegreen.summary import github_annotations, write_step_summary

    if result is None:
        if in_actions and error is not None:
            for line in github_annotations(error):
                print(line, file=sys.stderr)
        return
    markdown = release_summary(result, events=events)
    if path is not None:
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(markdown)
        except OSError as exc:
            print(f"bluegreen: --summary {path}: {exc.strerror}", file=sys.stderr)
    if in_actions:
        write_step_summary(markdown)
        for line in release_annotations(result):
            print(line, file=sys.stderr)


# -- Temporal -----------------------------------------------------------------------------------


def _hand_to_temporal(args: argparse.Namespace, manifest: Manifest, path: str) -> int:
    """Start the release's workflow on ``--temporal`` (or attach to it when it runs) and say
    how to follow it; its workers (``bluegreen worker``) run it."""
    from bluegreen.temporal.client import start_release

    started = start_release(path, args.temporal)
    verb = "runs already on" if started.attached else "handed to"
    if args.output == "json":
        record = {
            "event": "release_handed_to_temporal",
            "release": manifest.id,
            "temporal": args.temporal,
            "workflow_id": started.release_id,
            "run_id": started.run_id,
            "attached": started.attached,
        }
        print(json.dumps(record, default=str), flush=True)
    else:
        print(
            f"release {manifest.id} {verb} Temporal at {args.temporal} (workflow "
            f"{started.release_id}); `bluegreen worker --temporal {args.temporal}` runs it; "
            f"follow it with: bluegreen release status {path}",
            flush=True,
        )
    return EXIT_OK
