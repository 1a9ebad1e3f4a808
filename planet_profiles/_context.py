"""The run-time face of a loaded profile: `AuthContext` (planet-auth's `Auth`).

It ties the client (what the profile is), the token manager (its current token) and the request
authenticator (what requests and httpx call) together, and answers the seed API's questions.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._authenticator import RequestAuthenticator
from ._errors import LoginRequiredError, UnsupportedOperationError
from ._names import login_command, public
from ._tokens import Token, fingerprint

if TYPE_CHECKING:
    from ._clients import AuthClient, OidcAuthClient
    from ._locations import ProfileLocation
    from ._selection import Source
    from ._token_manager import TokenManager

__all__ = ["AuthContext", "Credential", "for_loaded_transports", "make_authenticator"]


class Credential:
    """What `login()` returns: the credential's data (redacted in `repr`) and the file it was saved to."""

    def __init__(self, token: Token | None, path: Path | None) -> None:
        self._token = token
        self._path = path

    def path(self) -> Path | None:
        """The token file (None when kept in memory only, or for types without tokens)."""
        return self._path

    def data(self) -> dict[str, Any]:
        """The planet-auth compatible token dict (response + `_iat`/`_exp`); {} without a token."""
        return self._token.data if self._token else {}

    @property
    def token(self) -> Token | None:
        return self._token

    def expiry_time(self) -> int | None:
        return int(self._token.expires_at) if self._token and self._token.expires_at is not None else None

    def __repr__(self) -> str:
        shown = fingerprint(self._token.access_token) if self._token else None
        return f"Credential(access_token={shown}, path={str(self._path) if self._path else None!r})"


@public
class AuthContext:
    """A loaded profile ready to authenticate requests (returned by `open_profile` / `from_config`)."""

    def __init__(
        self,
        *,
        client: AuthClient,
        manager: TokenManager | None,
        profile_name: str | None,
        location: ProfileLocation | None = None,
        source: Source | None = None,
    ) -> None:
        self._client = client
        self._manager = manager
        self._profile_name = profile_name
        self._location = location
        self._source = source
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
    def source(self) -> Source | None:
        """Which source selected these credentials (argument, `PL_AUTH_PROFILE`, `~/.planet.json`, built-in
        default, …); see `planet_profiles.explain_selection()`."""
        return self._source

    @property
    def token_manager(self) -> TokenManager | None:
        return self._manager

    def token_file_path(self) -> Path | None:
        return self._manager.store.path if self._manager else None

    def request_authenticator(self) -> RequestAuthenticator:
        """The object to pass as `auth=` to requests, `httpx.Client` or `httpx.AsyncClient`."""
        if self._authenticator is None:
            self._authenticator = make_authenticator(
                header=self._client.static_header(),
                manager=self._manager,
                allowed_hosts=self._client.allowed_api_hosts(),
            )
            return self._authenticator
        return for_loaded_transports(self._authenticator)  # httpx may have been imported since

    def request_authenticator_is_ready(self) -> bool:
        """True when requests can be authenticated now or without a user (no network call is made)."""
        return self._manager is None or self._manager.can_renew_silently()

    def login(
        self, allow_open_browser: bool = False, allow_tty_prompt: bool = False, **kwargs: Any
    ) -> Credential:
        """Log in with the profile's flow and keep the new token (saved unless the context is memory-only).

        `allow_open_browser` lets auth-code logins open the system browser (`webbrowser`, honours `BROWSER`);
        `allow_tty_prompt` lets them print a URL and read the pasted code, and lets device logins print the
        code to enter. Extra keyword arguments go to the flow (e.g. `requested_scopes`, `username`).
        """
        token = self._client.login(
            allow_open_browser=allow_open_browser, allow_tty_prompt=allow_tty_prompt, **kwargs
        )
        return self._keep(token)

    def ensure_request_authenticator_is_ready(
        self, allow_open_browser: bool = False, allow_tty_prompt: bool = False
    ) -> None:
        """Make sure requests can be authenticated: a fresh token, a silent refresh, or else a login.

        Types that obtain credentials without a user are left to do so just in time (no network call here).
        """
        if self._manager is None or self._client.unattended:
            return
        token = self._manager.cached()
        if self._manager.is_fresh(token):
            return
        if token is not None and token.refresh_token:
            try:
                self._manager.token()
                self._reset_authenticator()
                return
            except LoginRequiredError:
                pass
        self.login(allow_open_browser=allow_open_browser, allow_tty_prompt=allow_tty_prompt)

    def device_login_initiate(self, **kwargs: Any) -> dict[str, Any]:
        """Start a device login (RFC 8628 §3.2): the server's answer, to show to the user."""
        return self._client.device_login_initiate(**kwargs)

    def device_login_complete(self, initiated_login_data: Mapping[str, object]) -> Credential:
        """Poll until the user approved the device login started by `device_login_initiate`."""
        return self._keep(self._client.device_login_complete(initiated_login_data))

    def logout(self) -> dict[str, str]:
        """Revoke the tokens at the server (where supported), then delete them locally whatever it said.

        Returns what the server did with each token: `{"refresh_token": "revoked", "access_token":
        "unsupported"}` (an access token the server cannot revoke, e.g. a JWT: it stays valid until its
        expiry). A failure to revoke is raised, after the local tokens are deleted."""
        try:
            if self._manager is not None:
                return self._client.logout(self._manager.cached())
            return {}
        finally:
            if self._manager is not None:
                self._manager.clear()
            self._reset_authenticator()

    def _oidc(self) -> OidcAuthClient:
        from ._clients import OidcAuthClient

        if not isinstance(self._client, OidcAuthClient) or self._manager is None:
            raise UnsupportedOperationError(
                f"`{self._client.client_type}` profiles do not talk to an OIDC server", file=self._client.file
            )
        return self._client

    def discovery(self) -> dict[str, Any]:
        """The auth server's OIDC metadata (RFC 8414 / OIDC Discovery), checked against the issuer."""
        from ._oauth import discover

        client = self._oidc()
        return dict(discover(client.config, file=client.file))

    def scopes_supported(self) -> list[str]:
        """The scopes the server advertises (`scopes_supported`), for scripts and the CLI."""
        scopes = self.discovery().get("scopes_supported")
        return [str(s) for s in scopes] if isinstance(scopes, list) else []

    def userinfo(self) -> dict[str, Any]:
        """The logged-in user's claims (OIDC Core §5.3), refreshing the access token first if due."""
        client = self._oidc()
        assert self._manager is not None
        return client.userinfo(self._manager.token())

    def introspect(self, which: str = "access_token") -> dict[str, Any]:
        """RFC 7662 introspection of the current `access_token` or `refresh_token`."""
        client = self._oidc()
        assert self._manager is not None
        token = self._manager.cached()
        value = getattr(token, which, None) if token else None
        if not value:
            raise LoginRequiredError(
                f"there is no {which} to introspect",
                file=client.file,
                hint=f"Log in first: `{login_command(client.file)}`",
            )
        return client.introspect(value, which)

    def _keep(self, token: Token | None) -> Credential:
        if token is None or self._manager is None:
            return Credential(token, None)
        self._manager.set(token)
        self._reset_authenticator()
        return Credential(token, self._manager.store.path)

    def _reset_authenticator(self) -> None:
        if self._authenticator is not None:
            self._authenticator.reset()

    def __repr__(self) -> str:
        origin = f", file={str(self._location.file)!r}" if self._location else ""
        return f"AuthContext(profile={self._profile_name!r}, client={self._client!r}{origin})"

    def __getstate__(self) -> NoReturn:
        raise TypeError("AuthContext cannot be pickled (it holds credentials)")


def for_loaded_transports(auth: RequestAuthenticator) -> RequestAuthenticator:
    """`auth`, made an `httpx.Auth` (`_authenticator_httpx.HttpxRequestAuthenticator`) if the program has
    imported httpx: httpx calls `sync_auth_flow` / `async_auth_flow` only on an `httpx.Auth`.

    The object itself changes class, once, so every reference to it (and its token state) stays valid; a
    program that never imports httpx never loads it. An authenticator obtained before httpx was imported and
    handed to httpx without asking again (`ctx.request_authenticator()`) is called as a plain function: the
    header is set, without the 401 retry or the non-blocking async refresh.
    """
    if type(auth) is RequestAuthenticator and "httpx" in sys.modules:
        from ._authenticator_httpx import HttpxRequestAuthenticator

        auth.__class__ = HttpxRequestAuthenticator
    return auth


def make_authenticator(
    *,
    header: str | None = None,
    manager: TokenManager | None = None,
    allowed_hosts: Iterable[str] | None = None,
) -> RequestAuthenticator:
    return for_loaded_transports(
        RequestAuthenticator(header=header, manager=manager, allowed_hosts=allowed_hosts)
    )
