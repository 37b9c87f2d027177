"""AfterAllowTraffic: check production once all traffic has moved.

Lambda handler: ``verify_production.handler``.

The code, its settings (environment variables) and the IAM permissions it needs:
``python -m pydoc bluegreen.hooks.handlers.verify_production``. Written by
``bluegreen hooks package``; edit the package, not this file.
"""

from bluegreen.hooks.handlers.verify_production import handler

__all__ = ["handler"]
