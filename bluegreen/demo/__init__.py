"""The first run: three releases on the embedded simulator, with real HTTP traffic to watch.

``run_demo`` starts the simulator in real time (time compressed by ``speed``) with the sample
environment, and on 127.0.0.1 one tiny HTTP app per version (v1 runs, v2 is good, v3's
``/health`` answers 500, v4's ``/health`` passes but 3 in 10 of its other requests answer
500), a proxy for the production and the test listener that routes every request by the
weights the simulated CodeDeploy has written to the listener at that moment (production's
also publishes, per target group and simulated minute, the ALB metrics of what it really
served), and a load generator that keeps calling production. It then releases v2 (which
succeeds: the ready-made ``verify_test_listener`` hook passes, production moves 10% then
100%), v3 (the hook fails, CodeDeploy rolls back, production never serves v3) and v4 with an
analysis (the hook passes; in the canary green's 5xx rate is worse than blue's, the analysis
stops the deployment and CodeDeploy rolls back) with the public API, and checks that
everything behaved so. What is shown is up to a ``Narrator`` (the CLI's text and JSON forms
live in ``bluegreen.cli.demo``). With ``native=True`` the same releases go to the sample's
ECS-native service: ECS shifts its listener rules, runs the hook at POST_TEST_TRAFFIC_SHIFT
and rolls back within the same service deployment.

One module per part: ``run`` (``run_demo``, the releases and the checks made on them),
``results`` (``DemoResult``, ``Check``, ``Phase``), ``narrator`` (the ``Narrator`` protocol),
``apps`` (the version apps), ``listeners`` (the listener proxies), ``metrics`` (the load
balancer's metrics the production proxy publishes), ``judging`` (v4's analysis, sized for the
demo's traffic), ``load`` (the load generator), ``environment`` (the process environment
and the hook's reports) and ``target`` (which service is released, and the story's words).
"""

from __future__ import annotations

from bluegreen.demo.narrator import Narrator
from bluegreen.demo.results import Check, DemoResult, Phase
from bluegreen.demo.run import CANARY_CONFIG, HOOK_FUNCTION, run_demo

__all__ = [
    "CANARY_CONFIG",
    "HOOK_FUNCTION",
    "Check",
    "DemoResult",
    "Narrator",
    "Phase",
    "run_demo",
]
