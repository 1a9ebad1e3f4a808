"""Resource owner password grant (RFC 6749 §4.3; SECURITY SEC-08) against the real dev server.

The dev server accepts any user name with the password `password` (`DevServer.password`).
"""

from __future__ import annotations

import builtins
import getpass
import logging
import warnings
from pathlib import Path
from typing import Any

import pytest
import requests

import planet_profiles
from planet_profiles import InvalidGrantError, LoginRequiredError
from tests.fixtures_devserver import DevServer

pytestmark = pytest.mark.integration

TYPES = {
    "ro-public": "oidc_resource_owner",
    "ro-secret": "oidc_resource_owner_secret",
    "ro-pubkey": "oidc_resource_owner_pubkey",
}
CLASSES = {
    "ro-public": "ResourceOwnerAuthClient",
    "ro-secret": "ResourceOwnerWithClientSecretAuthClient",
    "ro-pubkey": "ResourceOwnerWithPubKeyAuthClient",
}
SCOPES = ["api.read", "offline_access"]  # api.read: a JWT for the API; offline_access: a refresh token


def ro_config(server: DevServer, client_id: str = "ro-public", **keys: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client_type": TYPES[client_id],
        "auth_server": server.issuer,
        "client_id": client_id,
        "scopes": SCOPES,
    }
    client = server.clients[client_id]
    if client_id == "ro-secret":
        data["client_secret"] = client.client_secret
    if client_id == "ro-pubkey":
        data["client_privkey_file"] = str(client.private_key_files["ec"])
    return {**data, **keys}


def api_call(ctx: Any, server: DevServer) -> dict[str, Any]:
    answer = requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def no_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything reads the terminal."""

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the terminal must not be read")

    monkeypatch.setattr(builtins, "input", refuse)
    monkeypatch.setattr(getpass, "getpass", refuse)


@pytest.mark.parametrize("client_id", list(TYPES))
def test_login_call_api_refresh(devserver: DevServer, client_id: str, no_prompt: None) -> None:
    ctx = planet_profiles.from_config(ro_config(devserver, client_id), profile_name=client_id)
    assert ctx.auth_client().__class__.__name__ == CLASSES[client_id]
    assert not ctx.auth_client().unattended and not ctx.request_authenticator_is_ready()
    credential = ctx.login(username="alice", password=devserver.password)
    assert credential.path() == ctx.token_file_path() and credential.path().exists()  # type: ignore[union-attr]
    assert credential.token is not None and credential.token.refresh_token
    answer = api_call(ctx, devserver)
    assert (answer["sub"], answer["client_id"], answer["scope"]) == ("alice", client_id, "api.read")

    # A stale token is refreshed through the token manager (RFC 6749 §6), not re-granted.
    stale = {**credential.data(), "_exp": 1, "_iat": 0}
    again = planet_profiles.from_config(
        ro_config(devserver, client_id),
        profile_name=client_id,
        initial_token_data=stale,
        save_token_file=False,
    )
    devserver.reset_stats()
    assert api_call(again, devserver)["sub"] == "alice"
    assert devserver.stats()["by_grant"] == {"refresh_token": 1}


@pytest.mark.parametrize("client_id", list(TYPES))
def test_profile_stored_credentials_log_in_unattended(
    devserver: DevServer, client_id: str, no_prompt: None
) -> None:
    data = ro_config(devserver, client_id, username="bob", password=devserver.password)
    ctx = planet_profiles.from_config(data, profile_name=client_id, save_token_file=False)
    assert ctx.auth_client().unattended and ctx.request_authenticator_is_ready()
    devserver.reset_stats()
    assert api_call(ctx, devserver)["sub"] == "bob"  # just in time, no login() call
    assert devserver.stats()["by_grant"] == {"password": 1}
    assert ctx.login().token is not None  # login() without arguments uses them too


def test_refused_refresh_token_logs_in_again_with_stored_credentials(devserver: DevServer) -> None:
    bogus = {"access_token": "expired", "refresh_token": "revoked-or-rotated", "_iat": 0, "_exp": 1}
    data = ro_config(devserver, username="carol", password=devserver.password)
    ctx = planet_profiles.from_config(
        data, profile_name="ro", initial_token_data=bogus, save_token_file=False
    )
    devserver.reset_stats()
    assert api_call(ctx, devserver)["sub"] == "carol"
    assert devserver.stats()["by_grant"] == {"refresh_token": 1, "password": 1}

    without = planet_profiles.from_config(
        ro_config(devserver), profile_name="ro", initial_token_data=bogus, save_token_file=False
    )
    with pytest.raises(LoginRequiredError):
        requests.get(devserver.hello_url, auth=without.request_authenticator(), timeout=10)


def test_grant_without_stored_credentials_needs_a_login(devserver: DevServer) -> None:
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro", save_token_file=False)
    with pytest.raises(LoginRequiredError) as caught:
        requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert "login" in (caught.value.hint or "")


@pytest.mark.parametrize("client_id", list(TYPES))
def test_bad_password_is_invalid_grant_and_writes_no_token(
    devserver: DevServer, client_id: str, hermetic_env: Path
) -> None:
    ctx = planet_profiles.from_config(ro_config(devserver, client_id), profile_name=client_id)
    with pytest.raises(InvalidGrantError) as caught:
        ctx.login(username="alice", password="not-the-password")
    assert caught.value.error == "invalid_grant"
    assert "not-the-password" not in str(caught.value) + repr(caught.value)
    assert not ctx.token_file_path().exists()  # type: ignore[union-attr]
    assert not any(p.name.startswith("token") for p in files_under(hermetic_env))


def test_bad_stored_password_names_the_profile_key(devserver: DevServer) -> None:
    data = ro_config(devserver, username="alice", password="stale-password")
    ctx = planet_profiles.from_config(data, profile_name="ro", save_token_file=False)
    with pytest.raises(InvalidGrantError) as caught:
        ctx.login()
    assert caught.value.key == "password" and caught.value.file == "<in-memory profile ro>"
    assert "stale-password" not in str(caught.value)


def test_every_use_logs_the_discouraged_warning(
    devserver: DevServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="planet_profiles.flow")
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro", save_token_file=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a log record, not a Python warning
        ctx.login(username="dave", password=devserver.password)
        ctx.login(username="dave", password=devserver.password)
    records = [r for r in caplog.records if r.name == "planet_profiles.flow"]
    assert len(records) == 2 and all(r.levelno == logging.WARNING for r in records)
    assert "discouraged" in records[0].getMessage() and "oidc_resource_owner" in records[0].getMessage()
    assert "dave" not in caplog.text and "password=" not in caplog.text
    caplog.clear()
    with pytest.raises(InvalidGrantError):
        ctx.login(username="dave", password="Sekr3t-Typed-Value")
    assert "discouraged" in caplog.text and "Sekr3t-Typed-Value" not in caplog.text


def test_typed_password_is_never_stored(
    devserver: DevServer, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SEC-08: prompt for both; the typed password is in no file under HOME (token, profile)."""
    prompts: list[str] = []

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return "erin"

    def fake_getpass(prompt: str = "Password: ", stream: Any = None) -> str:
        prompts.append(prompt)
        return devserver.password

    monkeypatch.setattr(builtins, "input", fake_input)
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro-typed", save_profile_config=True)
    credential = ctx.login(allow_tty_prompt=True)
    assert len(prompts) == 2 and "erin" in prompts[1]
    assert api_call(ctx, devserver)["sub"] == "erin"
    stored = files_under(hermetic_env)
    assert credential.path() in stored and any(p.name == "auth_client.json" for p in stored)
    for path in stored:
        content = path.read_bytes()
        assert b'"password"' not in content and b"password" not in content.lower(), path
    assert "password" not in str(vars(ctx.auth_client()))  # not kept on the client either


def test_typed_wrong_password_is_never_stored(
    devserver: DevServer, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same with a distinctive (wrong) password, searched for in every file and message."""
    typed = "Sekr3t-Typed-Value"
    monkeypatch.setattr(builtins, "input", lambda *a: "erin")
    monkeypatch.setattr(getpass, "getpass", lambda *a, **k: typed)
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro-typed", save_profile_config=True)
    with pytest.raises(InvalidGrantError) as caught:
        ctx.login(allow_tty_prompt=True)
    assert typed not in str(caught.value) + repr(caught.value)
    stored = files_under(hermetic_env)
    assert [p.name for p in stored] == ["auth_client.json"]
    for path in stored:
        assert typed.encode() not in path.read_bytes()
    assert typed not in str(vars(ctx.auth_client())) + repr(ctx)


def test_prompt_only_for_what_is_missing(devserver: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtins, "input", lambda *a: pytest.fail("the user name was given"))
    monkeypatch.setattr(getpass, "getpass", lambda *a, **k: devserver.password)
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro", save_token_file=False)
    assert ctx.login(username="frank", allow_tty_prompt=True).token is not None
    assert api_call(ctx, devserver)["sub"] == "frank"


def test_no_prompt_without_permission(devserver: DevServer, no_prompt: None) -> None:
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro", save_token_file=False)
    with pytest.raises(LoginRequiredError) as caught:
        ctx.login()  # AuthContext.login: allow_tty_prompt=False by default
    assert "allow_tty_prompt" in (caught.value.hint or "")
    with pytest.raises(LoginRequiredError):
        ctx.login(username="gina")


def test_profile_password_is_only_for_the_profile_user(devserver: DevServer, no_prompt: None) -> None:
    data = ro_config(devserver, username="alice", password=devserver.password)
    ctx = planet_profiles.from_config(data, profile_name="ro", save_token_file=False)
    with pytest.raises(LoginRequiredError):
        ctx.login(username="mallory")


def test_cancelled_prompt(devserver: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def cancel(*args: Any) -> str:
        raise EOFError

    monkeypatch.setattr(builtins, "input", cancel)
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro", save_token_file=False)
    with pytest.raises(LoginRequiredError, match="cancelled"):
        ctx.login(allow_tty_prompt=True)


def test_requested_scopes_override_the_profile(devserver: DevServer) -> None:
    ctx = planet_profiles.from_config(ro_config(devserver), profile_name="ro", save_token_file=False)
    token = ctx.login(username="hank", password=devserver.password, requested_scopes=["openid"]).token
    assert token is not None and token.data.get("scope") == "openid"
    assert token.refresh_token is None and "id_token" in token.data
    assert token.access_token.count(".") != 2  # an opaque userinfo token, not a JWT for the API
