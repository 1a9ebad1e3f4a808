"""Profile store: search path, name rules, selection precedence, user config file."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planet_profiles import ProfileNameError, ProfileNotFoundError, _locations


def _profile(root: Path, name: str, filename: str = "auth_client.json", doc: dict | None = None) -> Path:
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    path.write_text(json.dumps(doc or {"client_type": "none"}))
    return path


@pytest.mark.parametrize("name", ["default", "my-profile", "_my_profile_name_", "team.prod", "a1"])
def test_valid_names(name: str) -> None:
    assert _locations.check_profile_name(name) == name


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../x", "a/b", "/abs", ".hidden", "../Upper", "-flag", "a b", "a\\b"]
)
def test_invalid_names_are_typed_errors(name: str) -> None:
    with pytest.raises(ProfileNameError) as info:
        _locations.check_profile_name(name, source="PL_AUTH_PROFILE")
    assert "PL_AUTH_PROFILE" in str(info.value)
    assert "looked up in lower case" in str(info.value)


_NAME_ALPHABET = "abzAZ09_.-/\\ \n\x00\u0130\u212a\u00e9\u0131"  # ASCII edges, separators, and letters
# whose lower case is ASCII or not (`İ`, Kelvin `K` → `k`, `é`, dotless `ı`)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(alphabet=_NAME_ALPHABET, max_size=6) | st.text(max_size=4))
def test_the_name_rule_is_the_documented_regex(name: str) -> None:
    """The rule is checked with character sets (no regex compiled at start-up); it accepts exactly what
    `[a-z0-9_][a-z0-9._-]*` matches in full, after lower-casing."""
    allowed = re.fullmatch(r"[a-z0-9_][a-z0-9._-]*", name.lower()) is not None
    try:
        _locations.check_profile_name(name)
    except ProfileNameError:
        assert not allowed
    else:
        assert allowed


def test_search_path_order_and_origin(
    hermetic_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = tmp_path / "team" / "profiles"
    other = tmp_path / "other"
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", os.pathsep.join([str(team), "", str(other)]))
    _profile(team, "shared")
    _profile(other, "shared", doc={"client_type": "none", "note": "shadowed"})
    _profile(other, "only-other")
    found = _locations.find_profile("shared")
    assert found.root == team and found.origin == "PL_AUTH_PROFILE_PATH"
    # ~/.planet wins over the search path
    _profile(hermetic_env / ".planet", "shared")
    assert _locations.find_profile("shared").origin == "~/.planet"
    names = [(p.name, p.root) for p in _locations.list_profiles()]
    assert names == [("only-other", other), ("shared", hermetic_env / ".planet")]


def test_sops_file_preferred(hermetic_env: Path) -> None:
    root = hermetic_env / ".planet"
    _profile(root, "p")
    enc = _profile(root, "p", "auth_client.sops.json")
    found = _locations.find_profile("p")
    assert found.file == enc and found.encrypted


def test_missing_profile_names_the_places(hermetic_env: Path) -> None:
    with pytest.raises(ProfileNotFoundError) as info:
        _locations.find_profile("nope", source="PL_AUTH_PROFILE")
    message = str(info.value)
    assert str(hermetic_env / ".planet" / "nope") in message
    assert "PL_AUTH_PROFILE" in message and "planet-profiles new" in message


def test_token_path_is_always_under_home(hermetic_env: Path) -> None:
    assert _locations.token_path("x") == hermetic_env / ".planet" / "x" / "token.json"
    assert _locations.token_path("x", encrypted=True).name == "token.sops.json"
    with pytest.raises(ProfileNameError):
        _locations.token_path("../x")
