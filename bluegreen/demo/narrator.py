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
    from bluegreen.demo.target import DemoTarget
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
        target: DemoTarget | None = None,
    ) -> None:
        """The demo is set up; ``now`` reads the simulated time of day; ``target`` is the
        service it releases (the CodeDeploy one or the ECS-native one)."""

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
        *,
        ending: str | None = None,
    ) -> None:
        """The release (and any rollback) ended; ``hook_reports`` are what the hook said,
        ``analysis`` what the analysis found, when one ran, ``ending`` how the deployment
        ended (``DeploymentSnapshot.ending``: an ECS-native one rolls back in itself)."""

    def summary(self, result: DemoResult) -> None: ...
