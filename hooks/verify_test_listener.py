"""AfterAllowTestTraffic: check green through the test listener.

Lambda handler: ``verify_test_listener.handler``.

The code, its settings (environment variables) and the IAM permissions it needs:
``python -m pydoc bluegreen.hooks.handlers.verify_test_listener``. Written by
``bluegreen hooks package``; edit the package, not this file.
"""

from bluegreen.hooks.handlers.verify_test_listener import handler

__all__ = ["handler"]
