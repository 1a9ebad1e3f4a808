"""Stage "log in": `planet_legacy`, Planet's legacy e-mail/password login that yields an API key.

Deprecated by Planet (SDK v3 dropped it) and kept for parity. `login` POSTs `{"email", "password"}` as JSON
to `legacy_auth_endpoint`; the answer `{"token": "<JWT>"}` carries the API key in its payload. The JWT is
signed with Planet's own HMAC key, which clients do not have, so its payload is read unverified (as
Planet's library does) over the TLS connection that delivered it. Requests then carry
`Authorization: api-key <key>`. A profile with `api_key` needs no login: the key is sent as is and no token
file is used.

The credential is kept like any token (`TokenManager`, `token.json` 0600 or `token.sops.json`) in
planet-auth's legacy file format `{"key", "jwt"}` (the old Planet SDK's), plus `access_token` (the same key)
and `_iat`, so both libraries read each other's files. The typed password lives only in local variables
for one request: it is never stored, logged or put in an error (SECURITY SEC-08).
"""

from __future__ import annotations

import getpass
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import __version__, _http
from .._clients import ApiHostsClient
from .._config import secret_value
from .._errors import InvalidGrantError, LoginRequiredError, OAuthError
from .._names import login_command
from .._tokens import Token

if TYPE_CHECKING:
    from .._config import ClientConfig
    from .._config_views import PlanetLegacyConfig

__all__ = ["API_KEY_SCHEME", "PlanetLegacyAuthClient", "legacy_token"]

log = logging.getLogger("planet_profiles.flow")

API_KEY_SCHEME = "api-key"
_X_PLANET_APP = ("X-Planet-App", f"planet-profiles-{__version__}")


def legacy_token(api_key: str, jwt: str | None = None, *, now: float | None = None) -> Token:
    """The stored form of a legacy login: planet-auth's `{"key", "jwt"}` plus `access_token` and `_iat`."""
    data: dict[str, object] = {"access_token": api_key, "key": api_key, "_iat": int(now or time.time())}
    if jwt is not None:
        data["jwt"] = jwt
    return Token(data)


def _server_message(resp: _http.HttpResponse) -> str | None:
    """Planet's error text (`{"message": ...}` or `{"general": [{"message": ...}]}`), shortened."""
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    general = body.get("general")
    if not isinstance(message, str) and isinstance(general, list) and general:
        first = general[0]
        message = first.get("message") if isinstance(first, dict) else None
    return message[:200] if isinstance(message, str) and message else None


class PlanetLegacyAuthClient(ApiHostsClient):
    """`planet_legacy`: e-mail/password → API key, sent as `Authorization: api-key <key>`."""

    client_type = "planet_legacy"
    uses_tokens = True
    _config: PlanetLegacyConfig

    def __init__(self, config: ClientConfig, *, file: str | None = None) -> None:
        super().__init__(config, file=file)
        if secret_value(self._config.api_key):
            self.uses_tokens = False  # a configured key: no login, no token file (planet-auth: key wins)

    @property
    def endpoint(self) -> str:
        return str(self._config.legacy_auth_endpoint)

    def static_header(self) -> str | None:
        key = secret_value(self._config.api_key)
        return f"{API_KEY_SCHEME} {key}" if key else None

    def authorization(self, token: Token) -> str:
        """The `Authorization` value for a logged-in credential (Planet's `api-key` scheme)."""
        return f"{API_KEY_SCHEME} {token.access_token}"

    def login(
        self,
        *,
        allow_open_browser: bool = False,
        allow_tty_prompt: bool = False,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> Token | None:
        """Exchange an e-mail and password for an API key; prompts on the terminal when allowed.

        Returns None (nothing to do) when the profile already has `api_key`.
        """
        if not self.uses_tokens:
            log.info("profile %s has an `api_key`: no login needed", self._file or "(in memory)")
            return None
        log.warning(
            "planet_legacy: Planet's legacy e-mail/password login is deprecated; "
            "prefer an OAuth profile (e.g. `oidc_auth_code`) or an `api_key`"
        )
        email = email or username
        if not email:
            email = self._prompt(allow_tty_prompt, "email", lambda: input("Email: ").strip())
        if not password:
            password = self._prompt(allow_tty_prompt, "password", lambda: getpass.getpass("Password: "))
        return self._exchange(email, password)

    def _prompt(self, allowed: bool, what: str, ask: Callable[[], str]) -> str:
        if not allowed:
            raise LoginRequiredError(
                f"a legacy login needs the {what}",
                file=self._file,
                hint="Pass `username=` and `password=` to `login()`, or allow the terminal prompt "
                f"(`allow_tty_prompt=True`, `{login_command(self._file)}`)",
            )
        answer = ask()
        if not answer:
            raise LoginRequiredError(f"no {what} given", file=self._file, hint="Enter it at the prompt")
        return answer

    def _exchange(self, email: str, password: str) -> Token:
        """POST the credentials as JSON and read the API key out of the returned JWT."""
        url = self.endpoint
        host = urlsplit(url).netloc or url
        body = json.dumps({"email": email, "password": password}).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            _X_PLANET_APP[0]: _X_PLANET_APP[1],
        }
        resp = _http.request("POST", url, data=body, headers=headers)
        message = _server_message(resp) if resp.status != 200 else None
        said = f": {message}" if message else ""
        if resp.status in (400, 401, 403):
            raise InvalidGrantError(
                f"{host} refused the e-mail or password (HTTP {resp.status}{said})",
                error="invalid_grant",
                error_description=message,
                status_code=resp.status,
                file=self._file,
                hint="Check the e-mail and password of your Planet account",
            )
        if resp.status != 200:
            raise OAuthError(
                f"legacy login at {host} answered HTTP {resp.status}{said}",
                status_code=resp.status,
                file=self._file,
                key="legacy_auth_endpoint",
                hint="Check `legacy_auth_endpoint` in the profile, or try again later",
            )
        return self._credential_from(resp, host)

    def _credential_from(self, resp: _http.HttpResponse, host: str) -> Token:
        """The API key out of `{"token": "<JWT>"}`; the JWT is kept as planet-auth keeps it."""
        import jwt

        try:
            payload = resp.json()
        except (ValueError, UnicodeDecodeError):
            payload = None
        token = payload.get("token") if isinstance(payload, Mapping) else None
        if not isinstance(token, str) or not token:
            problem = "no `token` in a JSON object"
        else:
            try:
                # Signed with Planet's HMAC key, which clients never have: read, not verified (module doc).
                claims = jwt.decode(token, options={"verify_signature": False})  # nosemgrep
            except jwt.PyJWTError:
                claims = None
            api_key = claims.get("api_key") if isinstance(claims, dict) else None
            if isinstance(api_key, str) and api_key:
                return legacy_token(api_key, token)
            problem = "a token without an `api_key`"
        raise OAuthError(
            f"legacy login at {host} returned {problem}",
            status_code=resp.status,
            file=self._file,
            key="legacy_auth_endpoint",
            hint="Check `legacy_auth_endpoint` in the profile: it must be Planet's legacy login endpoint",
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_type={self.client_type!r}, endpoint={self.endpoint!r})"
