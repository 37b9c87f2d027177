"""pytest fixtures for testing release scripts and hooks against the simulator.

Installed as a pytest plugin (entry point ``bluegreen``), so any project that installs
bluegreen can use them::

    def test_release(bluegreen_sim, bluegreen_env):
        ...  # plain boto3 clients, created inside the test, talk to the simulator

Fake credentials and region are set for the test; nothing reaches AWS. The fixtures need the
``sim`` extra (``pip install 'bluegreen[sim]'``). Loading this plugin imports neither the
simulator nor moto, so installing bluegreen never slows down or breaks another project's
tests; a test that uses a fixture without the extra fails with a line saying what to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bluegreen.testing import Environment, Simulator


@pytest.fixture
def bluegreen_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A running simulator on a virtual clock, with fake credentials in the environment."""
    from bluegreen.errors import MissingExtraError

    try:
        from bluegreen.testing import Simulator
    except MissingExtraError as exc:
        pytest.fail(f"the bluegreen_sim fixture: {exc}", pytrace=False)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with Simulator() as sim:
        yield sim


@pytest.fixture
def bluegreen_env(bluegreen_sim: Simulator) -> Environment:
    """The sample environment (service ``web`` in cluster ``prod``) in ``bluegreen_sim``."""
    return bluegreen_sim.create_environment()
