"""bluegreen.hooks._event: reading the ids from what CodeDeploy (or a mistake) sent, and the
HookEvent view of it."""

from __future__ import annotations

import json
import math

import pytest

from bluegreen import Clients
from bluegreen.hooks import HookEvent
from bluegreen.hooks._event import Parsed, parse

IDS = {"DeploymentId": "d-ABCDEFGHI", "LifecycleEventHookExecutionId": "exec-1"}


def test_codedeploys_event_has_both_ids_and_no_problems():
    assert parse(IDS) == Parsed("d-ABCDEFGHI", "exec-1", ())


def test_ids_are_stripped():
    assert parse({"DeploymentId": " d-X ", "LifecycleEventHookExecutionId": "e "}) == Parsed(
        "d-X", "e", ()
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {},
            Parsed(
                None, None, ("DeploymentId is missing", "LifecycleEventHookExecutionId is missing")
            ),
        ),
        (
            {"deployment_id": "d-X", "LifecycleEventHookExecutionId": "e"},
            Parsed("d-X", "e", ("DeploymentId is spelled deployment_id",)),
        ),
        (
            {"DeploymentId": 7, "LifecycleEventHookExecutionId": "e"},
            Parsed("7", "e", ("DeploymentId is a int, not a string",)),
        ),
        (
            {"DeploymentId": True, "LifecycleEventHookExecutionId": "e"},
            Parsed(None, "e", ("DeploymentId is a bool, not a string",)),
        ),
        ("not json", Parsed(None, None, ("the event is a str, not an object",))),
        (None, Parsed(None, None, ("the event is a NoneType, not an object",))),
        (
            json.dumps(IDS),
            Parsed("d-ABCDEFGHI", "exec-1", ("the event is a JSON string, not an object",)),
        ),
        (
            json.dumps(IDS).encode(),
            Parsed("d-ABCDEFGHI", "exec-1", ("the event is a JSON string, not an object",)),
        ),
    ],
)
def test_what_is_wrong_with_an_event_is_said(raw, expected):
    assert parse(raw) == expected


def test_remaining_seconds_counts_down_from_the_time_at_entry():
    event = HookEvent("d-X", "e", IDS, remaining_at_entry=30.0, entered=0.0)

    assert event.remaining_seconds() < 30.0 - 1.0  # the monotonic clock is well past 0
    assert HookEvent("d-X", "e", IDS).remaining_seconds() == math.inf


def test_given_clients_are_kept(monkeypatch):
    clients = Clients()

    assert HookEvent("d-X", "e", IDS, clients=clients).clients is clients


@pytest.mark.parametrize(
    ("variable", "attribute"),
    [("BLUEGREEN_TEST_URL", "test_url"), ("BLUEGREEN_PRODUCTION_URL", "production_url")],
)
def test_a_url_set_in_the_environment_needs_no_aws(monkeypatch, variable, attribute):
    monkeypatch.setenv(variable, "http://127.0.0.1:8000/")
    event = HookEvent("d-X", "e", IDS, clients=Clients(endpoint_url="http://127.0.0.1:9"))

    assert getattr(event, attribute) == "http://127.0.0.1:8000"
