"""Typed views of a profile config: what the stages read, per client-type family (for type checkers).

One `Protocol` per family of `planet_profiles._models` (`OidcClientConfig`, `ClientSecretConfig`,
`AuthCodeFlowConfig`, …), on the base view `ClientConfig` (every config: with `SecretValue`, it stays in
`planet_profiles._config`, where the run time needs it). A `ProfileConfig` and a model of that family both
satisfy a view. Each `AuthClient` class names its view (`_config: …`), and `tests/test_config_views.py` checks
every key and type a view declares against the schema of every client type that reads through it, so a
misspelt key fails the tests (and mypy, in the code that reads it) instead of reading as None.

Only type checkers and that test read this module: the stages import it under `TYPE_CHECKING`, so a profile
load does not pay for building a dozen Protocol classes.
"""

from __future__ import annotations

from typing import Protocol

from ._config import ClientConfig, SecretValue

__all__ = [
    "ApiHostsConfig",
    "AuthCodeFlowConfig",
    "ClientSecretConfig",
    "IssuerConfig",
    "OidcClientConfig",
    "OidcConfig",
    "PlanetLegacyConfig",
    "PrivateKeyJwtConfig",
    "ResourceOwnerFlowConfig",
    "StaticApiKeyConfig",
]


class ApiHostsConfig(ClientConfig, Protocol):
    """Types that send credentials to APIs (all but `none` and `oidc_client_validator`)."""

    @property
    def allowed_api_hosts(self) -> list[str] | None: ...


class IssuerConfig(Protocol):
    """Where OIDC discovery looks (`_oauth.discover`): a profile, or a token validator's issuer."""

    @property
    def auth_server(self) -> str: ...
    @property
    def issuer(self) -> str | None: ...


class OidcConfig(ClientConfig, IssuerConfig, Protocol):
    """Every `oidc_*` type, the validator included: the auth server, its endpoints and the token defaults."""

    @property
    def client_id(self) -> str | None: ...
    @property
    def scopes(self) -> list[str] | None: ...
    @property
    def audiences(self) -> list[str] | None: ...
    @property
    def organization(self) -> str | None: ...
    @property
    def project_id(self) -> str | None: ...
    @property
    def token_endpoint(self) -> str | None: ...
    @property
    def authorization_endpoint(self) -> str | None: ...
    @property
    def device_authorization_endpoint(self) -> str | None: ...
    @property
    def introspection_endpoint(self) -> str | None: ...
    @property
    def revocation_endpoint(self) -> str | None: ...
    @property
    def userinfo_endpoint(self) -> str | None: ...
    @property
    def jwks_endpoint(self) -> str | None: ...
    @property
    def allowed_issuer_hosts(self) -> list[str] | None: ...


class OidcClientConfig(OidcConfig, ApiHostsConfig, Protocol):
    """The `oidc_*` types that obtain tokens (all but the validator)."""

    @property
    def client_id(self) -> str: ...
    @property
    def token_refresh_window(self) -> str | None: ...


class ClientSecretConfig(OidcClientConfig, Protocol):
    """The `*_secret` types."""

    @property
    def client_secret(self) -> SecretValue: ...
    @property
    def client_auth_method(self) -> str | None: ...


class PrivateKeyJwtConfig(OidcClientConfig, Protocol):
    """The `*_pubkey` types (private_key_jwt, RFC 7523)."""

    @property
    def client_privkey(self) -> SecretValue | None: ...
    @property
    def client_privkey_file(self) -> str | None: ...
    @property
    def client_privkey_password(self) -> SecretValue | None: ...
    @property
    def jwt_assertion_audience(self) -> str | None: ...
    @property
    def jwt_assertion_kid(self) -> str | None: ...
    @property
    def jwt_signing_alg(self) -> str | None: ...


class AuthCodeFlowConfig(OidcClientConfig, Protocol):
    """The `oidc_auth_code*` types."""

    @property
    def redirect_uri(self) -> str | None: ...
    @property
    def local_redirect_uri(self) -> str | None: ...
    @property
    def authorization_callback_acknowledgement(self) -> str | None: ...
    @property
    def authorization_callback_acknowledgement_file(self) -> str | None: ...


class ResourceOwnerFlowConfig(OidcClientConfig, Protocol):
    """The `oidc_resource_owner*` types."""

    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> SecretValue | None: ...


class PlanetLegacyConfig(ApiHostsConfig, Protocol):
    """`planet_legacy`."""

    @property
    def legacy_auth_endpoint(self) -> str: ...
    @property
    def api_key(self) -> SecretValue | None: ...


class StaticApiKeyConfig(ApiHostsConfig, Protocol):
    """`static_apikey`."""

    @property
    def api_key(self) -> SecretValue: ...
    @property
    def bearer_token_prefix(self) -> str: ...
