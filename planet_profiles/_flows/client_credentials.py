"""The client credentials grant (RFC 6749 §4.4): a client that needs no user, with a secret or a key."""

from __future__ import annotations

from typing import Any

from .._clients import OidcAuthClient
from .._config import EndpointKey
from .._tokens import Token

__all__ = ["ClientCredentialsClientSecretAuthClient", "ClientCredentialsPubKeyAuthClient"]


class ClientCredentialsClientSecretAuthClient(OidcAuthClient):
    """`oidc_client_credentials_secret`: client credentials grant (RFC 6749 §4.4) with a client secret."""

    client_type = "oidc_client_credentials_secret"
    client_auth_method = "client_secret"
    unattended = True

    def login(
        self, *, allow_open_browser: bool = True, allow_tty_prompt: bool = True, **kwargs: Any
    ) -> Token:
        """A new grant; `requested_scopes` / `requested_audiences` replace the profile's `scopes` /
        `audiences` for this token (RFC 6749 §3.3). Its renewals are new grants with the profile's."""
        return self._grant(kwargs.get("requested_scopes"), kwargs.get("requested_audiences"))

    def grant(self) -> Token:
        return self._grant(None, None)

    def _grant(self, scopes: list[str] | None, audiences: list[str] | None) -> Token:
        return self.token_request({"grant_type": "client_credentials", **self.scope_form(scopes, audiences)})

    def refresh(self, token: Token) -> Token:
        return self.grant()  # §4.4.3: no refresh token; a new grant is the refresh

    def secret_method_at(self, key: EndpointKey) -> str:
        """planet-auth posts the secret in the form for the grant itself, HTTP Basic elsewhere."""
        return "client_secret_post" if key == "token_endpoint" else "client_secret_basic"


class ClientCredentialsPubKeyAuthClient(ClientCredentialsClientSecretAuthClient):
    """`oidc_client_credentials_pubkey`: client credentials with private_key_jwt (RFC 7523 §2.2)."""

    client_type = "oidc_client_credentials_pubkey"
    client_auth_method = "private_key_jwt"
