"""How a native service deployment ends early: a rollback (a hook failed or timed out, an
alarm fired, StopServiceDeployment ROLLBACK, ContinueServiceDeployment ROLLBACK), a stop
(StopServiceDeployment ABORT, an alarm without rollback) or a newer deployment taking over.

A rollback ("deployment-lifecycle-hooks": "When a roll back happens, Amazon ECS runs the
lifecycle hooks for PRODUCTION_TRAFFIC_SHIFT, TEST_TRAFFIC_SHIFT") puts production traffic
back on the source revision (PRODUCTION_TRAFFIC_SHIFT and its Lambda hooks), then test traffic
(TEST_TRAFFIC_SHIFT), then scales the target revision in (CLEAN_UP): ROLLBACK_IN_PROGRESS, then
ROLLBACK_SUCCESSFUL, or ROLLBACK_FAILED when a hook fails on the way. Requested ones
(StopServiceDeployment, ContinueServiceDeployment) are ROLLBACK_REQUESTED first
("stop-service-deployment": "moves to the ROLLBACK_REQUESTED state, and then the rollback
operation starts").
"""

from __future__ import annotations

from bluegreen.testing._native_hooks import NativeEngine
from bluegreen.testing._native_records import ServiceDeploymentRecord
from bluegreen.testing._native_rules import set_green_percent

__all__ = ["RollbackSteps"]


class RollbackSteps(NativeEngine):
    """Rollbacks and stops."""

    def _rollback(self, record: ServiceDeploymentRecord, reason: str, *, requested: bool) -> None:
        if record.is_terminal or record.rolling_back:
            return
        record.generation += 1
        record.rolling_back = True
        self._continuations.pop(record.arn, None)
        for run in record.current_hooks():
            if run.status in ("IN_PROGRESS", "AWAITING_ACTION"):
                run.status = "FAILED"
        record.rollback = {
            "reason": reason,
            "startedAt": self.now,
            "serviceRevisionArn": record.source[0] if record.source else record.target,
        }
        if requested:
            self._set_status(record, "ROLLBACK_REQUESTED", reason)
            self._later(record, self.sim.settings.start_delay, lambda: self._roll_back(record))
        else:
            self._roll_back(record, reason)

    def _roll_back(self, record: ServiceDeploymentRecord, reason: str | None = None) -> None:
        self._set_status(record, "ROLLBACK_IN_PROGRESS", reason)
        self._enter(record, "PRODUCTION_TRAFFIC_SHIFT")
        self._shift_back(record, "production")
        self._run_hooks(record, "PRODUCTION_TRAFFIC_SHIFT", lambda: self._test_back(record))

    def _test_back(self, record: ServiceDeploymentRecord) -> None:
        self._enter(record, "TEST_TRAFFIC_SHIFT")
        self._shift_back(record, "test")
        self._run_hooks(record, "TEST_TRAFFIC_SHIFT", lambda: self._scale_in_green(record))

    def _scale_in_green(self, record: ServiceDeploymentRecord) -> None:
        self._enter(record, "CLEAN_UP")
        green = self._green(record)
        green.requested = 0
        self._sync_service(record)

        def done() -> None:
            green.running = green.pending = 0
            blue = self._blue(record)
            if blue is not None:
                self.store.current[record.service_arn] = blue.arn
            self._set_status(record, "ROLLBACK_SUCCESSFUL")
            self._sync_service(record)

        self._later(record, self.sim.settings.drain_seconds, done)

    def _hooks_failed_in_rollback(self, record: ServiceDeploymentRecord, reason: str) -> None:
        record.generation += 1
        self._set_status(record, "ROLLBACK_FAILED", f"The rollback failed: {reason}")
        self._sync_service(record)

    def _shift_back(self, record: ServiceDeploymentRecord, which: str) -> None:
        """All of ``which`` traffic back to the source revision (no-op if it never moved)."""
        green, blue = self._green(record), self._blue(record)
        if which == "production":
            green.production_weight = 0.0
            if blue is not None:
                blue.production_weight = 100.0
        else:
            green.test_weight = 0.0
            if blue is not None:
                blue.test_weight = 100.0
        rule = self._rule(record, which)
        if rule is None or blue is None or green.target_group is None or blue.target_group is None:
            return
        if set_green_percent(
            self.sim.moto,
            rule,
            green_tg=green.target_group,
            blue_tg=blue.target_group,
            percent=0.0,
            when=self.now,
        ):
            record.weight_log.append((self.now, which, 0.0))

    def _rule(self, record: ServiceDeploymentRecord, which: str) -> str | None:
        """The production or test listener rule of the target revision's load balancer."""
        lbs = self._green(record).load_balancers
        advanced = (lbs[0].get("advancedConfiguration") or {}) if lbs else {}
        key = "productionListenerRule" if which == "production" else "testListenerRule"
        value = advanced.get(key)
        return str(value) if value else None

    # -- stops --------------------------------------------------------------------------

    def stop(self, record: ServiceDeploymentRecord, reason: str, *, requested: bool) -> None:
        """Stop without the rollback's hooks: traffic back on the source revision at once,
        the target revision scaled in, STOPPED (STOP_REQUESTED first when ``requested``) [I]."""
        if record.is_terminal:
            return
        record.generation += 1
        self._continuations.pop(record.arn, None)
        for run in record.current_hooks():
            if run.status in ("IN_PROGRESS", "AWAITING_ACTION"):
                run.status = "FAILED"

        def stopped() -> None:
            self._shift_back(record, "production")
            self._shift_back(record, "test")
            green = self._green(record)
            green.requested = green.running = green.pending = 0
            blue = self._blue(record)
            if blue is not None:
                self.store.current[record.service_arn] = blue.arn
            record.stopped_at = self.now
            record.rolling_back = True  # the service is back on the source revision
            self._set_status(record, "STOPPED", reason)
            self._sync_service(record)

        if requested:
            self._set_status(record, "STOP_REQUESTED", reason)
            self._later(record, self.sim.settings.start_delay, stopped)
        else:
            stopped()

    # -- alarms -------------------------------------------------------------------------

    def _alarm_fired(self, record: ServiceDeploymentRecord) -> bool:
        """Roll back (or stop) when one of the deployment's alarms is in ALARM; True if so."""
        if record.is_terminal or record.rolling_back or record.alarms_done:
            return False
        names = [n for n in record.alarm_names if n not in record.alarms_ignored]
        firing = self.sim.moto.alarms_in_alarm(names) if names else []
        if not firing:
            return False
        record.triggered_alarms = list(firing)
        reason = (
            "Service deployment rolled back because the CloudWatch alarm(s) "
            f"{', '.join(firing)} went into the ALARM state."
        )
        if (record.config.get("alarms") or {}).get("rollback"):
            self._rollback(record, reason, requested=False)
        else:
            self.stop(
                record,
                f"Service deployment stopped because the CloudWatch alarm(s) {', '.join(firing)} "
                "went into the ALARM state.",
                requested=False,
            )
        return True
