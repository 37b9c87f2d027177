"""bluegreen.image_reference: images checked against the OCI/Docker reference grammar
(distribution/reference) and ECS's limits, each problem named; and ``deploy``/``bluegreen
deploy`` refusing a bad image before any AWS call."""

from __future__ import annotations

import pytest
from deploying import run_cli, run_deploy, run_plan
from hypothesis import given, settings
from hypothesis import strategies as st

from bluegreen import ValidationError
from bluegreen.image_reference import (
    REFERENCE_PATTERN,
    ImageReference,
    image_reference_problems,
    parse_image_reference,
)

HEX = "0123456789abcdef" * 4
DIGEST = f"sha256:{HEX}"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


# -- what is accepted, and how it splits ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("docker.io/library/nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        (f"localhost:5000/a/b@{DIGEST}", "localhost:5000", "a/b", None, DIGEST),
        (f"{ECR}/web:v1.2.3", ECR, "web", "v1.2.3", None),
        ("ghcr.io/org/app:sha-abc", "ghcr.io", "org/app", "sha-abc", None),
        (f"ghcr.io/org/app:1.0@{DIGEST}", "ghcr.io", "org/app", "1.0", DIGEST),
        ("nginx", None, "nginx", None, None),
        # from distribution/reference's own table (reference_test.go)
        ("test_com", None, "test_com", None, None),
        ("test.com:5000", None, "test.com", "5000", None),
        ("test:5000/repo:tag", "test:5000", "repo", "tag", None),
        ("lowercase:Uppercase", None, "lowercase", "Uppercase", None),
        (
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            "sub-dom1.foo.com",
            "bar/baz/quux",
            "some-long-tag",
            None,
        ),
        (
            "b.gcr.io/test.example.com/my-app:test.example.com",
            "b.gcr.io",
            "test.example.com/my-app",
            "test.example.com",
            None,
        ),
        ("foo/foo_bar.com:8080", None, "foo/foo_bar.com", "8080", None),
        ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None),
        ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", None),
        ("a__b/c---d/e.f:_", None, "a__b/c---d/e.f", "_", None),
    ],
)
def test_valid_references_split_into_registry_repository_tag_and_digest(
    text, registry, repository, tag, digest
):
    reference = parse_image_reference(text)

    assert reference == ImageReference(
        registry=registry, repository=repository, tag=tag, digest=digest
    )
    assert str(reference) == text
    assert reference.pinned is (digest is not None)


# -- what is refused, and how it is said ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nginx 1.25", "'nginx 1.25' has a space at position 6 (after 'nginx')"),
        ("MyApp:1", "repository names must be lowercase: 'MyApp' -> 'myapp'"),
        ("ghcr.io/Org/App:1", "repository names must be lowercase: 'Org/App' -> 'org/app'"),
        ("nginx:", "empty tag after ':'"),
        (
            "nginx@sha256:abc",
            "digest must be sha256:<64 lowercase hex digits>; it has 3 characters",
        ),
        (f"nginx@sha512:{HEX}{HEX}", "the algorithm is 'sha512', and ECS takes only sha256"),
        (f"nginx@sha256:{HEX.upper()}", f"its hex digits must be lowercase: '{DIGEST}'"),
        ("nginx@", "empty digest after '@'"),
        ("a/" + "b" * 298, "the name is 300 characters, the limit is 255"),
        ("nginx\n:1.25", "'nginx\\n:1.25' has a newline (\\n) at position 6"),
        ("nginx:1.25\x00", "the control character U+0000 at position 11"),
        ("nginx\t", "a tab (\\t) at position 6"),
        ("caf\u00e9:1", "'\u00e9' (U+00E9) at position 4"),
        ("nginx:-dev", "tag '-dev' must start with a letter, a digit or '_'"),
        ("nginx:" + "t" * 129, "the tag is 129 characters, the limit is 128"),
        ("nginx:1:2", "has a ':' at position 6 inside the repository"),
        ("a//b", "empty path component"),
        ("-app:1", "path component '-app' must start and end with a lowercase letter or digit"),
        ("registry.example.com:http/app", "the port of registry 'registry.example.com:http'"),
        ("my_registry.com/app", "registry host 'my_registry.com' is not a host name"),
        ("ghcr.io/app@x@y", "a second '@' at position 14"),
        ("aa/asdf$$^/aa", "'$' at position 8 (after 'aa/asdf'), and 2 more such"),
        (f"{ECR}/{'w' * 190}:{'t' * 20}", "ECS takes at most 255 for an image with a tag"),
        ("", "the image is empty"),
        (123, "not int 123"),
        (None, "not NoneType None"),
    ],
)
def test_an_invalid_reference_is_refused_naming_the_exact_problem(text, problem):
    with pytest.raises(ValidationError) as caught:
        parse_image_reference(text)

    assert isinstance(caught.value, ValueError)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert "\n" not in str(caught.value)  # control characters are shown escaped


def test_huge_input_is_never_echoed_whole():
    text = "x" * 100_000 + " "

    problems = image_reference_problems(text)

    assert "has a space at position 100001" in problems[0]
    assert "(100001 characters)" in problems[0]
    assert len(problems[0]) < 300


def test_independent_problems_are_all_listed():
    problems = image_reference_problems("Registry.example.com/My_App:")

    assert len(problems) == 2
    assert "must be lowercase" in problems[0]
    assert "empty tag" in problems[1]


# -- properties ---------------------------------------------------------------------------------

REFERENCE_CHARACTERS = st.text(
    alphabet=st.sampled_from("abcAB09._-/:@[] \n"), max_size=40
) | st.text(max_size=20)


@settings(max_examples=100, deadline=None)
@given(REFERENCE_CHARACTERS)
def test_whatever_is_accepted_renders_back_identically_and_is_clean(text):
    problems = image_reference_problems(text)
    if problems:
        return  # refused, and says why
    reference = parse_image_reference(text)
    assert str(reference) == text
    assert REFERENCE_PATTERN.fullmatch(text)
    assert not any(c.isspace() for c in text)
    assert reference.repository == reference.repository.lower()
    assert parse_image_reference(str(reference)) == reference


@st.composite
def references(draw: st.DrawFn) -> ImageReference:
    """References built from the grammar's parts (a registry, path components joined by the
    allowed separators, a tag, a digest)."""
    alnum = st.text("abz019", min_size=1, max_size=4)

    def component(separators: list[str]) -> str:
        parts = draw(st.lists(alnum, min_size=1, max_size=3))
        seps = [draw(st.sampled_from(separators)) for _ in parts[1:]]
        return parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))

    registry = draw(
        st.none()
        | st.sampled_from(["localhost", "ghcr.io", "My-Registry.example", "[::1]", "10.0.0.1"])
    )
    if registry is not None and draw(st.booleans()):
        registry += f":{draw(st.integers(1, 65535))}"
    separators = [".", "_", "__", "-", "---"]
    # Without a registry, a first component with a '.' would be read as one (as Docker does).
    first = component(separators if registry else separators[1:])
    rest = [component(separators) for _ in range(draw(st.integers(0, 2)))]
    repository = "/".join([first, *rest])
    tag = draw(st.none() | st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}", fullmatch=True))
    digest = draw(st.none() | st.text("0123456789abcdef", min_size=64, max_size=64))
    return ImageReference(
        registry=registry,
        repository=repository,
        tag=tag,
        digest=None if digest is None else f"sha256:{digest}",
    )


@settings(max_examples=50, deadline=None)
@given(references())
def test_every_reference_the_grammar_builds_parses_back_to_its_parts(reference):
    text = str(reference)

    assert REFERENCE_PATTERN.fullmatch(text)
    assert parse_image_reference(text) == reference


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Uppercase/lowercase:tag", "must be lowercase"),  # Docker would take it for a host
        ("foo_bar.com/app", "is not a host name"),  # Docker takes it for a host: refused
        ("example.com/" + "a" * 255 + ":tag", "the name is 267 characters, the limit is 255"),
    ],
)
def test_the_grammar_is_refused_only_where_docker_or_ecs_would_refuse_it(text, problem):
    """The documented differences from the bare grammar (distribution/reference accepts these
    three), each a reference Docker or ECS would not pull."""
    assert any(problem in p for p in image_reference_problems(text))


# -- deploy and the command line refuse a bad image before any call -----------------------------

SEEN = ["nginx 1.25", "MyApp:1", "nginx:", "nginx@sha256:abc", "a/" + "b" * 298, "nginx\n:1"]


def test_deploy_and_plan_with_a_bad_image_make_no_call_at_all(sim):
    clients = sim.clients()

    for image in SEEN:
        with pytest.raises(ValidationError):
            run_deploy(sim, image=image, clients=clients)
        with pytest.raises(ValidationError):
            run_plan(sim, image=image, clients=clients)
        with pytest.raises(ValidationError):
            run_deploy(sim, image={"web": image}, clients=clients)

    assert list(sim.api_calls()) == []  # no revision, no deployment, no scaling record


def test_several_containers_with_bad_images_are_listed_in_one_error(sim):
    with pytest.raises(ValidationError) as caught:
        run_deploy(sim, image={"web": "Web:1", "sidecar": "envoy:", "log": "fluent-bit:3.0"})

    assert caught.value.problems == (
        "image of container 'web': 'Web:1': repository names must be lowercase: 'Web' -> 'web'",
        "image of container 'sidecar': 'envoy:': empty tag after ':': give a tag such as "
        "':1.25', or leave out the ':'",
    )


def test_the_command_line_exits_2_with_one_line_and_makes_no_call(sim, capsys):
    for image in SEEN:
        code, out, err = run_cli(
            capsys, "deploy", "--cluster", "prod", "--service", "web", "--image", image
        )

        assert code == 2
        assert out == ""
        assert len(err.splitlines()) == 1, err
        assert err.startswith("bluegreen: command line is invalid: --image '")
    assert list(sim.api_calls()) == []
