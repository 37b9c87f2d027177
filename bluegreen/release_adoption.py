"""A resumed start adopts the scaling record a dead attempt left without a deployment id.

``deploy`` records the scaling it suspends, creates the deployment, then writes the
deployment's id into the record. A process (or Temporal worker) killed in between leaves a
record without id,
which stays in force (scaling suspended) for ten minutes after the deployment ended, and
then until something reconciles. A resumed ``start_service`` re-attaches to the deployment
the dead attempt created (or creates it), and CodeDeploy runs one deployment per group: a
record without id written before that deployment's creation is the dead attempt's, or a
racing release's that lost and gives its record back anyway. Adopted, it is given back when
the deployment ends, as the attempt's own record would have been.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluegreen.clock import Clock
    from bluegreen.manifest import ServiceRelease
    from bluegreen.release_accounts import Account

__all__ = ["ADOPTION_MARGIN", "adopt_orphan_records"]

ADOPTION_MARGIN = dt.timedelta(minutes=2)
"""How much later than the deployment's creation (by the record's clock) an orphan record may
have been written and still be taken for the dead attempt's (clocks differ by seconds)."""


def adopt_orphan_records(
    service: ServiceRelease, account: Account, deployment_id: str, clock: Clock
) -> int:
    """Write ``deployment_id`` into the service's scaling records that have none and were
    written before the deployment was created (within ``ADOPTION_MARGIN``); how many."""
    from bluegreen.scaling import ScalingLease
    from bluegreen.scaling_targets import service_scaling

    created = _created(deployment_id, account, clock)
    svc = service_scaling(
        service.cluster, service.service, account.clients, None, clock, budget=account.budget
    )
    adopted = 0
    for record in svc.records():
        if record.deployment_id is not None:
            continue
        if created is not None and record.created_at > created + ADOPTION_MARGIN:
            continue
        ScalingLease(record, svc=svc).attach(deployment_id)
        adopted += 1
    return adopted


def _created(deployment_id: str, account: Account, clock: Clock) -> dt.datetime | None:
    """When CodeDeploy created the deployment."""
    from bluegreen.deployment import Deployment

    deployment = Deployment.attach(
        deployment_id, clients=account.clients, clock=clock, budget=account.budget
    )
    return deployment.status().create_time
