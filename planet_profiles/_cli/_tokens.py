"""`login`, `logout`, `token`: get, drop and print a profile's credentials.

`token` prints the access token and nothing else on stdout, so `export TOKEN=$(planet-profiles token x)`
works; messages and warnings go to stderr. With a cached token that is not due for renewal it loads neither
the profile config nor any HTTP or schema library (see `_cached_access_token`).
"""

from __future__ import annotations

import datetime
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from .._errors import AuthError
from ._app import cli, profile_argument
from ._common import human_duration

if TYPE_CHECKING:
    from .._tokens import Token


def _cached_access_token(name: str | None) -> str | None:
    """The profile's cached access token if it is not due for renewal, else None (then the caller loads
    the profile and lets its `TokenManager` renew). Same freshness rule as `TokenManager.token()`; the
    profile is located as the loader locates it, but a built-in one is left to the full path."""
    from .._errors import ProfileNotFoundError
    from .._selection import locate, resolve_source
    from .._token_manager import refresh_at
    from .._tokens import token_store

    try:
        located = locate(resolve_source(name), builtins=False)
    except ProfileNotFoundError:
        return None  # maybe built in: the full path decides
    if located.location is None:
        return None  # ad-hoc credentials
    token = token_store(located.name, save_token_file=True, profile_file=located.location.file).load()
    if token is not None and time.time() < refresh_at(token):
        return token.access_token
    return None


@cli.command()
@profile_argument
def token(name: str | None) -> None:
    """Print a valid access token, and nothing else.

    A cached token is refreshed (or re-granted, for client credentials) when due; profiles that need a
    user and have no usable token fail with a hint to `login`. Use it as
    `export TOKEN=$(planet-profiles token NAME)`.
    """
    value = _cached_access_token(name)
    if value is None:
        from .._errors import UnsupportedOperationError
        from .._loader import open_profile

        ctx = open_profile(name)
        manager = ctx.token_manager
        if manager is None:
            client = ctx.auth_client()
            raise UnsupportedOperationError(
                f"`{client.client_type}` profiles have no access token",
                file=client.file,
                hint="`token` works for the oidc_* profile types",
            )
        value = manager.token().access_token
    click.echo(value)


@cli.command()
@profile_argument
@click.option(
    "--no-browser", is_flag=True, help="Never open a browser: print the URL or code and prompt here."
)
@click.option(
    "--device", is_flag=True, help="Use the device flow (RFC 8628); the profile type must support it."
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help="Request SCOPE instead of the profile's `scopes` (repeatable).",
)
def login(name: str | None, no_browser: bool, device: bool, scopes: tuple[str, ...]) -> None:
    """Log in with the profile's flow; save the token.

    The token goes to ~/.planet/NAME/ (encrypted for encrypted profiles).
    Auth-code profiles open the system browser (a loopback redirect), or with --no-browser print the URL
    and read the pasted code; device-code profiles show a code to enter on another device. Profiles that
    need no user (client credentials, API keys) just fetch their credential.
    """
    from .._loader import open_profile

    ctx = open_profile(name)
    kwargs: dict[str, Any] = {"requested_scopes": list(scopes)} if scopes else {}
    if device:
        from .._flows.device import open_verification_uri, show_device_prompt

        info = ctx.device_login_initiate(**kwargs)
        show_device_prompt(info, stream=sys.stderr)
        if not no_browser:
            open_verification_uri(info)
        credential = ctx.device_login_complete(info)
    else:
        credential = ctx.login(allow_open_browser=not no_browser, allow_tty_prompt=True, **kwargs)
    profile = ctx.profile_name()
    got = credential.token
    if got is None:
        click.echo(f"Profile {profile} (`{ctx.auth_client().client_type}`) needs no login.")
        return
    left = f", expires in {human_duration(got.expires_at - time.time())}" if got.expires_at else ""
    where = f"; saved to {credential.path()}" if credential.path() else ""
    granted = f" (scope: {got.scope})" if scopes and got.scope is not None else ""
    click.echo(f"Logged in with profile {profile}{granted}{left}{where}.")
    if scopes and got.refresh_token is None and ctx.auth_client().unattended:  # renewed by a new grant
        click.echo("Renewals of this token request the profile's scopes again.", err=True)


@cli.command()
@profile_argument
def logout(name: str | None) -> None:
    """Revoke the tokens (RFC 7009) and delete them locally.

    Says what the server revoked. An access token the server cannot revoke (a JWT access token, for many
    servers) stays valid until its expiry, which is printed. The local token file is deleted even when
    the server cannot be reached; a warning says so.
    """
    from .._loader import open_profile

    ctx = open_profile(name)
    path = ctx.token_file_path()
    had_token = path is not None and path.exists()
    cached = ctx.token_manager.cached() if ctx.token_manager is not None else None
    outcome: dict[str, str] = {}
    try:
        outcome = ctx.logout()
    except AuthError as exc:
        click.echo(f"warning: the server did not revoke the token: {exc}", err=True)
    profile = ctx.profile_name()
    revoked = [kind.replace("_", " ") for kind, done in outcome.items() if done == "revoked"]
    if revoked:
        click.echo(f"Revoked the {' and the '.join(revoked)} of profile {profile}.")
    if outcome.get("access_token") == "unsupported":
        click.echo(f"The server cannot revoke the access token (a JWT): {_expiry(cached)}.")
    if had_token:
        click.echo(f"Logged out of profile {profile}: deleted {path}.")
    else:
        click.echo(f"Profile {profile} had no token to delete.")


def _expiry(token: Token | None) -> str:
    """When an access token that stays valid stops working: `it expires at 14:05:09 (in 4 min 12 s)`."""
    if token is None or token.expires_at is None:
        return "it stays valid until it expires"
    at = datetime.datetime.fromtimestamp(token.expires_at).astimezone()
    left = human_duration(token.expires_at - time.time())
    return f"it stays valid until it expires at {at:%H:%M:%S %Z} (in {left})"
