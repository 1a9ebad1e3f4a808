"""Stage "log in": device code (placeholder)."""

from __future__ import annotations

from ._clients import OidcAuthClient
from ._errors import UnsupportedOperationError
from ._tokens import Token


class _Pending(OidcAuthClient):
    def grant(self) -> Token:
        raise UnsupportedOperationError(f"`{self.client_type}` is not implemented yet", file=self.file)


class DeviceCodeAuthClient(_Pending):
    client_type = "oidc_device_code"
    client_auth_method = "none"


class DeviceCodeWithClientSecretAuthClient(_Pending):
    client_type = "oidc_device_code_secret"
    client_auth_method = "client_secret"


class DeviceCodeWithPubKeyAuthClient(_Pending):
    client_type = "oidc_device_code_pubkey"
    client_auth_method = "private_key_jwt"
