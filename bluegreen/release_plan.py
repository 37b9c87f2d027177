"""Plan every service of a release before anything changes: ``plan_release``.

Each service still to release is planned as ``bluegreen.plan`` plans one deployment (its
wiring, task definition, AppSpec, traffic config, hooks, analysis, scaling), several at once
within its account's rate budget. Every problem of every service is raised together, each
naming its wave and service, so a release of fifty services fails on the first run with the
whole list, not fifty runs with one problem each.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bluegreen.errors import BlueGreenError, ServiceConfigError, ValidationError
from bluegreen.release_service import deployment_description
from bluegreen.release_threads import for_each

if TYPE_CHECKING:
    from bluegreen.clock import Clock
    from bluegreen.manifest import Manifest, ServiceRelease
    from bluegreen.plan import Plan
    from bluegreen.release_accounts import Accounts

__all__ = ["PLAN_WIDTH", "plan_release"]

PLAN_WIDTH = 4
"""Services planned at once (each plan is about eight reads; the budget paces them)."""


def plan_release(
    manifest: Manifest,
    services: Sequence[ServiceRelease],
    accounts: Accounts,
    *,
    clock: Clock,
    width: int = PLAN_WIDTH,
) -> dict[str, Plan]:
    """``bluegreen.plan`` of each of ``services``; their plans by service name.

    Raises:
        ServiceConfigError: every problem of every service, each prefixed with its wave and
            service; nothing in AWS was changed.
    """
    from bluegreen.deploying import plan

    plans: dict[str, Plan] = {}
    problems: dict[str, list[str]] = {}
    lock = threading.Lock()

    def one(service: ServiceRelease) -> None:
        account = accounts.for_service(service)
        wave = manifest.wave_of(service).name
        where = f"wave {wave}, {service.name}"
        try:
            the_plan = plan(
                service.cluster,
                service.service,
                **service.deploy_arguments(),
                description=deployment_description(manifest.id, wave, service),
                clients=account.clients,
                clock=clock,
                budget=account.budget,
            )
        except ValidationError as exc:
            found = [f"{where}: {p}" for p in exc.problems]
        except BlueGreenError as exc:
            found = [f"{where}: {exc}"]
        else:
            found = [f"{where}: {p}" for p in the_plan.problems]
            with lock:
                plans[service.name] = the_plan
        with lock:
            problems[service.name] = found

    for_each(services, one, width, clock=clock, name="bluegreen-plan")
    # In the manifest's order, whichever thread finished first.
    every = [p for service in services for p in problems.get(service.name, [])]
    if every:
        raise ServiceConfigError(every, subject=f"release {manifest.id}")
    return plans
