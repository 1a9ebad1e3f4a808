"""Stage "log in": the resource owner password credentials grant (RFC 6749 §4.3).

Kept for parity with planet-auth's `oidc_resource_owner*` types, but discouraged: the client sees the
user's password, and RFC 9700 §2.4 says it MUST NOT be used. Every use logs a warning on the
`planet_profiles.flow` logger (SECURITY SEC-08).

Where the user name and password come from, first match wins:

1. `login(username=..., password=...)` keyword arguments;
2. the profile's `username` / `password` (the profile's password is used only for the profile's user);
3. with `allow_tty_prompt=True`, the terminal (`input` for the user name, `getpass` for the password).

Otherwise `LoginRequiredError`. A password typed at the prompt is sent once and never kept: not on the
client, not in the token file, not in the profile. Only a profile that holds both `username` and
`password` is `unattended`: its client logs in again silently when the refresh token is refused.
"""

from __future__ import annotations

import getpass
import logging
from typing import TYPE_CHECKING, Any

from .._clients import OidcAuthClient
from .._config import secret_value
from .._errors import InvalidGrantError, LoginRequiredError
from .._names import login_command
from .._tokens import Token

if TYPE_CHECKING:
    from .._config_views import ResourceOwnerFlowConfig

__all__ = [
    "ResourceOwnerAuthClient",
    "ResourceOwnerWithClientSecretAuthClient",
    "ResourceOwnerWithPubKeyAuthClient",
]

log = logging.getLogger("planet_profiles.flow")

_LOGIN_HINT = (
    "Pass `username` and `password` to `login()`, allow the terminal prompt (`allow_tty_prompt=True`), "
    "or set `username` and `password` in the profile"
)


class ResourceOwnerAuthClient(OidcAuthClient):
    """`oidc_resource_owner`: password grant for a public client (no client authentication)."""

    client_type = "oidc_resource_owner"
    client_auth_method = "none"
    _config: ResourceOwnerFlowConfig

    @property  # per profile: only with stored credentials
    def unattended(self) -> bool:  # type: ignore[override]
        """True when the profile holds both `username` and `password` (no user needed to log in)."""
        return self._stored_username() is not None and secret_value(self._config.password) is not None

    def login(
        self, *, allow_open_browser: bool = True, allow_tty_prompt: bool = True, **kwargs: Any
    ) -> Token:
        """Log in with `username`/`password` (kwargs, profile or prompt, in that order; see the module doc).

        `requested_scopes` / `requested_audiences` override the profile's `scopes` / `audiences`.
        """
        username = kwargs.get("username") or self._stored_username()
        password = kwargs.get("password") or None
        stored = password is None and username is not None and username == self._stored_username()
        if stored:
            password = secret_value(self._config.password)
            stored = password is not None
        if (username is None or password is None) and allow_tty_prompt:
            username, password = self._prompt(username)
        if not username or password is None:
            raise LoginRequiredError(
                f"`{self.client_type}` needs a user name and password", file=self._file, hint=_LOGIN_HINT
            )
        return self._password_grant(
            str(username),
            str(password),
            kwargs.get("requested_scopes"),
            kwargs.get("requested_audiences"),
            stored=stored,
        )

    def grant(self) -> Token:
        """Log in with the profile's stored `username` and `password` (a silent re-login)."""
        username = self._stored_username()
        password = secret_value(self._config.password)
        if username is None or password is None:
            raise LoginRequiredError(
                f"`{self.client_type}` needs a login: the profile holds no username and password",
                file=self._file,
                hint=_LOGIN_HINT.replace("Pass", f"Run `{login_command(self._file)}`, pass", 1),
            )
        return self._password_grant(username, password, None, None, stored=True)

    def _stored_username(self) -> str | None:
        value = self._config.username
        return str(value) if value else None

    def _prompt(self, username: str | None) -> tuple[str | None, str | None]:
        """Ask on the terminal for whatever is missing; the password is read without echo."""
        try:
            if not username:
                username = input("User name: ").strip() or None
            if username is None:
                return None, None
            return username, getpass.getpass(f"Password for {username}: ")
        except (EOFError, KeyboardInterrupt):
            raise LoginRequiredError(
                "the login prompt was cancelled", file=self._file, hint=_LOGIN_HINT
            ) from None

    def _password_grant(
        self,
        username: str,
        password: str,
        scopes: list[str] | None,
        audiences: list[str] | None,
        *,
        stored: bool = False,
    ) -> Token:
        """RFC 6749 §4.3.2: `grant_type=password` with the client's authentication."""
        log.warning(
            "`%s` uses the resource owner password grant, which is discouraged (RFC 9700 §2.4): "
            "prefer an `oidc_auth_code` or `oidc_device_code` profile",
            self.client_type,
        )
        form = {
            "grant_type": "password",
            "username": username,
            "password": password,
            **self.scope_form(scopes, audiences),
        }
        try:
            return self.token_request(form)
        except InvalidGrantError as exc:  # §5.2: wrong user name or password
            raise InvalidGrantError(
                exc.message,
                error=exc.error,
                error_description=exc.error_description,
                status_code=exc.status_code,
                file=self._file,
                key="password" if stored else None,
                hint="Check `username` and `password` in the profile"
                if stored
                else "Check the user name and password",
            ) from None


class ResourceOwnerWithClientSecretAuthClient(ResourceOwnerAuthClient):
    """`oidc_resource_owner_secret`: password grant with a client secret (RFC 6749 §2.3.1)."""

    client_type = "oidc_resource_owner_secret"
    client_auth_method = "client_secret"


class ResourceOwnerWithPubKeyAuthClient(ResourceOwnerAuthClient):
    """`oidc_resource_owner_pubkey`: password grant with private_key_jwt (RFC 7523 §2.2)."""

    client_type = "oidc_resource_owner_pubkey"
    client_auth_method = "private_key_jwt"
