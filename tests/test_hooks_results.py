"""bluegreen.hooks._results: CheckResult, the JSON log lines and the masking of secrets."""

from __future__ import annotations

import json
import logging

import pytest

from bluegreen.hooks import CheckResult
from bluegreen.hooks._results import ensure_log_level, log, logger, mask_headers, mask_url


def test_mask_headers_masks_secret_looking_names_only():
    assert mask_headers(
        {
            "Authorization": "Bearer x",
            "Proxy-Authorization": "Basic y",
            "Cookie": "a=b",
            "X-Api-Key": "k",
            "X-Auth-Token": "t",
            "X-Client-Secret": "s",
            "Accept": "application/json",
            "Host": "green",
        }
    ) == {
        "Authorization": "***",
        "Proxy-Authorization": "***",
        "Cookie": "***",
        "X-Api-Key": "***",
        "X-Auth-Token": "***",
        "X-Client-Secret": "***",
        "Accept": "application/json",
        "Host": "green",
    }


def test_mask_url_hides_passwords_and_secret_query_parameters():
    assert (
        mask_url("https://alice:hunter2@lb.example.com:8443/p?api_key=k&page=2")
        == "https://alice:***@lb.example.com:8443/p?api_key=%2A%2A%2A&page=2"
    )
    assert mask_url("http://lb:80/health") == "http://lb:80/health"


def test_mask_url_leaves_a_user_without_a_password_and_a_url_it_cannot_split():
    assert mask_url("http://alice@lb/p") == "http://alice@lb/p"
    assert mask_url("http://[::1") == "http://[::1"


def test_a_check_result_is_json_ready_with_its_time_rounded():
    result = CheckResult("http", True, "GET http://lb/", "200 OK", 2.34567, {"n": 1})

    assert result.to_dict() == {
        "name": "http",
        "ok": True,
        "tried": "GET http://lb/",
        "got": "200 OK",
        "elapsed_ms": 2.346,
        "details": {"n": 1},
    }
    json.dumps(result.to_dict())


def test_log_writes_one_json_line_on_the_hooks_logger(caplog):
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")

    log(logging.WARNING, {"event": "x", "when": object, "text": "two\nlines"})

    (record,) = [r for r in caplog.records if r.name == "bluegreen.hooks"]
    assert record.levelno == logging.WARNING
    assert "\n" not in record.getMessage()
    assert json.loads(record.getMessage())["event"] == "x"


@pytest.mark.parametrize(
    ("setting", "level"), [("debug", logging.DEBUG), ("nonsense", logging.INFO)]
)
def test_the_log_level_is_set_once_from_the_environment(monkeypatch, setting, level):
    monkeypatch.setenv("BLUEGREEN_LOG_LEVEL", setting)
    before = logger.level
    logger.setLevel(logging.NOTSET)
    try:
        ensure_log_level()
        assert logger.level == level
        monkeypatch.setenv("BLUEGREEN_LOG_LEVEL", "ERROR")
        ensure_log_level()  # already set: kept
        assert logger.level == level
    finally:
        logger.setLevel(before)
