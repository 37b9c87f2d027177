"""The commands a message suggests next (follow a deployment again, show it), spelled with
the AWS options of the command that prints them."""

from __future__ import annotations

import argparse


def reattach_hint(args: argparse.Namespace, deployment_id: str) -> str:
    """The command that follows ``deployment_id`` again, with this command's AWS options."""
    return _command_hint(args, "wait", deployment_id)


def status_hint(args: argparse.Namespace, deployment_id: str) -> str:
    """The command that shows ``deployment_id``, with this command's AWS options."""
    return _command_hint(args, "status", deployment_id)


def _command_hint(args: argparse.Namespace, command: str, deployment_id: str) -> str:
    words = ["bluegreen", command, "--deployment-id", deployment_id]
    for flag in ("region", "profile", "endpoint_url"):
        value = getattr(args, flag, None)
        if value:
            words += [f"--{flag.replace('_', '-')}", value]
    return " ".join(words)
