"""One public surface, cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import planet_profiles

HEAVY = ("requests", "httpx", "jsonschema", "cryptography", "jwt", "click", "copier", "pydantic", "urllib3")


def test_all_is_sorted_and_resolves() -> None:
    assert planet_profiles.__all__ == sorted(planet_profiles.__all__)
    for name in planet_profiles.__all__:
        assert getattr(planet_profiles, name) is not None, name
    public = {name for name in dir(planet_profiles) if not name.startswith("_")}
    assert public - {"annotations", "importlib", "TYPE_CHECKING", "Any"} == set(planet_profiles.__all__)


def test_every_error_derives_from_one_root() -> None:
    from planet_profiles import _errors

    for name in _errors.__all__:
        obj = getattr(_errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, planet_profiles.ProfileError), name
    # the docstring documents the whole tree
    for name in _errors.__all__:
        if name != "Problem":
            assert name in (_errors.__doc__ or ""), name


def _modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_import_is_light() -> None:
    loaded = _modules_after("import planet_profiles")
    for heavy in HEAVY:
        assert heavy not in loaded, heavy


def test_import_is_light_per_importtime() -> None:
    """The same check with `python -X importtime`, which lists every module the import pulls in."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import planet_profiles, planet_auth_utils"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {
        line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line
    }
    assert "planet_profiles" in imported
    assert not imported & set(HEAVY), imported & set(HEAVY)
