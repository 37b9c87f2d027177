"""The record of every change to a listener's (or a listener rule's) forward weights, with
its simulated time.

An ALB splits each request by the listener's weights at the moment it arrives, so a minute
in which the weights changed is split by their average over the minute, each weighted by
how long it was in force. ``Traffic.publish_minute`` asks ``WeightLog.averaged`` for that
average; the simulator records a change wherever it writes a listener's weights
(``MotoState.set_listener_weights``: CodeDeploy's shifts and a rollback's reroute to blue)
and after a user's own ModifyListener through the API (``Router``). A listener rule's
weights (an ECS-native service's production rule, rewritten by ECS at every traffic shift) are
logged the same way under the rule's ARN: wherever the simulator writes them, and after a
user's own ModifyRule (``Router``); ``_native_rules.rule_weights`` reads them from moto.

Weights are compared as shares of their total, as the ALB reads them: ``[(a, 1), (b, 1)]``
and ``[(a, 50), (b, 50)]`` are the same split. A listener whose weights never changed through
those doors is split by its current weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

__all__ = ["WeightLog"]

Weights = tuple[tuple[str, float], ...]

# Changes older than this before the minute asked about are forgotten (keeping the one in
# force then), so a long run keeps a short log.
_KEEP_SECONDS = 3600.0


def _shares(weights: Sequence[tuple[str, float]]) -> Weights:
    """The weights as percentages of their total (all zero: no target group gets any)."""
    total = sum(w for _, w in weights)
    return tuple((arn, 100.0 * w / total if total > 0 else 0.0) for arn, w in weights)


@attrs.define(eq=False)
class WeightLog:
    """``{listener or rule ARN: [(simulated time, shares in force from then), ...]}``, in time
    order."""

    _changes: dict[str, list[tuple[float, Weights]]] = attrs.Factory(dict)

    def before_change(self, listener: str, weights: Sequence[tuple[str, float]]) -> None:
        """Note the weights in force before a listener's first recorded change (from the
        beginning of time): call it with the current weights before changing them."""
        if listener not in self._changes and weights:
            self._changes[listener] = [(-math.inf, _shares(weights))]

    def changed(self, listener: str, when: float, weights: Sequence[tuple[str, float]]) -> None:
        """Record that ``listener``'s weights became ``weights`` at ``when``."""
        changes = self._changes.setdefault(listener, [])
        shares = _shares(weights)
        if changes and changes[-1][1] == shares:
            return  # no change to the split
        changes.append((when, shares))

    def averaged(
        self,
        listener: str,
        start: float,
        end: float,
        current: Sequence[tuple[str, float]],
    ) -> list[tuple[str, float]]:
        """The listener's weights (percentages) averaged over ``[start, end)``, each weighted
        by the seconds it was in force; ``current`` (the live weights) when no change is
        recorded. Target groups appear in ``current``'s order, then in order of appearance."""
        changes = self._changes.get(listener)
        if not changes or end <= start:
            return list(current)
        total: dict[str, float] = {arn: 0.0 for arn, _ in current}
        spans = zip(changes, [*changes[1:], (math.inf, ())], strict=True)
        for (when, shares), (following, _) in spans:
            seconds = min(following, end) - max(when, start)
            if seconds <= 0:
                continue
            for arn, share in shares:
                total[arn] = total.get(arn, 0.0) + share * seconds
        self._forget(changes, start - _KEEP_SECONDS)
        return [(arn, weight / (end - start)) for arn, weight in total.items()]

    @staticmethod
    def _forget(changes: list[tuple[float, Weights]], before: float) -> None:
        """Drop the changes superseded before ``before`` (the one in force then stays)."""
        while len(changes) > 1 and changes[1][0] <= before:
            del changes[0]
