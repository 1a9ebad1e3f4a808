"""Acceptance: all 15 client types load from a profile on disk; the 13 that make outbound calls get a
credential and make an authenticated call to the real protected API (Planet legacy logs in at its test
double, the only peer that does not exist publicly)."""

from __future__ import annotations

import json
import sys
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import planet_profiles
from tests.fixtures_devserver import DevServer, approve_device
from tests.legacy_double import LegacyDouble

pytestmark = pytest.mark.integration
DRIVER = Path(__file__).resolve().with_name("browser_driver.py")


def _write(home: Path, name: str, config: dict[str, Any]) -> None:
    path = home / ".planet" / name / "auth_client.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(config))
    path.chmod(0o600)


@pytest.fixture
def legacy(devserver: DevServer) -> Iterator[tuple[LegacyDouble, str, str]]:
    with LegacyDouble() as double:
        user = double.add_user("ada@example.com", "legacy-password-1")
        devserver.add_api_key(user.api_key)
        yield double, user.email, user.password


def _device(ctx: planet_profiles.AuthContext) -> None:
    info = ctx.device_login_initiate()
    approve_device(verification_uri=info["verification_uri"], user_code=info["user_code"])
    ctx.device_login_complete(info)


def _browser(ctx: planet_profiles.AuthContext) -> None:
    ctx.login(allow_open_browser=True)


def _password(ctx: planet_profiles.AuthContext, server: DevServer) -> None:
    ctx.login(username=server.username, password=server.password)


CASES: dict[str, tuple[str, str, str | None, str]] = {
    # client_type: (client id, how to log in, private key kind, expected class)
    "oidc_auth_code": ("native-public", "browser", None, "AuthCodeAuthClient"),
    "oidc_auth_code_secret": ("auth-code-secret", "browser", None, "AuthCodeWithClientSecretAuthClient"),
    "oidc_auth_code_pubkey": ("auth-code-pubkey", "browser", "rsa", "AuthCodeWithPubKeyAuthClient"),
    "oidc_device_code": ("device-public", "device", None, "DeviceCodeAuthClient"),
    "oidc_device_code_secret": ("device-secret", "device", None, "DeviceCodeWithClientSecretAuthClient"),
    "oidc_device_code_pubkey": ("device-pubkey", "device", "ec", "DeviceCodeWithPubKeyAuthClient"),
    "oidc_resource_owner": ("ro-public", "password", None, "ResourceOwnerAuthClient"),
    "oidc_resource_owner_secret": ("ro-secret", "password", None, "ResourceOwnerWithClientSecretAuthClient"),
    "oidc_resource_owner_pubkey": ("ro-pubkey", "password", "rsa", "ResourceOwnerWithPubKeyAuthClient"),
    "oidc_client_credentials_secret": ("cc-secret", "none", None, "ClientCredentialsClientSecretAuthClient"),
    "oidc_client_credentials_pubkey": ("cc-pubkey", "none", "ec", "ClientCredentialsPubKeyAuthClient"),
}


@pytest.mark.parametrize("client_type", sorted(CASES))
def test_oidc_types_log_in_and_call_the_api(
    client_type: str,
    devserver_factory: Callable[..., DevServer],
    hermetic_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = devserver_factory(device_interval=1)
    client_id, how, pubkey, class_name = CASES[client_type]
    extra = {"local_redirect_uri": "http://127.0.0.1/callback"} if how == "browser" else {}
    _write(hermetic_env, "p", server.profile(client_type, client_id, key=pubkey, **extra))
    monkeypatch.setenv("BROWSER", f"{sys.executable} {DRIVER} %s")
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # webbrowser reads BROWSER once per process
    ctx = planet_profiles.open_profile("p")
    assert type(ctx.auth_client()).__name__ == class_name
    if how == "browser":
        _browser(ctx)
    elif how == "device":
        _device(ctx)
    elif how == "password":
        _password(ctx, server)
    answer = requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["client_id"] == client_id


def test_legacy_static_none_and_validator(
    devserver: DevServer, legacy: tuple[LegacyDouble, str, str], hermetic_env: Path
) -> None:
    double, email, password = legacy
    _write(hermetic_env, "legacy", {"client_type": "planet_legacy", "legacy_auth_endpoint": double.url})
    _write(hermetic_env, "key", {"client_type": "static_apikey", "api_key": devserver.api_key})
    _write(hermetic_env, "nothing", {"client_type": "none"})
    _write(
        hermetic_env,
        "service",
        {
            "client_type": "oidc_client_validator",
            "auth_server": devserver.issuer,
            "audiences": [devserver.audience],
        },
    )

    ctx = planet_profiles.open_profile("legacy")
    assert type(ctx.auth_client()).__name__ == "PlanetLegacyAuthClient"
    ctx.login(username=email, password=password)
    answer = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200 and answer.request.headers["Authorization"].startswith("api-key ")

    key = planet_profiles.open_profile("key")
    assert type(key.auth_client()).__name__ == "StaticApiKeyAuthClient"
    assert requests.get(devserver.hello_url, auth=key.request_authenticator(), timeout=10).status_code == 200

    nothing = planet_profiles.open_profile("nothing")
    assert type(nothing.auth_client()).__name__ == "NoOpAuthClient"
    assert (
        requests.get(devserver.hello_url, auth=nothing.request_authenticator(), timeout=10).status_code == 401
    )

    # The validator profile is the service side: it checks a token another profile obtained.
    service = planet_profiles.open_profile("service")
    assert type(service.auth_client()).__name__ == "OidcClientValidatorAuthClient"
    cc = planet_profiles.from_config(
        devserver.profile("oidc_client_credentials_secret", "cc-secret"),
        profile_name="cc",
        save_token_file=False,
    )
    token = cc.request_authenticator().header_value()
    assert token is not None
    claims = service.auth_client().validate_access_token(token.split(" ", 1)[1], required_scopes=["api.read"])  # type: ignore[attr-defined]
    assert claims["client_id"] == "cc-secret"


def test_every_client_type_is_covered() -> None:
    covered = set(CASES) | {"planet_legacy", "static_apikey", "none", "oidc_client_validator"}
    assert covered == set(planet_profiles.CLIENT_TYPES) and len(covered) == 15
