"""Stage "talk to the auth server": OIDC discovery, client authentication and the token endpoint.

Transport-agnostic spec logic (the HTTP itself is `_http.request`). Endpoints come from discovery
(`<auth_server>/.well-known/openid-configuration`) unless the profile overrides them; the returned
`issuer` must equal the configured one (SECURITY DISC-01, RFC 8414 §3.3). Errors keep the RFC 6749 §5.2
`error` / `error_description` on `OAuthError`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from . import _http
from ._errors import AccessDeniedError, DiscoveryError, ExpiredTokenError, InvalidGrantError, OAuthError
from ._tokens import Token

__all__ = [
    "JWT_BEARER_ASSERTION",
    "AssertionSource",
    "ClientAuth",
    "error_from",
    "discover",
    "endpoint",
    "normalize_issuer",
    "token_request",
]

_DISCOVERY_TTL = 3600.0
_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def normalize_issuer(url: str) -> str:
    """Issuers are compared without a trailing slash (Planet's are configured with one)."""
    return url.rstrip("/")


def _setting(config: Any, key: str) -> Any:
    return getattr(config, key, None)


def discover(config: Any, *, file: str | None = None) -> dict[str, Any]:
    """Fetch (and cache per process) the server's OIDC metadata, checking that `issuer` matches."""
    auth_server = str(_setting(config, "auth_server"))
    expected = normalize_issuer(str(_setting(config, "issuer") or auth_server))
    cache_key = (auth_server, expected)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(cache_key)
        if hit and now - hit[0] < _DISCOVERY_TTL:
            return hit[1]
    url = normalize_issuer(auth_server) + "/.well-known/openid-configuration"
    resp = _http.request("GET", url, headers={"Accept": "application/json"})
    if resp.status != 200:
        raise DiscoveryError(
            f"discovery at {url} answered HTTP {resp.status}",
            file=file,
            key="auth_server",
            hint="Check `auth_server` in the profile, or set the endpoint keys (e.g. `token_endpoint`)",
        )
    try:
        meta = resp.json()
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise DiscoveryError(f"discovery at {url} did not return a JSON object", file=file, key="auth_server")
    issuer = meta.get("issuer")
    if not isinstance(issuer, str) or normalize_issuer(issuer) != expected:
        raise DiscoveryError(
            f"discovery at {url} names issuer {issuer!r}, expected {expected!r}",
            file=file,
            key="issuer" if _setting(config, "issuer") else "auth_server",
            hint="That is not the configured auth server; fix `auth_server` (or `issuer`) in the profile",
        )
    with _cache_lock:
        _cache[cache_key] = (now, meta)
    return meta


def endpoint(config: Any, key: str, *, file: str | None = None) -> str:
    """The URL of `key` (e.g. `token_endpoint`): the profile's override, else discovery's."""
    override = _setting(config, key)
    if override:
        return str(override)
    meta_key = "jwks_uri" if key == "jwks_endpoint" else key
    value = discover(config, file=file).get(meta_key)
    if not isinstance(value, str) or not value:
        raise DiscoveryError(
            f"the server's metadata has no `{meta_key}`",
            file=file,
            key=key,
            hint=f"Set `{key}` in the profile",
        )
    return value


class AssertionSource(Protocol):
    """Makes private_key_jwt client assertions (see `_assertion.AssertionSigner`)."""

    audience: str | None  # the profile's `jwt_assertion_audience`; None: the endpoint's URL

    def assertion(self, audience: str) -> str: ...


JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class ClientAuth:
    """How the client authenticates at the token endpoint (RFC 6749 §2.3).

    `none` sends `client_id` in the form; `client_secret_basic` sends HTTP Basic with the form-urlencoded id
    and secret (§2.3.1); `client_secret_post` sends both in the form; `private_key_jwt` sends a new signed
    assertion per request (RFC 7523 §2.2, SECURITY JWT-01/03). Secrets never show in `repr`.
    """

    METHODS = ("none", "client_secret_basic", "client_secret_post", "private_key_jwt")

    def __init__(
        self,
        client_id: str,
        method: str = "none",
        secret: str | None = None,
        *,
        signer: AssertionSource | None = None,
    ) -> None:
        if method not in self.METHODS:
            raise ValueError(f"unsupported client auth method {method!r}")
        if method == "private_key_jwt" and signer is None:
            raise ValueError("private_key_jwt needs a signer")
        self.client_id = client_id
        self.method = method
        self._secret = secret
        self._signer = signer

    def apply(self, form: dict[str, str], headers: dict[str, str], *, endpoint_url: str) -> None:
        """Add the client's credentials to an outgoing request to `endpoint_url` (token, revocation, …)."""
        if self.method == "client_secret_basic":
            raw = f"{quote(self.client_id, safe='')}:{quote(self._secret or '', safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(raw.encode()).decode()
            return
        form["client_id"] = self.client_id
        if self.method == "client_secret_post":
            form["client_secret"] = self._secret or ""
        elif self.method == "private_key_jwt":
            assert self._signer is not None
            form["client_assertion_type"] = JWT_BEARER_ASSERTION
            form["client_assertion"] = self._signer.assertion(self._signer.audience or endpoint_url)

    def __repr__(self) -> str:
        return f"ClientAuth(client_id={self.client_id!r}, method={self.method!r})"


_ERROR_CLASSES: dict[str, type[OAuthError]] = {
    "invalid_grant": InvalidGrantError,
    "access_denied": AccessDeniedError,
    "expired_token": ExpiredTokenError,
}


def error_from(resp: _http.HttpResponse, url: str, *, file: str | None) -> OAuthError:
    """The typed error for an OAuth endpoint's error answer (RFC 6749 §5.2 `error`, `error_description`)."""
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    where = urlsplit(url)
    place = f"{where.netloc}{where.path}"
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return OAuthError(f"{place} answered HTTP {resp.status}", status_code=resp.status, file=file)
    error = body["error"]
    description = body.get("error_description") if isinstance(body.get("error_description"), str) else None
    message = f"{place} refused the request: {error}" + (f" ({description})" if description else "")
    hints = {
        "invalid_client": "Check `client_id` and the client secret or key in the profile",
        "invalid_scope": "Check `scopes` in the profile against the scopes the server allows",
        "unauthorized_client": "The client may not use this grant; check `client_type` against the server",
        "invalid_grant": "Log in again (`planet-profiles login NAME`)",
    }
    cls = _ERROR_CLASSES.get(error, OAuthError)
    return cls(
        message,
        error=error,
        error_description=description,
        status_code=resp.status,
        file=file,
        hint=hints.get(error),
    )


def token_request(
    config: Any,
    form: Mapping[str, str],
    client_auth: ClientAuth,
    *,
    file: str | None = None,
    policy: _http.RetryPolicy | None = None,
) -> Token:
    """POST a grant to the token endpoint (RFC 6749 §3.2) and return the stamped `Token`."""
    url = endpoint(config, "token_endpoint", file=file)
    body = dict(form)
    headers = {"Accept": "application/json"}
    client_auth.apply(body, headers, endpoint_url=url)
    resp = _http.request("POST", url, data=body, headers=headers, policy=policy)
    if resp.status != 200:
        raise error_from(resp, url, file=file)
    try:
        payload = json.loads(resp.body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
        raise OAuthError(
            "token endpoint returned no `access_token` in a JSON object", status_code=resp.status, file=file
        )
    token_type = payload.get("token_type")
    if isinstance(token_type, str) and token_type.lower() not in ("bearer", "dpop"):
        raise OAuthError(f"unsupported token_type {token_type!r}", file=file)
    return Token.from_response(payload)
