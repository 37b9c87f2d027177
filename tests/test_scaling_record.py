"""bluegreen.scaling_record: the scaling record and its format in an ECS tag."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bluegreen import RECORD_TAG, ScalableTargetState, ScalingRecord, ValidationError
from bluegreen.scaling_record import OWNER_VARIABLE, default_owner


def test_the_record_round_trips_and_fits_a_tag_even_for_long_names():
    record = ScalingRecord.from_tag("v=2 r=abc d=- o=x t=2026-01-01T00:00:00Z s=in")
    long = ScalingRecord(
        request_id="0" * 32,
        deployment_id="d-ABCDEFGHI",
        owner="o" * 200,
        created_at=record.created_at,
        targets=(
            ScalableTargetState(
                resource_id="service/" + "c" * 100 + "/" + "s" * 100,
                min_capacity=2,
                max_capacity=20,
                dynamic_out_suspended=True,
            ),
        ),
        suspended=("in", "scheduled"),
    )

    text = long.to_tag()
    back = ScalingRecord.from_tag(text, resource_id=long.targets[0].resource_id)

    assert len(text) <= 256
    assert re.fullmatch(r"[A-Za-z0-9 +\-=._:/@]+", text), "only characters ECS allows in tags"
    assert back.targets == long.targets
    assert (back.request_id, back.deployment_id, back.suspended) == (
        long.request_id,
        long.deployment_id,
        long.suspended,
    )


def test_a_tag_bluegreen_did_not_write_is_a_validation_error_naming_the_tag():
    with pytest.raises(ValidationError, match=RECORD_TAG):
        ScalingRecord.from_tag("v=1 r=abc")
    with pytest.raises(ValidationError, match="not a record bluegreen wrote"):
        ScalingRecord.from_tag("just text")


def test_a_target_left_out_to_fit_is_the_tagged_services_own():
    record = ScalingRecord(
        request_id="r1",
        owner="ci",
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        targets=(
            ScalableTargetState(
                resource_id="service/prod/web",
                min_capacity=1,
                max_capacity=4,
                scheduled_suspended=True,
            ),
        ),
        suspended=("in", "out"),
    )
    text = record.to_tag().replace("@service/prod/web", "@")

    back = ScalingRecord.from_tag(text, resource_id="service/prod/web")

    assert back == record
    assert back.targets[0].suspended_state(also=("in",)) == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": True,
    }


def test_the_owner_is_the_environment_variable_else_user_at_host(monkeypatch):
    monkeypatch.setenv(OWNER_VARIABLE, "release-bot")
    assert default_owner() == "release-bot"
    monkeypatch.delenv(OWNER_VARIABLE)
    assert "@" in default_owner()
