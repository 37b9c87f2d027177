"""A role IAM made moments ago cannot be assumed everywhere at once: IAM is eventually
consistent (usually seconds, rarely a minute), and until the new role reaches ECS, a call that
names it is refused with InvalidParameterException ("Unable to assume role ..."), as Terraform's
and Pulumi's users keep finding (hashicorp/terraform#4375). ``while_propagating`` sends such a
call again on the caller's clock until ECS takes the role or ``patience`` runs out; any other
answer, or the same one after that, is the caller's to handle.

The same refusal also means a role ECS may never assume (a wrong trust policy): the patience
bounds the wait, and the error then names the role.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar

from bluegreen.clock import Clock
from bluegreen.errors import AWSError

__all__ = ["ROLE_PATIENCE", "not_assumable_yet", "while_propagating"]

ROLE_PATIENCE = 120.0
"""Seconds a new role is given to reach ECS: twice the rare minute IAM takes."""
_WAITS = (2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds between attempts: quick at first (a new role is usually there in seconds)."""

T = TypeVar("T")


def not_assumable_yet(error: AWSError) -> bool:
    """Whether ``error`` is ECS refusing a role it cannot assume (yet)."""
    text = (error.message or "").lower()
    return error.code == "InvalidParameterException" and "assume" in text and "role" in text


def while_propagating(
    send: Callable[[], T],
    *,
    clock: Clock,
    on_wait: Callable[[AWSError, float], None] | None = None,
    patience: float = ROLE_PATIENCE,
) -> T:
    """``send()``, sent again while ECS cannot assume the role it names, for ``patience``
    seconds at most; ``on_wait(error, seconds)`` is told before each wait.

    Raises:
        AWSError: any other failure, or the refusal still there after ``patience``.
    """
    waited = 0.0
    for wait in itertools.chain(_WAITS, itertools.repeat(_WAITS[-1])):
        try:
            return send()
        except AWSError as exc:
            if not not_assumable_yet(exc) or waited + wait > patience:
                raise
            if on_wait is not None:
                on_wait(exc, wait)
            clock.sleep(wait)
            waited += wait
    raise AssertionError("unreachable")  # pragma: no cover
