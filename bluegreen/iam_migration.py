"""The resources of the ``migrate`` IAM policy: what ``bluegreen migrate plan|apply|revert``
changes besides the service itself.

A migration adds a rule to each listener of the service's deployment group (production,
test), points those listeners' default actions at the live target group when it is reverted,
deletes the rules it created, and reads, creates, passes to ECS and deletes the
infrastructure role (and passes the hook role). ``migration_arns`` narrows a service's
``ResourceArns`` to those: the group's listeners (an ECS-native service's, once migrated:
those of its ``advancedConfiguration``), the roles named (else the service's own, once
migrated, else a placeholder), no task definition or task role (a migration registers
none), and the service's deployments and revisions as well as its group (it is CodeDeploy's
before the migration, ECS-native after it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from bluegreen._advice import advice
from bluegreen.iam_resources import ResourceArns

if TYPE_CHECKING:
    from bluegreen.state import ServiceState

__all__ = ["INFRASTRUCTURE_ROLE", "PLACEHOLDER_LISTENERS", "migration_arns"]

INFRASTRUCTURE_ROLE = "INFRASTRUCTURE_ROLE"
"""The placeholder name of the infrastructure role, until it is named (``roles=``,
``--role``)."""

PLACEHOLDER_LISTENERS = (
    "listener/app/LOAD_BALANCER/LB_ID/PRODUCTION_LISTENER_ID",
    "listener/app/LOAD_BALANCER/LB_ID/TEST_LISTENER_ID",
)
"""The group's listeners, as placeholders (the part after ``...:ACCOUNT:``)."""


def migration_arns(
    arns: ResourceArns,
    state: ServiceState | None,
    roles: Sequence[str],
    notes: list[str] | None = None,
) -> ResourceArns:
    """``arns`` for the ``migrate`` feature: listeners and infrastructure roles filled in,
    no task or release role.

    Args:
        arns: a service's ARNs (``bluegreen.iam``), or placeholders.
        state: the service as ``discover`` read it; None: placeholders.
        roles: the infrastructure (and hook) role ARNs named; empty: the service's own once
            migrated, else a placeholder.
        notes: where to say that the role is a placeholder (a service read).
    """
    listeners: tuple[str, ...]
    found: tuple[str, ...] = ()
    if state is None:
        elb = f"arn:{arns.partition}:elasticloadbalancing:{arns.region}:{arns.account}"
        listeners = tuple(f"{elb}:{listener}" for listener in PLACEHOLDER_LISTENERS)
    elif state.strategy is not None and state.advanced_routing is not None:
        routing = state.advanced_routing
        routed = (routing.production_listener_rule, routing.test_listener_rule)
        listeners = tuple(dict.fromkeys(_listener_of(r) for r in routed if r))
        hook_roles = (h.role_arn for h in state.strategy.hooks if h.role_arn)
        found = tuple(dict.fromkeys(r for r in (routing.role_arn, *hook_roles) if r))
    else:
        listeners = tuple(r.arn for r in (state.production, state.test) if r is not None)
    placeholder = f"arn:{arns.partition}:iam::{arns.account}:role/{INFRASTRUCTURE_ROLE}"
    if notes is not None and not (roles or found):
        notes.append(
            f"InfrastructureRole names {placeholder}, a placeholder: "
            + advice("pass roles=", "give --role ARN")
            + " with the infrastructure role (`migrate --role`, or the one `--create-role "
            "NAME` makes: arn:aws:iam::ACCOUNT:role/NAME) and the hook role (--hook-role)"
        )
    return attrs.evolve(
        arns,
        listeners=listeners,
        infrastructure_roles=tuple(roles) or found or (placeholder,),
        families=(),
        task_roles=(),
        service_kind=None,  # CodeDeploy's before the migration, ECS-native after it
        release_roles=(),
    )


def _listener_of(rule_or_listener: str) -> str:
    """The listener of a listener-rule ARN; a listener ARN (an NLB's) as it is."""
    if ":listener-rule/" not in rule_or_listener:
        return rule_or_listener
    head, _, resource = rule_or_listener.partition(":listener-rule/")
    return f"{head}:listener/{'/'.join(resource.split('/')[:4])}"
