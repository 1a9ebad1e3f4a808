"""The client credentials grant (RFC 6749 §4.4): a client that needs no user, with a secret or a key."""

from __future__ import annotations

from .._clients import OidcAuthClient
from .._config import EndpointKey
from .._tokens import Token

__all__ = ["ClientCredentialsClientSecretAuthClient", "ClientCredentialsPubKeyAuthClient"]


class ClientCredentialsClientSecretAuthClient(OidcAuthClient):
    """`oidc_client_credentials_secret`: client credentials grant (RFC 6749 §4.4) with a client secret."""

    client_type = "oidc_client_credentials_secret"
    client_auth_method = "client_secret"
    unattended = True

    def grant(self) -> Token:
        return self.token_request({"grant_type": "client_credentials", **self.scope_form()})

    def refresh(self, token: Token) -> Token:
        return self.grant()  # §4.4.3: no refresh token; a new grant is the refresh

    def secret_method_at(self, key: EndpointKey) -> str:
        """planet-auth posts the secret in the form for the grant itself, HTTP Basic elsewhere."""
        return "client_secret_post" if key == "token_endpoint" else "client_secret_basic"


class ClientCredentialsPubKeyAuthClient(ClientCredentialsClientSecretAuthClient):
    """`oidc_client_credentials_pubkey`: client credentials with private_key_jwt (RFC 7523 §2.2)."""

    client_type = "oidc_client_credentials_pubkey"
    client_auth_method = "private_key_jwt"
