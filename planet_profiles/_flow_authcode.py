"""Stage "log in": authorization code + PKCE (placeholder)."""

from __future__ import annotations

from ._clients import OidcAuthClient
from ._errors import UnsupportedOperationError
from ._tokens import Token


class _Pending(OidcAuthClient):
    def grant(self) -> Token:
        raise UnsupportedOperationError(f"`{self.client_type}` is not implemented yet", file=self.file)


class AuthCodeAuthClient(_Pending):
    client_type = "oidc_auth_code"
    client_auth_method = "none"


class AuthCodeWithClientSecretAuthClient(_Pending):
    client_type = "oidc_auth_code_secret"
    client_auth_method = "client_secret"


class AuthCodeWithPubKeyAuthClient(_Pending):
    client_type = "oidc_auth_code_pubkey"
    client_auth_method = "private_key_jwt"
