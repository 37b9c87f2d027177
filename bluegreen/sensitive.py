"""What in a task definition is sensitive, and the masking that keeps it out of output.

Sensitive, wherever it sits in a task definition (or in a diff of two):

- an environment variable's value (``environment[].value``) and an environment file's S3
  ARN (``environmentFiles[].value``): the names of the variables are shown;
- everything under ``secrets`` and ``logConfiguration.secretOptions`` but the name: the
  ``valueFrom`` ARN says where the secret lives, and the rule is that nothing of a secret is
  shown;
- every ``credentialsParameter`` (``repositoryCredentials``, an FSx volume's
  ``authorizationConfig``): the ARN of a secret;
- an entry of ``dockerLabels``, ``logConfiguration.options``, ``firelensConfiguration.options``
  and a docker volume's ``driverOpts`` and ``labels``, and the value of a tag, whose key looks
  secret (``SECRET_LOOKING_KEY``: password, token, key, auth, cert, dsn... anywhere in the
  key, any case; the pattern errs on the side of hiding).

Left as they are: images, commands, ports, roles, ``proxyConfiguration.properties`` (App Mesh
ports and user ids) and the rest: they describe the container, they do not unlock anything.
A command line that carries a password is not recognised.

A masked value reads ``(sensitive value)``; a diff says only that such a value was added,
removed or changed (Terraform's convention). Showing the values is always an explicit
opt-in (``show_values=True``, ``--show-values``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = [
    "MASK",
    "SECRET_LOOKING_KEY",
    "Entry",
    "contains_sensitive",
    "entry",
    "is_sensitive",
    "masked",
]

MASK = "(sensitive value)"
"""What a masked value reads."""

SECRET_LOOKING_KEY = re.compile(
    r"pass|pwd|secret|token|key|credential|auth|private|cert|dsn|conn(ection)?[-_.]?str"
    r"|session|cookie|signature|salt",
    re.IGNORECASE,
)
"""A label, option or tag key whose value is hidden: matched anywhere in the key."""

_MASKED_FIELDS = {("environment", "value"), ("environmentFiles", "value")}
_SECRET_LISTS = {"secrets", "secretOptions"}
_KEYED_MAPS = {"dockerLabels", "options", "driverOpts", "labels"}


@attrs.frozen
class Entry:
    """A list element on a path: its ``name`` (``key`` for tags), or its index."""

    name: str | int


Path = Sequence[str | Entry]
"""Where a value sits: the keys of the mappings and the entries of the lists above it."""


def is_sensitive(path: Path) -> bool:
    """True when the value at ``path`` must not be shown."""
    fields = [s for s in path if isinstance(s, str)]
    if not fields:
        return False
    last = fields[-1]
    parent = fields[-2] if len(fields) > 1 else None
    if (parent, last) in _MASKED_FIELDS or last == "credentialsParameter":
        return True
    if parent in _SECRET_LISTS and last != "name":
        return True
    if parent in _KEYED_MAPS and SECRET_LOOKING_KEY.search(last):
        return True
    return (
        len(path) >= 3
        and path[-1] == "value"
        and path[-3] == "tags"
        and isinstance(path[-2], Entry)
        and bool(SECRET_LOOKING_KEY.search(str(path[-2].name)))
    )


def entry(item: Any, index: int) -> Entry:
    """The path segment of a list element: its name or key when it has one."""
    if isinstance(item, Mapping):
        for key in ("name", "key"):
            if isinstance(item.get(key), str):
                return Entry(item[key])
    return Entry(index)


def masked(value: Any, path: Path = ()) -> Any:
    """A copy of ``value`` (found at ``path``) with every sensitive value replaced by
    ``MASK``; the rest, the names of variables and secrets included, is kept."""
    if is_sensitive(path):
        return MASK
    if isinstance(value, Mapping):
        return {k: masked(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, (*path, entry(v, i))) for i, v in enumerate(value)]
    return value


def contains_sensitive(value: Any, path: Path = ()) -> bool:
    """True when ``value`` (found at ``path``) is or holds a sensitive value."""
    if is_sensitive(path):
        return True
    if isinstance(value, Mapping):
        return any(contains_sensitive(v, (*path, str(k))) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_sensitive(v, (*path, entry(v, i))) for i, v in enumerate(value))
    return False
