"""The event CodeDeploy sends a lifecycle hook, typed: ``HookEvent`` (the two ids, the Lambda
context and its remaining time, the clients, the listener URLs) and ``parse``, which reads the
ids from what arrived and says what is wrong with it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import attrs

from bluegreen._aws import Clients
from bluegreen.hooks._clients import default_clients

__all__ = ["PRODUCTION_URL_VARIABLE", "TEST_URL_VARIABLE", "HookEvent", "Parsed", "parse"]

TEST_URL_VARIABLE = "BLUEGREEN_TEST_URL"
PRODUCTION_URL_VARIABLE = "BLUEGREEN_PRODUCTION_URL"


@attrs.define
class HookEvent:
    """The event CodeDeploy sends a lifecycle hook, with the Lambda context.

    Attributes:
        deployment_id: the deployment, ``d-XXXXXXXXX``.
        execution_id: the ``LifecycleEventHookExecutionId`` to report on.
        raw: the event as received.
        context: the Lambda context (None when run without one).
    """

    deployment_id: str
    execution_id: str
    raw: Mapping[str, Any] = attrs.field(repr=False)
    context: Any = attrs.field(default=None, repr=False)
    _clients: Clients | None = attrs.field(default=None, alias="clients", repr=False)
    _remaining_at_entry: float | None = attrs.field(default=None, alias="remaining_at_entry")
    _entered: float = attrs.field(factory=time.monotonic, alias="entered", repr=False)
    _urls: dict[str, str] = attrs.field(factory=dict, init=False, repr=False)

    def remaining_seconds(self) -> float:
        """Seconds until the Lambda times out, on the wall clock from the context's remaining
        time at entry; ``inf`` without a context."""
        if self._remaining_at_entry is None:
            return math.inf
        return self._remaining_at_entry - (time.monotonic() - self._entered)

    @property
    def clients(self) -> Clients:
        """The AWS clients this hook uses (the module-level ones unless configured)."""
        if self._clients is None:
            self._clients = default_clients()
        return self._clients

    @property
    def test_url(self) -> str:
        """The test listener's base URL: ``BLUEGREEN_TEST_URL`` if set, else discovered from
        the deployment's group (``http(s)://<load balancer DNS name>:<port>``)."""
        return self._url("test", TEST_URL_VARIABLE)

    @property
    def production_url(self) -> str:
        """The production listener's base URL: ``BLUEGREEN_PRODUCTION_URL`` if set, else
        discovered like ``test_url``."""
        return self._url("production", PRODUCTION_URL_VARIABLE)

    def _url(self, route: str, variable: str) -> str:
        override = os.environ.get(variable)
        if override:
            return override.rstrip("/")
        if route not in self._urls:
            # Only now: the listener module pulls in nothing heavy itself, but a hook with
            # the URL set never needs it.
            from bluegreen.hooks._listener import listener_url

            self._urls[route] = listener_url(self.deployment_id, route, clients=self.clients)
        return self._urls[route]


_ID_KEYS = {
    "deployment": ("DeploymentId", "deploymentId", "deployment_id"),
    "execution": (
        "LifecycleEventHookExecutionId",
        "lifecycleEventHookExecutionId",
        "lifecycle_event_hook_execution_id",
    ),
}


class Parsed(NamedTuple):
    """The ids found in an event, and what is wrong with it (empty for CodeDeploy's shape)."""

    deployment_id: str | None
    execution_id: str | None
    problems: tuple[str, ...]


def parse(raw: Any) -> Parsed:
    """The two ids, and what is wrong with the event (empty when it is CodeDeploy's shape)."""
    problems: list[str] = []
    event = raw
    if isinstance(raw, str | bytes | bytearray):
        try:
            event = json.loads(raw)
        except ValueError:
            event = None
        if isinstance(event, Mapping):
            problems.append("the event is a JSON string, not an object")
    if not isinstance(event, Mapping):
        problems.append(f"the event is a {type(raw).__name__}, not an object")
        return Parsed(None, None, tuple(problems))
    ids: dict[str, str | None] = {}
    for what, keys in _ID_KEYS.items():
        canonical = keys[0]
        value = event.get(canonical)
        if not (isinstance(value, str) and value.strip()):
            found = next((k for k in keys[1:] if event.get(k) not in (None, "")), None)
            if value in (None, "") and found is None:
                problems.append(f"{canonical} is missing")
            elif found is not None:
                problems.append(f"{canonical} is spelled {found}")
                value = event[found]
            else:
                problems.append(f"{canonical} is a {type(value).__name__}, not a string")
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            ids[what] = str(value).strip()
        else:
            ids[what] = None
    return Parsed(ids["deployment"], ids["execution"], tuple(problems))
