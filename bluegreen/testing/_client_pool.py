"""The boto3 clients simulators hand out, made once per process and shared.

Making a botocore client is most of the cost of a short test: it builds a class with a method
per operation and copies the session's event handlers, some 15 ms a client, and a test made
ten (a Deployer alone makes five). A client holds no state of the account it talks to (an
in-process request is routed to whichever simulator is running when it is sent), so the
clients of ``Simulator.clients()`` and ``create_environment`` are kept for the process, per
region, endpoint and ``AWS_*`` environment (the endpoint and credentials a client resolves when
it is made).

A shared client must behave as a new one: one that someone registers an event handler on
(``client.meta.events.register...``, as tests that count or fail calls do) leaves the pool at
that moment, so no later ``clients()`` hands it out; whoever holds it keeps using it. A handler
registered on the shared session (``clients().session.events``) reaches every client made
after it, so it empties the pool of that session's clients, and so does its removal.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import attrs

from bluegreen._aws import Clients

__all__ = ["PooledClients", "fake_session", "pooled_clients"]

_Key = tuple[str, str | None, frozenset[tuple[str, str]]]

_LOCK = threading.RLock()
_SESSIONS: dict[str, Any] = {}
_POOL: dict[tuple[_Key, str], Any] = {}
_CHANGES = ("register", "register_first", "register_last", "unregister")
"""The event-emitter methods that change a client's behaviour."""


def fake_session(region: str) -> Any:
    """One fake-credential ``boto3.Session`` per region for every simulator in the process.

    A session parses each service model once; a new session per ``clients()`` call made
    the sample environment and ``discover`` spend most of a test in botocore's JSON loader.
    """
    with _LOCK:
        session = _SESSIONS.get(region)
        if session is None:
            import boto3

            session = boto3.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
            )
            _watch(session.events, lambda: _evict(lambda slot: slot[0][0] == region))
            _SESSIONS[region] = session
        return session


@attrs.define
class PooledClients(Clients):
    """``Clients`` whose boto3 clients come from the process's pool (see the module)."""

    _key: _Key = attrs.field(kw_only=True, alias="key")

    def client(self, service: str) -> Any:
        with _LOCK:
            made = _POOL.get((self._key, service))
            if made is None:
                made = super().client(service)
                slot = (self._key, service)
                _watch(made.meta.events, lambda: _evict(lambda s: s == slot and _POOL[s] is made))
                if not any(key == self._key for key, _ in _POOL):
                    # One environment at a time: tests that change AWS_* are rare.
                    _POOL.clear()
                _POOL[(self._key, service)] = made
            return made


def pooled_clients(region: str, endpoint_url: str | None = None) -> PooledClients:
    """``Clients`` for ``region`` (and ``endpoint_url``) from the process's pool."""
    environment = frozenset((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))
    return PooledClients(
        session=fake_session(region),
        endpoint_url=endpoint_url,
        key=(region, endpoint_url, environment),
    )


def _watch(events: Any, evict: Callable[[], None]) -> None:
    """Call ``evict`` whenever a handler is registered on (or removed from) ``events``."""
    for name in _CHANGES:
        setattr(events, name, _evicting(getattr(events, name), evict))


def _evicting(change: Callable[..., Any], evict: Callable[[], None]) -> Any:
    def changed(*args: Any, **kwargs: Any) -> Any:
        evict()
        return change(*args, **kwargs)

    return changed


def _evict(which: Callable[[tuple[_Key, str]], bool]) -> None:
    with _LOCK:
        for slot in [slot for slot in _POOL if which(slot)]:
            del _POOL[slot]
