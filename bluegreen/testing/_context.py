"""What the simulated CodeDeploy (its API handlers and the lifecycle) needs of the simulator.

``Simulator`` meets this protocol; the handlers and the lifecycle are typed against it, so
they never import the simulator that owns them.
"""

from __future__ import annotations

import threading
from typing import Protocol

from bluegreen.testing._clock import Clock
from bluegreen.testing._faults import Faults
from bluegreen.testing._hooks import Hooks
from bluegreen.testing._moto import MotoState
from bluegreen.testing._records import Store
from bluegreen.testing._settings import SimSettings

__all__ = ["SimContext"]


class SimContext(Protocol):
    """The parts of a running simulator that the simulated CodeDeploy works with."""

    settings: SimSettings
    clock: Clock
    lock: threading.RLock
    moto: MotoState
    faults: Faults
    store: Store
    hooks: Hooks
