"""The sample environment, made once per process for each set of options and copied into
every later simulator that asks for the same one.

``create_environment`` makes some 17 calls (26 with the ECS-native service) through boto3 and
moto, 70-130 ms, and nearly every test makes one. What they leave is moto's backends for the
account and the simulator's own records (CodeDeploy's applications and groups, ECS-native
services' configurations, revisions and deployments, the listeners' weight log, the record of
calls); a copy of those is a few milliseconds. The copy is exact: the same names, ARNs and
ids, and the times of the simulator it was first made in, which is never later than the
one it is copied into (else it is made again), as an environment made a little before.

Only a pristine simulator gets a copy: on a virtual clock, nothing routed yet, no fault set,
the same region, settings and ``AWS_*`` variables as the one the copy came from. Anything else
makes the environment through the API, as before.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from bluegreen.testing._clock import VirtualClock
from bluegreen.testing._settings import ACCOUNT_ID

if TYPE_CHECKING:
    import collections

    from bluegreen.testing._clock import Clock
    from bluegreen.testing._environment import Environment
    from bluegreen.testing._faults import Faults
    from bluegreen.testing._moto import MotoState
    from bluegreen.testing._records import Store
    from bluegreen.testing._settings import SimSettings

__all__ = ["environment_for"]

_KEPT = 32
"""Environments kept at most (one per set of options; tests use a handful)."""
_COPIES: dict[str, _Copy] = {}


class Simulator(Protocol):
    """What a copy is taken from and restored into (``Simulator`` meets it)."""

    region: str
    settings: SimSettings
    clock: Clock
    faults: Faults
    store: Store
    moto: MotoState
    native: Any  # NativeEcs: its ``store``

    @property
    def calls(self) -> collections.deque[tuple[float, str, str]]: ...


@attrs.frozen
class _Copy:
    made_at: float
    environment: Environment
    backend_dicts: dict[str, Any]
    """moto's ``BackendDict`` of each service the environment used, by name."""
    state: tuple[Any, ...]
    """(moto's backends for the account, by service; the CodeDeploy store's fields; the
    native store's fields; the weight log; the calls), copied again for each use."""


def environment_for(
    sim: Simulator, options: dict[str, Any], build: Callable[[], Environment]
) -> Environment:
    """The environment ``build`` makes in ``sim``, or a copy of the one it made before."""
    key = _key(sim, options)
    if key is None:
        return build()
    kept = _COPIES.get(key)
    if kept is not None and kept.made_at <= sim.clock.time():
        _restore(sim, kept.backend_dicts, copy.deepcopy(kept.state))
        return kept.environment
    environment = build()
    if len(_COPIES) >= _KEPT:
        _COPIES.pop(next(iter(_COPIES)))
    dicts = _backend_dicts()
    state = copy.deepcopy(_state(sim, dicts))
    _COPIES[key] = _Copy(sim.clock.time(), environment, dicts, state)
    return environment


def _key(sim: Simulator, options: dict[str, Any]) -> str | None:
    """What the environment depends on, or None when ``sim`` is not pristine."""
    pristine = (
        isinstance(sim.clock, VirtualClock)
        and not sim.calls
        and sim.faults.idle
        and not any(getattr(sim.store, f.name) for f in attrs.fields(type(sim.store)))
        and not any(getattr(sim.native.store, f.name) for f in attrs.fields(type(sim.native.store)))
    )
    if not pristine:
        return None
    environ = sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))
    return repr((sim.region, sim.settings, sorted(options.items()), environ))


def _backend_dicts() -> dict[str, Any]:
    """moto's ``BackendDict`` of each service with state for the account."""
    from moto.core.base_backend import BackendDict

    in_use: list[Any] = BackendDict._instances  # type: ignore[misc]  # moto: those in use
    return {bd.service_name: bd for bd in in_use if bd.get(ACCOUNT_ID)}


def _state(sim: Simulator, dicts: dict[str, Any]) -> tuple[Any, ...]:
    return (
        {name: dict(bd[ACCOUNT_ID]) for name, bd in dicts.items()},
        attrs.asdict(sim.store, recurse=False),
        attrs.asdict(sim.native.store, recurse=False),
        sim.moto.weight_log,
        list(sim.calls),
    )


def _restore(sim: Simulator, dicts: dict[str, Any], state: tuple[Any, ...]) -> None:
    backends, store, native, weight_log, calls = state
    for name, regions in backends.items():
        account = dicts[name][ACCOUNT_ID]  # registers it with moto, which resets it next
        for region, backend in regions.items():
            _unpatch(backend)
            dict.__setitem__(account, region, backend)
    for name, value in store.items():
        setattr(sim.store, name, value)
    for name, value in native.items():
        setattr(sim.native.store, name, value)
    sim.moto.weight_log = weight_log
    sim.calls.extend(calls)


def _unpatch(backend: Any) -> None:
    """Drop the simulator's patches from a copied backend (``_metric_queries`` answers
    GetMetricData with functions on the backend that still read the original's data): the
    simulator patches the copy again when it is first asked."""
    for name, value in list(vars(backend).items()):
        ours = getattr(value, "__module__", "") or ""
        if name.startswith("_bluegreen") or (
            callable(value) and ours.startswith("bluegreen.testing")
        ):
            delattr(backend, name)
