"""The spine end to end: encrypted profile in a team checkout → sops (real) → loader → authenticator →
requests / httpx (sync + async) against the real OIDC server and protected API."""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
import time
from pathlib import Path

import httpx
import pytest
import requests

import planet_auth_utils
import planet_profiles
from planet_profiles import (
    OAuthError,
    SopsMacMismatchError,
    SopsNoKeyError,
    SopsNotFoundError,
    TransportError,
)
from tests.fixtures_devserver import DevServer
from tests.fixtures_keys import AgeKey, make_encrypted_profile

pytestmark = pytest.mark.integration


def cc_config(
    server: DevServer, client_id: str = "cc-secret", secret: str | None = None
) -> dict[str, object]:
    config = server.profile("oidc_client_credentials_secret", client_id)
    return {**config, "client_secret": secret} if secret else config


@pytest.fixture
def team_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A read-only-ish team repo checkout on PL_AUTH_PROFILE_PATH."""
    profiles = tmp_path / "team-repo" / "profiles"
    profiles.mkdir(parents=True)
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(profiles))
    return profiles


def _tree_snapshot(*roots: Path) -> dict[str, str]:
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _files_containing(needle: str, *roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_encrypted_client_credentials_profile_end_to_end(
    devserver: DevServer,
    team_checkout: Path,
    age_key: AgeKey,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    hermetic_env: Path,
) -> None:
    secret = devserver.clients["cc-secret"].client_secret
    assert secret
    profile = make_encrypted_profile(team_checkout / "svc", cc_config(devserver), [age_key.recipient])
    on_disk = json.loads(profile.read_text())
    assert on_disk["client_secret"].startswith("ENC[AES256_GCM,")
    assert on_disk["client_id"] == "cc-secret"  # reviewers read every other field in clear text
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    monkeypatch.setenv("PL_AUTH_PROFILE", "svc")

    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context()
    assert ctx.profile_name() == "svc"
    assert type(ctx.auth_client()).__name__ == "ClientCredentialsClientSecretAuthClient"
    assert ctx.request_authenticator_is_ready()
    auth = ctx.request_authenticator()

    devserver.reset_stats()
    answer = requests.get(devserver.hello_url, auth=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True and answer.json()["client_id"] == "cc-secret"

    with httpx.Client(auth=auth, timeout=10) as client:
        assert client.get(devserver.hello_url).json()["ok"] is True

    async def async_call() -> int:
        async with httpx.AsyncClient(auth=auth, timeout=10) as client:
            results = await asyncio.gather(*(client.get(devserver.hello_url) for _ in range(5)))
        return sum(r.status_code == 200 for r in results)

    assert asyncio.run(async_call()) == 5
    assert devserver.stats()["token_requests"] == 1  # one grant served all eight calls

    # The token lives under ~/.planet/<name>/ (never in the checkout), 0600 in a 0700 dir, and since the
    # profile is encrypted, the token is too, for the profile's own recipients (TOK-10).
    token_file = hermetic_env / ".planet" / "svc" / "token.sops.json"
    assert ctx.token_file_path() == token_file
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    saved = json.loads(token_file.read_text())
    assert saved["access_token"].startswith("ENC[AES256_GCM,") and isinstance(saved["_exp"], int)
    assert [r["recipient"] for r in saved["sops"]["age"]] == [age_key.recipient]
    assert not (hermetic_env / ".planet" / "svc" / "token.json").exists()
    assert not list(team_checkout.rglob("token*.json"))
    # The plaintext secret is nowhere on disk.
    assert _files_containing(secret, tmp_path) == []

    # A new process (here: a new context) reuses the saved token: no token request.
    devserver.reset_stats()
    again = planet_profiles.open_profile("svc")
    assert (
        requests.get(devserver.hello_url, auth=again.request_authenticator(), timeout=10).status_code == 200
    )
    assert devserver.stats()["token_requests"] == 0


def test_plaintext_token_opt_out(
    devserver: DevServer,
    team_checkout: Path,
    age_key: AgeKey,
    monkeypatch: pytest.MonkeyPatch,
    hermetic_env: Path,
) -> None:
    make_encrypted_profile(team_checkout / "svc", cc_config(devserver), [age_key.recipient])
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    monkeypatch.setenv("PL_AUTH_PLAINTEXT_TOKENS", "1")
    ctx = planet_profiles.open_profile("svc")
    assert requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10).status_code == 200
    token_file = hermetic_env / ".planet" / "svc" / "token.json"
    assert ctx.token_file_path() == token_file
    assert not json.loads(token_file.read_text())["access_token"].startswith("ENC[")


def test_regrant_before_expiry(
    devserver_factory,
    team_checkout: Path,
    age_key: AgeKey,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server: DevServer = devserver_factory(access_ttl=2)
    make_encrypted_profile(team_checkout / "short", cc_config(server), [age_key.recipient])
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    ctx = planet_profiles.open_profile("short", save_token_file=False)
    auth = ctx.request_authenticator()
    server.reset_stats()
    session = requests.Session()
    for _ in range(3):
        assert session.get(server.hello_url, auth=auth, timeout=10).status_code == 200
    assert server.stats()["token_requests"] == 1
    time.sleep(2.1)  # past the refresh point (lifetime 2 s: renew in the last 0.2 s)
    # Never a request with an expired token: the authenticator renews first.
    assert session.get(server.hello_url, auth=auth, timeout=10).status_code == 200
    assert server.stats()["token_requests"] == 2


def test_static_apikey_and_none(
    devserver: DevServer, team_checkout: Path, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_encrypted_profile(
        team_checkout / "key",
        {"client_type": "static_apikey", "api_key": devserver.api_key},
        [age_key.recipient],
    )
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    ctx = planet_profiles.open_profile("key")
    assert type(ctx.auth_client()).__name__ == "StaticApiKeyAuthClient"
    assert requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10).status_code == 200
    assert ctx.token_file_path() is None

    none_ctx = planet_profiles.open_profile()  # nothing selected: the built-in default `none`
    assert none_ctx.profile_name() == "none" and none_ctx.source.origin == "built-in default"  # type: ignore[union-attr]
    assert type(none_ctx.auth_client()).__name__ == "NoOpAuthClient"
    with httpx.Client(auth=none_ctx.request_authenticator(), timeout=10) as client:
        response = client.get(devserver.hello_url)
    assert response.status_code == 401 and "authorization" not in response.request.headers


def test_sops_failures_are_typed_and_actionable(
    devserver: DevServer,
    team_checkout: Path,
    age_key: AgeKey,
    age_key2: AgeKey,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    profile = make_encrypted_profile(team_checkout / "svc", cc_config(devserver), [age_key.recipient])
    secret = devserver.clients["cc-secret"].client_secret
    assert secret
    before = _tree_snapshot(tmp_path)

    with pytest.raises(SopsNoKeyError) as no_key:  # no key at all
        planet_profiles.open_profile("svc")
    assert "SOPS_AGE_KEY_FILE" in str(no_key.value) and str(profile) in str(no_key.value)

    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key2.identity_file)  # a key, but not a recipient
    with pytest.raises(SopsNoKeyError) as wrong:
        planet_profiles.open_profile("svc")
    assert "recipient" in str(wrong.value)

    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    monkeypatch.setenv("PL_SOPS_BINARY", str(tmp_path / "no-such-sops"))
    with pytest.raises(SopsNotFoundError) as missing:
        planet_profiles.Sops().decrypt(profile)
    assert "sops" in str(missing.value)
    monkeypatch.delenv("PL_SOPS_BINARY")

    assert _tree_snapshot(tmp_path) == before  # nothing changed, nothing written

    # A clear-text field edited outside sops: the MAC no longer matches.
    doc = json.loads(profile.read_text())
    doc["client_id"] = "someone-else"
    profile.write_text(json.dumps(doc))
    with pytest.raises(SopsMacMismatchError) as mac:
        planet_profiles.open_profile("svc")
    assert "outside sops" in str(mac.value)
    for err in (no_key.value, wrong.value, missing.value, mac.value):
        assert secret not in str(err) and secret not in repr(err)
    assert _files_containing(secret, tmp_path) == []


def test_wrong_secret_and_server_down(
    devserver: DevServer, team_checkout: Path, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    make_encrypted_profile(
        team_checkout / "bad", cc_config(devserver, secret="not-the-secret"), [age_key.recipient]
    )
    auth = planet_profiles.open_profile("bad").request_authenticator()
    with pytest.raises(OAuthError) as info:
        requests.get(devserver.hello_url, auth=auth, timeout=10)
    assert info.value.error == "invalid_client"
    assert "client_id" in str(info.value) and "not-the-secret" not in str(info.value)

    down = cc_config(devserver) | {"auth_server": "http://127.0.0.1:9"}  # discard port: nothing listens
    ctx = planet_profiles.from_config(down, profile_name="down", save_token_file=False)
    with pytest.raises(TransportError) as transport:
        ctx.request_authenticator().header_value()
    assert "127.0.0.1:9" in str(transport.value)


def test_interactive_profile_without_a_login_is_not_ready(hermetic_env: Path) -> None:
    """Readiness is answered from local state: no network call, no file written (the seed's in-memory
    example itself runs in tests/test_examples.py)."""
    config = {
        "client_type": "oidc_auth_code",
        "auth_server": "https://login.example.com/",
        "client_id": "your_client_id",
        "local_redirect_uri": "http://localhost:8080",
    }
    ctx = planet_profiles.from_config(config, profile_name="_my_profile_name_", save_token_file=False)
    assert not ctx.request_authenticator_is_ready()
    assert list(hermetic_env.rglob("*")) == []
