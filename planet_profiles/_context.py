"""The run-time face of a loaded profile: `AuthContext` (planet-auth's `Auth`).

It ties the client (what the profile is), the token manager (its current token) and the request
authenticator (what requests and httpx call) together, and answers the seed API's questions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._authenticator import RequestAuthenticator, make_authenticator

if TYPE_CHECKING:
    from ._clients import AuthClient
    from ._session import TokenManager
    from ._store import ProfileLocation, Selection

__all__ = ["AuthContext"]


class AuthContext:
    """A loaded profile ready to authenticate requests (returned by `open_profile` / `from_config`)."""

    def __init__(
        self,
        *,
        client: AuthClient,
        manager: TokenManager | None,
        profile_name: str | None,
        location: ProfileLocation | None = None,
        selection: Selection | None = None,
    ) -> None:
        self._client = client
        self._manager = manager
        self._profile_name = profile_name
        self._location = location
        self._selection = selection
        self._authenticator: RequestAuthenticator | None = None

    def profile_name(self) -> str | None:
        return self._profile_name

    def auth_client(self) -> AuthClient:
        return self._client

    @property
    def location(self) -> ProfileLocation | None:
        """Where the profile file was found (None for in-memory and built-in profiles)."""
        return self._location

    @property
    def selection(self) -> Selection | None:
        """Which source selected this profile (argument, `PL_AUTH_PROFILE`, `~/.planet.json`, default)."""
        return self._selection

    @property
    def token_manager(self) -> TokenManager | None:
        return self._manager

    def token_file_path(self) -> Path | None:
        return self._manager.store.path if self._manager else None

    def request_authenticator(self) -> RequestAuthenticator:
        """The object to pass as `auth=` to requests, `httpx.Client` or `httpx.AsyncClient`."""
        if self._authenticator is None:
            self._authenticator = make_authenticator(
                header=self._client.static_header(), manager=self._manager
            )
        return self._authenticator

    def request_authenticator_is_ready(self) -> bool:
        """True when requests can be authenticated now or without a user (no network call is made)."""
        return self._manager is None or self._manager.can_renew_silently()

    def __repr__(self) -> str:
        origin = f", file={str(self._location.file)!r}" if self._location else ""
        return f"AuthContext(profile={self._profile_name!r}, client={self._client!r}{origin})"

    def __getstate__(self) -> Any:
        raise TypeError("AuthContext cannot be pickled (it holds credentials)")
