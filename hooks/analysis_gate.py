"""PRE_PRODUCTION_TRAFFIC_SHIFT (ECS-native): judge green against blue before each step.

Lambda handler: ``analysis_gate.handler``.

The code, its settings (environment variables) and the IAM permissions it needs:
``python -m pydoc bluegreen.hooks.handlers.analysis_gate``. Written by
``bluegreen hooks package``; edit the package, not this file.
"""

from bluegreen.hooks.handlers.analysis_gate import handler

__all__ = ["handler"]
