"""The simulator's settings: timings, and a choice wherever AWS's behaviour is not documented.

Every field marked [I] in its comment follows ``codedeploy-ecs-contract.md`` where the
contract marks the behaviour as inferred or open; ``docs/simulator.md`` lists them.
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["ACCOUNT_ID", "SimSettings"]

# The one account the simulator serves.
ACCOUNT_ID = "123456789012"


@attrs.frozen(kw_only=True)
class SimSettings:
    """How the simulated CodeDeploy behaves. Times are simulated seconds.

    Attributes:
        start_delay: ``Created`` to ``InProgress`` (about 3 s observed).
        event_seconds: how long an event without a hook (and the non-hook events
            AllowTestTraffic and AllowTraffic's final step) takes.
        task_start_seconds: how long new tasks take to run and pass health checks.
        drain_seconds: how long a task set drains before it is deleted.
        blue_cleanup_seconds: [I] after the termination wait, how long CodeDeploy takes to
            drain and delete the original (blue) task set before the deployment is
            ``Succeeded`` (0-120 s measured; contract 2.1, 6.1, Appendix A step 7).
            ``None`` (the default) takes ``drain_seconds``.
        poll_seconds: how often the simulated CodeDeploy re-checks task-set stability
            and alarms while it waits.
        install_timeout: how long Install waits for green to reach steady state (60 min).
        hook_timeout: how long a hook has to report (3600 s, the documented limit).
        scaling_settle_limit: after a scaling event, how long the service has to reach
            steady state again before the deployment fails (5 min, contract 7.1).
        test_events_without_test_listener: [I] ``"skip"`` lists AllowTestTraffic and
            AfterAllowTestTraffic as Skipped when the group has no test listener;
            ``"omit"`` leaves them out of the target's events (the 2018 output).
        primary_switch: [I] when green becomes PRIMARY: ``"after_allow_traffic"`` (when all
            production traffic has moved) or ``"before_allow_traffic"``.
        rollback_runs_hooks: [I] whether a rollback deployment invokes the AppSpec's hooks
            (open question; default no).
        ready_timeout_rolls_back: [I] whether the ready wait running out rolls back when
            the deployment's auto-rollback includes ``DEPLOYMENT_STOP_ON_REQUEST`` (CDK maps
            its ``stoppedDeployment`` flag to that event).
        install_timeout_error_code: [I] ``errorInformation.code`` when green never reaches
            steady state.
        hook_timeout_error_code: [I] ``errorInformation.code`` when a hook never reports.
        overview_while_running: whether GetDeployment carries ``deploymentOverview`` (the
            target's status counted) while the deployment runs, as well as after it ends.
            ``False`` (the default) is what the contract (5.1, [O]) saw: null while an ECS
            deployment runs, the target's counts once it has ended. ``True`` shows the
            counts in every state.
        native_alarm_at_start: [I] an ECS-native deployment's alarm already in ALARM when the
            deployment starts: ``"ignore"`` (the default) leaves it out of that deployment's
            checks, as ECS documents for rolling deployments (contract 9.3; not confirmed for
            BLUE_GREEN/LINEAR/CANARY); ``"rollback"`` checks it like any other.
        controller_update_configuration: [I] an UpdateService that changes the deployment
            controller: ``"replace"`` (the default) makes the given ``deploymentConfiguration``
            the service's whole configuration; ``"merge"`` lays the given fields over the
            service's (ECS-native fields dropped either way when leaving ECS-native).
        not_code_deploy_error_code: [I] ``errorInformation.code`` of a CodeDeploy deployment
            that fails at once because its service no longer uses the CODE_DEPLOY controller.
        role_propagation_seconds: [I] seconds after IAM CreateRole during which ECS cannot
            assume the new role: an UpdateService that moves a service to ECS-native naming
            it as ``advancedConfiguration.roleArn`` is refused (InvalidParameterException,
            ``ROLE_NOT_ASSUMABLE``). IAM is eventually consistent (a new role is usually
            usable within seconds); how long, and ECS's words for an infrastructure role,
            are not documented. 0 (the default): at once.
    """

    start_delay: float = 3.0
    event_seconds: float = 1.0
    task_start_seconds: float = 60.0
    drain_seconds: float = 30.0
    blue_cleanup_seconds: float | None = None
    poll_seconds: float = 15.0
    install_timeout: float = 3600.0
    hook_timeout: float = 3600.0
    scaling_settle_limit: float = 300.0
    test_events_without_test_listener: Literal["skip", "omit"] = "skip"
    primary_switch: Literal["after_allow_traffic", "before_allow_traffic"] = "after_allow_traffic"
    rollback_runs_hooks: bool = False
    ready_timeout_rolls_back: bool = True
    install_timeout_error_code: str = "TIMEOUT"
    hook_timeout_error_code: str = "HOOK_EXECUTION_FAILURE"
    overview_while_running: bool = False
    native_alarm_at_start: Literal["ignore", "rollback"] = "ignore"
    controller_update_configuration: Literal["replace", "merge"] = "replace"
    not_code_deploy_error_code: str = "ECS_UPDATE_ERROR"
    role_propagation_seconds: float = 0.0

    @property
    def blue_cleanup(self) -> float:
        """Seconds from the end of the termination wait to ``Succeeded``."""
        return (
            self.drain_seconds if self.blue_cleanup_seconds is None else self.blue_cleanup_seconds
        )
