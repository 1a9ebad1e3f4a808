"""The dev server itself: every grant, client authentication and API behaviour the project's tests rely on.

These tests speak plain OAuth over `requests` (no planet-profiles code), so a failure here points at the
server or the fixture, not at the library.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tests.fixtures_devserver import (
    DEVICE_CODE_GRANT,
    DevClient,
    DevServer,
    DevServerFactory,
    approve_device,
    complete_browser_login,
    follow_browser_login,
)

pytestmark = pytest.mark.integration

SIGNING_KEYS = {"RS256": "rsa", "PS256": "rsa", "ES256": "ec"}


# --- plain OAuth client helpers -----------------------------------------------------------------------------


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def client_assertion(
    server: DevServer, client: DevClient, alg: str = "RS256", key_kind: str | None = None
) -> str:
    """RFC 7523 §2.2 private_key_jwt assertion, audience = the token endpoint."""
    kind = key_kind or SIGNING_KEYS[alg]
    password = server.key_passphrase.encode() if kind == "rsaEncrypted" else None
    key = load_pem_private_key(client.private_key_pem(kind).encode(), password=password)
    now = int(time.time())
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": server.token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=alg)  # type: ignore[arg-type]


def authenticated(server: DevServer, client: DevClient, data: dict[str, str]) -> dict[str, Any]:
    """Request arguments that authenticate `client` by its token_endpoint_auth_method."""
    data = dict(data)
    auth = None
    if client.auth_method == "client_secret_basic":
        assert client.client_secret
        auth = (client.client_id, client.client_secret)
    elif client.auth_method == "client_secret_post":
        assert client.client_secret
        data.update(client_id=client.client_id, client_secret=client.client_secret)
    elif client.auth_method == "private_key_jwt":
        data.update(
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion=client_assertion(server, client),
        )
    else:
        data["client_id"] = client.client_id
    return {"data": data, "auth": auth, "timeout": 10}


def post_as(
    http: requests.Session, server: DevServer, client: DevClient, url: str, **data: str
) -> requests.Response:
    return http.post(url, **authenticated(server, client, data))


def token(http: requests.Session, server: DevServer, client: DevClient, **data: str) -> dict[str, Any]:
    response = post_as(http, server, client, server.token_endpoint, **data)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def token_error(http: requests.Session, server: DevServer, client: DevClient, **data: str) -> str:
    response = post_as(http, server, client, server.token_endpoint, **data)
    assert response.status_code == 400, response.text
    error: str = response.json()["error"]
    return error


def call_api(http: requests.Session, url: str, authorization: str | None) -> requests.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return http.get(url, headers=headers, timeout=10)


def claims_of(access_token: str) -> dict[str, Any]:
    """The claims of a JWT access token (signature checked by the API, not here)."""
    result: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return result


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 §4.1-4.2: a code_verifier and its S256 code_challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(server: DevServer, client: DevClient, redirect_uri: str, scope: str, challenge: str) -> str:
    query = {
        "client_id": client.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",  # oidc-provider issues refresh tokens only with offline_access + prompt=consent
    }
    return f"{server.authorization_endpoint}?{urlencode(query)}"


# --- discovery and the protected API ------------------------------------------------------------------------


def test_discovery_matches_the_fixture(http: requests.Session, devserver: DevServer) -> None:
    meta = http.get(devserver.discovery_url, timeout=10).json()

    assert meta["issuer"] == devserver.issuer
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "device_authorization_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ):
        assert meta[name] == getattr(devserver, name)
    assert {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        DEVICE_CODE_GRANT,
        "password",
    } <= set(meta["grant_types_supported"])
    assert meta["code_challenge_methods_supported"] == ["S256"]


def test_api_rejects_missing_and_garbage_tokens(http: requests.Session, devserver: DevServer) -> None:
    missing = call_api(http, devserver.hello_url, None)
    assert missing.status_code == 401
    assert (
        "error=" not in missing.headers["WWW-Authenticate"]
    )  # RFC 6750 §3.1: no error code without credentials

    garbage = call_api(http, devserver.hello_url, "Bearer not-a-jwt")
    assert garbage.status_code == 401
    assert garbage.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in garbage.headers["WWW-Authenticate"]
    assert garbage.json()["error"] == "invalid_token"


@pytest.mark.parametrize("scheme", ["Bearer", "api-key", "Token"])
def test_api_accepts_the_static_api_key_with_any_scheme(
    http: requests.Session, devserver: DevServer, scheme: str
) -> None:
    response = call_api(http, devserver.hello_url, f"{scheme} {devserver.api_key}")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "api_key": True, "scheme": scheme}


def test_api_accepts_basic_auth_and_added_keys(http: requests.Session, devserver: DevServer) -> None:
    key = f"PLAK{uuid.uuid4().hex}"
    basic = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    assert call_api(http, devserver.hello_url, basic).status_code == 401

    devserver.add_api_key(key)

    assert call_api(http, devserver.hello_url, basic).status_code == 200
    assert call_api(http, devserver.hello_url, f"api-key {key}").status_code == 200


# --- client credentials -------------------------------------------------------------------------------------


@pytest.mark.parametrize("client_id", ["cc-secret", "cc-secret-post", "cc-pubkey"])
def test_client_credentials_yield_a_jwt_for_the_api(
    http: requests.Session, devserver: DevServer, client_id: str
) -> None:
    client = devserver.clients[client_id]

    result = token(http, devserver, client, grant_type="client_credentials", scope="api.read")

    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == devserver.access_ttl
    claims = claims_of(result["access_token"])
    assert claims["aud"] == devserver.audience  # no `resource` sent: the API is the default resource
    assert claims["iss"] == devserver.issuer
    assert claims["scope"] == "api.read"
    response = call_api(http, devserver.hello_url, f"Bearer {result['access_token']}")
    assert response.status_code == 200
    assert response.json()["client_id"] == client_id


@pytest.mark.parametrize(
    "alg, key_kind", [("RS256", "rsa"), ("PS256", "rsa"), ("ES256", "ec"), ("RS256", "rsaEncrypted")]
)
def test_private_key_jwt_with_each_key(
    http: requests.Session, devserver: DevServer, alg: str, key_kind: str
) -> None:
    client = devserver.clients["cc-pubkey"]
    data = {
        "grant_type": "client_credentials",
        "scope": "api.read api.write",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(devserver, client, alg, key_kind),
    }

    response = http.post(devserver.token_endpoint, data=data, timeout=10)

    assert response.status_code == 200, response.text
    assert call_api(http, devserver.write_url, f"Bearer {response.json()['access_token']}").status_code == 200


def test_wrong_client_secret_is_invalid_client(http: requests.Session, devserver: DevServer) -> None:
    data = {"grant_type": "client_credentials", "scope": "api.read"}
    response = http.post(devserver.token_endpoint, data=data, auth=("cc-secret", "wrong"), timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_api_write_needs_the_write_scope(http: requests.Session, devserver: DevServer) -> None:
    result = token(
        http, devserver, devserver.clients["cc-secret"], grant_type="client_credentials", scope="api.read"
    )

    response = call_api(http, devserver.write_url, f"Bearer {result['access_token']}")

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


# --- authorization code + PKCE ------------------------------------------------------------------------------


@pytest.mark.parametrize("client_id", ["native-public", "auth-code-secret", "auth-code-pubkey"])
def test_auth_code_pkce_then_refresh_rotates(
    http: requests.Session, devserver: DevServer, client_id: str
) -> None:
    client = devserver.clients[client_id]
    verifier, challenge = pkce_pair()
    redirect_uri = "http://127.0.0.1:8765/callback"  # any loopback port is accepted; nothing listens here
    url = authorize_url(devserver, client, redirect_uri, "openid profile offline_access api.read", challenge)

    redirect = urlsplit(complete_browser_login(url))

    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == redirect_uri
    query = parse_qs(redirect.query)
    assert query["state"] == ["state-123"]
    first = token(
        http,
        devserver,
        client,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )
    assert {"access_token", "refresh_token", "id_token"} <= set(first)
    assert claims_of(first["access_token"])["sub"] == "test-user"
    assert call_api(http, devserver.hello_url, f"Bearer {first['access_token']}").json()["sub"] == "test-user"

    second = token(http, devserver, client, grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert second["refresh_token"] != first["refresh_token"]  # rotated
    assert call_api(http, devserver.hello_url, f"Bearer {second['access_token']}").status_code == 200
    # The used refresh token is dead; re-using it also revokes the grant (reuse detection).
    assert token_error(
        http, devserver, client, grant_type="refresh_token", refresh_token=first["refresh_token"]
    ) == ("invalid_grant")
    assert token_error(
        http, devserver, client, grant_type="refresh_token", refresh_token=second["refresh_token"]
    ) == ("invalid_grant")


@pytest.mark.parametrize(
    "redirect_uri", ["http://localhost:8080", "http://127.0.0.1:53682/", "http://[::1]:9000/callback"]
)
def test_any_loopback_port_is_accepted(devserver: DevServer, redirect_uri: str) -> None:
    _, challenge = pkce_pair()
    url = authorize_url(devserver, devserver.clients["auth-code-secret"], redirect_uri, "openid", challenge)

    redirect = complete_browser_login(url)

    assert redirect.startswith(f"{redirect_uri}?code=") or redirect.startswith(f"{redirect_uri}/?code=")


def test_no_refresh_token_without_prompt_consent(http: requests.Session, devserver: DevServer) -> None:
    client = devserver.clients["native-public"]
    verifier, challenge = pkce_pair()
    redirect_uri = "http://127.0.0.1/callback"
    url = authorize_url(devserver, client, redirect_uri, "openid offline_access", challenge)
    url = url.replace("&prompt=consent", "")

    code = parse_qs(urlsplit(complete_browser_login(url)).query)["code"][0]
    result = token(
        http,
        devserver,
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )

    assert "refresh_token" not in result  # oidc-provider dropped offline_access
    assert result["access_token"].count(".") == 0  # no api.* scope: an opaque userinfo token


def test_public_client_needs_pkce(devserver: DevServer) -> None:
    query = {
        "client_id": "native-public",
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1/callback",
        "scope": "openid",
    }

    redirect = urlsplit(complete_browser_login(f"{devserver.authorization_endpoint}?{urlencode(query)}"))

    error = parse_qs(redirect.query)
    assert error["error"] == ["invalid_request"]
    assert "PKCE" in error["error_description"][0]


def test_auth_code_denied(devserver: DevServer) -> None:
    _, challenge = pkce_pair()
    url = authorize_url(
        devserver, devserver.clients["native-public"], "http://localhost:9/callback", "openid", challenge
    )

    redirect = urlsplit(complete_browser_login(url, deny=True))

    assert parse_qs(redirect.query)["error"] == ["access_denied"]


class _CallbackHandler(BaseHTTPRequestHandler):
    """A client's loopback redirect listener: remembers the query, answers with a short page."""

    received: list[str]

    def do_GET(self) -> None:
        self.received.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"login complete")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_follow_browser_login_reaches_the_listener(devserver: DevServer) -> None:
    received: list[str] = []
    handler = type("Handler", (_CallbackHandler,), {"received": received})
    with HTTPServer(("127.0.0.1", 0), handler) as listener:
        thread = threading.Thread(target=listener.handle_request, daemon=True)
        thread.start()
        redirect_uri = f"http://127.0.0.1:{listener.server_address[1]}/callback"
        _, challenge = pkce_pair()
        url = authorize_url(devserver, devserver.clients["native-public"], redirect_uri, "openid", challenge)

        response = follow_browser_login(url)

        thread.join(timeout=5)
    assert response.text == "login complete"
    assert received and "code=" in received[0]


# --- device authorization grant -----------------------------------------------------------------------------


def start_device(
    http: requests.Session, devserver: DevServer, client: DevClient, scope: str
) -> dict[str, Any]:
    response = post_as(http, devserver, client, devserver.device_authorization_endpoint, scope=scope)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("client_id", ["device-public", "device-secret", "device-pubkey"])
def test_device_flow_approved(http: requests.Session, devserver: DevServer, client_id: str) -> None:
    client = devserver.clients[client_id]
    started = start_device(http, devserver, client, "openid offline_access api.read")
    assert "interval" not in started  # oidc-provider omits it: RFC 8628 §3.2 default of 5 s applies
    poll = {"grant_type": DEVICE_CODE_GRANT, "device_code": started["device_code"]}

    assert token_error(http, devserver, client, **poll) == "authorization_pending"
    approve_device(started["verification_uri_complete"])
    result = token(http, devserver, client, **poll)

    assert claims_of(result["access_token"])["aud"] == devserver.audience
    assert "refresh_token" in result  # offline_access needs no prompt=consent in the device flow
    refreshed = token(
        http, devserver, client, grant_type="refresh_token", refresh_token=result["refresh_token"]
    )
    assert call_api(http, devserver.hello_url, f"Bearer {refreshed['access_token']}").status_code == 200


def test_device_flow_with_typed_user_code(http: requests.Session, devserver: DevServer) -> None:
    client = devserver.clients["device-public"]
    started = start_device(http, devserver, client, "openid")

    approve_device(verification_uri=started["verification_uri"], user_code=started["user_code"])

    result = token(http, devserver, client, grant_type=DEVICE_CODE_GRANT, device_code=started["device_code"])
    assert "access_token" in result


def test_device_flow_denied(http: requests.Session, devserver: DevServer) -> None:
    client = devserver.clients["device-secret"]
    started = start_device(http, devserver, client, "openid api.read")

    approve_device(started["verification_uri_complete"], deny=True)

    error = token_error(
        http, devserver, client, grant_type=DEVICE_CODE_GRANT, device_code=started["device_code"]
    )
    assert error == "access_denied"


def test_device_interval_and_slow_down(http: requests.Session, devserver_factory: DevServerFactory) -> None:
    server = devserver_factory(device_interval=3)
    client = server.clients["device-public"]
    started = start_device(http, server, client, "openid")
    poll = {"grant_type": DEVICE_CODE_GRANT, "device_code": started["device_code"]}

    assert started["interval"] == 3
    assert token_error(http, server, client, **poll) == "authorization_pending"
    assert token_error(http, server, client, **poll) == "slow_down"  # RFC 8628 §3.5


# --- resource owner password credentials --------------------------------------------------------------------


@pytest.mark.parametrize("client_id", ["ro-public", "ro-secret", "ro-pubkey"])
def test_password_grant(http: requests.Session, devserver: DevServer, client_id: str) -> None:
    client = devserver.clients[client_id]
    login = {"grant_type": "password", "username": "alice", "scope": "openid offline_access api.read"}

    assert token_error(http, devserver, client, **login, password="wrong") == "invalid_grant"
    result = token(http, devserver, client, **login, password=devserver.password)

    assert claims_of(result["id_token"])["sub"] == "alice"
    assert claims_of(result["access_token"])["scope"] == "api.read"
    assert call_api(http, devserver.hello_url, f"Bearer {result['access_token']}").json()["sub"] == "alice"
    refreshed = token(
        http, devserver, client, grant_type="refresh_token", refresh_token=result["refresh_token"]
    )
    assert refreshed["refresh_token"] != result["refresh_token"]
    assert call_api(http, devserver.hello_url, f"Bearer {refreshed['access_token']}").status_code == 200


# --- opaque tokens: userinfo, introspection, revocation -----------------------------------------------------


def test_user_token_without_api_scope_is_opaque_and_revocable(
    http: requests.Session, devserver: DevServer
) -> None:
    client = devserver.clients["ro-secret"]
    result = token(
        http,
        devserver,
        client,
        grant_type="password",
        username="bob",
        password="password",
        scope="openid email",
    )
    access_token = result["access_token"]
    assert access_token.count(".") == 0  # opaque

    userinfo = http.get(
        devserver.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )
    assert userinfo.json() == {"sub": "bob", "email": "bob@example.com", "email_verified": True}
    introspected = post_as(
        http, devserver, client, devserver.introspection_endpoint, token=access_token
    ).json()
    assert introspected["active"] is True
    assert introspected["sub"] == "bob"
    assert introspected["client_id"] == "ro-secret"

    revoked = post_as(http, devserver, client, devserver.revocation_endpoint, token=access_token)

    assert revoked.status_code == 200
    assert post_as(http, devserver, client, devserver.introspection_endpoint, token=access_token).json() == {
        "active": False
    }


def test_opaque_resource_token_is_introspectable(http: requests.Session, devserver: DevServer) -> None:
    client = devserver.clients["cc-pubkey"]
    result = token(
        http,
        devserver,
        client,
        grant_type="client_credentials",
        scope="api.read",
        resource=devserver.opaque_resource,
    )

    introspected = post_as(
        http, devserver, client, devserver.introspection_endpoint, token=result["access_token"]
    ).json()

    assert introspected["active"] is True
    assert introspected["aud"] == devserver.opaque_resource
    assert introspected["scope"] == "api.read"
    assert (
        call_api(http, devserver.hello_url, f"Bearer {result['access_token']}").status_code == 401
    )  # API takes JWTs


# --- counters and short-lived tokens ------------------------------------------------------------------------


def test_stats_count_token_requests(http: requests.Session, devserver: DevServer) -> None:
    server = devserver  # shared, but tests run one at a time per process: resetting first is enough
    client = server.clients["cc-secret"]
    assert server.reset_stats()["token_requests"] == 0

    for _ in range(2):
        token(http, server, client, grant_type="client_credentials", scope="api.read")
    token_error(
        http, server, server.clients["ro-public"], grant_type="password", username="x", password="bad"
    )

    assert server.stats() == {
        "token_requests": 3,
        "by_grant": {"client_credentials": 2, "password": 1},
        "token_errors": 1,
        "errors_by_grant": {"password": 1},
    }


def test_short_access_ttl(http: requests.Session, devserver_factory: DevServerFactory) -> None:
    server = devserver_factory(access_ttl=1)
    result = token(
        http, server, server.clients["cc-secret"], grant_type="client_credentials", scope="api.read"
    )
    assert result["expires_in"] == 1

    time.sleep(2.1)

    response = call_api(http, server.hello_url, f"Bearer {result['access_token']}")
    assert response.status_code == 401
    assert "exp" in response.json()["error_description"]
