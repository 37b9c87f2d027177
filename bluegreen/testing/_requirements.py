"""What the simulator needs beyond bluegreen's own dependencies: the ``sim`` extra.

Checked before anything imports moto, so a missing extra is one clear line
(``pip install 'bluegreen[sim]'``) rather than a ``ModuleNotFoundError`` from deep inside.
This module imports nothing that the extra provides.
"""

from __future__ import annotations

import importlib.util

from bluegreen.errors import MissingExtraError

SIM_EXTRA = "sim"

SIM_MODULES = ("moto", "werkzeug", "flask", "flask_cors")
"""Top-level modules the simulator imports (moto, and moto's server for ``SimServer``)."""


def missing_sim_module() -> str | None:
    """The first module of the ``sim`` extra that is not installed, or None."""
    for name in SIM_MODULES:
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):  # a broken install, or an import hook refused it
            found = None
        if found is None:
            return name
    return None


def require_sim(feature: str) -> None:
    """Raise ``MissingExtraError`` naming ``feature`` unless the ``sim`` extra is installed."""
    missing = missing_sim_module()
    if missing is not None:
        raise MissingExtraError(feature, SIM_EXTRA, missing)
