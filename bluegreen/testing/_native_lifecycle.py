"""The lifecycle of an ECS-native service deployment on the simulator's clock, in AWS's order
(``ServiceDeployment.lifecycleStage`` and "deployment-lifecycle-hooks"):

PENDING, then IN_PROGRESS through PRE_SCALE_UP, SCALE_UP (the target revision's tasks start
and pass health checks), POST_SCALE_UP, TEST_TRAFFIC_SHIFT (the test listener rule to the
target revision), POST_TEST_TRAFFIC_SHIFT, then for each traffic step PRE_PRODUCTION_TRAFFIC_SHIFT
and PRODUCTION_TRAFFIC_SHIFT (the production rule's weights: BLUE_GREEN all at once; CANARY
``canaryPercent``, ``canaryBakeTimeInMinutes``, then 100; LINEAR ``stepPercent`` steps with
``stepBakeTimeInMinutes`` between them, none after 100), POST_PRODUCTION_TRAFFIC_SHIFT,
BAKE_TIME (``bakeTimeInMinutes``), CLEAN_UP (the source revision scaled to 0) and SUCCESSFUL.

Hooks are in ``_native_hooks``, rollbacks and stops in ``_native_rollback``. The alarms of
``deploymentConfiguration.alarms`` are checked at every stage and every simulated minute
(``watch_alarms``), from the start to the end of the bake time.
"""

from __future__ import annotations

from bluegreen.testing._native_records import ServiceDeploymentRecord
from bluegreen.testing._native_rollback import RollbackSteps
from bluegreen.testing._native_rules import set_green_percent

__all__ = ["NativeLifecycle", "traffic_steps"]

_NOT_BOTH = (
    "Both targetGroup and alternateTargetGroup must be associated with the "
    "productionListenerRule or testListenerRule."
)


def traffic_steps(config: dict[str, object]) -> tuple[list[float], float]:
    """The production percentages the target revision takes, step by step, and the seconds
    between two steps."""
    strategy = config.get("strategy")
    if strategy == "CANARY":
        canary = dict(config.get("canaryConfiguration") or {})  # type: ignore[call-overload]
        percent = float(canary.get("canaryPercent", 5.0))
        bake = 60.0 * float(canary.get("canaryBakeTimeInMinutes", 10))
        return ([percent, 100.0] if percent < 100.0 else [100.0]), bake
    if strategy == "LINEAR":
        linear = dict(config.get("linearConfiguration") or {})  # type: ignore[call-overload]
        step = float(linear.get("stepPercent", 10.0))
        bake = 60.0 * float(linear.get("stepBakeTimeInMinutes", 6))
        steps: list[float] = []
        k = 1
        while not steps or steps[-1] < 100.0:
            steps.append(min(100.0, round(k * step, 1)))
            k += 1
        return steps, bake
    return [100.0], 0.0


class NativeLifecycle(RollbackSteps):
    """Runs native service deployments through their stages on the simulator's clock."""

    def begin(self, record: ServiceDeploymentRecord) -> None:
        record.steps, _ = traffic_steps(record.config)
        record.updated_at = self.now
        self._later(record, self.sim.settings.start_delay, lambda: self._start(record))

    def _start(self, record: ServiceDeploymentRecord) -> None:
        record.started_at = self.now
        if self.sim.settings.native_alarm_at_start == "ignore":
            record.alarms_ignored = tuple(self.sim.moto.alarms_in_alarm(record.alarm_names))
        self._set_status(record, "IN_PROGRESS")
        self._sync_service(record)
        self._stage(record, "PRE_SCALE_UP")

    # -- the order of stages ----------------------------------------------------------

    def _stage(self, record: ServiceDeploymentRecord, stage: str) -> None:
        self._enter(record, stage)
        if self._alarm_fired(record):
            return
        if stage == "SCALE_UP":
            self._scale_up(record)
        elif stage == "TEST_TRAFFIC_SHIFT":
            if self._shift(record, "test", 100.0):
                self._run_hooks(
                    record, stage, lambda: self._stage(record, "POST_TEST_TRAFFIC_SHIFT")
                )
        elif stage == "PRODUCTION_TRAFFIC_SHIFT":
            if self._shift(record, "production", record.steps[record.step]):
                self._run_hooks(record, stage, lambda: self._stepped(record))
        elif stage == "BAKE_TIME":
            minutes = float(record.config.get("bakeTimeInMinutes") or 0)
            self._later(record, 60.0 * minutes, lambda: self._stage(record, "CLEAN_UP"))
        elif stage == "CLEAN_UP":
            self._clean_up(record)
        else:
            self._run_hooks(record, stage, lambda: self._stage(record, _NEXT[stage]))

    def _stepped(self, record: ServiceDeploymentRecord) -> None:
        """After a production step: the next one after the step's bake, or the end."""
        if record.step + 1 >= len(record.steps):
            self._stage(record, "POST_PRODUCTION_TRAFFIC_SHIFT")
            return
        _, bake = traffic_steps(record.config)

        def next_step() -> None:
            record.step += 1
            self._stage(record, "PRE_PRODUCTION_TRAFFIC_SHIFT")

        self._later(record, bake, next_step)

    # -- what each stage does ---------------------------------------------------------

    def _scale_up(self, record: ServiceDeploymentRecord) -> None:
        green = self._green(record)
        green.requested = green.pending = self._desired(record)
        green.running = 0
        self._sync_service(record)
        if self.sim.faults.unhealthy_green:
            self._later(
                record,
                self.sim.settings.install_timeout,
                lambda: self._rollback(
                    record,
                    "The target service revision's tasks did not pass their health checks "
                    f"within {self.sim.settings.install_timeout:g} seconds.",
                    requested=False,
                ),
            )
            return

        def started() -> None:
            green.running, green.pending = green.requested, 0
            self._sync_service(record)
            self._later(
                record,
                self.sim.settings.event_seconds,
                lambda: self._stage(record, "POST_SCALE_UP"),
            )

        self._later(record, self.sim.settings.task_start_seconds, started)

    def _shift(self, record: ServiceDeploymentRecord, which: str, percent: float) -> bool:
        """Move ``percent`` of the production or test traffic to the target revision; False
        (and a rollback) when the rule does not forward to both target groups."""
        green, blue = self._green(record), self._blue(record)
        if which == "production":
            green.production_weight = percent
            if blue is not None:
                blue.production_weight = 100.0 - percent
        else:
            green.test_weight = percent
            if blue is not None:
                blue.test_weight = 100.0 - percent
        rule = self._rule(record, which)
        if rule is None or blue is None or green.target_group is None or blue.target_group is None:
            return True
        if not set_green_percent(
            self.sim.moto,
            rule,
            green_tg=green.target_group,
            blue_tg=blue.target_group,
            percent=percent,
            when=self.now,
        ):
            self._rollback(record, _NOT_BOTH, requested=False)
            return False
        record.weight_log.append((self.now, which, percent))
        return True

    def _clean_up(self, record: ServiceDeploymentRecord) -> None:
        record.alarms_done = True
        blue = self._blue(record)
        if blue is not None:
            blue.requested = 0
        self._sync_service(record)

        def done() -> None:
            if blue is not None:
                blue.running = blue.pending = 0
            self.store.current[record.service_arn] = record.target
            self._set_status(record, "SUCCESSFUL")
            self._sync_service(record)

        self._later(record, self.sim.settings.blue_cleanup, done)

    # -- alarms -----------------------------------------------------------------------

    def watch_alarms(self) -> None:
        """Every simulated minute, after CloudWatch evaluated its alarms: roll back (or stop)
        each deployment in flight whose alarms fired."""
        for record in list(self.store.deployments.values()):
            if record.status == "IN_PROGRESS":
                self._alarm_fired(record)


_NEXT = {
    "PRE_SCALE_UP": "SCALE_UP",
    "POST_SCALE_UP": "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT": "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT": "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT": "BAKE_TIME",
}
