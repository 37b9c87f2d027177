"""bluegreen.sensitive: which values of a task definition are hidden, and the masking."""

from __future__ import annotations

import copy

import pytest

from bluegreen.sensitive import MASK, Entry, contains_sensitive, is_sensitive, masked

WEB = ("containerDefinitions", Entry("web"))


@pytest.mark.parametrize(
    ("path", "hidden"),
    [
        ((*WEB, "environment", Entry("DB_PASSWORD"), "value"), True),
        ((*WEB, "environment", Entry(0), "value"), True),  # a list without names
        ((*WEB, "environment", Entry(0), "name"), False),
        ((*WEB, "environmentFiles", Entry(0), "value"), True),
        ((*WEB, "environmentFiles", Entry(0), "type"), False),
        ((*WEB, "secrets", Entry("DB"), "valueFrom"), True),
        ((*WEB, "secrets", Entry(0), "name"), False),
        ((*WEB, "logConfiguration", "secretOptions", Entry("KEY"), "valueFrom"), True),
        ((*WEB, "repositoryCredentials", "credentialsParameter"), True),
        (
            (
                "volumes",
                Entry("share"),
                "fsxWindowsFileServerVolumeConfiguration",
                "authorizationConfig",
                "credentialsParameter",
            ),
            True,
        ),
        ((*WEB, "dockerLabels", "com.example.API_TOKEN"), True),
        ((*WEB, "dockerLabels", "db.Password"), True),
        ((*WEB, "dockerLabels", "sentry-dsn"), True),
        ((*WEB, "dockerLabels", "team"), False),
        ((*WEB, "logConfiguration", "options", "apikey"), True),
        ((*WEB, "logConfiguration", "options", "awslogs-group"), False),
        ((*WEB, "firelensConfiguration", "options", "Authorization"), True),
        (("volumes", Entry("v"), "dockerVolumeConfiguration", "driverOpts", "password"), True),
        (("tags", Entry("db-password"), "value"), True),
        (("tags", Entry("team"), "value"), False),
        (("proxyConfiguration", "properties", Entry("IgnoredUID"), "value"), False),
        ((*WEB, "image"), False),
        ((*WEB, "command", Entry(0)), False),
        (("executionRoleArn",), False),
        ((), False),
    ],
)
def test_environment_values_secrets_and_secret_looking_keys_are_hidden(path, hidden):
    assert is_sensitive(path) is hidden


def test_masked_keeps_names_and_the_rest_and_leaves_the_original_alone():
    task_definition = {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}],
                "secrets": [{"name": "API_KEY", "valueFrom": "arn:aws:ssm:::parameter/k"}],
                "dockerLabels": {"auth-token": "t0k3n", "team": "payments"},
            }
        ],
        "tags": [{"key": "password", "value": "p"}, {"key": "team", "value": "payments"}],
    }
    before = copy.deepcopy(task_definition)

    hidden = masked(task_definition)

    assert task_definition == before
    assert hidden == {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "environment": [{"name": "DB_PASSWORD", "value": MASK}],
                "secrets": [{"name": "API_KEY", "valueFrom": MASK}],
                "dockerLabels": {"auth-token": MASK, "team": "payments"},
            }
        ],
        "tags": [{"key": "password", "value": MASK}, {"key": "team", "value": "payments"}],
    }
    assert contains_sensitive(task_definition)
    assert not contains_sensitive({"family": "web", "containerDefinitions": [{"name": "web"}]})
