"""Container image references: ``parse_image_reference`` checks an image against the OCI/Docker
reference grammar (``distribution/reference``) and the limits ECS adds, and names the exact
problem: which character at which position, a repository with capitals, an empty tag, a
malformed digest, a name too long.

The grammar (``distribution/reference``, ``reference.go`` and ``regexp.go``)::

    reference       := name [ ":" tag ] [ "@" digest ]
    name            := [ registry "/" ] path-component [ "/" path-component ]*
    registry        := host [ ":" port ]          host: DNS-like name, IPv4, or [IPv6]
    path-component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag             := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest          := "sha256:" 64 lowercase hex digits

What this module refuses beyond the grammar, because ECS or the Docker daemon would refuse it
later, at the lifecycle event that pulls the image:

- a digest other than ``sha256:`` and 64 lowercase hex digits (the only kind ECS takes);
- a name (registry and repository) over 255 characters, and a tagged reference without a
  digest over 255 characters in all (ECS's limits);
- a first component with capitals but no ``.`` or ``:`` (``MyOrg/app``): Docker would take it
  for a registry host, which is almost never what was meant;
- a first component with a ``.`` or ``:`` that is not a host name (``foo_bar.com/app``):
  Docker takes it for the registry, though the bare grammar could read it as a path.

The registry is the first component when it has a ``.`` or a ``:``, is an ``[IPv6]`` address
or is ``localhost`` (as Docker decides); nothing is normalised, so
``str(parse_image_reference(text)) == text``.
"""

from __future__ import annotations

import re
import unicodedata

import attrs

from bluegreen.errors import ValidationError, escape_text, show_value

__all__ = [
    "NAME_LIMIT",
    "TAG_LIMIT",
    "ImageReference",
    "image_reference_problems",
    "parse_image_reference",
    "show_text",
    "show_value",
]

NAME_LIMIT = 255
"""The most characters of a name (registry and repository), and of a tagged reference
without a digest (ECS)."""

TAG_LIMIT = 128
"""The most characters of a tag."""

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_REGISTRY = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"sha256:[0-9a-f]{64}"

REFERENCE_PATTERN = re.compile(
    rf"(?:{_REGISTRY}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?"
)
"""The whole grammar in one expression (for ``fullmatch``), sha256 digests only."""

_PATH_COMPONENT_RE = re.compile(_PATH_COMPONENT)
_DOMAIN_NAME_RE = re.compile(_DOMAIN_NAME)
_IPV6_RE = re.compile(_IPV6)
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@[]")
_SHOWN = 60
"""Longer input is shown cut, with its length, never whole."""

EXAMPLE = "'registry/repository:tag' (e.g. 'public.ecr.aws/nginx/nginx:1.27')"


@attrs.frozen(kw_only=True)
class ImageReference:
    """A container image reference, as given (nothing normalised).

    Attributes:
        registry: ``host[:port]`` when the reference names one, e.g.
            ``123456789012.dkr.ecr.us-east-1.amazonaws.com`` or ``localhost:5000``.
        repository: the path in the registry, e.g. ``library/nginx`` or ``web``.
        tag: e.g. ``1.25``; None when there is none (Docker then pulls ``latest``).
        digest: ``sha256:<64 hex digits>``, when the image is pinned by digest.
    """

    registry: str | None
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The registry and repository, without tag or digest."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def pinned(self) -> bool:
        """True when a digest names the exact image, so the reference cannot move."""
        return self.digest is not None

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return f"{self.name}{tag}{digest}"


def parse_image_reference(text: object) -> ImageReference:
    """``text`` as an ``ImageReference``.

    Raises:
        ValidationError: ``text`` is not an image reference ECS can pull; every problem is
            named (which character at which position, counting from 1; a repository with
            capitals and its lowercase form; an empty tag; a malformed digest; a name too long).
    """
    reference, problems = _parse(text)
    if problems or reference is None:
        raise ValidationError(problems, subject="image reference")
    return reference


def image_reference_problems(text: object) -> list[str]:
    """Why ``text`` is not an image reference ECS can pull (empty: it is one). Each problem
    starts with the reference, shown escaped and cut when long."""
    return _parse(text)[1]


def show_text(text: str, limit: int = _SHOWN) -> str:
    """``text`` quoted for a message: control and non-ASCII characters escaped, and cut
    (with its length) when longer than ``limit``."""
    if len(text) <= limit:
        return f"'{escape_text(text)}'"
    return f"'{escape_text(text[: limit - 20])}...' ({len(text)} characters)"


# -- the parser ------------------------------------------------------------------------------


def _parse(text: object) -> tuple[ImageReference | None, list[str]]:
    if not isinstance(text, str):
        return None, [
            f"an image is a string such as {EXAMPLE}, not {show_value(text)}",
        ]
    if not text:
        return None, [f"the image is empty: give one such as {EXAMPLE}"]
    shown = show_text(text)
    bad = [i for i, c in enumerate(text) if c not in _ALLOWED]
    if bad:
        return None, [_character_problem(text, shown, bad)]
    name_tag, at, digest = text.partition("@")
    if "@" in digest:
        where = len(name_tag) + 1 + digest.index("@")
        return None, [
            f"{shown} has a second '@' at position {where + 1}: only the digest follows '@'"
        ]
    slash, colon = name_tag.rfind("/"), name_tag.rfind(":")
    name, tag = (name_tag[:colon], name_tag[colon + 1 :]) if colon > slash else (name_tag, None)
    registry, repository = _split_registry(name)
    problems: list[str] = []
    if registry is not None:
        problems += _registry_problems(shown, registry)
    problems += _repository_problems(shown, name, registry, repository)
    if tag is not None:
        problems += _tag_problems(shown, tag)
    if at:
        problems += _digest_problems(shown, digest)
    if len(name) > NAME_LIMIT:
        problems.append(f"{shown}: the name is {len(name)} characters, the limit is {NAME_LIMIT}")
    elif tag is not None and not at and len(text) > NAME_LIMIT:
        problems.append(
            f"{shown} is {len(text)} characters; ECS takes at most {NAME_LIMIT} for an image "
            "with a tag (pin it by digest, or shorten the name or tag)"
        )
    if problems:
        return None, problems
    if not REFERENCE_PATTERN.fullmatch(text):  # the grammar has the last word
        return None, [f"{shown} is not an image reference: give one such as {EXAMPLE}"]
    reference = ImageReference(
        registry=registry, repository=repository, tag=tag, digest=digest if at else None
    )
    return reference, []


def _split_registry(name: str) -> tuple[str | None, str]:
    """The registry (the first component, when it has a '.' or ':' or is localhost) and
    the repository path."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first.startswith("[") or first == "localhost"):
        return first, rest
    return None, name


def _registry_problems(shown: str, registry: str) -> list[str]:
    if registry.startswith("["):
        host, close, port = registry.partition("]")
        host += close
        if not _IPV6_RE.fullmatch(host):
            return [f"{shown}: registry {registry!r} is not a host: an IPv6 address goes in [ ]"]
        port_sep, port = port[:1], port[1:]
        if port_sep not in ("", ":"):
            return [f"{shown}: registry {registry!r}: only ':PORT' may follow ']'"]
    else:
        host, port_sep, port = registry.partition(":")
        if not _DOMAIN_NAME_RE.fullmatch(host):
            return [
                f"{shown}: registry host {host!r} is not a host name: dot-separated labels "
                "of letters, digits and '-', each starting and ending with a letter or digit"
            ]
    if port_sep and not port.isdigit():
        return [f"{shown}: the port of registry {registry!r} must be digits, like ':5000'"]
    return []


def _repository_problems(shown: str, name: str, registry: str | None, repository: str) -> list[str]:
    if not repository:
        return [f"{shown}: no repository after {registry!r}/: give e.g. {registry}/web:1.0"]
    if ":" in repository:
        where = name.index(":", len(name) - len(repository)) + 1
        return [
            f"{shown} has a ':' at position {where} inside the repository: one ':' may "
            "follow the repository, before the tag (a registry port goes before the first '/')"
        ]
    components = repository.split("/")
    if "" in components:
        return [
            f"{shown}: the repository {repository!r} has an empty path component: no '/' at "
            "its start or end, and no '//'"
        ]
    if repository != repository.lower():
        return [
            f"{shown}: repository names must be lowercase: {repository!r} -> {repository.lower()!r}"
        ]
    problems = []
    for component in components:
        if "[" in component or "]" in component:
            problems.append(f"{shown}: '[' and ']' only enclose an IPv6 registry address")
        elif not _PATH_COMPONENT_RE.fullmatch(component):
            problems.append(
                f"{shown}: path component {component!r} must start and end with a lowercase "
                "letter or digit, with a single '.', one or two '_', or dashes in between"
            )
    return problems


def _tag_problems(shown: str, tag: str) -> list[str]:
    if not tag:
        return [f"{shown}: empty tag after ':': give a tag such as ':1.25', or leave out the ':'"]
    if len(tag) > TAG_LIMIT:
        return [f"{shown}: the tag is {len(tag)} characters, the limit is {TAG_LIMIT}"]
    if _TAG_RE.fullmatch(tag):
        return []
    if not _TAG_RE.fullmatch(tag[0]):
        return [f"{shown}: tag {tag!r} must start with a letter, a digit or '_'"]
    return [f"{shown}: tag {tag!r} may hold letters, digits, '_', '.' and '-' only"]


def _digest_problems(shown: str, digest: str) -> list[str]:
    if not digest:
        return [
            f"{shown}: empty digest after '@': give sha256:<64 hex digits>, or leave out the '@'"
        ]
    if _DIGEST_RE.fullmatch(digest):
        return []
    algorithm, colon, value = digest.partition(":")
    if not colon:
        got = f"{digest[:20]!r} has no ':' after the algorithm"
    elif algorithm != "sha256":
        got = f"the algorithm is {algorithm[:20]!r}, and ECS takes only sha256"
    elif len(value) != 64:
        got = f"it has {len(value)} characters after 'sha256:', not 64"
    elif re.fullmatch(r"[0-9a-fA-F]{64}", value):
        got = f"its hex digits must be lowercase: 'sha256:{value.lower()}'"
    else:
        bad = next(c for c in value if c not in "0123456789abcdefABCDEF")
        got = f"{bad!r} is not a hex digit"
    return [f"{shown}: digest must be sha256:<64 lowercase hex digits>; {got}"]


# -- showing what is wrong -----------------------------------------------------------------


def _character_problem(text: str, shown: str, bad: list[int]) -> str:
    first = bad[0]
    char = text[first]
    before = text[max(0, first - 12) : first]
    after = f" (after {show_text(before)})" if before else " (the first character)"
    more = f", and {len(bad) - 1} more such" if len(bad) > 1 else ""
    if char.isspace() or unicodedata.category(char).startswith("C"):
        why = "an image reference holds no whitespace or control characters"
    else:
        why = "an image reference holds only ASCII letters, digits and . _ - / : @"
    return f"{shown} has {_describe(char)} at position {first + 1}{after}{more}: {why}"


_NAMED = {
    " ": "a space",
    "\n": "a newline (\\n)",
    "\t": "a tab (\\t)",
    "\r": "a carriage return (\\r)",
}


def _describe(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = f"U+{ord(char):04X}"
    if char.isspace() or unicodedata.category(char).startswith("C"):
        return f"the control character {code}"
    return f"'{char}' ({code})" if ord(char) > 127 else f"'{char}'"
