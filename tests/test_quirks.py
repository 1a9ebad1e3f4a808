"""Real identity providers' quirks (issue 10), each played on the real dev server's answers by the fault
relay (`Fault.patch` rewrites them), plus the refresh window (`token_refresh_window`).

Profiles reach the server through a `rehost` relay: `auth_server` is the relay, `issuer` the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import planet_profiles
from planet_profiles import _oauth
from planet_profiles._context import AuthContext
from planet_profiles._errors import ConfigError, DiscoveryError
from planet_profiles._token_manager import RefreshWindow, TokenManager, refresh_at
from planet_profiles._tokens import MemoryTokenStore, Token
from tests.fault_proxy import Fault, FaultProxy
from tests.fixtures_devserver import DevServer, DevServerFactory, approve_device

pytestmark = pytest.mark.integration

TOKEN = "/token"  # noqa: S105 - a path
DISCOVERY = "/.well-known/openid-configuration"


@pytest.fixture
def relay(devserver: DevServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    monkeypatch.setattr(_oauth, "_cache", {})
    with FaultProxy(devserver.issuer, rehost=True) as proxy:
        yield proxy


def context(
    server: DevServer, relay: FaultProxy, client_type: str, client_id: str, **extra: Any
) -> AuthContext:
    config = {
        **server.profile(client_type, client_id),
        "auth_server": relay.url,
        "issuer": server.issuer,
        **extra,
    }
    return planet_profiles.from_config(config, profile_name=f"q-{client_id}", save_token_file=False)


def token_of(ctx: AuthContext) -> Token:
    assert ctx.token_manager is not None
    return ctx.token_manager.token()


def edit(**changes: Any) -> Fault:
    """Replace (or, with None, remove) members of the server's JSON answer."""

    def apply(payload: dict[str, Any]) -> dict[str, Any]:
        out = {**payload, **{k: v for k, v in changes.items() if v is not None}}
        return {k: v for k, v in out.items() if changes.get(k, "") is not None}

    return Fault.patch(apply)


def test_expires_in_as_a_string(devserver: DevServer, relay: FaultProxy) -> None:
    relay.inject(TOKEN, edit(expires_in="3599"))
    token = token_of(context(devserver, relay, "oidc_client_credentials_secret", "cc-secret-post"))
    assert token.expires_at is not None and token.issued_at is not None
    assert token.expires_at - token.issued_at == 3599 and token.data["expires_in"] == 3599


def test_token_type_in_lower_case_still_sends_bearer(devserver: DevServer, relay: FaultProxy) -> None:
    relay.inject(TOKEN, edit(token_type="bearer"))
    ctx = context(devserver, relay, "oidc_client_credentials_secret", "cc-secret-post")
    answer = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200 and answer.json()["client_id"] == "cc-secret-post"


def test_no_scope_in_the_response_keeps_the_requested_one(devserver: DevServer, relay: FaultProxy) -> None:
    relay.inject(TOKEN, edit(scope=None))
    token = token_of(context(devserver, relay, "oidc_client_credentials_secret", "cc-secret-post"))
    assert token.scope == "api.read"


def test_opaque_access_tokens_are_never_parsed(devserver: DevServer, relay: FaultProxy) -> None:
    """An access token that is not a JWT (and one whose `exp` claim disagrees with `expires_in`) is used as
    given, for as long as `expires_in` says."""
    relay.inject(TOKEN, edit(access_token="opaque.not-a-jwt.at all", expires_in=120))
    ctx = context(devserver, relay, "oidc_client_credentials_secret", "cc-secret-post")
    assert ctx.request_authenticator().header_value() == "Bearer opaque.not-a-jwt.at all"  # type: ignore[attr-defined]
    token = token_of(ctx)
    assert token.expires_at is not None and token.issued_at is not None
    assert token.expires_at - token.issued_at == 120


def password_login(server: DevServer, relay: FaultProxy) -> AuthContext:
    ctx = context(server, relay, "oidc_resource_owner", "ro-public")
    ctx.login(username=server.username, password=server.password)
    return ctx


def test_refresh_with_extra_members_an_id_token_without_nonce_and_no_new_refresh_token(
    devserver: DevServer, relay: FaultProxy
) -> None:
    ctx = password_login(devserver, relay)
    assert ctx.token_manager is not None
    first = ctx.token_manager.cached()
    assert first is not None and first.refresh_token
    nonceless = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4IiwiYXVkIjoieSJ9."  # no `nonce`: a refresh's ID token
    relay.inject(
        TOKEN,
        edit(refresh_token=None, refresh_expires_in=1800, **{"not-before-policy": 0}, id_token=nonceless),
    )
    renewed = ctx.auth_client().refresh(first)
    assert renewed.access_token != first.access_token
    assert renewed.refresh_token == first.refresh_token  # RFC 6749 §6: the old one stays
    assert renewed.data["refresh_expires_in"] == 1800 and renewed.id_token == nonceless


def device_context(server: DevServer, relay: FaultProxy, hooks: dict[int, Any] | None = None) -> AuthContext:
    """A device-code context with a fake clock; `hooks[n]()` runs at the n-th wait."""
    ctx = context(server, relay, "oidc_device_code", "device-public")
    client: Any = ctx.auth_client()
    clock = [1000.0]
    client._clock = lambda: clock[0]
    client.sleeps = []

    def sleep(seconds: float) -> None:
        client.sleeps.append(seconds)
        clock[0] += seconds
        (hooks or {}).get(len(client.sleeps), lambda: None)()

    client._sleep = sleep
    return ctx


def test_device_response_with_verification_url_and_no_interval(
    devserver: DevServer, relay: FaultProxy
) -> None:
    def google_style(payload: dict[str, Any]) -> dict[str, Any]:
        payload = {k: v for k, v in payload.items() if k not in ("interval", "verification_uri_complete")}
        payload["verification_url"] = payload.pop("verification_uri")
        return payload

    relay.inject("/device/auth", Fault.patch(google_style))
    ctx = device_context(devserver, relay)
    info = ctx.device_login_initiate()
    assert info["verification_uri"] == info["verification_url"]
    approve_device(verification_uri=info["verification_uri"], user_code=info["user_code"])
    ctx.device_login_complete(info)
    assert ctx.auth_client().sleeps == [5.0]  # type: ignore[attr-defined]  # RFC 8628 §3.2 default


@pytest.mark.parametrize("status", [400, 401])
def test_pending_and_slow_down_as_400_or_401(devserver: DevServer, relay: FaultProxy, status: int) -> None:
    info: dict[str, Any] = {}
    ctx = device_context(devserver, relay, {3: lambda: approve_device(info["verification_uri_complete"])})
    info.update(ctx.device_login_initiate())
    for error in ("authorization_pending", "slow_down"):  # the server's real answers: still pending
        relay.inject(TOKEN, Fault.patch(lambda _, e=error: {"error": e}, status=status))
    ctx.device_login_complete(info)
    assert ctx.auth_client().sleeps == [5.0, 5.0, 10.0]  # type: ignore[attr-defined]  # slow_down: +5 s


def test_discovery_without_revocation_or_device_endpoint(devserver: DevServer, relay: FaultProxy) -> None:
    relay.inject(DISCOVERY, edit(revocation_endpoint=None, device_authorization_endpoint=None), times=None)
    ctx = password_login(devserver, relay)
    with pytest.raises(DiscoveryError) as missing:
        ctx.logout()
    assert missing.value.key == "revocation_endpoint" and "revocation_endpoint" in str(missing.value)
    assert ctx.token_manager is not None and ctx.token_manager.cached() is None  # deleted all the same
    with pytest.raises(DiscoveryError) as missing:
        context(devserver, relay, "oidc_device_code", "device-public").device_login_initiate()
    assert missing.value.key == "device_authorization_endpoint"
    assert "Set `device_authorization_endpoint` in the profile" in str(missing.value.hint)


# ---------------------------------------------------------------- the refresh window


def token(lifetime: float) -> Token:
    return Token({"access_token": "at", "_iat": 1000, "_exp": 1000 + lifetime})


@pytest.mark.parametrize(
    ("setting", "lifetime", "renew_at"),
    [
        (None, 3600, 4540),  # 60 s before
        (None, 300, 1270),  # 10 %
        (None, 3, 1002),  # at least 1 s before
        (None, 1, 1000.5),  # ... or half the lifetime
        ("25%", 3600, 3700),  # planet-auth's 75 %
        ("120s", 3600, 4480),
        ("120s", 100, 1050),  # at most half the lifetime
    ],
)
def test_refresh_window(setting: str | None, lifetime: float, renew_at: float) -> None:
    window = RefreshWindow.parse(setting) if setting else RefreshWindow()
    assert refresh_at(token(lifetime), window) == renew_at


def test_refresh_window_from_profile_env_and_argument(
    devserver: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = devserver.profile("oidc_client_credentials_secret", "cc-secret-post")
    client = planet_profiles.from_config(config, profile_name="w", save_token_file=False).auth_client()
    assert TokenManager(client, MemoryTokenStore()).refresh_window == RefreshWindow()
    monkeypatch.setenv("PL_AUTH_TOKEN_REFRESH_WINDOW", "25%")
    assert TokenManager(client, MemoryTokenStore()).refresh_window == RefreshWindow(float("inf"), 0.25)
    assert TokenManager(client, MemoryTokenStore(), refresh_window="30s").refresh_window.seconds == 30
    pinned = planet_profiles.from_config(
        {**config, "token_refresh_window": "120s"}, profile_name="w2", save_token_file=False
    )
    assert pinned.token_manager is not None and pinned.token_manager.refresh_window.seconds == 120
    monkeypatch.setenv("PL_AUTH_TOKEN_REFRESH_WINDOW", "soon")
    with pytest.raises(ConfigError) as bad:
        TokenManager(client, MemoryTokenStore())
    assert bad.value.key == "PL_AUTH_TOKEN_REFRESH_WINDOW" and "25%" in str(bad.value)
    with pytest.raises(ConfigError):
        planet_profiles.from_config({**config, "token_refresh_window": "95%"}, profile_name="w3")


def test_tokens_living_two_seconds_are_never_sent_expired(devserver_factory: DevServerFactory) -> None:
    server = devserver_factory(access_ttl=2)
    config = server.profile("oidc_client_credentials_secret", "cc-secret-post")
    ctx = planet_profiles.from_config(config, profile_name="short", save_token_file=False)
    server.reset_stats()
    statuses = []
    with requests.Session() as session:
        session.trust_env = False
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            statuses.append(
                session.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10).status_code
            )
            time.sleep(0.05)
    assert set(statuses) == {200}, statuses  # the API checks `exp`: an expired token would be a 401
    assert server.stats()["by_grant"]["client_credentials"] >= 4  # renewed about every second
