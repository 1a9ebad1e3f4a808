"""Stage "talk to the auth server": OIDC discovery, client authentication and the token endpoint.

Transport-agnostic spec logic (the HTTP itself is `_http.request`). Endpoints come from discovery
(`<auth_server>/.well-known/openid-configuration`) unless the profile overrides them; the returned
`issuer` must equal the configured one (SECURITY DISC-01, RFC 8414 §3.3). Errors keep the RFC 6749 §5.2
`error` / `error_description` on `OAuthError`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

from ._errors import (
    AccessDeniedError,
    DiscoveryError,
    ExpiredTokenError,
    InvalidGrantError,
    OAuthError,
    StorageError,
    TransportError,
)
from ._names import login_command
from ._tokens import Token

if TYPE_CHECKING:
    from . import _http
    from ._config_views import IssuerConfig, OidcConfig
    from ._names import EndpointKey

__all__ = [
    "JWT_BEARER_ASSERTION",
    "SECRET_METHODS",
    "AssertionSource",
    "ClientAuth",
    "ClientAuthMemory",
    "alternative_secret_method",
    "b64url_decode",
    "b64url_encode",
    "error_from",
    "discover",
    "endpoint",
    "endpoint_override",
    "error_code",
    "normalize_issuer",
    "parse_token",
    "post_form",
]

log = logging.getLogger("planet_profiles.oauth")

_DISCOVERY_TTL = 3600.0


def b64url_encode(data: bytes) -> str:
    """RFC 7515 §2 `BASE64URL`: URL-safe base64 without `=` padding (JWTs, JWK members, PKCE)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of an unpadded base64url string (RFC 7515 Appendix C); `ValueError` if it is not one."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

_cache: dict[tuple[str, str], tuple[float, dict[str, object]]] = {}
_cache_lock = threading.Lock()


def normalize_issuer(url: str) -> str:
    """Issuers are compared without a trailing slash (Planet's are configured with one)."""
    return url.rstrip("/")


def discover(config: IssuerConfig, *, file: str | None = None) -> dict[str, object]:
    """Fetch (and cache per process) the server's OIDC metadata, checking that `issuer` matches."""
    auth_server = str(config.auth_server)
    expected = normalize_issuer(str(config.issuer or auth_server))
    cache_key = (auth_server, expected)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(cache_key)
        if hit and now - hit[0] < _DISCOVERY_TTL:
            return hit[1]
    url = normalize_issuer(auth_server) + "/.well-known/openid-configuration"
    from . import _http  # on the first request: a load with a valid saved token sends none

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
            key="issuer" if config.issuer else "auth_server",
            hint="That is not the configured auth server; fix `auth_server` (or `issuer`) in the profile",
        )
    with _cache_lock:
        _cache[cache_key] = (now, meta)
    return meta


def endpoint_override(config: OidcConfig, key: EndpointKey) -> str | None:
    """The profile's URL for endpoint `key`, if it sets one."""
    overrides = {
        "token_endpoint": config.token_endpoint,
        "authorization_endpoint": config.authorization_endpoint,
        "device_authorization_endpoint": config.device_authorization_endpoint,
        "introspection_endpoint": config.introspection_endpoint,
        "revocation_endpoint": config.revocation_endpoint,
        "userinfo_endpoint": config.userinfo_endpoint,
        "jwks_endpoint": config.jwks_endpoint,
    }
    return overrides[key]


def endpoint(config: OidcConfig, key: EndpointKey, *, file: str | None = None) -> str:
    """The URL of `key` (e.g. `token_endpoint`): the profile's override, else discovery's."""
    override = endpoint_override(config, key)
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


SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def alternative_secret_method(
    config: OidcConfig, endpoint_key: EndpointKey, refused: str, *, file: str | None
) -> str | None:
    """The other shared-secret method when the server's metadata lists it for `endpoint_key`, else None.

    Only ever between `client_secret_basic` and `client_secret_post`: never from private_key_jwt to a shared
    secret, never to no authentication. Without discovery (endpoints set by hand, server down) there is no
    alternative. RFC 8414 §2: a missing `token_endpoint_auth_methods_supported` means `client_secret_basic`.
    """
    if refused not in SECRET_METHODS:
        return None
    try:
        meta = discover(config, file=file)
    except (DiscoveryError, TransportError):
        return None
    supported = None
    if endpoint_key in ("revocation_endpoint", "introspection_endpoint"):
        supported = meta.get(f"{endpoint_key}_auth_methods_supported")
    if not isinstance(supported, list):
        supported = meta.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    other = next(method for method in SECRET_METHODS if method != refused)
    return other if isinstance(supported, list) and other in supported else None


class ClientAuthMemory:
    """The client authentication method negotiation found for one profile, kept in memory and in
    `client_auth.json` beside the profile's token file (`~/.planet/<name>/`, never in a profile repo).

    The file names the client id and auth server it was learned for; it is ignored when the profile now
    names another, so an edited profile starts afresh. It holds no secret.
    """

    FILE_NAME = "client_auth.json"

    def __init__(self, path: Path | None, *, client_id: str, auth_server: str) -> None:
        self.path = path
        self._key = {"client_id": client_id, "auth_server": normalize_issuer(auth_server)}
        self._method: str | None = None
        self._loaded = path is None

    def method(self) -> str | None:
        if not self._loaded:
            self._loaded = True
            assert self.path is not None
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict) and all(data.get(k) == v for k, v in self._key.items()):
                method = data.get("client_auth_method")
                self._method = method if method in SECRET_METHODS else None
        return self._method

    def learn(self, method: str) -> None:
        self._method = method
        self._loaded = True
        if self.path is None:
            return
        from ._atomic import atomic_write, ensure_private_dir

        document = {**self._key, "client_auth_method": method}
        try:
            ensure_private_dir(self.path.parent)
            atomic_write(self.path, json.dumps(document, indent=2).encode() + b"\n", mode=0o600)
        except StorageError as exc:  # remembering is an optimisation: a read-only HOME keeps it in memory
            log.warning("could not remember the client authentication method: %s", exc)

    def forget(self) -> None:
        self._method = None
        self._loaded = True
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()

    def __repr__(self) -> str:
        return f"ClientAuthMemory({str(self.path) if self.path else None!r}, method={self._method!r})"


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
        "invalid_grant": f"Log in again (`{login_command(file)}`)",
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


def post_form(
    url: str,
    form: Mapping[str, str],
    client_auth: ClientAuth,
    *,
    policy: _http.RetryPolicy | None = None,
) -> _http.HttpResponse:
    """POST `form` to an OAuth endpoint with the client's authentication added (RFC 6749 §2.3)."""
    body = dict(form)
    headers = {"Accept": "application/json"}
    client_auth.apply(body, headers, endpoint_url=url)
    from . import _http  # on the first request, as in `discover`

    return _http.request("POST", url, data=body, headers=headers, policy=policy)


def error_code(resp: _http.HttpResponse) -> str | None:
    """The RFC 6749 §5.2 `error` of an error answer, if it has one."""
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _seconds(value: object, file: str | None) -> object:
    """`expires_in` as a number: some servers send a string (`"3599"`); anything else unusable is an error."""
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")):  # NaN, ±inf
            raise OAuthError(f"token endpoint returned a malformed `expires_in` ({value[:20]!r})", file=file)
        return int(number) if number.is_integer() else number
    return value


def parse_token(
    resp: _http.HttpResponse, url: str, form: Mapping[str, str], *, file: str | None = None
) -> Token:
    """The `Token` of a token endpoint answer (RFC 6749 §5.1), or its typed error (§5.2).

    Tolerates what real servers send: `expires_in` as a string, `token_type` in any case, extra members
    (`refresh_expires_in`, `not-before-policy`, …). A response without `scope` means the requested scope
    was granted (§5.1), so the requested one is kept. The access token is opaque: never parsed.
    """
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
    if "expires_in" in payload:
        payload["expires_in"] = _seconds(payload["expires_in"], file)
    if "scope" not in payload and form.get("scope"):
        payload["scope"] = form["scope"]
    return Token.from_response(payload)
