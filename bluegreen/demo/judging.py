"""The analysis the demo's third release (v4) is judged by, sized for the demo's traffic.

``DEFAULT_ANALYSIS`` wants 50 requests per target group over 3 minutes. The demo's load
generator sends what one thread can: a steady number of requests per real second, so fewer
per simulated minute the faster the simulator runs (about 1,000 at 30x, 80 at 300x, fewer
on a busy machine), and green gets 10% of them during the canary. ``sized_analysis`` keeps the
default metric, limit and verdict (5xx rate at most blue's + 1 point; the first evaluation
99% sure green is over it fails the analysis, so a small sample never stops a good green)
and sizes the window and the minimum sample from the traffic measured, so that green is
judged early in the canary: a 2-minute window, and a minimum sample of what
green gets in 40% of it (never more than the default's), since the load generator's rate may
halve while the simulator works hardest (at least 4: v4 fails one request in any 4 in a row,
so any sample judged holds a failure, and even 1 in 4 is 99% sure to be over 1%). When green
gets under 10 requests a minute (the simulator at 300x), the window is 3 minutes, as the
default's.

The judged release's canary is ``JUDGED_CONFIG``, 10% for 15 minutes rather than the group's 5.
The analysis normally stops it at its second or third evaluation, so the longer canary costs
nothing; but at 300x a real second is five simulated minutes, and on a busy machine (the load
thinning, the analysis's own calls late) the 5-minute canary left two evaluations with a full
window of canary traffic, and production shifted to the failing version before the analysis's
verdict (seen in CI). 15 minutes leaves twelve.
"""

from __future__ import annotations

from typing import Any

import attrs

from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis

CANARY_SHARE = 0.10
"""Green's share of production during the canary (``CANARY_CONFIG``'s first step)."""
JUDGED_CONFIG = "CodeDeployDefault.ECSCanary10Percent15Minutes"
"""The judged release's canary: ``CANARY_SHARE`` for 15 minutes (the module's docstring)."""
ERRORS_PER_TEN = 3
"""v4 answers 3 of every 10 production requests with a 500."""
_SMALLEST_SAMPLE = 4
_METRICS_DELAY = 30.0
"""Simulated seconds after a minute before it is read: the demo's listener publishes a
minute as soon as it ends, but at 300x even 0.1 real seconds is 30 simulated ones."""


@attrs.frozen
class Sizing:
    """The analysis of the v4 release, and the traffic it was sized for."""

    analysis: Analysis
    requests_per_minute: float
    """Production requests per simulated minute, measured before the release."""
    traffic_config: str = JUDGED_CONFIG
    """The release's deployment config (an ECS-native service's canary maps from it)."""

    @property
    def green_per_minute(self) -> float:
        """What green is expected to serve a minute during the canary."""
        return self.requests_per_minute * CANARY_SHARE

    def describe(self) -> str:
        a = self.analysis
        metrics = ", ".join(m.name for m in a.metrics)
        return (
            f"every {a.interval / 60:g} min, {metrics} of green vs blue over the last "
            f"{a.window // 60} min, at least {a.minimum_sample} requests each (production "
            f"gets ~{self.requests_per_minute:.0f} a simulated minute, green "
            f"~{self.green_per_minute:.0f} at {CANARY_SHARE:.0%}); "
            + (
                "the first failed evaluation stops"
                if a.failure_limit == 1
                else f"{a.failure_limit} failed evaluations stop"
            )
            + " the deployment"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests_per_minute": round(self.requests_per_minute, 1),
            "traffic_config": self.traffic_config,
            "analysis": self.analysis.to_dict(),
        }


def sized_analysis(requests_per_minute: float) -> Sizing:
    """The demo's analysis for production traffic of ``requests_per_minute`` (see the
    module's docstring). The server-side alarm net is off: the demo shows the release process
    stopping the canary, not CloudWatch."""
    green = requests_per_minute * CANARY_SHARE
    minutes = 3 if green < 10 else 2
    most = DEFAULT_ANALYSIS.minimum_sample
    minimum = max(_SMALLEST_SAMPLE, min(most, int(0.4 * minutes * green)))
    analysis = Analysis(
        window=60 * minutes,
        minimum_sample=minimum,
        metrics_delay=_METRICS_DELAY,
        server_alarm=False,
    )
    return Sizing(analysis, requests_per_minute)
