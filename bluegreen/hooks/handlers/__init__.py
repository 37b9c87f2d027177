"""The ready-made Lambda handlers, shipped inside the package so a plain ``pip install``
has them (``bluegreen hooks package`` zips them, ``bluegreen hooks invoke NAME`` runs one,
``bluegreen demo`` uses one):

==========================  ==========================================================
``verify_test_listener``    AfterAllowTestTraffic / POST_TEST_TRAFFIC_SHIFT: check green
                            through the test listener (rule)
``verify_production``       AfterAllowTraffic / POST_PRODUCTION_TRAFFIC_SHIFT: check
                            production once traffic has moved
``restore_scaling``         the autoscaling safety net (EventBridge rule or hook)
``analysis_gate``           PRE_PRODUCTION_TRAFFIC_SHIFT (ECS-native LINEAR/CANARY):
                            judge green against blue before each traffic step
==========================  ==========================================================

Each works as a CodeDeploy hook and as an ECS-native one (the event tells which), but
``analysis_gate``, which gates the steps only ECS-native deployments hook.

Lambda loads a handler as ``module.attribute`` from the zip's root, so the zip (and the
repository's ``hooks/`` folder) carries one thin file per handler that imports it from here;
``thin_handler_source`` writes that file. Importing this package imports nothing else.
"""

from __future__ import annotations

__all__ = ["READY_MADE", "thin_handler_source"]

READY_MADE: dict[str, tuple[str, ...]] = {
    "verify_test_listener": ("handler",),
    "verify_production": ("handler",),
    "restore_scaling": ("handler", "hook_handler"),
    "analysis_gate": ("handler",),
}
"""Each ready-made handler module and the Lambda entry points it offers."""

_PURPOSE = {
    "verify_test_listener": "AfterAllowTestTraffic: check green through the test listener.",
    "verify_production": "AfterAllowTraffic: check production once all traffic has moved.",
    "restore_scaling": "Put back suspended autoscaling once a deployment is over.",
    "analysis_gate": (
        "PRE_PRODUCTION_TRAFFIC_SHIFT (ECS-native): judge green against blue before each step."
    ),
}


def thin_handler_source(name: str) -> str:
    """The text of the thin top-level handler file for the ready-made handler ``name``.

    Raises:
        KeyError: ``name`` is not one of ``READY_MADE``.
    """
    entry_points = READY_MADE[name]
    handlers = ", ".join(entry_points)
    exported = ", ".join(f'"{e}"' for e in entry_points)
    lambda_handlers = " or ".join(f"``{name}.{e}``" for e in entry_points)
    return (
        f'"""{_PURPOSE[name]}\n'
        "\n"
        f"Lambda handler: {lambda_handlers}.\n"
        "\n"
        "The code, its settings (environment variables) and the IAM permissions it needs:\n"
        f"``python -m pydoc bluegreen.hooks.handlers.{name}``. Written by\n"
        "``bluegreen hooks package``; edit the package, not this file.\n"
        '"""\n'
        "\n"
        f"from bluegreen.hooks.handlers.{name} import {handlers}\n"
        "\n"
        f"__all__ = [{exported}]\n"
    )
