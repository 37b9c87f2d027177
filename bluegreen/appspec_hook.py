"""An AppSpec hook: the Lambda function CodeDeploy calls at one lifecycle event, and the
checks of a list of them (hookable events, each at most once, a valid function name or ARN)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from bluegreen.errors import AppSpecError
from bluegreen.status import LifecycleEvent

__all__ = ["HOOK_NAMES", "Hook", "hooks_problems", "to_hooks"]

HOOK_NAMES = ", ".join(e.value for e in LifecycleEvent.hookable())
"""The events a hook may name, for messages."""

_LAMBDA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$"
)


def _to_event(value: LifecycleEvent | str) -> LifecycleEvent:
    try:
        return LifecycleEvent(value)
    except ValueError:
        raise AppSpecError([f"unknown hook event {value!r}: hooks may name {HOOK_NAMES}"]) from None


@attrs.frozen
class Hook:
    """A Lambda function (name or ARN) that CodeDeploy calls at one lifecycle event."""

    event: LifecycleEvent = attrs.field(converter=_to_event)
    function: str


def to_hooks(value: Iterable[Hook] | Mapping[Any, str] | None) -> tuple[Hook, ...]:
    """Hooks from a list of ``Hook`` or a mapping ``{event: function}``."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(Hook(event, function) for event, function in value.items())
    return tuple(value)


def hooks_problems(hooks: Iterable[Hook]) -> list[str]:
    """Why CodeDeploy would reject these hooks (empty list: it would not)."""
    problems = []
    seen: set[LifecycleEvent] = set()
    for hook in hooks:
        if not hook.event.accepts_hook:
            problems.append(f"{hook.event} cannot carry a hook: hooks may name {HOOK_NAMES}")
        if hook.event in seen:
            problems.append(f"hook {hook.event} is given more than once: each event runs one hook")
        seen.add(hook.event)
        problems += _lambda_problems(hook)
    return problems


def _lambda_problems(hook: Hook) -> list[str]:
    if not hook.function or not hook.function.strip():
        return [f"hook {hook.event} has no Lambda function: give a function name or ARN"]
    if not (_LAMBDA_NAME.match(hook.function) or _LAMBDA_ARN.match(hook.function)):
        return [
            f"hook {hook.event}: {hook.function!r} is not a Lambda function name "
            "(1-64 of A-Z a-z 0-9 - _) or function ARN"
        ]
    return []
