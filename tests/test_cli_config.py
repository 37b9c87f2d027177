"""The CLI when this machine's AWS set-up cannot work or the network fails: one clear line on
stderr, never a traceback, and the documented exit code (2 for configuration, 4 when AWS could
not be reached, 5 for a bug in bluegreen); exit 1 stays "the deployment failed"."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluegreen.cli import main

SERVICE = ["--cluster", "prod", "--service", "web"]


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The single stderr line the CLI printed (and nothing on stdout)."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


class InstantClock:
    """A clock whose pauses take no real time: the retries of a reset happen at once."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.fixture(autouse=True)
def instant_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries of a refused or reset connection pause on a clock that takes no real time."""
    clock = InstantClock()
    monkeypatch.setattr("bluegreen.cli._clock._clock_factory", lambda: clock)


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


def test_no_region_is_a_configuration_problem_with_cli_advice(no_region, capsys):
    assert main(["status", *SERVICE]) == 2

    line = one_line(capsys)
    assert (
        line
        == "bluegreen: no AWS region is set: give --region, or set AWS_REGION or AWS_DEFAULT_REGION"
    )


def test_aws_region_alone_is_enough_as_for_the_aws_cli(no_region, monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    # No region problem: the call goes out and fails on the closed port instead.
    assert main(["status", *SERVICE, "--endpoint-url", f"http://127.0.0.1:{closed_port()}"]) == 4
    assert "Could not connect" in one_line(capsys)


@pytest.mark.parametrize(
    "url",
    ["notaurl", "ftp://127.0.0.1:5055", "http://", "http://127.0.0.1:99999", "127.0.0.1:5055"],
)
def test_an_invalid_endpoint_url_is_refused_before_any_call(url, capsys):
    assert main(["status", *SERVICE, "--endpoint-url", url]) == 2

    line = one_line(capsys)
    assert f"the endpoint URL {url!r} is not an http(s) URL" in line
    assert "--endpoint-url http://HOST:PORT" in line


def test_an_invalid_endpoint_url_in_the_environment_is_refused_too(monkeypatch, capsys):
    monkeypatch.setenv("BLUEGREEN_ENDPOINT_URL", "localhost")

    assert main(["status", *SERVICE]) == 2
    assert "'localhost' is not an http(s) URL" in one_line(capsys)


def test_missing_credentials_are_a_configuration_problem(monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    code = main(["status", *SERVICE, "--endpoint-url", f"http://127.0.0.1:{closed_port()}"])

    assert code == 2
    line = one_line(capsys)
    assert line.startswith("bluegreen: no AWS credentials found: give --profile")
    assert "session=" not in line  # Python advice stays in the Python API


def test_an_unknown_profile_is_a_configuration_problem(capsys):
    assert main(["status", *SERVICE, "--profile", "nope"]) == 2

    line = one_line(capsys)
    assert "The config profile (nope) could not be found" in line
    assert "give --profile with a profile in ~/.aws/config" in line


def test_an_invalid_region_name_is_a_configuration_problem(capsys):
    assert main(["status", *SERVICE, "--region", "us east 1"]) == 2

    assert "give --region with a region name such as us-east-1" in one_line(capsys)


def test_nothing_listening_at_the_endpoint_is_an_aws_error_not_a_failed_deployment(capsys):
    url = f"http://127.0.0.1:{closed_port()}"

    assert main(["status", *SERVICE, "--endpoint-url", url]) == 4

    line = one_line(capsys)
    assert f'Could not connect to the endpoint URL: "{url}/"' in line
    assert "check the endpoint URL, the region and the network" in line


def test_a_network_that_resets_every_connection_is_one_line_and_exit_4(capsys):
    with resetting_server() as url:
        code = main(["status", *SERVICE, "--endpoint-url", url])

    assert code == 4
    assert "the network failed" in one_line(capsys)


def test_a_bug_inside_bluegreen_is_one_line_and_exit_5(monkeypatch, capsys):
    def broken(args: object) -> int:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr("bluegreen.cli.schedule.run", broken)

    assert main(["schedule", "CodeDeployDefault.ECSAllAtOnce"]) == 5
    line = one_line(capsys)
    assert "unexpected error (RuntimeError: something nobody expected)" in line
    assert "BLUEGREEN_DEBUG=1" in line


def test_bluegreen_debug_shows_the_traceback_of_a_bug(monkeypatch):
    def broken(args: object) -> int:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr("bluegreen.cli.schedule.run", broken)
    monkeypatch.setenv("BLUEGREEN_DEBUG", "1")

    with pytest.raises(RuntimeError, match="something nobody expected"):
        main(["schedule", "CodeDeployDefault.ECSAllAtOnce"])


def test_the_installed_command_prints_no_traceback_without_a_region(tmp_path: Path):
    """The real entry point in a real process, as a CI job runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    out = subprocess.run(
        [sys.executable, "-m", "bluegreen", "wait", "--deployment-id", "d-ABCDEFGHI"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        "bluegreen: no AWS region is set: give --region, or set AWS_REGION or AWS_DEFAULT_REGION"
    ]


# -- helpers ------------------------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def resetting_server() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts each connection, reads, then resets it (RST): a
    network interrupted under the request."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                connection.recv(65536)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
