"""Logout revokes the refresh token, then the access token (RFC 7009), and deletes local tokens whatever the
server answers (SECURITY REV-01); introspection (RFC 7662) and userinfo on a real session."""

from __future__ import annotations

from pathlib import Path

import pytest

import planet_profiles
from planet_profiles import TransportError
from tests.fixtures_devserver import DevServer, approve_device

pytestmark = pytest.mark.integration


def _device_session(server: DevServer, name: str = "dev") -> planet_profiles.AuthContext:
    client = server.clients["device-secret"]
    config = {
        "client_type": "oidc_device_code_secret",
        "auth_server": server.issuer,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "scopes": ["openid", "profile", "offline_access"],
    }
    ctx = planet_profiles.from_config(config, profile_name=name)
    info = ctx.device_login_initiate()
    approve_device(verification_uri=info["verification_uri"], user_code=info["user_code"])
    ctx.device_login_complete(info)
    return ctx


def test_userinfo_introspect_and_logout(devserver_factory, hermetic_env: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = _device_session(devserver_factory(device_interval=1))
    token_file = ctx.token_file_path()
    assert token_file is not None and token_file.exists()
    assert ctx.userinfo()["sub"]
    assert ctx.introspect()["active"] is True
    assert ctx.introspect("refresh_token")["active"] is True
    assert "openid" in ctx.scopes_supported()
    token = ctx.token_manager.cached()  # type: ignore[union-attr]
    assert token is not None and token.refresh_token

    ctx.logout()

    assert not token_file.exists()
    client = ctx.auth_client()
    assert client.introspect(token.refresh_token, "refresh_token") == {"active": False}  # type: ignore[attr-defined]
    assert client.introspect(token.access_token) == {"active": False}  # type: ignore[attr-defined]
    assert not ctx.request_authenticator_is_ready()


def test_logout_deletes_local_tokens_even_when_the_server_is_down(
    devserver: DevServer, hermetic_env: Path
) -> None:
    ctx = _device_session(devserver, "down")
    token_file = ctx.token_file_path()
    assert token_file is not None and token_file.exists()
    # The profile's revocation endpoint now points at a port where nothing listens.
    down = dict(
        ctx.auth_client().config.to_dict(reveal_secrets=True), revocation_endpoint="http://127.0.0.1:9/revoke"
    )
    broken = planet_profiles.from_config(down, profile_name="down")
    with pytest.raises(TransportError):
        broken.logout()
    assert not token_file.exists()
