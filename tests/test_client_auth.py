"""Client authentication against servers that accept exactly one method (issue 10).

The dev server's `*-secret` clients accept only HTTP Basic, its `*-secret-post` clients only the form body
(`devserver/provider.mjs` enforces the registered method, as Okta and Auth0 do). Every grant family works
with either, when the profile names the client's method and when it names none: then the first request goes
as planet-auth sends it, and if the server refuses it with `invalid_client`, the other method listed in
discovery is tried once, remembered beside the token file (`client_auth.json`) and logged at INFO.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import webbrowser
from pathlib import Path
from typing import Any

import pytest
import requests

import planet_profiles
from planet_profiles import _oauth
from planet_profiles._context import AuthContext
from planet_profiles._errors import OAuthError
from tests.fault_proxy import Fault, FaultProxy
from tests.fixtures_devserver import DevServer, DevServerFactory, approve_device

pytestmark = pytest.mark.integration

DRIVER = Path(__file__).resolve().parent / "browser_driver.py"
FAMILIES = {  # client type -> (basic-only client, post-only client)
    "oidc_client_credentials_secret": ("cc-secret", "cc-secret-post"),
    "oidc_auth_code_secret": ("auth-code-secret", "auth-code-secret-post"),
    "oidc_device_code_secret": ("device-secret", "device-secret-post"),
    "oidc_resource_owner_secret": ("ro-secret", "ro-secret-post"),
}
# What planet-auth sends when the profile names nothing (docs/differences.md, "What is the same").
PLANET_AUTH_DEFAULT = {client_type: "client_secret_basic" for client_type in FAMILIES}
PLANET_AUTH_DEFAULT["oidc_client_credentials_secret"] = "client_secret_post"


@pytest.fixture
def server(devserver_factory: DevServerFactory) -> DevServer:
    return devserver_factory(access_ttl=5, device_interval=1)  # shared with tests/test_wire_parity.py


@pytest.fixture(autouse=True)
def browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # webbrowser reads BROWSER once per process
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setenv("BROWSER", f"{shlex.quote(sys.executable)} {shlex.quote(str(DRIVER))} %s")


def log_in(ctx: AuthContext, server: DevServer) -> None:
    client_type = ctx.auth_client().client_type
    if client_type.startswith("oidc_auth_code"):
        ctx.login(allow_open_browser=True)
    elif client_type.startswith("oidc_device_code"):
        info = ctx.device_login_initiate()
        approve_device(info["verification_uri_complete"])
        ctx.device_login_complete(info)
    elif client_type.startswith("oidc_resource_owner"):
        ctx.login(username=server.username, password=server.password)


def profile(
    server: DevServer, client_type: str, client_id: str, auth_server: str, **extra: Any
) -> dict[str, Any]:
    extra.setdefault("client_auth_method", None)  # names no method unless the test says so
    config = server.profile(client_type, client_id, **extra)
    config.update(auth_server=auth_server, issuer=server.issuer)
    if client_type.startswith("oidc_auth_code"):
        config["local_redirect_uri"] = "http://127.0.0.1/callback"
    return config


def api_ok(ctx: AuthContext, server: DevServer) -> None:
    answer = requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("client_type", FAMILIES)
@pytest.mark.parametrize("registered", ["client_secret_basic", "client_secret_post"])
@pytest.mark.parametrize("named", [True, False], ids=["method named", "no method named"])
def test_each_grant_works_with_a_single_method_client(
    server: DevServer,
    hermetic_env: Path,
    caplog: pytest.LogCaptureFixture,
    client_type: str,
    registered: str,
    named: bool,
) -> None:
    client_id = FAMILIES[client_type][registered == "client_secret_post"]
    extra = {"client_auth_method": registered if named else None}
    name = f"one-{client_id}"
    remembered = hermetic_env / ".planet" / name / "client_auth.json"
    default = PLANET_AUTH_DEFAULT[client_type]
    with FaultProxy(server.issuer, record=True, rehost=True) as relay:
        config = profile(server, client_type, client_id, relay.url, **extra)
        ctx = planet_profiles.from_config(config, profile_name=name)
        with caplog.at_level(logging.INFO, logger="planet_profiles.oauth"):
            log_in(ctx, server)
            api_ok(ctx, server)
            # revocation: the refresh token, then the access token (the dev server cannot revoke a JWT one)
            held = ctx.token_manager.cached() if ctx.token_manager is not None else None
            assert held is not None
            revoked = {"refresh_token": "revoked"} if held.refresh_token else {}
            assert ctx.logout() == {**revoked, "access_token": "unsupported"}
        used = [(e.path, e.client_auth, e.status) for e in relay.exchanges if e.client_auth]
        assert used and {path for path, _, _ in used} >= {"/token", "/token/revocation"}
        if named or registered == default:
            # No refusal on the grant: its requests used the registered method at once.
            assert all(method == registered for path, method, _ in used if path != "/token/revocation"), used
            # (planet-auth revokes a client credentials token with HTTP Basic: negotiated for a post-only one)
            assert all(status != 401 for path, _, status in used if named or path != "/token/revocation"), (
                used
            )
        else:
            # The first request went as planet-auth sends it, was refused, and the other method was kept.
            assert used[0][1:] == (default, 401) and used[1][1] == registered, used
            assert all(method == registered for _, method, _ in used[1:]), used
            assert "invalid_client" in caplog.text and registered in caplog.text
            assert json.loads(remembered.read_text())["client_auth_method"] == registered
            # A new process of the same profile starts with what was learned: no refusal any more.
            relay.reset_counts()
            ctx = planet_profiles.from_config(config, profile_name=name)
            log_in(ctx, server)
            api_ok(ctx, server)
            assert {e.client_auth for e in relay.exchanges if e.client_auth} == {registered}
            assert all(e.status != 401 for e in relay.exchanges if e.client_auth)
    secret = server.clients[client_id].client_secret
    assert secret and secret not in caplog.text


def test_a_named_method_is_never_negotiated(server: DevServer) -> None:
    """The profile says `client_secret_basic`; the client is post-only: refused, nothing else tried."""
    with FaultProxy(server.issuer, record=True, rehost=True) as relay:
        config = profile(
            server,
            "oidc_client_credentials_secret",
            "cc-secret-post",
            relay.url,
            client_auth_method="client_secret_basic",
        )
        ctx = planet_profiles.from_config(config, profile_name="named", save_token_file=False)
        with pytest.raises(OAuthError) as refused:
            ctx.token_manager.token()  # type: ignore[union-attr]
        assert refused.value.error == "invalid_client"
        assert [e.client_auth for e in relay.exchanges if e.path == "/token"] == ["client_secret_basic"]


def test_no_negotiation_when_discovery_does_not_list_the_other_method(
    server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A basic-only client refused in the form is not retried when discovery lists only the form."""
    monkeypatch.setattr(_oauth, "_cache", {})
    with FaultProxy(server.issuer, record=True, rehost=True) as relay:
        only_post = Fault.patch(
            lambda meta: {**meta, "token_endpoint_auth_methods_supported": ["client_secret_post"]}
        )
        relay.inject("/.well-known/openid-configuration", only_post, times=None)
        config = profile(server, "oidc_client_credentials_secret", "cc-secret", relay.url)
        ctx = planet_profiles.from_config(config, profile_name="unlisted", save_token_file=False)
        with pytest.raises(OAuthError) as refused:
            ctx.token_manager.token()  # type: ignore[union-attr]
        assert refused.value.error == "invalid_client"
        assert [e.client_auth for e in relay.exchanges if e.path == "/token"] == ["client_secret_post"]


def test_private_key_jwt_is_never_downgraded_to_a_secret(server: DevServer) -> None:
    """A `_pubkey` profile refused with `invalid_client` (wrong key) is not retried with any other method."""
    with FaultProxy(server.issuer, record=True, rehost=True) as relay:
        config = profile(server, "oidc_client_credentials_pubkey", "cc-pubkey", relay.url, key="rsa")
        config["jwt_assertion_kid"] = "not-registered"  # the server knows no such key: invalid_client
        ctx = planet_profiles.from_config(config, profile_name="pubkey", save_token_file=False)
        with pytest.raises(OAuthError) as refused:
            ctx.token_manager.token()  # type: ignore[union-attr]
        assert refused.value.error == "invalid_client"
        assert [e.client_auth for e in relay.exchanges if e.path == "/token"] == ["private_key_jwt"]
