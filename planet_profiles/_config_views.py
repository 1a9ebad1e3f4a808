"""Typed views of a profile config: what the stages read, per client-type family (for type checkers).

One `Protocol` per family of `planet_profiles._models` (`OidcClientConfig`, `ClientSecretConfig`,
`AuthCodeFlowConfig`, …), on the base view `ClientConfig` (every config: with `SecretValue`, it stays in
`planet_profiles._config`, where the run time needs it). A `ProfileConfig` and a model of that family both
satisfy a view. Each `AuthClient` class names its view (`_config: …`), and `tests/test_config_views.py` checks
every key and type a view declares against the schema of every client type that reads through it, so a
misspelt key fails the tests (and mypy, in the code that reads it) instead of reading as None.

Keys are declared one a line, `key: type`. The stages only read them (a `ProfileConfig` refuses a write at
run time, a model is frozen); `IssuerConfig` declares read-only properties instead, because a token
validator's issuer settings (`_token_validation`) are a named tuple.

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
    "ClientValidatorConfig",
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

    allowed_api_hosts: list[str] | None


class IssuerConfig(Protocol):
    """Where OIDC discovery looks (`_oauth.discover`): a profile, or a token validator's issuer."""

    @property
    def auth_server(self) -> str: ...
    @property
    def issuer(self) -> str | None: ...


class OidcConfig(ClientConfig, IssuerConfig, Protocol):
    """Every `oidc_*` type, the validator included: the auth server, its endpoints and the token defaults."""

    client_id: str | None
    scopes: list[str] | None
    audiences: list[str] | None
    organization: str | None
    project_id: str | None
    token_endpoint: str | None
    authorization_endpoint: str | None
    device_authorization_endpoint: str | None
    introspection_endpoint: str | None
    revocation_endpoint: str | None
    userinfo_endpoint: str | None
    jwks_endpoint: str | None
    allowed_issuer_hosts: list[str] | None


class ClientValidatorConfig(OidcConfig, Protocol):
    """`oidc_client_validator`."""

    typ_check: str


class OidcClientConfig(OidcConfig, ApiHostsConfig, Protocol):
    """The `oidc_*` types that obtain tokens (all but the validator)."""

    client_id: str
    token_refresh_window: str | None


class ClientSecretConfig(OidcClientConfig, Protocol):
    """The `*_secret` types."""

    client_secret: SecretValue
    client_auth_method: str | None


class PrivateKeyJwtConfig(OidcClientConfig, Protocol):
    """The `*_pubkey` types (private_key_jwt, RFC 7523)."""

    client_privkey: SecretValue | None
    client_privkey_file: str | None
    client_privkey_password: SecretValue | None
    jwt_assertion_audience: str | None
    jwt_assertion_kid: str | None
    jwt_signing_alg: str | None


class AuthCodeFlowConfig(OidcClientConfig, Protocol):
    """The `oidc_auth_code*` types."""

    redirect_uri: str | None
    local_redirect_uri: str | None
    authorization_callback_acknowledgement: str | None
    authorization_callback_acknowledgement_file: str | None


class ResourceOwnerFlowConfig(OidcClientConfig, Protocol):
    """The `oidc_resource_owner*` types."""

    username: str | None
    password: SecretValue | None


class PlanetLegacyConfig(ApiHostsConfig, Protocol):
    """`planet_legacy`."""

    legacy_auth_endpoint: str
    api_key: SecretValue | None


class StaticApiKeyConfig(ApiHostsConfig, Protocol):
    """`static_apikey`."""

    api_key: SecretValue
    bearer_token_prefix: str
