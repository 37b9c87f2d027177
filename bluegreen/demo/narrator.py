"""The ``Narrator``: what the demo tells as it goes (``bluegreen.cli.demo`` has the text and
JSON forms)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.demo.judging import Sizing
    from bluegreen.demo.results import DemoResult, Phase
    from bluegreen.deployment import DeploymentSnapshot
    from bluegreen.errors import DeploymentError
    from bluegreen.scaling import ScalingStatus
    from bluegreen.testing import Environment


class Narrator(Protocol):
    """What the demo tells as it goes (``bluegreen.cli.demo`` has the text and JSON forms)."""

    def intro(
        self,
        environment: Environment,
        urls: Mapping[str, str],
        speed: float,
        now: Callable[[], dt.datetime],
    ) -> None:
        """The demo is set up; ``now`` reads the simulated time of day."""

    def autoscaling(self, when: str, status: ScalingStatus) -> None: ...

    def release_started(self, label: str, image: str, deployment_id: str) -> None: ...

    def analysis_sized(self, sizing: Sizing) -> None:
        """The release that just started is judged by ``sizing``'s analysis."""

    def progress(self, snapshot: DeploymentSnapshot, phases: tuple[Phase, ...]) -> None: ...

    def evaluation(self, run: AnalysisRun, phases: tuple[Phase, ...]) -> None:
        """The analysis evaluated green against blue (``run.last``), maybe reaching a
        verdict."""

    def release_ended(
        self,
        label: str,
        phases: tuple[Phase, ...],
        error: DeploymentError | None,
        hook_reports: tuple[str, ...],
        analysis: AnalysisRun | None = None,
    ) -> None:
        """The release (and any rollback) ended; ``hook_reports`` are what the hook said,
        ``analysis`` what the analysis found, when one ran."""

    def summary(self, result: DemoResult) -> None: ...
