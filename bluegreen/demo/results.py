"""What the demo found: the production responses of each phase of the listener's weights
(``Phase``), the checks it made (``Check``), and the whole result (``DemoResult``)."""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class Check:
    """One thing the demo promised, and whether it held."""

    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@attrs.frozen(kw_only=True)
class DemoResult:
    """What the two releases did, and the checks made on it."""

    checks: tuple[Check, ...]
    served: Mapping[str, int]
    """Production responses by the version that answered (any status)."""
    failed: Mapping[str, int]
    """Of those, the 5xx answers by version."""
    errors: int
    """Production requests no version answered."""
    phases: tuple[Phase, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "served": dict(self.served),
            "failed": dict(self.failed),
            "errors": self.errors,
            "phases": [p.to_dict() for p in self.phases],
            "seconds": round(self.seconds, 3),
        }


@attrs.define
class Phase:
    """Production responses while the listener's weights stayed the same."""

    weights: dict[str, int]
    """Weight by version (``"none"`` for a target group no task set uses)."""
    served: collections.Counter[str] = attrs.Factory(collections.Counter)
    failed: collections.Counter[str] = attrs.Factory(collections.Counter)
    """Of the responses served, the 5xx answers by version."""

    @property
    def total(self) -> int:
        return sum(self.served.values())

    def share(self, version: str) -> float:
        """The percentage of this phase's responses that ``version`` served."""
        return 100.0 * self.served[version] / self.total if self.total else 0.0

    def describe(self) -> str:
        weights = " / ".join(f"{v} {w}" for v, w in self.weights.items())
        shares = "  ".join(f"{v} {self.share(v):.0f}%" for v in sorted(self.served))
        failed = "".join(
            f", {self.failed[v]} of {v}'s {self.served[v]} answered 5xx"
            for v in sorted(self.failed)
            if self.failed[v]
        )
        return f"weights {weights}: {self.total} responses, {shares or 'none'}{failed}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": dict(self.weights),
            "served": dict(self.served),
            "failed": dict(self.failed),
        }
