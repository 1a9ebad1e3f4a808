"""Planet legacy login (placeholder)."""

from __future__ import annotations

from ._clients import OidcAuthClient
from ._errors import UnsupportedOperationError
from ._tokens import Token


class _Pending(OidcAuthClient):
    def grant(self) -> Token:
        raise UnsupportedOperationError(f"`{self.client_type}` is not implemented yet", file=self.file)


class PlanetLegacyAuthClient(_Pending):
    client_type = "planet_legacy"
    client_auth_method = "none"
