"""Telling people, for ``deploy`` and ``wait``: ``--notify URL`` (each milestone
POSTed as JSON, or in Slack's format with ``--slack``; ``BLUEGREEN_NOTIFY`` keeps the URLs out
of the command line and the CI log), ``--summary FILE`` (a Markdown summary with a timeline
chart), and in GitHub Actions the job summary and ``::error::`` annotations."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.deployment import Deployment, DeploymentSnapshot
    from bluegreen.notify import Notifier

WEBHOOK_PATIENCE = 15.0
"""Seconds a command's webhook retries one notification before it logs and lets it go."""

NOTIFY_VARIABLE = "BLUEGREEN_NOTIFY"
"""Webhook URLs (separated by spaces) notified like ``--notify``'s, kept out of argv."""


def add_telling_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("telling people")
    group.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="URL",
        help="POST each milestone (created, ready for promotion, traffic shifted, succeeded, "
        f"failed with the reason, rolled back) as JSON to URL (repeatable; {NOTIFY_VARIABLE}, "
        "space-separated, keeps a secret URL out of the command line); a webhook that fails "
        "is logged and never fails the deployment",
    )
    group.add_argument(
        "--slack",
        action="store_true",
        help="send the notifications in Slack's incoming-webhook format (text and blocks)",
    )
    group.add_argument(
        "--summary",
        metavar="FILE",
        help="write a Markdown summary (a table, the lifecycle as a Mermaid timeline, the "
        "analysis) to FILE when the wait ends; in GitHub Actions it also goes to the job "
        "summary ($GITHUB_STEP_SUMMARY), with ::error:: annotations on failure",
    )


def notify_urls(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> list[str]:
    return [*getattr(args, "notify", []), *environ.get(NOTIFY_VARIABLE, "").split()]


def telling_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with ``--notify``, ``--slack`` and ``--summary``, checked before any
    change; a URL's path is never repeated (it is often the webhook's secret)."""
    from bluegreen.notify_webhook import webhook_problems

    problems = []
    urls = notify_urls(args)
    for number, url in enumerate(urls, 1):
        problems += [
            f"notification URL {number}: {p}"
            for p in webhook_problems(url, timeout=10.0, attempts=4, patience=WEBHOOK_PATIENCE)
        ]
    if getattr(args, "slack", False) and not urls:
        problems.append(
            f"--slack formats --notify's messages: give --notify URL or {NOTIFY_VARIABLE}"
        )
    summary = getattr(args, "summary", None)
    if getattr(args, "wait", True) is False and (urls or summary is not None):
        problems.append(
            "--notify and --summary tell what bluegreen sees while it follows the deployment: "
            "leave out --no-wait, or give them to `bluegreen wait` later"
        )
    if summary is not None and os.path.isdir(summary):
        problems.append(f"--summary {summary} is a directory: give a file name, e.g. summary.md")
    return problems


@attrs.define
class Telling:
    """What one followed deployment tells: notifications as the wait reads it, a summary
    and annotations when it ends."""

    notifier: Notifier | None
    summary_path: str | None
    service: str | None = None
    """``cluster/service``, when the command names them."""
    environ: Mapping[str, str] = attrs.field(factory=lambda: os.environ)
    last: dict[str, DeploymentSnapshot] = attrs.field(factory=dict)
    """The last snapshot of every deployment read (the one followed, and its rollback)."""

    @classmethod
    def from_args(cls, args: argparse.Namespace, deployment: Deployment) -> Telling:
        notifier = None
        where = getattr(args, "cluster", None), getattr(args, "service", None)
        service = f"{where[0]}/{where[1]}" if all(where) else None
        urls = notify_urls(args)
        if urls:
            from bluegreen.cli._clock import clock
            from bluegreen.clock import MonotonicClock
            from bluegreen.notify import Notifier, Sink
            from bluegreen.notify_webhook import Webhook

            # A webhook's retries hold the wait: at most WEBHOOK_PATIENCE seconds a milestone,
            # on the command's clock (the simulator's in tests).
            waits_on = clock() or MonotonicClock()
            slack = getattr(args, "slack", False)
            sinks: list[Sink] = [
                Webhook(url, slack=slack, patience=WEBHOOK_PATIENCE, clock=waits_on) for url in urls
            ]
            notifier = Notifier(sinks, service=service)
        return cls(notifier=notifier, summary_path=getattr(args, "summary", None), service=service)

    def on_progress(
        self, other: Callable[[DeploymentSnapshot], None]
    ) -> Callable[[DeploymentSnapshot], None]:
        """``other`` (the reporter's update), and the notifications and the record."""

        def update(snapshot: DeploymentSnapshot) -> None:
            self.last[snapshot.deployment_id] = snapshot
            other(snapshot)
            if self.notifier is not None:
                self.notifier.update(snapshot)

        return update

    def on_evaluation(self, other: Callable[[AnalysisRun], None]) -> Callable[[AnalysisRun], None]:
        def evaluated(run: AnalysisRun) -> None:
            other(run)
            if self.notifier is not None:
                self.notifier.update_analysis(run)

        return evaluated

    def finish(self, deployment: Deployment, error: BaseException | None) -> None:
        """Write the summary and the annotations, once the wait has ended (or failed)."""
        in_actions = self.environ.get("GITHUB_ACTIONS") == "true"
        if self.summary_path is None and not in_actions:
            return
        snapshot = self.last.get(deployment.id)
        if snapshot is None:
            return
        from bluegreen.summary import deployment_summary, github_annotations, write_step_summary

        rollback = (
            self.last.get(snapshot.rollback_deployment_id)
            if snapshot.rollback_deployment_id
            else None
        )
        markdown = deployment_summary(
            snapshot, rollback=rollback, analysis=deployment.analysis, service=self.service
        )
        if self.summary_path is not None:
            try:
                with open(self.summary_path, "w", encoding="utf-8") as out:
                    out.write(markdown)
            except OSError as exc:
                print(f"bluegreen: --summary {self.summary_path}: {exc.strerror}", file=sys.stderr)
        if in_actions:
            write_step_summary(markdown, environ=self.environ)
            for line in github_annotations(error if error is not None else snapshot):
                print(line, file=sys.stderr)
