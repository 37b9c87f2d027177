"""Advice in the caller's own words: keyword arguments for Python, flags for the command line.

An error that says how to fix something names the fix the way its reader can apply it. The
library speaks Python (``allow_mutable_image_tags=True``); the ``bluegreen`` command switches
the process to its own words (``--allow-mutable-image-tags``) before it runs anything::

    from bluegreen._advice import advice

    problems.append(f"... ({advice('pass force=True', 'add --force')})")

It is a process-wide setting, not a context variable, so messages built in worker threads
(the hook kit, the live view) follow it too; only ``bluegreen.cli.main`` changes it.
"""

from __future__ import annotations

from typing import Literal

Audience = Literal["python", "cli"]

_audience: Audience = "python"


def advice(python: str, cli: str) -> str:
    """``python`` for library callers, ``cli`` when the ``bluegreen`` command is running."""
    return cli if _audience == "cli" else python


def audience() -> Audience:
    """Who reads this process's messages: ``"python"`` (the default) or ``"cli"``."""
    return _audience


def set_audience(value: Audience) -> Audience:
    """Speak to ``value`` from now on; returns the previous audience (to restore it)."""
    global _audience  # one switch for the whole process, by design
    previous, _audience = _audience, value
    return previous
