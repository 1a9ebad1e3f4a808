"""Which credentials a process uses: one documented precedence, explainable, never a silent fall-back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

import planet_auth_utils
import planet_profiles
from planet_profiles import ProfileError, ProfileNameError, ProfileNotFoundError
from tests.fixtures_devserver import DevServer

PROVIDER = "tests.builtin_provider.DevBuiltins"


def _profile(home: Path, name: str) -> None:
    path = home / ".planet" / name / "auth_client.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"client_type": "none"}))


def _origin() -> str:
    source = planet_profiles.resolve_source()
    return f"{source.kind}:{source.origin}:{source.profile or source.client_id or 'key'}"


def test_precedence_order(hermetic_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = hermetic_env / ".planet.json"
    assert _origin() == "profile:built-in default:none"
    config.write_text(json.dumps({"PL_API_KEY": "k-file"}))
    assert _origin() == "api_key:~/.planet.json:key"
    monkeypatch.setenv("PL_API_KEY", "k-env")
    assert _origin() == "api_key:PL_API_KEY:key"
    config.write_text(
        json.dumps({"PL_API_KEY": "k", "PL_AUTH_CLIENT_ID": "id-file", "PL_AUTH_CLIENT_SECRET": "s"})
    )
    assert _origin() == "client_credentials:~/.planet.json:id-file"
    monkeypatch.setenv("PL_AUTH_CLIENT_ID", "id-env")
    monkeypatch.setenv("PL_AUTH_CLIENT_SECRET", "s-env")
    assert _origin() == "client_credentials:PL_AUTH_CLIENT_ID:id-env"
    config.write_text(json.dumps({"PL_AUTH_PROFILE": "from-file"}))
    assert _origin() == "profile:~/.planet.json:from-file"
    monkeypatch.setenv("PL_AUTH_PROFILE", "from-env")
    assert _origin() == "profile:PL_AUTH_PROFILE:from-env"
    assert planet_profiles.resolve_source(api_key="k").kind == "api_key"
    assert (
        planet_profiles.resolve_source(client_id="a", client_secret="b", api_key="k").kind
        == "client_credentials"
    )
    assert planet_profiles.resolve_source("explicit", client_id="a", client_secret="b").profile == "explicit"
    # use_env / use_configfile switch sources off, as in planet-auth
    assert planet_profiles.resolve_source(use_env=False).origin == "~/.planet.json"
    assert planet_profiles.resolve_source(use_env=False, use_configfile=False).origin == "built-in default"


def test_explain_selection_lists_every_source_and_redacts(
    hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PL_API_KEY", "SECRET-KEY")
    monkeypatch.setenv("PL_AUTH_PROFILE", "mine")
    rows = planet_profiles.explain_selection()
    assert [r["rank"] for r in rows] == list(range(1, 8))
    assert [r["source"] for r in rows if r["selected"]] == ["PL_AUTH_PROFILE (env, then ~/.planet.json)"]
    assert [r["set"] for r in rows] == [False, False, False, True, False, True, True]
    assert "SECRET-KEY" not in json.dumps(rows)


def test_selected_profile_that_is_missing_is_an_error_not_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_AUTH_PROFILE", "ghost")
    monkeypatch.setenv("PL_API_KEY", "lower-precedence-key")
    with pytest.raises(ProfileNotFoundError):
        planet_profiles.open_profile()


def test_bad_names_from_config_file_name_the_variable(hermetic_env: Path) -> None:
    (hermetic_env / ".planet.json").write_text(json.dumps({"PL_AUTH_PROFILE": "../etc"}))
    with pytest.raises(ProfileNameError, match="PL_AUTH_PROFILE"):
        planet_profiles.open_profile()
    (hermetic_env / ".planet.json").write_text(json.dumps({"PL_API_KEY": 5}))
    with pytest.raises(ProfileError, match="PL_API_KEY"):
        planet_profiles.open_profile()


@pytest.mark.integration
def test_pl_api_key_gives_an_api_key_header(devserver: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_API_KEY", devserver.api_key)
    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context()
    response = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert response.status_code == 200
    assert response.request.headers["Authorization"] == f"api-key {devserver.api_key}"
    assert ctx.source is not None and ctx.source.origin == "PL_API_KEY"
    assert devserver.api_key not in repr(ctx.source)


def test_ad_hoc_client_credentials_without_a_builtin_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_AUTH_CLIENT_ID", "id")
    monkeypatch.setenv("PL_AUTH_CLIENT_SECRET", "SECRET-VALUE")
    with pytest.raises(ProfileError) as info:
        planet_profiles.open_profile()
    assert info.value.key == "PL_AUTH_CLIENT_ID" and "SECRET-VALUE" not in str(info.value)


@pytest.mark.integration
def test_builtin_provider_profiles_and_ad_hoc_client_credentials(
    devserver: DevServer, monkeypatch: pytest.MonkeyPatch, hermetic_env: Path
) -> None:
    monkeypatch.setenv("PL_AUTH_BUILTIN_CONFIG_PROVIDER", PROVIDER)
    monkeypatch.setenv("TEST_BUILTIN_ISSUER", devserver.issuer)
    default = planet_profiles.open_profile()  # the provider's default, an alias: named after its profile
    assert default.profile_name() == "dev-key" and default.source.origin == "built-in default"  # type: ignore[union-attr]
    assert (
        requests.get(devserver.hello_url, auth=default.request_authenticator(), timeout=10).status_code == 200
    )

    client = devserver.clients["cc-secret"]
    monkeypatch.setenv("PL_AUTH_CLIENT_ID", client.client_id)
    monkeypatch.setenv("PL_AUTH_CLIENT_SECRET", client.client_secret or "")
    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context()
    assert ctx.profile_name() == "dev-m2m-cc-secret"
    assert type(ctx.auth_client()).__name__ == "ClientCredentialsClientSecretAuthClient"
    answer = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200 and answer.json()["client_id"] == "cc-secret"

    _profile(hermetic_env, "dev-key")  # a profile on disk shadows the built-in of the same name
    assert planet_profiles.open_profile("dev-key").location is not None


def test_broken_provider_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_AUTH_BUILTIN_CONFIG_PROVIDER", "tests.no_such_module.Provider")
    with pytest.raises(ProfileError, match="PL_AUTH_BUILTIN_CONFIG_PROVIDER"):
        planet_profiles.open_profile()
