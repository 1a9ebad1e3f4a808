"""Stage "resolve the client type": one `AuthClient` class per `client_type`.

An auth client turns a validated profile config into behaviour: how to get a token (a grant), how to
refresh it, and which `Authorization` header value to send. The class names are planet-auth's, because
users print `ctx.auth_client().__class__.__name__`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._errors import LoginRequiredError, UnsupportedOperationError
from ._oauth import ClientAuth, token_request
from ._tokens import Token

__all__ = ["AuthClient", "OidcAuthClient", "client_class_for", "make_client"]


def _secret(config: Any, key: str) -> str | None:
    value = getattr(config, key, None)
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value)


class AuthClient:
    """Base class: a profile config plus the behaviour of its `client_type`."""

    client_type: ClassVar[str] = ""
    uses_tokens: ClassVar[bool] = False  # credentials are tokens from an auth server
    unattended: ClassVar[bool] = False  # can obtain a credential without a user (no login needed)

    def __init__(self, config: Any, *, file: str | None = None) -> None:
        self._config = config
        self._file = file

    @property
    def config(self) -> Any:
        """The validated config model (secrets are `SecretStr`)."""
        return self._config

    @property
    def file(self) -> str | None:
        """The profile file this client was loaded from, if any."""
        return self._file

    def static_header(self) -> str | None:
        """The `Authorization` value of clients whose credential never changes (None: no header)."""
        return None

    def grant(self) -> Token:
        """Obtain a new token without a user (client credentials)."""
        raise LoginRequiredError(
            f"profile type `{self.client_type}` needs an interactive login",
            file=self._file,
            hint="Run `planet-profiles login NAME` or call `login()`",
        )

    def refresh(self, token: Token) -> Token:
        raise UnsupportedOperationError(
            f"`{self.client_type}` profiles have no tokens to refresh", file=self._file
        )

    def __repr__(self) -> str:
        client_id = getattr(self._config, "client_id", None)
        extra = f", client_id={client_id!r}" if client_id else ""
        return f"{type(self).__name__}(client_type={self.client_type!r}{extra})"


class NoOpAuthClient(AuthClient):
    """`none`: requests are sent without credentials."""

    client_type = "none"
    unattended = True


class StaticApiKeyAuthClient(AuthClient):
    """`static_apikey`: `Authorization: <bearer_token_prefix> <api_key>`."""

    client_type = "static_apikey"
    unattended = True

    def static_header(self) -> str | None:
        prefix = getattr(self._config, "bearer_token_prefix", None) or "Bearer"
        return f"{prefix} {_secret(self._config, 'api_key')}"


class OidcAuthClient(AuthClient):
    """Base of the `oidc_*` types: discovery, client authentication, refresh (RFC 6749 §6)."""

    uses_tokens = True
    client_auth_method: ClassVar[str] = "none"

    def client_auth(self) -> ClientAuth:
        method = self.client_auth_method
        if method == "client_secret":
            method = getattr(self._config, "client_auth_method", None) or "client_secret_basic"
        return ClientAuth(str(self._config.client_id), method, _secret(self._config, "client_secret"))

    def _scope_form(self) -> dict[str, str]:
        form: dict[str, str] = {}
        scopes = getattr(self._config, "scopes", None)
        if scopes:
            form["scope"] = " ".join(scopes)
        audiences = getattr(self._config, "audiences", None)
        if audiences:
            form["audience"] = " ".join(audiences)  # as planet-auth sends it
        return form

    def refresh(self, token: Token) -> Token:
        if not token.refresh_token:
            return self.grant()
        form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        new = token_request(self._config, form, self.client_auth(), file=self._file)
        return new.with_refresh_token_of(token)


class _PendingFlow(OidcAuthClient):
    """Client types whose login flow is not built yet: they load and validate, but cannot log in."""

    def grant(self) -> Token:
        raise UnsupportedOperationError(
            f"logging in with `{self.client_type}` profiles is not implemented yet", file=self._file
        )


class ClientCredentialsClientSecretAuthClient(OidcAuthClient):
    """`oidc_client_credentials_secret`: client credentials grant (RFC 6749 §4.4) with a client secret."""

    client_type = "oidc_client_credentials_secret"
    client_auth_method = "client_secret"
    unattended = True

    def grant(self) -> Token:
        form = {"grant_type": "client_credentials", **self._scope_form()}
        return token_request(self._config, form, self.client_auth(), file=self._file)


def _pending(name: str, client_type: str, auth: str = "none") -> type[AuthClient]:
    return type(
        name,
        (_PendingFlow,),
        {"client_type": client_type, "client_auth_method": auth, "__doc__": f"`{client_type}`."},
    )


AuthCodeAuthClient = _pending("AuthCodeAuthClient", "oidc_auth_code")
AuthCodeWithClientSecretAuthClient = _pending(
    "AuthCodeWithClientSecretAuthClient", "oidc_auth_code_secret", "client_secret"
)
AuthCodeWithPubKeyAuthClient = _pending(
    "AuthCodeWithPubKeyAuthClient", "oidc_auth_code_pubkey", "private_key_jwt"
)
DeviceCodeAuthClient = _pending("DeviceCodeAuthClient", "oidc_device_code")
DeviceCodeWithClientSecretAuthClient = _pending(
    "DeviceCodeWithClientSecretAuthClient", "oidc_device_code_secret", "client_secret"
)
DeviceCodeWithPubKeyAuthClient = _pending(
    "DeviceCodeWithPubKeyAuthClient", "oidc_device_code_pubkey", "private_key_jwt"
)
ResourceOwnerAuthClient = _pending("ResourceOwnerAuthClient", "oidc_resource_owner")
ResourceOwnerWithClientSecretAuthClient = _pending(
    "ResourceOwnerWithClientSecretAuthClient", "oidc_resource_owner_secret", "client_secret"
)
ResourceOwnerWithPubKeyAuthClient = _pending(
    "ResourceOwnerWithPubKeyAuthClient", "oidc_resource_owner_pubkey", "private_key_jwt"
)
ClientCredentialsPubKeyAuthClient = _pending(
    "ClientCredentialsPubKeyAuthClient", "oidc_client_credentials_pubkey", "private_key_jwt"
)
OidcClientValidatorAuthClient = _pending("OidcClientValidatorAuthClient", "oidc_client_validator")
PlanetLegacyAuthClient = _pending("PlanetLegacyAuthClient", "planet_legacy")

_CLASSES: dict[str, type[AuthClient]] = {
    cls.client_type: cls
    for cls in (
        AuthCodeAuthClient,
        AuthCodeWithClientSecretAuthClient,
        AuthCodeWithPubKeyAuthClient,
        DeviceCodeAuthClient,
        DeviceCodeWithClientSecretAuthClient,
        DeviceCodeWithPubKeyAuthClient,
        ResourceOwnerAuthClient,
        ResourceOwnerWithClientSecretAuthClient,
        ResourceOwnerWithPubKeyAuthClient,
        ClientCredentialsClientSecretAuthClient,
        ClientCredentialsPubKeyAuthClient,
        OidcClientValidatorAuthClient,
        PlanetLegacyAuthClient,
        StaticApiKeyAuthClient,
        NoOpAuthClient,
    )
}


def client_class_for(client_type: str) -> type[AuthClient]:
    return _CLASSES[client_type]


def make_client(config: Any, *, file: str | None = None) -> AuthClient:
    """The `AuthClient` for a validated config model."""
    return client_class_for(config.client_type)(config, file=file)
