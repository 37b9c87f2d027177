"""A role IAM made moments ago cannot be assumed everywhere at once: IAM is eventually
consistent (usually seconds, rarely a minute), and until the new role reaches ECS, a call that
names it is refused with InvalidParameterException ("Unable to assume role ..."), as Terraform's
and Pulumi's users keep finding (hashicorp/terraform#4375). ``not_assumable_yet`` knows that
refusal, and ``role_waits`` is how a ``Caller`` sends such a call again: after 2, 4, 8, 15,
then 30 s, for ``ROLE_PATIENCE`` seconds at most.

The same refusal also means a role ECS may never assume (a wrong trust policy): the patience
bounds the wait, and the error then names the role.
"""

from __future__ import annotations

from typing import Any

from bluegreen.errors import AWSError

__all__ = ["ROLE_PATIENCE", "not_assumable_yet", "role_waits"]

ROLE_PATIENCE = 120.0
"""Seconds a new role is given to reach ECS: twice the rare minute IAM takes."""
_WAITS = (2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0)
"""Seconds between attempts (119 in all, within ``ROLE_PATIENCE``): quick at first (a new
role is usually there in seconds)."""


def not_assumable_yet(error: AWSError) -> bool:
    """Whether ``error`` is ECS refusing a role it cannot assume (yet)."""
    text = (error.message or "").lower()
    return error.code == "InvalidParameterException" and "assume" in text and "role" in text


def role_waits() -> dict[str, Any]:
    """The ``Caller`` fields (for ``attrs.evolve``) that wait for a new role: its pauses,
    its attempts and its patience."""
    return {"delays": _WAITS, "attempts": len(_WAITS) + 1, "patience": ROLE_PATIENCE}
