"""One public surface, cheap to import."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import typing
from pathlib import Path

import planet_profiles

HEAVY = ("requests", "httpx", "jsonschema", "cryptography", "jwt", "click", "copier", "pydantic", "urllib3")


def test_all_is_sorted_and_resolves() -> None:
    assert planet_profiles.__all__ == sorted(planet_profiles.__all__)
    for name in planet_profiles.__all__:
        assert getattr(planet_profiles, name) is not None, name
    # every lazily exported name is in `__all__` and back (`dir()`: test_dir_lists_the_api_only)
    assert set(planet_profiles._WHERE) == set(planet_profiles.__all__)


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


def test_public_classes_report_their_public_name() -> None:
    """Issue 14 point 14: tracebacks, reprs and pickles say `planet_profiles.ProfileNotFoundError`, not the
    private module (`planet_profiles._errors`) that defines it."""
    classes = [getattr(planet_profiles, n) for n in planet_profiles.__all__]
    classes = [c for c in classes if isinstance(c, type)]
    assert len(classes) > 30
    for cls in classes:
        assert cls.__module__ == "planet_profiles", cls
        assert getattr(planet_profiles, cls.__qualname__) is cls
        typing.get_type_hints(cls)  # resolved in the defining module, not in `planet_profiles`
    error = planet_profiles.ProfileNotFoundError("not found", file="f.json", key="k", hint="Fix")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is planet_profiles.ProfileNotFoundError and str(again) == str(error)
    assert (again.message, again.file, again.key, again.hint) == ("not found", "f.json", "k", "Fix")
    problem = planet_profiles.Problem("f.json", "/a", "bad")
    assert pickle.loads(pickle.dumps(problem)) == problem and repr(problem).startswith("Problem(file=")
    token = planet_profiles.Token({"access_token": "at-secret", "expires_in": 60})
    assert pickle.loads(pickle.dumps(token)).access_token == "at-secret" and "at-secret" not in repr(token)
    location = planet_profiles.ProfileLocation("x", Path("/p/x/auth_client.json"), Path("/p"), "~/.planet")
    assert pickle.loads(pickle.dumps(location)) == location
    shown = subprocess.run(
        [sys.executable, "-c", "import planet_profiles; planet_profiles.find_profile('nope')"],
        capture_output=True,
        text=True,
        check=False,
    ).stderr.splitlines()[-1]
    assert shown.startswith("planet_profiles.ProfileNotFoundError: ") and "profile `nope` not found" in shown


def test_dir_lists_the_api_only() -> None:
    """`dir()` of `planet_profiles` and of the `planet_auth_utils` facade: the API and dunders, no helper
    imports (`Any`, `Mapping`, `annotations`, `importlib`)."""
    public = [name for name in dir(planet_profiles) if not name.startswith("__")]
    assert public == planet_profiles.__all__
    code = "import json, planet_auth_utils as m; print(json.dumps(dir(m)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert [name for name in json.loads(out) if not name.startswith("__")] == ["Auth", "PlanetAuthFactory"]
    from planet_profiles import _facade

    assert [name for name in dir(_facade) if not name.startswith("__")] == ["Auth", "PlanetAuthFactory"]
