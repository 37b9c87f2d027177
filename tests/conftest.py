"""Shared fixtures. No test may reach AWS: credentials and region are fake, profiles cleared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "BLUEGREEN_ENDPOINT_URL",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make ``--dist loadgroup`` (pyproject's addopts) group the tests marked ``xdist_group``
    again: pytest-xdist marks a test's group by appending ``@group`` to its node id, which
    pytest 9.2 no longer reads (pytest-xdist issue #1386), so a module meant for one worker
    was spread over both and set its module fixtures up on each (the wheel built twice, two
    Temporal servers). Where xdist's own suffix took effect (an older pytest), nothing
    changes."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers only
        return
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        suffix = "@" + "_".join(sorted(names))
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = type(item._id).parse(item.nodeid + suffix)


@pytest.fixture(autouse=True)
def fake_aws_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Fake credentials and region; no profile, config file or endpoint from the machine."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    empty.touch()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def unpaced_default_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process-wide rate budget without pauses: one test process makes thousands of
    calls, and on the real clock its 5 calls/s would only slow the suite down. The budget's
    own tests (and the bench) use budgets of their own."""
    from bluegreen.clock import DEFAULT_BUDGET

    monkeypatch.setattr(DEFAULT_BUDGET, "rate", 1e9)
    monkeypatch.setattr(DEFAULT_BUDGET, "burst", 1e9)
    monkeypatch.setattr(DEFAULT_BUDGET, "_tokens", 1e9)


_LOADERS: dict[str | None, object] = {}
"""botocore's data loaders of this test process, by search path (see ``shared_models``)."""


@pytest.fixture(autouse=True)
def shared_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every botocore session made during a test (each in-process ``bluegreen`` command
    makes its own, as a process would) shares one data loader per search path, kept for the
    test process: the service models and endpoints.json are parsed once, not by every
    command. The loader only caches files read from disk, so no answer changes. For every
    test: parsing them again cost about a third of the CLI tests' time."""
    import botocore.loaders
    import botocore.session

    def create_loader(search_path_string: str | None = None) -> object:
        if search_path_string not in _LOADERS:
            _LOADERS[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return _LOADERS[search_path_string]

    monkeypatch.setattr(botocore.session, "create_loader", create_loader)


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-memory AWS for the duration of the test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def sim(bluegreen_sim):  # type: ignore[no-untyped-def]
    """The simulator on a virtual clock (the ``bluegreen_sim`` plugin fixture)."""
    return bluegreen_sim


@pytest.fixture
def env(bluegreen_env):  # type: ignore[no-untyped-def]
    """The sample environment: service ``web`` in cluster ``prod``, canary-free defaults."""
    return bluegreen_env
