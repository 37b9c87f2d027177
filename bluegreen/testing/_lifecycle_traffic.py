"""Traffic: the test listener, the ready wait, production traffic shifted at the config's
minute offsets, the PRIMARY switch, then the termination wait and blue's clean-up
(contract 2.1, 4, 6 and Appendix A steps 4-7)."""

from __future__ import annotations

from bluegreen.status import DeploymentStatus
from bluegreen.testing._lifecycle_base import E, Engine
from bluegreen.testing._records import DeploymentRecord
from bluegreen.testing._tasks import drain

__all__ = ["TrafficSteps"]


class TrafficSteps(Engine):
    """The traffic events, the ready wait, the termination wait and blue's clean-up."""

    def _allow_test_traffic(self, record: DeploymentRecord) -> None:
        assert record.test_listener
        assert record.green_tg
        assert record.blue_tg
        self.sim.moto.set_listener_weights(
            record.test_listener, [(record.green_tg, 100), (record.blue_tg, 0)]
        )
        self._later(
            record, self.settings.event_seconds, lambda: self._succeed(record, E.ALLOW_TEST_TRAFFIC)
        )

    def _wait_for_promotion(self, record: DeploymentRecord) -> bool:
        ready = record.group_info["blueGreenDeploymentConfiguration"]["deploymentReadyOption"]
        if ready.get("actionOnTimeout") != "STOP_DEPLOYMENT":
            return False
        record.phase = "ready"
        self._set_status(record, DeploymentStatus.READY)
        record.target_status = "Ready"
        minutes = float(ready.get("waitTimeInMinutes") or 0)
        self._later(record, minutes * 60, lambda: self._ready_expired(record))
        return True

    def _ready_expired(self, record: DeploymentRecord) -> None:
        if record.phase != "ready":
            return
        trigger = "DEPLOYMENT_STOP_ON_REQUEST" if self.settings.ready_timeout_rolls_back else None
        self._fail(
            record,
            E.BEFORE_ALLOW_TRAFFIC,
            code="TIMEOUT",
            message="The deployment was stopped because the wait for traffic to be rerouted "
            "(waitTimeInMinutes) ran out before ContinueDeployment was called.",
            trigger=trigger,
            status=DeploymentStatus.STOPPED,
            mark_event=False,
        )

    # -- production traffic -----------------------------------------------------------

    def _allow_traffic(self, record: DeploymentRecord) -> None:
        if self.settings.primary_switch == "before_allow_traffic":
            self._make_green_primary(record)
        steps = record.config.steps()
        start = self.now
        record.extras["shift_started"] = start
        for index, step in enumerate(steps):
            last = index == len(steps) - 1

            def shift(percent: int = step.green_percent, last: bool = last) -> None:
                if self._alarm_fired(record, E.ALLOW_TRAFFIC):
                    return
                self._set_production(record, percent)
                if last:
                    self._later(
                        record, self.settings.event_seconds, lambda: self._traffic_shifted(record)
                    )

            self._later(record, step.minute * 60.0, shift)

    def _set_production(self, record: DeploymentRecord, green_percent: int) -> None:
        assert record.production_listener
        assert record.green_tg
        assert record.blue_tg
        self.sim.moto.set_listener_weights(
            record.production_listener,
            [(record.green_tg, green_percent), (record.blue_tg, 100 - green_percent)],
        )
        record.extras.setdefault("weights", []).append((self.now, green_percent))

    def _traffic_shifted(self, record: DeploymentRecord) -> None:
        if self.settings.primary_switch == "after_allow_traffic":
            self._make_green_primary(record)
        self._succeed(record, E.ALLOW_TRAFFIC)

    def _make_green_primary(self, record: DeploymentRecord) -> None:
        svc = self.sim.moto.service(record.cluster, record.service)
        green = self._green(record)
        if svc is not None and green is not None:
            self.sim.moto.set_primary(svc, green)

    # -- after all events: termination wait and clean-up -------------------------------

    def _all_events_succeeded(self, record: DeploymentRecord) -> None:
        record.target_status = "Succeeded"
        record.target_updated = self.now
        record.phase = "termination_wait"
        record.termination_wait_started = True
        minutes = record.group_info["blueGreenDeploymentConfiguration"][
            "terminateBlueInstancesOnDeploymentSuccess"
        ].get("terminationWaitTimeInMinutes", 0)
        record.extras["termination_at"] = self.now + minutes * 60.0
        self._watch_termination_wait(record)

    def _watch_termination_wait(self, record: DeploymentRecord) -> None:
        if record.phase != "termination_wait":
            return
        if self._alarm_fired(record, None):
            return
        remaining = record.extras["termination_at"] - self.now
        if remaining <= 0:
            self._terminate_blue(record)
            return
        self._later(
            record,
            min(remaining, self.settings.poll_seconds * 4),
            lambda: self._watch_termination_wait(record),
        )

    def _terminate_blue(self, record: DeploymentRecord) -> None:
        record.phase = "terminating"
        blue = self._blue(record)
        if blue is not None:
            drain(self.sim.moto, blue)
        # CodeDeploy drains and deletes blue, then marks the deployment Succeeded; how long
        # that takes varies (settings.blue_cleanup_seconds).
        self._later(record, self.settings.blue_cleanup, lambda: self._finish_success(record))

    def _finish_success(self, record: DeploymentRecord) -> None:
        blue = self._blue(record)
        if blue is not None:
            self.sim.moto.delete_task_set(blue)
        record.phase = "done"
        self._set_status(record, DeploymentStatus.SUCCEEDED)
