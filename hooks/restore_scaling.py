"""Put back suspended autoscaling once a deployment is over.

Lambda handler: ``restore_scaling.handler`` or ``restore_scaling.hook_handler``.

The code, its settings (environment variables) and the IAM permissions it needs:
``python -m pydoc bluegreen.hooks.handlers.restore_scaling``. Written by
``bluegreen hooks package``; edit the package, not this file.
"""

from bluegreen.hooks.handlers.restore_scaling import handler, hook_handler

__all__ = ["handler", "hook_handler"]
