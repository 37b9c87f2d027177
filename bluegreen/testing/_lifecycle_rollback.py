"""Rollback: a new deployment (``creator=codeDeployRollback``, ECSAllAtOnce) that points
the listeners back at blue, makes blue PRIMARY again, and drains and deletes green (contract
2.3, 5.4 and Appendix A)."""

from __future__ import annotations

from bluegreen.status import DeploymentStatus
from bluegreen.testing._lifecycle_base import E, Engine, S
from bluegreen.testing._records import DeploymentRecord
from bluegreen.testing._tasks import drain
from bluegreen.traffic import PREDEFINED_CONFIGS

__all__ = ["RollbackSteps"]


class RollbackSteps(Engine):
    """Starting and running rollback deployments."""

    def _start_rollback(self, original: DeploymentRecord) -> None:
        store = self.sim.store
        rollback = DeploymentRecord(
            id=store.unique_id(),
            application=original.application,
            group=original.group,
            config=PREDEFINED_CONFIGS["CodeDeployDefault.ECSAllAtOnce"],
            group_info=original.group_info,
            cluster=original.cluster,
            service=original.service,
            revision=original.revision,
            create_time=self.now,
            creator="codeDeployRollback",
            auto_rollback={"enabled": False},
            rollback_of=original.id,
            blue_arn=original.blue_arn,
            green_arn=original.green_arn,
            blue_tg=original.blue_tg,
            green_tg=original.green_tg,
            appspec=original.appspec,
        )
        rollback.extras["content"] = original.extras.get("content", "")
        rollback.rollback_info = {
            "rollbackTriggeringDeploymentId": original.id,
            "rollbackMessage": f"Deployment {rollback.id} is triggered to roll back deployment "
            f"{original.id}.",
        }
        original.rollback_info = {
            "rollbackDeploymentId": rollback.id,
            "rollbackMessage": f"Deployment {original.id} terminated. Automatic rollback is "
            f"triggered with a DeploymentId {rollback.id}.",
        }
        store.add_deployment(rollback)
        self.begin(rollback)

    def _run_rollback(self, record: DeploymentRecord) -> None:
        """Reroute traffic to the original task set, then drain and delete green.

        With ``settings.rollback_runs_hooks`` the rollback goes through the lifecycle events
        like a deployment of the original task set, invoking the AppSpec's hooks [I].
        """
        if self.settings.rollback_runs_hooks and record.appspec is not None:
            record.phase = "rolling_back"
            self._run_event(record, record.events[0].name)
            return
        self._reroute_to_blue(record, production=True, test=True)
        for event in record.events:
            ran = event.name in (E.INSTALL, E.ALLOW_TRAFFIC) or (
                event.name is E.ALLOW_TEST_TRAFFIC and record.has_test_listener
            )
            event.status = S.SUCCEEDED if ran else S.SKIPPED
            event.start = event.end = self.now
        self._finish_rollback(record)

    def _reroute_to_blue(self, record: DeploymentRecord, *, production: bool, test: bool) -> None:
        """Point the listeners back at blue (100/0); with ``production``, blue is PRIMARY."""
        if not (record.green_arn and record.blue_tg and record.green_tg):
            return
        moto = self.sim.moto
        weights = [(record.blue_tg, 100), (record.green_tg, 0)]
        if test and record.test_listener:
            moto.set_listener_weights(record.test_listener, weights)
        if production:
            if record.production_listener:
                moto.set_listener_weights(record.production_listener, weights)
            svc = moto.service(record.cluster, record.service)
            blue = self._blue(record)
            if svc is not None and blue is not None:
                moto.set_primary(svc, blue)

    def _rollback_event(self, record: DeploymentRecord, name: E) -> None:
        """A non-hook event of a rollback that runs hooks: Install has nothing to create,
        AllowTestTraffic and AllowTraffic point their listener back at blue."""
        self._reroute_to_blue(
            record, production=name is E.ALLOW_TRAFFIC, test=name is E.ALLOW_TEST_TRAFFIC
        )
        self._later(record, self.settings.event_seconds, lambda: self._succeed(record, name))

    def _finish_rollback(self, record: DeploymentRecord) -> None:
        green = self._green(record)
        if green is not None:
            drain(self.sim.moto, green)
        record.phase = "terminating"

        def finish() -> None:
            green = self._green(record)
            if green is not None:
                self.sim.moto.delete_task_set(green)
            record.target_status = "Succeeded"
            record.phase = "done"
            self._set_status(record, DeploymentStatus.SUCCEEDED)

        self._later(record, self.settings.drain_seconds, finish)
