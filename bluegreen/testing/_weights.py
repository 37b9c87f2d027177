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

An ALB sends a request by the listener's rules in priority order, then its default action, so
the log also keeps each listener's rules over time: when each was created, changed priority or
conditions, and deleted (``Router`` follows CreateRule, ModifyRule, SetRulePriorities and
DeleteRule). ``WeightLog.routed`` answers, for a CodeDeploy service's production listener, where
all of its requests went at each moment: to the forward of the highest-precedence rule that
matches every request then (a "catch-all": path ``*`` or ``/*``, as ``bluegreen migrate`` makes
one), else to the default action's. A rule that matches only some requests (a host header, a
narrower path) is not followed: the simulator's traffic has no hosts or paths.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import attrs

__all__ = ["WeightLog"]

Weights = tuple[tuple[str, float], ...]
RuleState = tuple[int, bool]
"""A listener rule's (priority, whether its conditions match every request)."""

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
    _rules: dict[str, dict[str, list[tuple[float, RuleState | None]]]] = attrs.Factory(dict)
    """``{listener ARN: {rule ARN: [(time, state from then, None once deleted), ...]}}``."""
    _first: dict[str, Weights] = attrs.Factory(dict)
    """A logged rule's weights when created (or first seen), until ``_changes`` has some."""

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

    # -- listener rules ---------------------------------------------------------------

    def rule_seen(
        self, listener: str, rule: str, state: RuleState, weights: Sequence[tuple[str, float]]
    ) -> None:
        """Note a rule as it is before a change (ModifyRule, SetRulePriorities, DeleteRule):
        in force from the beginning of time when the log does not know it yet."""
        rules = self._rules.setdefault(listener, {})
        if rule not in rules:
            rules[rule] = [(-math.inf, state)]
            self._first[rule] = _shares(weights)

    def rule_changed(
        self,
        listener: str,
        rule: str,
        when: float,
        state: RuleState | None,
        weights: Sequence[tuple[str, float]] = (),
    ) -> None:
        """Record that ``rule`` was created with ``weights`` (or changed priority or
        conditions; ``state`` None: was deleted) at ``when``."""
        states = self._rules.setdefault(listener, {}).setdefault(rule, [])
        if not states:
            self._first[rule] = _shares(weights)
        elif states[-1][1] == state:
            return
        states.append((when, state))

    def rule_deleted(self, rule: str, when: float) -> None:
        """Record that a rule the log knows (``rule_seen``) was deleted at ``when``."""
        for listener, rules in self._rules.items():
            if rule in rules:
                self.rule_changed(listener, rule, when, None)

    def routed(
        self,
        listener: str,
        start: float,
        end: float,
        current: Sequence[tuple[str, float]],
        rules: Mapping[str, tuple[RuleState, Sequence[tuple[str, float]]]],
    ) -> list[tuple[str, float]]:
        """Where the listener sent its requests over ``[start, end)``: weights (percentages)
        averaged over the span, at each moment those of the highest-precedence rule matching
        every request, else the default action's (``current``: its live weights; ``rules``:
        the listener's live rules, ``{ARN: (state, weights)}``, for those the log does not
        know). With no such rule in the span, exactly ``averaged``."""
        self._forget_rules(listener, start - _KEEP_SECONDS)
        timelines = dict(self._rules.get(listener, {}))
        for arn, (state, _) in rules.items():
            timelines.setdefault(arn, [(-math.inf, state)])
        if end <= start or not any(_catches_all(s, start, end) for s in timelines.values()):
            return self.averaged(listener, start, end, current)
        cuts = {start, end}
        for arn in (listener, *timelines):
            cuts.update(when for when, _ in self._changes.get(arn, ()) if start < when < end)
        for states in timelines.values():
            cuts.update(when for when, _ in states if start < when < end)
        moments = sorted(cuts)
        total: dict[str, float] = {arn: 0.0 for arn, _ in current}
        for begin, until in itertools.pairwise(moments):
            rule = _rule_at(timelines, begin)
            if rule is None:
                shares = self._weights_at(listener, begin, _shares(current))
            else:
                live = rules.get(rule)
                first = self._first.get(rule, _shares(live[1]) if live else ())
                shares = self._weights_at(rule, begin, first)
            for arn, share in shares:
                total[arn] = total.get(arn, 0.0) + share * (until - begin)
        return [(arn, weight / (end - start)) for arn, weight in total.items()]

    def _weights_at(self, arn: str, when: float, otherwise: Weights) -> Weights:
        """The shares in force for ``arn`` at ``when``; ``otherwise`` with none recorded."""
        shares = otherwise
        for changed, recorded in self._changes.get(arn, ()):
            if changed > when:
                break
            shares = recorded
        return shares

    def _forget_rules(self, listener: str, before: float) -> None:
        """Drop what was superseded before ``before``: listener and rule changes, and the
        rules deleted by then."""
        for arn in (listener, *self._rules.get(listener, {})):
            if arn in self._changes:
                self._forget(self._changes[arn], before)
        rules = self._rules.get(listener, {})
        for arn, states in list(rules.items()):
            if states[-1][1] is None and states[-1][0] <= before:
                del rules[arn]
                self._changes.pop(arn, None)
                self._first.pop(arn, None)

    @staticmethod
    def _forget(changes: list[tuple[float, Weights]], before: float) -> None:
        """Drop the changes superseded before ``before`` (the one in force then stays)."""
        while len(changes) > 1 and changes[1][0] <= before:
            del changes[0]


def _catches_all(
    states: Sequence[tuple[float, RuleState | None]], start: float, end: float
) -> bool:
    """Whether the rule matched every request at some moment of ``[start, end)``."""
    spans = zip(states, [*states[1:], (math.inf, None)], strict=True)
    return any(s is not None and s[1] and w < end and start < u for (w, s), (u, _) in spans)


def _rule_at(
    timelines: Mapping[str, Sequence[tuple[float, RuleState | None]]], when: float
) -> str | None:
    """The highest-precedence (lowest priority) rule matching every request at ``when``."""
    best: tuple[int, str] | None = None
    for arn, states in timelines.items():
        state = None
        for changed, recorded in states:
            if changed > when:
                break
            state = recorded
        if state is not None and state[1] and (best is None or state[0] < best[0]):
            best = (state[0], arn)
    return None if best is None else best[1]
