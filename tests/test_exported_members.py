"""The public API is exactly what ``bluegreen.__all__`` lists (httpx's test of the same name)."""

import bluegreen


def test_all_is_sorted_and_unique():
    assert list(bluegreen.__all__) == sorted(set(bluegreen.__all__))


def test_every_name_in_all_exists():
    missing = [name for name in bluegreen.__all__ if not hasattr(bluegreen, name)]
    assert missing == []


def test_every_public_name_is_in_all():
    for name in bluegreen.__all__:  # load every lazy name into the module's namespace
        getattr(bluegreen, name)
    public = {
        name
        for name, value in vars(bluegreen).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("bluegreen")
    }
    assert public - set(bluegreen.__all__) == set()


def test_dir_shows_only_the_public_names_at_a_repl():
    """No ``annotations``, ``importlib``, ``TYPE_CHECKING`` or ``_LAZY``: what a person may use."""
    import bluegreen.errors  # a loaded submodule does not show either

    assert dir(bluegreen) == sorted([*bluegreen.__all__, "__version__"])


def test_exported_classes_claim_the_package_as_home_module():
    for name in bluegreen.__all__:
        value = getattr(bluegreen, name)
        module = getattr(value, "__module__", None)
        if module is not None and isinstance(value, type):
            assert module.startswith("bluegreen."), name


def test_import_builds_no_boto3_client_and_no_yaml():
    import subprocess
    import sys

    code = (
        "import sys, bluegreen; "
        "print('yaml' in sys.modules, 'moto' in sys.modules, 'boto3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_import_loads_the_public_names_on_first_use():
    """``import bluegreen`` alone loads no submodule; ``bluegreen.Deployment`` loads its own."""
    import subprocess
    import sys

    code = (
        "import sys, bluegreen; loaded = 'bluegreen.deployment' in sys.modules; "
        "bluegreen.Deployment; print(loaded, 'bluegreen.deployment' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
