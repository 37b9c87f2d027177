"""What an ECS-native service's own hooks tell its ``release`` policy: the Lambda functions
``plan`` and ``deploy`` look up, and the roles a deploy that sends the service's
``deploymentConfiguration`` passes to ECS (placeholders, with a note, when it names none)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen._advice import advice

if TYPE_CHECKING:
    from bluegreen.native_config import NativeStrategy

__all__ = ["native_hook_functions", "native_hook_roles"]


def native_hook_roles(
    strategy: NativeStrategy, partition: str, account: str, notes: list[str]
) -> tuple[str, ...]:
    """The roles an ECS-native service's hooks name (a deploy that sends the service's
    ``deploymentConfiguration`` passes them to ECS), else a placeholder."""
    found = tuple(dict.fromkeys(str(h.role_arn) for h in strategy.hooks if h.role_arn))
    if found:
        return found
    placeholder = f"arn:{partition}:iam::{account}:role/HOOK_ROLE"
    notes.append(
        f"iam:PassRole on {placeholder}, a placeholder: the service has no hooks, and a deploy "
        "that adds them passes their role to ECS; "
        + advice("pass hook_roles= to name it", "give --hook-role to name it")
    )
    return (placeholder,)


def native_hook_functions(strategy: NativeStrategy, notes: list[str]) -> tuple[str, ...]:
    """The Lambda functions an ECS-native service names as hooks (``deploymentConfiguration.
    lifecycleHooks``), which ``plan`` and ``deploy`` look up; empty when it names none."""
    arns = tuple(
        dict.fromkeys(str(h.target_arn) for h in strategy.hooks if h.is_lambda and h.target_arn)
    )
    if arns:
        notes.append(
            "HookFunctions names the service's own Lambda hooks (deploymentConfiguration."
            "lifecycleHooks); "
            + advice(
                "pass hook_functions= to name those your deployments add",
                "give --hook-function to name those your deployments add (--hook)",
            )
        )
    return arns
