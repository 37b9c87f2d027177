"""Threads sharing the virtual clock through ``worker()`` (``bluegreen.testing._clock``):
concurrent sleeps overlap in simulated time instead of adding up, a sleep by any thread
waits for the workers, a worker leaving lets the others go on, a worker blocked outside the
clock is reported, and concurrent deployments on the simulator take one deployment's time.

Nothing here asserts on real time: the threads meet on events, barriers and the clock."""

from __future__ import annotations

import threading
import time

import pytest

import bluegreen
from bluegreen.testing import RealTimeClock, SimTimeoutError, VirtualClock, build_environment

START = 1_000_000.0


def run_threads(*targets, timeout=30):
    """Start one thread per target, join them all, and re-raise the first failure."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(t,), name=f"worker-{i}")
        for i, t in enumerate(targets)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread never finished"
    if errors:
        raise errors[0]


def wait_for(condition, what):
    """Poll real time until ``condition()`` holds (threads reach a point on the clock)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.001)


def test_sleep_without_workers_advances_at_once():
    clock = VirtualClock(START)

    clock.sleep(90)

    assert clock.time() == START + 90


def test_worker_sleeps_overlap_so_total_simulated_time_is_the_longest_not_the_sum():
    clock = VirtualClock(START)
    plans = {"a": [10, 10, 10], "b": [25], "c": [5, 40]}
    woke: dict[str, list[float]] = {name: [] for name in plans}
    fired = []
    clock.call_at(START + 15, lambda: fired.append(clock.time()))
    barrier = threading.Barrier(len(plans))

    def work(name):
        def run():
            with clock.worker():
                barrier.wait(timeout=10)  # all registered before anyone sleeps
                for seconds in plans[name]:
                    clock.sleep(seconds)
                    woke[name].append(clock.time() - START)

        return run

    run_threads(*(work(name) for name in plans))

    assert woke == {"a": [10, 20, 30], "b": [25], "c": [5, 45]}
    assert fired == [START + 15]
    assert clock.time() == START + 45  # not 100, the sum of every sleep


def test_a_sleep_by_an_unregistered_thread_waits_for_the_workers():
    clock = VirtualClock(START)
    registered, release = threading.Event(), threading.Event()
    times: dict[str, float] = {}

    def busy_worker():
        with clock.worker():
            registered.set()
            release.wait(timeout=10)
            times["worker slept from"] = clock.time() - START
            clock.sleep(30)
            times["worker woke"] = clock.time() - START

    def bystander():
        registered.wait(timeout=10)
        clock.sleep(10)
        times["bystander woke"] = clock.time() - START

    def releaser():
        wait_for(lambda: clock.sleeping == 1, "the bystander sleeps")
        times["while the worker is busy"] = clock.time() - START
        release.set()

    run_threads(busy_worker, bystander, releaser)

    assert times == {
        "while the worker is busy": 0,
        "worker slept from": 0,
        "bystander woke": 10,
        "worker woke": 30,
    }


def test_a_worker_leaving_lets_the_sleeping_workers_go_on():
    clock = VirtualClock(START)
    both_in, leave = threading.Barrier(2), threading.Event()
    times: dict[str, float] = {}

    def sleeper():
        with clock.worker():
            both_in.wait(timeout=10)
            clock.sleep(100)
            times["sleeper woke"] = clock.time() - START

    def leaver():
        with clock.worker():
            both_in.wait(timeout=10)
            leave.wait(timeout=10)

    def watcher():
        wait_for(lambda: clock.sleeping == 1, "the sleeper sleeps")
        times["before the other left"] = clock.time() - START
        leave.set()

    run_threads(sleeper, leaver, watcher)

    assert times == {"before the other left": 0, "sleeper woke": 100}


def test_worker_entered_again_in_the_same_thread_counts_until_the_outermost_exit():
    clock = VirtualClock(START)
    inner_left, outer_leave = threading.Event(), threading.Event()
    times: dict[str, float] = {}

    def nested():
        with clock.worker():
            with clock.worker():
                pass
            inner_left.set()
            outer_leave.wait(timeout=10)

    def bystander():
        inner_left.wait(timeout=10)
        clock.sleep(60)
        times["bystander woke"] = clock.time() - START

    def watcher():
        wait_for(lambda: clock.sleeping == 1, "the bystander sleeps")
        times["after the inner exit"] = clock.time() - START
        outer_leave.set()

    run_threads(nested, bystander, watcher)

    assert times == {"after the inner exit": 0, "bystander woke": 60}
    clock.sleep(5)  # no worker left: at once again
    assert clock.time() == START + 65


def test_a_worker_blocked_outside_the_clock_makes_the_sleepers_raise_a_clear_error():
    clock = VirtualClock(START, stall_timeout=0.2)
    both_in, unblock = threading.Barrier(2), threading.Event()
    raised = []

    def sleeper():
        with clock.worker():
            both_in.wait(timeout=10)
            with pytest.raises(SimTimeoutError) as info:
                clock.sleep(10)
            raised.append(str(info.value))
            unblock.set()

    def stuck():
        with clock.worker():
            both_in.wait(timeout=10)
            unblock.wait(timeout=10)

    run_threads(sleeper, stuck)

    (message,) = raised
    assert "worker-1" in message
    assert "blocked outside clock.sleep" in message
    assert clock.time() == START


def test_advance_by_the_test_thread_wakes_the_sleepers_it_passes():
    clock = VirtualClock(START)
    registered, leave = threading.Event(), threading.Event()
    times: dict[str, float] = {}

    def busy_worker():
        with clock.worker():
            registered.set()
            leave.wait(timeout=10)

    def bystander():
        registered.wait(timeout=10)
        clock.sleep(20)
        times["bystander woke"] = clock.time() - START

    def test_thread():
        wait_for(lambda: clock.sleeping == 1, "the bystander sleeps")
        clock.advance(50)
        wait_for(lambda: clock.sleeping == 0, "the bystander wakes")
        leave.set()

    run_threads(busy_worker, bystander, test_thread)

    assert times == {"bystander woke": 50}


def test_real_time_clock_worker_does_nothing():
    clock = RealTimeClock(speed=1000)
    try:
        with clock.worker(), clock.worker():
            clock.sleep(1)
    finally:
        clock.stop()


def test_concurrent_deployments_on_workers_take_about_one_deployments_time(sim):
    services = [f"svc{i}" for i in range(3)]
    for name in services:
        build_environment(
            clients=sim.clients(),
            name=name,
            cluster="prod",
            deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes",
            termination_wait_minutes=1,
            image="registry.example.com/app:1",
        )
    finals = {}
    barrier = threading.Barrier(len(services))

    def release(service):
        def run():
            with sim.clock.worker():
                barrier.wait(timeout=10)
                deployment = bluegreen.deploy(
                    "prod",
                    service,
                    image="registry.example.com/app:2",
                    clients=sim.clients(),
                    clock=sim.clock,
                )
                finals[service] = deployment.wait(timeout=3600)

        return run

    started = sim.clock.time()
    run_threads(*(release(s) for s in services), timeout=120)
    taken = sim.clock.time() - started

    assert {s: str(f.status) for s, f in finals.items()} == dict.fromkeys(services, "Succeeded")
    longest = max((f.complete_time - f.create_time).total_seconds() for f in finals.values())
    assert longest >= 5 * 60  # the canary's bake: each deployment takes minutes
    assert taken < 1.5 * longest  # one after the other would take three times as long
    # Planning takes no simulated time while the others wait (without worker() another
    # thread's sleep moves time under it), and each wait ends when its deployment does.
    assert {f.create_time.timestamp() for f in finals.values()} == {started}
    assert taken - longest < 60
