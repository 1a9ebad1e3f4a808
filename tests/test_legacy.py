"""`planet_legacy`: Planet's legacy e-mail/password login, against a local double of its endpoint.

The double (`tests/legacy_double.py`) stands in for `api.planet.com/v0/auth/login`, which has no test
server; the API key it issues is then used against the real dev server's protected API, which reports the
`Authorization` scheme it saw (`api-key`).
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

import planet_auth_utils
from planet_profiles import (
    InvalidGrantError,
    LoginRequiredError,
    OAuthError,
    TokenFileError,
    from_config,
    open_profile,
)
from planet_profiles._flows.legacy import PlanetLegacyAuthClient
from tests.fixtures_devserver import DevServer
from tests.fixtures_keys import AgeKey, make_encrypted_profile
from tests.legacy_double import LegacyDouble, LegacyUser

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def double() -> Iterator[LegacyDouble]:
    with LegacyDouble() as running:
        yield running


@pytest.fixture
def account(double: LegacyDouble) -> LegacyUser:
    """A Planet account on the double."""
    return double.add_user(EMAIL, PASSWORD)


@pytest.fixture
def user(account: LegacyUser, devserver: DevServer) -> LegacyUser:
    """`account`, whose API key the dev server's API accepts."""
    devserver.add_api_key(account.api_key)
    return account


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A terminal where the user types EMAIL and PASSWORD; returns the prompts shown."""
    prompts: list[str] = []

    def typed(prompt: str, answer: str) -> str:
        prompts.append(prompt)
        return answer

    monkeypatch.setattr("builtins.input", lambda prompt="": typed(prompt, f"  {EMAIL} "))
    monkeypatch.setattr("getpass.getpass", lambda prompt="Password: ", stream=None: typed(prompt, PASSWORD))
    return prompts


def legacy_config(double: LegacyDouble, **extra: Any) -> dict[str, Any]:
    return {"client_type": "planet_legacy", "legacy_auth_endpoint": double.url, **extra}


def write_profile(home: Path, name: str, config: dict[str, Any]) -> Path:
    directory = home / ".planet" / name
    directory.mkdir(parents=True, mode=0o700)
    file = directory / "auth_client.json"
    file.write_text(json.dumps(config))
    file.chmod(0o600)
    return file


def everything_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def hello(server: DevServer, auth: Any) -> dict[str, Any]:
    resp = requests.get(server.hello_url, auth=auth, timeout=10)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


# ---------------------------------------------------------------- login and use


@pytest.mark.integration
def test_login_then_api_call_with_api_key_header(
    double: LegacyDouble,
    user: LegacyUser,
    devserver: DevServer,
    hermetic_env: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = from_config(legacy_config(double), profile_name="legacy")
    assert type(ctx.auth_client()).__name__ == "PlanetLegacyAuthClient"
    assert not ctx.request_authenticator_is_ready()
    with caplog.at_level(logging.DEBUG):
        credential = ctx.login(username=EMAIL, password=PASSWORD)
    assert ctx.request_authenticator_is_ready()
    # What the client sent: JSON with e-mail and password, Planet's app header.
    (sent,) = double.requests
    assert sent.body == {"email": EMAIL, "password": PASSWORD}
    assert sent.headers["Content-Type"] == "application/json" and "X-Planet-App" in sent.headers
    # The deprecation is logged (not warned: warnings are errors for users with -W error, too).
    flow_records = [
        r for r in caplog.records if r.name == "planet_profiles.flow" and r.levelno == logging.WARNING
    ]
    assert any("deprecated" in r.getMessage() for r in flow_records)
    # Saved in planet-auth's legacy format, 0600.
    path = credential.path()
    assert path == hermetic_env / ".planet" / "legacy" / "token.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["key"] == user.api_key and saved["jwt"].count(".") == 2 and isinstance(saved["_iat"], int)
    assert credential.data()["key"] == user.api_key and user.api_key not in repr(credential)
    # Requests carry `Authorization: api-key <key>` (requests and httpx).
    body = hello(devserver, ctx.request_authenticator())
    assert body["api_key"] is True and body["scheme"] == "api-key"
    resp = httpx.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert resp.status_code == 200 and resp.json()["scheme"] == "api-key"
    # Neither the password nor the key shows up in any log line.
    assert PASSWORD not in caplog.text and user.api_key not in caplog.text


@pytest.mark.integration
def test_saved_credential_is_used_by_a_later_process(
    double: LegacyDouble, user: LegacyUser, devserver: DevServer, hermetic_env: Path
) -> None:
    write_profile(hermetic_env, "legacy", legacy_config(double))
    open_profile("legacy").login(username=EMAIL, password=PASSWORD)
    later = open_profile("legacy")  # no login: the token file is read
    assert later.request_authenticator_is_ready()
    assert hello(devserver, later.request_authenticator())["scheme"] == "api-key"
    assert len(double.requests) == 1
    later.logout()  # Planet's legacy keys cannot be revoked: only the local file goes
    assert not (hermetic_env / ".planet" / "legacy" / "token.json").exists()
    with pytest.raises(LoginRequiredError):
        open_profile("legacy").request_authenticator().header_value()


@pytest.mark.integration
def test_reads_a_token_file_written_by_planet_auth(
    double: LegacyDouble, user: LegacyUser, devserver: DevServer, hermetic_env: Path
) -> None:
    write_profile(hermetic_env, "legacy", legacy_config(double))
    token_file = hermetic_env / ".planet" / "legacy" / "token.json"
    token_file.write_text(json.dumps({"key": user.api_key, "jwt": double.token_for(user)}))  # planet-auth's
    token_file.chmod(0o600)
    ctx = open_profile("legacy")
    assert ctx.request_authenticator_is_ready()
    assert hello(devserver, ctx.request_authenticator())["scheme"] == "api-key"
    assert double.requests == []


@pytest.mark.integration
def test_encrypted_profile_keeps_the_key_encrypted_at_rest(
    double: LegacyDouble, user: LegacyUser, devserver: DevServer, hermetic_env: Path, use_age_key: AgeKey
) -> None:
    make_encrypted_profile(
        hermetic_env / ".planet" / "legacy", legacy_config(double), [use_age_key.recipient]
    )
    credential = open_profile("legacy").login(username=EMAIL, password=PASSWORD)
    assert credential.path() == hermetic_env / ".planet" / "legacy" / "token.sops.json"
    saved = json.loads((hermetic_env / ".planet" / "legacy" / "token.sops.json").read_text())
    for name in ("key", "jwt", "access_token"):  # TOK-10: the API key is encrypted under every name
        assert saved[name].startswith("ENC[AES256_GCM,"), name
    assert user.api_key.encode() not in everything_under(hermetic_env)
    assert hello(devserver, open_profile("legacy").request_authenticator())["scheme"] == "api-key"


@pytest.mark.integration
def test_configured_api_key_needs_no_login(
    double: LegacyDouble, devserver: DevServer, hermetic_env: Path
) -> None:
    key = "PLAK-configured-0123456789"
    devserver.add_api_key(key)
    ctx = from_config(legacy_config(double, api_key=key), profile_name="legacy-key")
    assert ctx.token_manager is None and ctx.request_authenticator_is_ready()
    credential = ctx.login()  # nothing to do
    assert credential.path() is None and credential.data() == {}
    assert hello(devserver, ctx.request_authenticator())["scheme"] == "api-key"
    assert double.requests == [] and not (hermetic_env / ".planet").exists()
    assert key not in repr(ctx) and key not in repr(ctx.auth_client())


# ---------------------------------------------------------------- failures


def test_bad_password_is_a_typed_error_and_writes_nothing(
    double: LegacyDouble, account: LegacyUser, hermetic_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = from_config(legacy_config(double), profile_name="legacy")
    wrong = "wrong-password-" + "x" * 8
    with caplog.at_level(logging.DEBUG), pytest.raises(InvalidGrantError) as caught:
        ctx.login(username=EMAIL, password=wrong)
    err = caught.value
    assert err.status_code == 401 and err.error == "invalid_grant"
    assert "Invalid email or password" in str(err) and "Check the e-mail and password" in str(err)
    assert wrong not in str(err) + repr(err) + caplog.text and EMAIL not in str(err)
    assert not (hermetic_env / ".planet").exists()
    assert not ctx.request_authenticator_is_ready()


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("500", "HTTP 500"),
        ("no_token", "no `token`"),
        ("no_api_key", "without an `api_key`"),
        ("not_json", "no `token`"),
    ],
)
def test_broken_answers_are_typed_errors(
    double: LegacyDouble, account: LegacyUser, hermetic_env: Path, fault: str, words: str
) -> None:
    double.fault = fault
    ctx = from_config(legacy_config(double), profile_name="legacy")
    with pytest.raises(OAuthError) as caught:
        ctx.login(username=EMAIL, password=PASSWORD)
    assert len(double.requests) == (3 if fault == "500" else 1)  # 5xx: bounded retries (NET-01)
    assert words in str(caught.value) and caught.value.key in (None, "legacy_auth_endpoint")
    assert PASSWORD not in str(caught.value)
    assert not (hermetic_env / ".planet").exists()


def test_missing_credentials_without_a_terminal(double: LegacyDouble, account: LegacyUser) -> None:
    ctx = from_config(legacy_config(double), profile_name="legacy", save_token_file=False)
    with pytest.raises(LoginRequiredError, match="needs the email"):
        ctx.login()
    with pytest.raises(LoginRequiredError, match="needs the password"):
        ctx.login(username=EMAIL)
    assert double.requests == []


# ---------------------------------------------------------------- terminal prompts, the password never kept


@pytest.mark.integration
def test_prompt_path_and_password_never_on_disk(
    double: LegacyDouble,
    user: LegacyUser,
    devserver: DevServer,
    hermetic_env: Path,
    tty: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_profile(hermetic_env, "legacy", legacy_config(double))
    ctx = open_profile("legacy")
    with caplog.at_level(logging.DEBUG):
        ctx.login(allow_tty_prompt=True)
    assert tty == ["Email: ", "Password: "]
    assert double.requests[0].body == {"email": EMAIL, "password": PASSWORD}
    assert hello(devserver, ctx.request_authenticator())["scheme"] == "api-key"
    on_disk = everything_under(hermetic_env)
    assert user.api_key.encode() in on_disk  # the credential was saved…
    assert PASSWORD.encode() not in on_disk  # …the password never
    assert PASSWORD not in caplog.text
    client = ctx.auth_client()
    assert PASSWORD not in repr(vars(client)) and PASSWORD not in repr(ctx)


def test_empty_prompt_answer(double: LegacyDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    ctx = from_config(legacy_config(double), profile_name="legacy", save_token_file=False)
    with pytest.raises(LoginRequiredError, match="no email given"):
        ctx.login(allow_tty_prompt=True)
    assert double.requests == []


# ---------------------------------------------------------------- the seed's legacy examples, verbatim calls


@pytest.mark.integration
def test_seed_examples_legacy_login_then_requests(
    double: LegacyDouble,
    user: LegacyUser,
    devserver: DevServer,
    hermetic_env: Path,
    tty: list[str],
) -> None:
    write_profile(hermetic_env, "legacy", legacy_config(double))

    # perform-legacy-initial-login.py
    auth_ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(auth_profile_opt="legacy")
    auth_ctx.login(allow_tty_prompt=True)

    # make-legacy-authenticated-requests-request.py (a later program: the login was saved)
    auth_ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(auth_profile_opt="legacy")
    result = requests.get(url=devserver.hello_url, auth=auth_ctx.request_authenticator())
    assert result.status_code == 200 and result.json()["scheme"] == "api-key"
    assert len(tty) == 2 and len(double.requests) == 1


@pytest.mark.integration
def test_seed_example_custom_config_with_api_key(devserver: DevServer, double: LegacyDouble) -> None:
    devserver.add_api_key("_optional_to_eliminate_need_to_do_login_")
    auth_ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context_from_custom_config(
        client_config={
            "client_type": "planet_legacy",
            "legacy_auth_endpoint": double.url,
            "api_key": "_optional_to_eliminate_need_to_do_login_",
        },
        profile_name="_my_legacy_profile_name_",
        save_profile_config=False,
    )
    print(auth_ctx.auth_client().__class__.__name__)
    result = requests.get(url=devserver.hello_url, auth=auth_ctx.request_authenticator())
    assert result.status_code == 200 and result.json()["scheme"] == "api-key"


def test_repr_and_header_scheme(double: LegacyDouble) -> None:
    ctx = from_config(legacy_config(double), profile_name="legacy", save_token_file=False)
    client = ctx.auth_client()
    assert isinstance(client, PlanetLegacyAuthClient)
    assert repr(client) == f"PlanetLegacyAuthClient(client_type='planet_legacy', endpoint={double.url!r})"
    assert client.static_header() is None


def test_corrupt_token_file_is_a_typed_error(double: LegacyDouble, hermetic_env: Path) -> None:
    write_profile(hermetic_env, "legacy", legacy_config(double))
    token_file = hermetic_env / ".planet" / "legacy" / "token.json"
    token_file.write_text(json.dumps({"jwt": "a.b.c"}))  # neither `key` nor `access_token`
    token_file.chmod(0o600)
    with pytest.raises(TokenFileError) as caught:
        open_profile("legacy").request_authenticator().header_value()
    assert caught.value.file == str(token_file)
