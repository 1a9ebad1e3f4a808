"""Stage "resolve the client type": one `AuthClient` class per `client_type`.

An auth client turns a validated profile config into behaviour: how to get a token (a grant or a login),
how to refresh and revoke it, and which `Authorization` value to send. The class names are planet-auth's,
because users print `ctx.auth_client().__class__.__name__`. Here: the base classes and the clients without a
grant (`none`, `static_apikey`); each grant lives in its own module of `_flows/` (`authcode`, `device`,
`password`, `client_credentials`, `legacy`), the service-side validator in `_token_validation`; they are
imported on first use.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlsplit

from ._config import ClientConfig, secret_value
from ._errors import LoginRequiredError, OAuthError, TransportError, UnsupportedOperationError
from ._names import EndpointKey, login_command, public
from ._tokens import Token

if TYPE_CHECKING:
    from . import _http
    from ._config_views import (
        ApiHostsConfig,
        ClientSecretConfig,
        OidcClientConfig,
        PrivateKeyJwtConfig,
        StaticApiKeyConfig,
    )
    from ._oauth import ClientAuth, ClientAuthMemory

__all__ = [
    "CLIENT_AUTH_CONFIGS",
    "ApiHostsClient",
    "AuthClient",
    "OidcAuthClient",
    "client_class_for",
    "make_client",
]

log = logging.getLogger("planet_profiles.oauth")


def _json_object(resp: _http.HttpResponse, url: str, *, file: str | None) -> dict[str, object]:
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise OAuthError(f"{url} did not answer with a JSON object", status_code=resp.status, file=file)
    return body


@public
class AuthClient:
    """Base class: a profile config plus the behaviour of its `client_type`."""

    # Class attributes, annotated with plain names: `public` resolves a `ClassVar[…]` string with `eval` at
    # every import (tests/test_transport_imports.py counts those).
    client_type: str = ""
    uses_tokens: bool = False  # credentials are tokens kept by a TokenManager (an instance may opt out)
    unattended: bool = False  # can obtain a credential without a user (no login needed)

    _config: ClientConfig  # each subclass names the view it reads (`_config_views`; checked by a test)

    def __init__(self, config: ClientConfig, *, file: str | None = None) -> None:
        self._config = config
        self._file = file

    @property
    def config(self) -> ClientConfig:
        """The validated config (`_config.ProfileConfig`; secrets are `Secret`s, shown as `**********`)."""
        return self._config

    @property
    def file(self) -> str | None:
        """The profile file this client was loaded from, if any."""
        return self._file

    def static_header(self) -> str | None:
        """The `Authorization` value of clients whose credential never changes (None: no header)."""
        return None

    def allowed_api_hosts(self) -> list[str] | None:
        """The hosts credentials may be sent to (None: any; the profile's `allowed_api_hosts`)."""
        return None

    def token_refresh_window(self) -> str | None:
        """The profile's `token_refresh_window` (None: not set, or the type has no tokens to refresh)."""
        return None

    def authorization(self, token: Token) -> str:
        """The `Authorization` value for a token of this client (RFC 6750 §2.1; Planet legacy: `api-key`)."""
        return f"Bearer {token.access_token}"

    def login(
        self, *, allow_open_browser: bool = True, allow_tty_prompt: bool = True, **kwargs: Any
    ) -> Token | None:
        """Obtain a credential, interactively if the type needs a user (None: the type has no tokens)."""
        if not self.uses_tokens:
            return None
        return self.grant()

    def grant(self) -> Token:
        """Obtain a new token without a user (client credentials)."""
        raise LoginRequiredError(
            f"profile type `{self.client_type}` needs an interactive login",
            file=self._file,
            hint=f"Run `{login_command(self._file)}` or call `login()`",
        )

    def refresh(self, token: Token) -> Token:
        raise UnsupportedOperationError(
            f"`{self.client_type}` profiles have no tokens to refresh", file=self._file
        )

    def device_login_initiate(self, **kwargs: Any) -> dict[str, Any]:
        raise UnsupportedOperationError(
            f"`{self.client_type}` profiles cannot use the device flow",
            file=self._file,
            hint="Use an `oidc_device_code*` profile for device logins",
        )

    def device_login_complete(self, initiated_login_data: Mapping[str, object]) -> Token:
        return self.device_login_initiate()  # type: ignore[return-value]  # raises the same error

    def logout(self, token: Token | None) -> dict[str, str]:
        """Invalidate `token` at the server where the type supports it (local files are the caller's).

        Returns what happened to each token sent: `{"refresh_token": "revoked", "access_token": …}` with
        `revoked`, or `unsupported` for an access token the server cannot revoke (it stays valid until it
        expires); empty when nothing was sent."""
        return {}

    def _repr_extra(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_type={self.client_type!r}{self._repr_extra()})"


class ApiHostsClient(AuthClient):
    """Base of the types that send credentials to APIs, which a profile can pin (`allowed_api_hosts`)."""

    _config: ApiHostsConfig

    def allowed_api_hosts(self) -> list[str] | None:
        return self._config.allowed_api_hosts


class NoOpAuthClient(AuthClient):
    """`none`: requests are sent without credentials."""

    client_type = "none"
    unattended = True


class StaticApiKeyAuthClient(ApiHostsClient):
    """`static_apikey`: `Authorization: <bearer_token_prefix> <api_key>`."""

    client_type = "static_apikey"
    unattended = True
    _config: StaticApiKeyConfig

    def static_header(self) -> str | None:
        prefix = self._config.bearer_token_prefix or "Bearer"
        return f"{prefix} {secret_value(self._config.api_key)}"


# The view (of `_config_views`) each client authentication method reads, beyond the flow's (see
# `OidcAuthClient.client_auth`).
CLIENT_AUTH_CONFIGS: dict[str, str] = {
    "none": "OidcClientConfig",
    "client_secret": "ClientSecretConfig",
    "private_key_jwt": "PrivateKeyJwtConfig",
}


class OidcAuthClient(ApiHostsClient):
    """Base of the `oidc_*` types: discovery, client authentication, token requests, refresh (RFC 6749 §6).

    Client authentication of the `_secret` types: the profile's `client_auth_method` when it names one;
    else what planet-auth sends (`secret_method_at(endpoint)`: HTTP Basic, except the client credentials
    grant, which posts the secret in the form). If the server refuses that with `invalid_client` and its
    discovery document lists the other shared-secret method, that one is tried once, and when the server
    accepts it, it is remembered for the profile (`ClientAuthMemory`) and logged at INFO. private_key_jwt
    is never negotiated (never downgraded to a shared secret), nor is a method the profile names.
    """

    uses_tokens = True
    client_auth_method: ClassVar[str] = "none"  # "none" | "client_secret" | "private_key_jwt"
    _client_auths: dict[str, ClientAuth] | None = None  # built on first use: a private key is parsed once
    _memory: ClientAuthMemory | None = None
    _memory_dir: Path | None = None  # where `_remembered()` keeps it (None: in memory only)
    _config: OidcClientConfig

    @property
    def config(self) -> OidcClientConfig:
        return self._config

    def token_refresh_window(self) -> str | None:
        return self._config.token_refresh_window

    def _repr_extra(self) -> str:
        return f", client_id={self._config.client_id!r}" if self._config.client_id else ""

    def _configured_secret_method(self) -> str | None:
        """The profile's `client_auth_method` (only the `_secret` types have the key)."""
        if self.client_auth_method != "client_secret":
            return None
        return cast("ClientSecretConfig", self._config).client_auth_method

    def endpoint(self, key: EndpointKey) -> str:
        """The URL of `key` (`token_endpoint`, …): the profile's override, else discovery's."""
        from . import _oauth  # (on first use, as below: a load with a valid saved token needs no OAuth)

        return _oauth.endpoint(self._config, key, file=self._file)

    def remember_client_auth_in(self, directory: Path | None) -> None:
        """Keep what client authentication negotiation learns in `directory` (the token file's; None: in
        memory only). The memory is opened on first use: a load with a valid saved token needs no OAuth."""
        self._memory_dir, self._memory = directory, None

    def _remembered(self) -> ClientAuthMemory:
        if self._memory is None:
            from ._oauth import ClientAuthMemory

            directory = self._memory_dir
            path = directory / ClientAuthMemory.FILE_NAME if directory is not None else None
            self._memory = ClientAuthMemory(
                path, client_id=str(self._config.client_id), auth_server=str(self._config.auth_server)
            )
        return self._memory

    def secret_method_at(self, key: EndpointKey) -> str:
        """The shared-secret method sent to endpoint `key` when the profile names none (planet-auth's)."""
        return "client_secret_basic"

    def client_auth(self, key: EndpointKey = "token_endpoint") -> ClientAuth:
        """How this client authenticates at endpoint `key` (a new JWT assertion per request)."""
        if self.client_auth_method == "client_secret":
            method = (
                self._configured_secret_method()
                or self._remembered().method()
                or self.secret_method_at(key)
            )
        else:
            method = self.client_auth_method
        auths = self._client_auths
        if auths is None:
            auths = self._client_auths = {}
        if method not in auths:  # a race only builds an equal object twice
            auths[method] = self._make_client_auth(method)
        return auths[method]

    def _make_client_auth(self, method: str) -> ClientAuth:
        from ._oauth import ClientAuth

        client_id = str(self._config.client_id)
        if method == "private_key_jwt":
            from ._assertion import AssertionSigner

            signer = AssertionSigner.from_config(cast("PrivateKeyJwtConfig", self._config), file=self._file)
            return ClientAuth(client_id, "private_key_jwt", signer=signer)
        if method == "none":
            return ClientAuth(client_id, "none")
        secret = cast("ClientSecretConfig", self._config).client_secret
        return ClientAuth(client_id, method, secret_value(secret))

    def post(self, key: EndpointKey, form: Mapping[str, str]) -> tuple[str, _http.HttpResponse]:
        """POST `form` to endpoint `key` with this client's authentication, negotiating the shared-secret
        method once on `invalid_client` (see the class docstring). Returns the URL and the answer."""
        from ._oauth import alternative_secret_method, error_code, post_form

        url = self.endpoint(key)
        auth = self.client_auth(key)
        resp = post_form(url, form, auth)
        if (
            resp.status in (400, 401)
            and self.client_auth_method == "client_secret"
            and not self._configured_secret_method()
            and error_code(resp) == "invalid_client"
        ):
            other = alternative_secret_method(self._config, key, auth.method, file=self._file)
            if other is not None:
                retry = post_form(url, form, self._make_client_auth(other))
                if not (retry.status in (400, 401) and error_code(retry) == "invalid_client"):
                    log.info(
                        "%s refused %s (invalid_client); %s worked and is used from now on for %r",
                        urlsplit(url).netloc,
                        auth.method,
                        other,
                        self,
                    )
                    self._remembered().learn(other)
                    return url, retry
        return url, resp

    def scope_form(
        self, scopes: list[str] | None = None, audiences: list[str] | None = None
    ) -> dict[str, str]:
        """`scope` and `audience` form fields: the arguments, else the profile's defaults."""
        form: dict[str, str] = {}
        scopes = scopes if scopes is not None else self._config.scopes
        if scopes:
            form["scope"] = " ".join(scopes)
        audiences = audiences if audiences is not None else self._config.audiences
        if audiences:
            form["audience"] = " ".join(audiences)  # as planet-auth sends it
        return form

    def token_request(self, form: Mapping[str, str]) -> Token:
        """POST a grant to the token endpoint (RFC 6749 §3.2) and return the stamped `Token`."""
        from ._oauth import parse_token

        url, resp = self.post("token_endpoint", form)
        return parse_token(resp, url, form, file=self._file)

    def revoke(self, value: str, token_type_hint: str) -> None:
        """RFC 7009 §2.1: revoke a token. The server answers 200 for unknown tokens too (§2.2)."""
        from ._oauth import error_from

        url, resp = self.post("revocation_endpoint", {"token": value, "token_type_hint": token_type_hint})
        if resp.status != 200:
            raise error_from(resp, url, file=self._file)

    def logout(self, token: Token | None) -> dict[str, str]:
        """Revoke the refresh token first (it can mint new access tokens), then the access token.

        RFC 7009 §2.2.1: a server may answer `unsupported_token_type` for tokens it cannot revoke, as servers
        do for structured (JWT) access tokens; such an access token is reported `unsupported` (it expires
        on its own), not as a failure. Any other failure, and a refresh token the server will not revoke,
        is raised after both tokens were tried."""
        outcome: dict[str, str] = {}
        if token is None:
            return outcome
        first: Exception | None = None
        for value, hint in ((token.refresh_token, "refresh_token"), (token.access_token, "access_token")):
            if value:
                try:
                    self.revoke(value, hint)
                    outcome[hint] = "revoked"
                except OAuthError as exc:
                    if hint == "access_token" and exc.error == "unsupported_token_type":
                        log.info("the server cannot revoke the access token: %s", exc.error_description)
                        outcome[hint] = "unsupported"
                    else:
                        first = first or exc  # try both; report the first failure
                except TransportError as exc:
                    first = first or exc
        if first is not None:
            raise first
        return outcome

    def introspect(self, value: str, token_type_hint: str = "access_token") -> dict[str, object]:  # noqa: S107
        """RFC 7662: the token's metadata; an inactive token yields only `{"active": False}` (§2.2)."""
        from ._oauth import error_from

        url, resp = self.post("introspection_endpoint", {"token": value, "token_type_hint": token_type_hint})
        if resp.status != 200:
            raise error_from(resp, url, file=self._file)
        body = _json_object(resp, url, file=self._file)
        return body if body.get("active") is True else {"active": False}

    def userinfo(self, token: Token) -> dict[str, object]:
        """OIDC Core §5.3: the user's claims, with the access token as Bearer (never in the URL)."""
        url = self.endpoint("userinfo_endpoint")
        from . import _http  # on the first request (`_oauth.discover`)
        from ._oauth import error_from

        resp = _http.request("GET", url, headers={"Authorization": f"Bearer {token.access_token}"})
        if resp.status != 200:
            raise error_from(resp, url, file=self._file)
        return _json_object(resp, url, file=self._file)

    def refresh(self, token: Token) -> Token:
        if not token.refresh_token:
            return self.grant()
        new = self.token_request({"grant_type": "refresh_token", "refresh_token": token.refresh_token})
        # RFC 6749 §6: no new refresh token → the old one stays; no scope → the one granted before.
        return new.with_refresh_token_of(token)


_CC = "._flows.client_credentials"

# client_type -> (module relative to this package, class name); flow modules are imported on first use.
_REGISTRY: dict[str, tuple[str, str]] = {
    "oidc_auth_code": ("._flows.authcode", "AuthCodeAuthClient"),
    "oidc_auth_code_secret": ("._flows.authcode", "AuthCodeWithClientSecretAuthClient"),
    "oidc_auth_code_pubkey": ("._flows.authcode", "AuthCodeWithPubKeyAuthClient"),
    "oidc_device_code": ("._flows.device", "DeviceCodeAuthClient"),
    "oidc_device_code_secret": ("._flows.device", "DeviceCodeWithClientSecretAuthClient"),
    "oidc_device_code_pubkey": ("._flows.device", "DeviceCodeWithPubKeyAuthClient"),
    "oidc_resource_owner": ("._flows.password", "ResourceOwnerAuthClient"),
    "oidc_resource_owner_secret": ("._flows.password", "ResourceOwnerWithClientSecretAuthClient"),
    "oidc_resource_owner_pubkey": ("._flows.password", "ResourceOwnerWithPubKeyAuthClient"),
    "oidc_client_credentials_secret": (_CC, "ClientCredentialsClientSecretAuthClient"),
    "oidc_client_credentials_pubkey": (_CC, "ClientCredentialsPubKeyAuthClient"),
    "oidc_client_validator": ("._token_validation", "OidcClientValidatorAuthClient"),
    "planet_legacy": ("._flows.legacy", "PlanetLegacyAuthClient"),
    "static_apikey": ("._clients", "StaticApiKeyAuthClient"),
    "none": ("._clients", "NoOpAuthClient"),
}


def client_class_for(client_type: str) -> type[AuthClient]:
    module, name = _REGISTRY[client_type]
    cls: type[AuthClient] = getattr(importlib.import_module(module, __package__), name)
    return cls


def make_client(config: ClientConfig, *, file: str | None = None) -> AuthClient:
    """The `AuthClient` for a validated config model."""
    return client_class_for(config.client_type)(config, file=file)
