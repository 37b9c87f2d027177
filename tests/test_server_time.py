"""Elapsed times, ETAs and timestamps are the server's, whatever the client's clock says.

The simulator answers with a ``Date`` header on its own clock. The client here has clocks of
its own: a monotonic one, and a wall clock that is hours off (a CI runner's skew). Every
local second it sleeps lets the simulator's clock run ``SPEED`` seconds, as against
``bluegreen sim serve --speed 20``. What the user reads (the JSON events, the live view)
must agree with the simulator's clock, not with the client's.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from deploying import Deployer

import bluegreen.cli._clock
from bluegreen import Deployment
from bluegreen.cli import main
from bluegreen.cli._progress import format_duration, render
from bluegreen.server_time import ServerClock

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
SPEED = 20.0
HOURS = 3600.0


class ClientClock:
    """The client's clocks: ``time()`` is its monotonic clock, ``wall_time()`` its wall
    clock (``skew`` seconds off the simulator's), and sleeping ``s`` seconds lets
    ``speed * s`` seconds pass on the simulator."""

    def __init__(self, sim: Any, *, speed: float = SPEED, skew: float = 0.0) -> None:
        self.sim = sim
        self.speed = speed
        self.local = 500.0
        self.wall_at_start = sim.clock.time() + skew

    def time(self) -> float:
        return self.local

    def wall_time(self) -> float:
        return self.wall_at_start + (self.local - 500.0)

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.local += seconds
        self.sim.clock.advance(seconds * self.speed)


def as_text(renderable: Any) -> str:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(renderable)
    text = console.file.getvalue()
    assert isinstance(text, str)
    return text


def server_time(sim: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(sim.clock.time(), dt.UTC)


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@pytest.mark.parametrize("skew", [-3 * HOURS, 0.0, 2 * HOURS], ids=["behind", "right", "ahead"])
def test_bluegreen_wait_json_measures_elapsed_time_on_the_servers_clock(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], skew: float
) -> None:
    env = sim.create_environment(deployment_config=CANARY)
    client = ClientClock(sim, skew=skew)
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: client)
    deployment_id = Deployer(sim, env).deploy()

    code = main(["wait", "--deployment-id", deployment_id, "--output", "json"])

    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    running = [
        line for line in lines if line.get("status") == "InProgress" and "elapsed_seconds" in line
    ]
    assert len(running) >= 5
    start = parse(lines[-1]["start_time"])
    elapsed = [s["elapsed_seconds"] for s in running]
    # It grows through the deployment (it stayed at 0.0 against a faster server) ...
    assert elapsed == sorted(elapsed)
    assert elapsed[-1] > elapsed[0] > 0
    for line in lines:
        # ... every line is stamped with the server's time, whatever the skew: never
        # before what the deployment itself reports, and nowhere near hours after it ...
        stamp = parse(line["timestamp"])
        reported = [
            parse(line[key])
            for key in ("create_time", "start_time", "complete_time", "start", "end")
            if line.get(key)
        ]
        if reported:
            assert stamp >= max(reported) - dt.timedelta(seconds=1)
            assert stamp - max(reported) < dt.timedelta(hours=1)
    # ... and the elapsed time is that timestamp's distance from the start.
    for line in running:
        since = parse(line["timestamp"]) - start
        assert line["elapsed_seconds"] == pytest.approx(since.total_seconds(), abs=0.01)
    done = lines[-1]
    assert done["type"] == "done"
    assert done["outcome"] == "succeeded"
    took = parse(done["complete_time"]) - parse(done["start_time"])
    assert done["elapsed_seconds"] == pytest.approx(took.total_seconds(), abs=0.01)
    assert took > dt.timedelta(minutes=10)  # 5 min shift + 5 min termination wait


@pytest.mark.parametrize("skew", [-3 * HOURS, 2 * HOURS], ids=["behind", "ahead"])
def test_the_live_view_counts_elapsed_time_and_etas_on_the_servers_clock(
    sim: Any, skew: float
) -> None:
    env = sim.create_environment(deployment_config=CANARY)
    d = Deployer(sim, env)
    client = ClientClock(sim, skew=skew)
    deployment = Deployment.attach(d.deploy(), clients=sim.clients(), clock=client)
    seen: list[tuple[Any, dt.datetime, str]] = []

    def watch(snapshot: Any) -> None:
        now = deployment.server_now()
        # Right after a read the view's "now" is the server's (the Date header has 1 s
        # resolution), whatever the client's wall clock says.
        assert abs((now - server_time(sim)).total_seconds()) <= 1.5
        seen.append((snapshot, now, as_text(render(snapshot, now))))

    deployment.wait("traffic_step", on_progress=watch, min_interval=1, max_interval=5)

    shifting = [(s, now, text) for s, now, text in seen if "next green 100% in ~" in text]
    assert shifting, [text for _, _, text in seen]
    for snapshot, now, text in shifting:
        # 5 minutes of canary, counted on the server's clock: the ETA shown is what is
        # left of them there, not the client's (hours off) guess.
        left = (snapshot.next_transition.due - now).total_seconds()
        assert 0 < left <= 300
        assert f"next green 100% in ~{format_duration(left)}" in text
        elapsed = (now - snapshot.start_time).total_seconds()
        assert f"elapsed {format_duration(elapsed)}" in text
        assert elapsed > 60

    # Between two reads, the server's time is extrapolated at the rate it was seen to run
    # (20 server seconds per client second here).
    assert deployment.server_clock.rate == pytest.approx(SPEED, rel=0.1)
    before = deployment.server_now()
    client.sleep(6)  # 120 s on the server
    after = deployment.server_now()
    assert (after - before).total_seconds() == pytest.approx(6 * SPEED, rel=0.1)
    assert abs((after - server_time(sim)).total_seconds()) <= 0.1 * 6 * SPEED


# -- the estimate itself --------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.local = 0.0

    def __call__(self) -> float:
        return self.local


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def test_without_a_date_header_the_local_wall_clock_stands_in() -> None:
    ticks = Ticks()
    clock = ServerClock(local=ticks, wall=lambda: 1_000_000.0 + ticks.local)

    assert clock.now() == at(1_000_000.0)
    ticks.local = 30
    clock.observe(None, at_least=at(999_000.0))  # an old event changes nothing
    assert clock.now() == at(1_000_030.0)
    clock.observe(None, at_least=at(1_000_100.0))  # an event later than our clock: the
    assert clock.now() == at(1_000_100.0)  # server is at least there
    assert not clock.from_server


def test_date_headers_set_the_time_and_the_rate_and_a_skewed_wall_clock_is_ignored() -> None:
    ticks = Ticks()
    clock = ServerClock(local=ticks, wall=lambda: 5.0 * HOURS + ticks.local)  # hours off

    clock.observe(at(2_000_000.0))
    assert clock.now() == at(2_000_000.0)
    assert clock.rate == 1.0  # until two headers are far enough apart
    ticks.local = 5
    clock.observe(at(2_000_100.0))  # 100 server seconds in 5 of ours
    assert clock.rate == pytest.approx(20.0)
    ticks.local = 6
    assert clock.now() == at(2_000_120.0)
    assert clock.from_server


# -- against `bluegreen sim serve --speed 20`, as the user saw it --------------------------------

BLUEGREEN = (sys.executable, "-m", "bluegreen")
SERVE_SECONDS = 120.0


@pytest.fixture
def served_fast() -> Iterator[dict[str, str]]:
    """``bluegreen sim serve --speed 20`` (simulated time runs 20 times as fast as ours), and
    the environment that points the CLI at it. Blue goes as soon as the termination wait
    ends: the deployment is still in progress for that minute after the traffic shift."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "BLUEGREEN"))}
    server = subprocess.Popen(
        [
            *BLUEGREEN,
            *("sim", "serve", "--port", "0", "--speed", "20", "--termination-wait", "1"),
            *("--blue-cleanup", "0"),  # 30 s (1.5 s of ours) nothing here looks at
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    try:
        url = None
        for line in server.stdout:  # the server prints its URL, then the environment
            if "serving on http://" in line:
                url = line.split()[-1]
            if "Press Ctrl-C" in line:
                break
        assert url is not None, "the server did not start"
        yield {**env, "BLUEGREEN_ENDPOINT_URL": url}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=SERVE_SECONDS)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            server.stdout.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_deploy_against_a_sped_up_server_reports_elapsed_time_on_its_clock(served_fast):
    done = subprocess.run(
        [
            *BLUEGREEN,
            "deploy",
            "--cluster",
            "prod",
            "--service",
            "web",
            "--image",
            "public.ecr.aws/nginx/nginx:1.29",
            "--output",
            "json",
            "--min-interval",
            "0.5",
            "--max-interval",
            "1",
        ],
        capture_output=True,
        text=True,
        env=served_fast,
        timeout=SERVE_SECONDS,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    final = lines[-1]
    assert (final["type"], final["outcome"]) == ("done", "succeeded")
    start = parse(final["start_time"])
    running = [
        line for line in lines if line.get("status") == "InProgress" and "elapsed_seconds" in line
    ]
    elapsed = [line["elapsed_seconds"] for line in running]
    # Not 0.0 until the end: it grows with the server's clock through the deployment.
    assert elapsed == sorted(elapsed)
    assert elapsed[-1] > 60
    assert elapsed[-1] > elapsed[0]
    for line in running:  # (the two are read a moment apart, 20 times faster than ours)
        since = (parse(line["timestamp"]) - start).total_seconds()
        assert line["elapsed_seconds"] == pytest.approx(since, abs=2.0)
    for line in lines:
        reported = [parse(line[k]) for k in ("start", "end", "complete_time") if line.get(k)]
        if reported:  # stamped on the server's clock, not ours 20 times slower
            assert parse(line["timestamp"]) >= max(reported) - dt.timedelta(seconds=1)
    took = (parse(final["complete_time"]) - start).total_seconds()
    assert final["elapsed_seconds"] == pytest.approx(took, abs=0.01)
