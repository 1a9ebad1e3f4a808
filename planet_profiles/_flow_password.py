"""Stage "log in": resource owner password (placeholder)."""

from __future__ import annotations

from ._clients import OidcAuthClient
from ._errors import UnsupportedOperationError
from ._tokens import Token


class _Pending(OidcAuthClient):
    def grant(self) -> Token:
        raise UnsupportedOperationError(f"`{self.client_type}` is not implemented yet", file=self.file)


class ResourceOwnerAuthClient(_Pending):
    client_type = "oidc_resource_owner"
    client_auth_method = "none"


class ResourceOwnerWithClientSecretAuthClient(_Pending):
    client_type = "oidc_resource_owner_secret"
    client_auth_method = "client_secret"


class ResourceOwnerWithPubKeyAuthClient(_Pending):
    client_type = "oidc_resource_owner_pubkey"
    client_auth_method = "private_key_jwt"
