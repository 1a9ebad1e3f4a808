"""Bad input through the loader: a typed error that names file and key and says how to fix it; nothing
on disk changes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import planet_auth_utils
import planet_profiles
from planet_profiles import ConfigError, ProfileError, ProfileNameError, ProfileNotFoundError

GOOD = {
    "client_type": "oidc_auth_code",
    "auth_server": "https://login.example.com",
    "client_id": "abc",
    "local_redirect_uri": "http://127.0.0.1:8080",
}


def _write(home: Path, name: str, content: str | bytes) -> Path:
    path = home / ".planet" / name / "auth_client.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    path.chmod(0o600)
    return path


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()
    }


CASES = {
    "unknown client_type": ({**GOOD, "client_type": "oidc_authcode"}, "client_type", "oidc_auth_code_secret"),
    "missing client_id": ({k: v for k, v in GOOD.items() if k != "client_id"}, "client_id", "missing"),
    "scopes as a string": ({**GOOD, "scopes": "openid profile"}, "scopes", "list of strings"),
    "unknown key": ({**GOOD, "scope": ["openid"]}, "scope", "did you mean `scopes`"),
    "invalid JSON": ('{"client_type": "none",}', None, "invalid JSON at line 1"),
    "empty file": ("", None, "empty"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_profile_files(case: str, hermetic_env: Path) -> None:
    doc, key, fragment = CASES[case]
    path = _write(hermetic_env, "broken", doc if isinstance(doc, str) else json.dumps(doc))
    before = _digest(hermetic_env)
    with pytest.raises(ConfigError) as info:
        planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(auth_profile_opt="broken")
    err = info.value
    message = str(err)
    assert str(path) in message, message
    assert fragment in message, message
    if key:
        assert err.key == key and f"{key}: " in message
    assert err.problems and all(p.file == str(path) for p in err.problems)
    assert _digest(hermetic_env) == before


def test_unknown_client_type_lists_valid_ones(hermetic_env: Path) -> None:
    _write(hermetic_env, "p", json.dumps({"client_type": "magic"}))
    with pytest.raises(ConfigError) as info:
        planet_profiles.open_profile("p")
    for client_type in planet_profiles.CLIENT_TYPES:
        assert client_type in str(info.value)


def test_every_problem_is_reported_not_only_the_first(hermetic_env: Path) -> None:
    _write(hermetic_env, "p", json.dumps({"client_type": "oidc_auth_code", "scopes": "x", "extra": 1}))
    with pytest.raises(ConfigError) as info:
        planet_profiles.open_profile("p")
    pointers = {p.pointer for p in info.value.problems}
    assert {"/client_id", "/scopes", "/extra", "/auth_server"} <= pointers
    assert "more problem" in str(info.value)


@pytest.mark.parametrize("name", ["a/b", "..", "../../etc", "/etc/passwd", ".hidden"])
def test_profile_names_that_are_paths(name: str, monkeypatch: pytest.MonkeyPatch, hermetic_env: Path) -> None:
    with pytest.raises(ProfileNameError) as explicit:
        planet_profiles.open_profile(name)
    assert explicit.value.key == "profile name" and f"{name!r} is invalid" in str(explicit.value)
    assert "'/'" in str(explicit.value)
    monkeypatch.setenv("PL_AUTH_PROFILE", name)
    with pytest.raises(ProfileNameError) as env:
        planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context()
    assert env.value.key == "PL_AUTH_PROFILE"
    with pytest.raises(ProfileNameError):
        planet_profiles.from_config({"client_type": "none"}, profile_name=name)
    assert list(hermetic_env.rglob("*")) == []


def test_pl_auth_profile_naming_a_missing_profile(
    monkeypatch: pytest.MonkeyPatch, hermetic_env: Path
) -> None:
    monkeypatch.setenv("PL_AUTH_PROFILE", "ghost")
    with pytest.raises(ProfileNotFoundError) as info:
        planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context()
    message = str(info.value)
    assert "ghost" in message and "PL_AUTH_PROFILE" in message and "planet-profiles new" in message
    assert list(hermetic_env.rglob("*")) == []  # no fallback profile silently created


def test_plaintext_secret_in_world_readable_file_is_refused(hermetic_env: Path) -> None:
    path = _write(hermetic_env, "leaky", json.dumps({"client_type": "static_apikey", "api_key": "k-SECRET"}))
    path.chmod(0o644)
    with pytest.raises(ProfileError) as info:
        planet_profiles.open_profile("leaky")
    assert f"chmod 600 {path}" in str(info.value)
    assert "k-SECRET" not in str(info.value)


def test_secrets_never_in_error_messages(hermetic_env: Path) -> None:
    _write(
        hermetic_env,
        "p",
        json.dumps(
            {
                "client_type": "oidc_client_credentials_secret",
                "client_secret": ["SUPER-SECRET"],
                "client_id": 5,
            }
        ),
    )
    with pytest.raises(ConfigError) as info:
        planet_profiles.open_profile("p")
    rendered = str(info.value) + repr(info.value) + "".join(str(p) for p in info.value.problems)
    assert "SUPER-SECRET" not in rendered
