"""The simulator running in this process, for whoever must find it: the botocore handler
that routes in-process requests, and the server that refuses to start beside it.

moto keeps its state in process-wide backends, so a process runs one simulator at a time.
This module knows simulators only by the protocols below, so the server and the routing
need not import the simulator (which imports them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from bluegreen.testing._wire import Response

if TYPE_CHECKING:
    from bluegreen._aws import Clients

__all__ = ["Routed", "Running", "Served", "new_served_simulator"]


class Routed(Protocol):
    """A simulator that answers requests (``Simulator`` is one)."""

    lock: threading.RLock

    def route(
        self,
        headers: Mapping[str, str],
        body: bytes | str | None,
        *,
        method: str = "",
        target: str = "",
    ) -> Response | None: ...

    def after_moto(self, headers: Mapping[str, str], body: bytes | str | None) -> None: ...

    def http_date(self) -> str: ...


class Served(Routed, Protocol):
    """A simulator a ``SimServer`` can serve (``Simulator`` is one)."""

    region: str

    def stop(self) -> None: ...

    def clients(self, endpoint_url: str | None = None) -> Clients: ...


class Running:
    """The simulator that in-process requests go to (one per process, like moto's mock),
    and how to make the default simulator a server serves (set by ``_simulator``)."""

    simulator: Routed | None = None
    factory: Callable[[float], Served] | None = None


def new_served_simulator(speed: float = 60.0) -> Served:
    """A new ``Simulator(speed=speed)``: the default of ``SimServer``."""
    if Running.factory is None:  # pragma: no cover - importing the package sets it
        raise RuntimeError("import bluegreen.testing before serving a simulator")
    return Running.factory(speed)
