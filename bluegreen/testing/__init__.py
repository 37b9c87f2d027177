"""bluegreen.testing: a local CodeDeploy ECS blue/green simulator, in-process or as a server.

moto serves ECS, ELBv2, CloudWatch and Application Auto Scaling; this package adds a
CodeDeploy that runs ECS blue/green deployments through their whole lifecycle on a clock
you control, calls your hooks, and fixes moto's gaps for CODE_DEPLOY task sets::

    from bluegreen.testing import Simulator

    with Simulator() as sim:
        env = sim.create_environment(
            deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes"
        )
        sim.register_hook("CodeDeployHook_verify", my_handler)
        # ... create a deployment with plain boto3 ...
        sim.run_until_done(deployment_id)

Importing this package registers a botocore handler (as moto does); it does nothing unless a
``Simulator`` is running. Clients must be created after the simulator starts.

It needs the ``sim`` extra (``pip install 'bluegreen[sim]'``, moto and what it needs); without
it, importing this package raises ``bluegreen.errors.MissingExtraError``, which says so.
"""

from bluegreen.testing._requirements import require_sim

require_sim("bluegreen.testing")  # before anything imports moto

from bluegreen.testing._clock import Clock, RealTimeClock, SimTimeoutError, VirtualClock  # noqa: E402
from bluegreen.testing._environment import Environment, build_environment  # noqa: E402
from bluegreen.testing._settings import SimSettings  # noqa: E402
from bluegreen.testing._simulator import Faults, HookFunction, LambdaContext, Simulator  # noqa: E402
from bluegreen.testing._traffic import Behaviour, Traffic  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from bluegreen.testing._server import SimServer


def __getattr__(name: str) -> object:
    # The server pulls in moto's Flask server app; only load it for those who serve.
    if name == "SimServer":
        from bluegreen.testing._server import SimServer

        return SimServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Behaviour",
    "Clock",
    "Environment",
    "Faults",
    "HookFunction",
    "LambdaContext",
    "RealTimeClock",
    "SimServer",
    "SimSettings",
    "SimTimeoutError",
    "Simulator",
    "Traffic",
    "VirtualClock",
    "build_environment",
]
