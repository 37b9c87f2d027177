"""What ``deploy``, ``wait``, ``abort`` and ``rollback`` show while they follow a deployment.

Three forms, picked by ``--output`` and by whether stdout is a terminal:

- a live view (text on a terminal): the lifecycle events with their status and duration, a
  blue/green bar of the production weights, what the deployment waits for, and the time
  elapsed against the time expected; redrawn at every poll (rich, imported only by
  ``live_view``);
- plain lines (text elsewhere, e.g. a CI log): one line per change, never redrawn;
- JSON lines (``--output json``): one object per change, each with ``type`` (``snapshot``,
  ``event_changed``, ``traffic``, ``error``, ``done``), ``timestamp`` and ``deployment_id``;
  the last line is always ``done``, with the ``outcome`` and the ``exit_code``. Lines of a
  running deployment carry ``elapsed_seconds``; ``bluegreen rollback`` first writes a
  ``rollback`` line (what it goes back to, and from).

Every form is fed the snapshots ``Deployment.wait(on_progress=...)`` reads, so following a
deployment costs no API call beyond the wait's own. Every time shown (elapsed, ETAs, the
time of day of a line, a JSON ``timestamp``) is the server's, from ``Deployment.server_now``:
a simulator running faster than real time, or a local clock that is off, changes nothing.

One module per part: ``following`` (``follow``, ``reporter_for``, ``print_result``),
``reporter`` (the base class and the changes between polls), ``json_lines``, ``plain_lines``,
``live_view`` (and its ``render``), and ``reading`` (what they all read from a snapshot).
"""

from __future__ import annotations

from bluegreen.cli._progress.following import follow, print_result, reporter_for
from bluegreen.cli._progress.json_lines import JsonLines
from bluegreen.cli._progress.live_view import LiveView, render
from bluegreen.cli._progress.plain_lines import PlainLines
from bluegreen.cli._progress.reading import outcome_of
from bluegreen.cli._progress.reporter import Reporter
from bluegreen.clock import format_duration

__all__ = [
    "JsonLines",
    "LiveView",
    "PlainLines",
    "Reporter",
    "follow",
    "format_duration",
    "outcome_of",
    "print_result",
    "render",
    "reporter_for",
]
