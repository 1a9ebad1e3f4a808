"""The request authenticator: one object for requests, httpx and httpx async; a 401 is retried once with a
fresh token; the bearer goes only in the `Authorization` header."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httpx
import pytest
import requests

import planet_profiles
from planet_profiles import ConfigError
from planet_profiles._authenticator import ApiOrigins
from tests.fixtures_devserver import DevServer

pytestmark = pytest.mark.integration


def _context_with_dead_token(server: DevServer) -> planet_profiles.AuthContext:
    """A token the server refuses although it has not expired yet (revoked, rotated keys, ...)."""
    config = server.profile("oidc_client_credentials_secret", "cc-secret")
    dead = {
        "access_token": "not-a-valid-token",
        "expires_in": 3600,
        "_iat": int(time.time()),
        "_exp": int(time.time()) + 3600,
        "token_type": "Bearer",
    }
    return planet_profiles.from_config(
        config, profile_name="dead", initial_token_data=dead, save_token_file=False
    )


def test_requests_retries_a_401_once_with_a_fresh_token(devserver: DevServer) -> None:
    ctx = _context_with_dead_token(devserver)
    devserver.reset_stats()
    with requests.Session() as session:
        first = session.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
        assert first.status_code == 200
        assert [r.status_code for r in first.history] == [401]
        assert first.request.headers["Authorization"] != "Bearer not-a-valid-token"
        second = session.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert second.status_code == 200 and second.history == []
    assert devserver.stats()["token_requests"] == 1


def test_httpx_sync_and_async_retry_a_401_once(devserver: DevServer) -> None:
    ctx = _context_with_dead_token(devserver)
    devserver.reset_stats()
    with httpx.Client(auth=ctx.request_authenticator(), timeout=10) as client:
        response = client.get(devserver.hello_url)
    assert response.status_code == 200 and [r.status_code for r in response.history] == [401]
    assert devserver.stats()["token_requests"] == 1

    ctx = _context_with_dead_token(devserver)
    devserver.reset_stats()

    async def many() -> list[int]:
        async with httpx.AsyncClient(auth=ctx.request_authenticator(), timeout=10) as client:
            return [
                r.status_code
                for r in await asyncio.gather(*(client.get(devserver.hello_url) for _ in range(20)))
            ]

    assert asyncio.run(many()) == [200] * 20
    assert devserver.stats()["token_requests"] == 1  # twenty 401s, one renewal


def test_a_second_401_is_returned_not_retried_forever(devserver: DevServer) -> None:
    """The write endpoint refuses read-only tokens (403) and a bad static key stays 401: no loop."""
    ctx = planet_profiles.from_config(
        {"client_type": "static_apikey", "api_key": "wrong-key"}, profile_name="k", save_token_file=False
    )
    response = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert response.status_code == 401 and response.history == []


def test_bearer_only_in_the_authorization_header(devserver: DevServer) -> None:
    ctx = _context_with_dead_token(devserver)
    response = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    token = response.request.headers["Authorization"].split(" ", 1)[1]
    assert token not in (response.request.url or "")
    assert response.request.body is None
    assert "not-a-valid-token" not in repr(ctx.request_authenticator())
    assert token not in repr(ctx) + repr(ctx.token_manager) + repr(ctx.token_manager.cached())  # type: ignore[union-attr]


def test_allowed_api_hosts_limits_where_credentials_go(devserver: DevServer) -> None:
    """TOK-02: with `allowed_api_hosts`, the header goes only to those hosts (requests, httpx, async)."""
    config = devserver.profile("oidc_client_credentials_secret", "cc-secret", allowed_api_hosts=["localhost"])
    ctx = planet_profiles.from_config(config, profile_name="pinned", save_token_file=False)
    auth = ctx.request_authenticator()
    allowed = devserver.hello_url.replace("127.0.0.1", "localhost")
    assert requests.get(allowed, auth=auth, timeout=10).status_code == 200
    refused = requests.get(devserver.hello_url, auth=auth, timeout=10)  # 127.0.0.1 is not listed
    assert refused.status_code == 401 and "Authorization" not in refused.request.headers
    with httpx.Client(auth=auth, timeout=10) as client:
        assert client.get(allowed).status_code == 200
        assert "authorization" not in client.get(devserver.hello_url).request.headers

    async def both() -> tuple[int, int]:
        async with httpx.AsyncClient(auth=auth, timeout=10) as client:
            return (await client.get(allowed)).status_code, (
                await client.get(devserver.hello_url)
            ).status_code

    assert asyncio.run(both()) == (200, 401)
    key = planet_profiles.from_config(
        {"client_type": "static_apikey", "api_key": devserver.api_key, "allowed_api_hosts": ["localhost"]},
        profile_name="key",
        save_token_file=False,
    )
    assert requests.get(devserver.hello_url, auth=key.request_authenticator(), timeout=10).status_code == 401
    assert requests.get(allowed, auth=key.request_authenticator(), timeout=10).status_code == 200


# ---------------------------------------------------------------- planet-auth's `auth_flow` contract


class _PlanetAuthStyle(httpx.Auth):
    """What the planet SDK's `planet.Auth._from_plauth(ctx)` builds: an httpx.Auth whose `auth_flow` is
    `ctx.request_authenticator().auth_flow(request)` (httpx's default sync and async flows drive it)."""

    def __init__(self, ctx: planet_profiles.AuthContext) -> None:
        self._ctx = ctx

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        return self._ctx.request_authenticator().auth_flow(request)


def test_auth_flow_yields_the_request_with_its_header(devserver: DevServer) -> None:
    ctx = planet_profiles.from_config(
        devserver.profile("oidc_client_credentials_secret", "cc-secret"),
        profile_name="cc",
        save_token_file=False,
    )
    flow = ctx.request_authenticator().auth_flow(httpx.Request("GET", devserver.hello_url))
    request = next(flow)
    assert request.headers["Authorization"].startswith("Bearer ")
    with pytest.raises(StopIteration):  # a 200: nothing more to send
        flow.send(httpx.Response(200, request=request))

    with httpx.Client(auth=_PlanetAuthStyle(ctx), timeout=10) as client:
        response = client.get(devserver.hello_url)
    assert response.status_code == 200 and response.json()["client_id"] == "cc-secret"

    async def one() -> int:
        async with httpx.AsyncClient(auth=_PlanetAuthStyle(ctx), timeout=10) as client:
            return (await client.get(devserver.hello_url)).status_code

    assert asyncio.run(one()) == 200


def test_auth_flow_refreshes_first_and_retries_a_401(devserver: DevServer) -> None:
    config = devserver.profile("oidc_client_credentials_secret", "cc-secret")
    expired = {
        "access_token": "expired-token",
        "token_type": "Bearer",
        "expires_in": 60,
        "_iat": int(time.time()) - 120,
        "_exp": int(time.time()) - 60,
    }
    ctx = planet_profiles.from_config(
        config, profile_name="old", initial_token_data=expired, save_token_file=False
    )
    devserver.reset_stats()
    with httpx.Client(auth=_PlanetAuthStyle(ctx), timeout=10) as client:
        response = client.get(devserver.hello_url)
    assert response.status_code == 200 and response.history == []  # refreshed before sending
    assert response.request.headers["Authorization"] != "Bearer expired-token"
    assert devserver.stats()["token_requests"] == 1

    ctx = _context_with_dead_token(devserver)
    with httpx.Client(auth=_PlanetAuthStyle(ctx), timeout=10) as client:
        response = client.get(devserver.hello_url)
    assert response.status_code == 200 and [r.status_code for r in response.history] == [401]


def test_without_auth_flow_the_header_is_missing(devserver: DevServer) -> None:
    """The control: httpx.Auth's own `auth_flow` (what the SDK got before) sends no header: 401."""
    with httpx.Client(auth=httpx.Auth(), timeout=10) as client:
        response = client.get(devserver.hello_url)
    assert response.status_code == 401 and "authorization" not in response.request.headers


def test_allowed_api_hosts_compare_scheme_host_and_port() -> None:
    """TOK-12: entries are origins (scheme, host, port), default ports by scheme; http only to loopback."""
    cases: list[tuple[list[str], list[tuple[str, str, int | None]], list[tuple[str, str, int | None]]]] = [
        (
            ["https://API.example.com"],
            [("https", "api.example.com", None), ("https", "api.example.com", 443)],
            [
                ("http", "api.example.com", None),
                ("https", "api.example.com", 8443),
                ("https", "example.com", None),
            ],
        ),
        (
            ["api.example.com:8443"],
            [("https", "api.example.com", 8443)],
            [("https", "api.example.com", None), ("http", "api.example.com", 8443)],
        ),
        (
            ["api.example.com"],  # a plain host name: https on its default port
            [("https", "api.example.com", 443)],
            [
                ("http", "api.example.com", None),
                ("https", "api.example.com", 8443),
                ("ws", "api.example.com", 443),
            ],
        ),
        (
            ["localhost", "http://127.0.0.1:8080", "[::1]:9000"],
            [("http", "localhost", 5000), ("https", "localhost", None), ("http", "127.0.0.1", 8080)]
            + [("http", "::1", 9000), ("https", "::1", 9000)],
            [("http", "127.0.0.1", 8081), ("https", "127.0.0.1", 8080), ("http", "::1", 9001)],
        ),
    ]
    for entries, allowed, refused in cases:
        origins = ApiOrigins(entries)
        for scheme, host, port in allowed:
            assert origins.allows(scheme, host, port), (entries, scheme, host, port)
        for scheme, host, port in refused:
            assert not origins.allows(scheme, host, port), (entries, scheme, host, port)
    origins = ApiOrigins(["https://api.example.com"])
    for _ in range(2):  # computed, then remembered per `scheme://authority`
        assert origins.allows_url("https://API.example.com/v1?q=1") and origins.allows_url(
            "https://api.example.com"
        )
        assert origins.allows_url("https://api.example.com:443/")
        assert not origins.allows_url("https://api.example.com.evil.example/")
        assert not origins.allows_url("https://api.example.com@evil.example/")  # user info is not the host
        assert not origins.allows_url("https://api.example.com:8443/") and not origins.allows_url(
            "http://api.example.com/"
        )
        assert not origins.allows_url("https://api.example.com:xx/")


@pytest.mark.parametrize("entry", ["http://api.example.com", "https://api.example.com/v1", "ftp://x", "a b"])
def test_allowed_api_hosts_entries_that_cannot_be_origins_are_refused(entry: str) -> None:
    with pytest.raises(ConfigError) as caught:
        planet_profiles.from_config(
            {"client_type": "static_apikey", "api_key": "k", "allowed_api_hosts": [entry]},
            profile_name="bad",
            save_token_file=False,
        )
    assert "allowed_api_hosts" in str(caught.value) and "plain http only for 127.0.0.1" in str(caught.value)


def test_allowed_api_hosts_ports_on_the_wire(devserver: DevServer) -> None:
    """The API's own port gets the key; the same host on another port (the auth server's) does not."""
    api_port = urlsplit(devserver.hello_url).port
    other_port = urlsplit(devserver.issuer).port
    for entry, expected in ((f"127.0.0.1:{api_port}", 200), (f"http://127.0.0.1:{other_port}", 401)):
        key = planet_profiles.from_config(
            {"client_type": "static_apikey", "api_key": devserver.api_key, "allowed_api_hosts": [entry]},
            profile_name="key",
            save_token_file=False,
        )
        auth = key.request_authenticator()
        assert requests.get(devserver.hello_url, auth=auth, timeout=10).status_code == expected, entry
        with httpx.Client(auth=auth, timeout=10) as client:
            assert client.get(devserver.hello_url).status_code == expected, entry
