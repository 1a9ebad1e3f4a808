"""Stage "log in": the authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636, RFC 8252).

`login()` runs one attempt: a fresh PKCE pair (S256 only, SECURITY SEC-01), `state` and `nonce`
(SEC-02), the user's browser at the authorization endpoint, then the code exchanged at the token endpoint
with the same `redirect_uri` (SEC-05). Two ways to get the code back:

- `allow_open_browser`: a one-shot loopback listener (`loopback.CallbackListener`) on
  `local_redirect_uri` (else `redirect_uri`), and `webbrowser.open` (so `BROWSER` is honoured). If no
  browser can be started, the login falls back to the prompt when `allow_tty_prompt` is set.
- `allow_tty_prompt`: the authorization URL (for `redirect_uri`, else `local_redirect_uri`) is printed to
  stderr and the user pastes the redirected URL (its `state` is checked) or the bare code (then PKCE alone
  binds the code to this attempt).

Callback checks: `state` (constant time), then `iss` (RFC 9207: required when discovery advertises
`authorization_response_iss_parameter_supported`, compared whenever present), then `error` (an
`OAuthError` keeping the RFC 6749 §4.1.2.1 `error`). A refused callback never leads to a token request. The
loopback listener does not even take a response without this attempt's `state` (forged by any local process,
SEC-09): it answers 400 and keeps waiting for the real one until the login times out.

The ID token, when returned, is checked for `nonce`, `iss` and `aud` (OIDC Core §3.1.3.7). Its signature is
not verified: it came straight from the token endpoint over TLS, which OIDC Core §3.1.3.7 item 6 allows to
stand in for the signature check.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .._clients import OidcAuthClient
from .._errors import AuthError, DiscoveryError, LoginRequiredError, OAuthError
from .._tokens import Token

if TYPE_CHECKING:
    from .._config_views import AuthCodeFlowConfig
    from .loopback import CallbackListener

__all__ = [
    "AuthCodeAuthClient",
    "AuthCodeWithClientSecretAuthClient",
    "AuthCodeWithPubKeyAuthClient",
    "pkce_challenge",
]

log = logging.getLogger("planet_profiles.authcode")

_VERIFIER_BYTES = 48  # 64 base64url characters, within RFC 7636 §4.1's 43..128
_STATE_BYTES = 24  # 192 bits (SEC-02 asks for at least 128)
_POLL = 0.05
# Authorization request parameters that `extra` cannot override (RFC 6749 §4.1.1, RFC 7636 §4.3).
_RESERVED = frozenset(
    {
        "client_id",
        "response_type",
        "redirect_uri",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    }
)


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 §4.2 `S256`: `BASE64URL(SHA256(ASCII(code_verifier)))`."""
    from .._oauth import b64url_encode  # (on first use, as below: a load with a valid token needs no OAuth)

    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def _same(received: str | None, expected: str) -> bool:
    """Constant-time comparison (SEC-02)."""
    return received is not None and hmac.compare_digest(received.encode(), expected.encode())


def _state_matches(query: str, attempt: _Attempt) -> bool:
    """The response carries this attempt's `state`, once (SEC-02); else it is not this login's (SEC-09)."""
    states = parse_qs(query, keep_blank_values=True).get("state", [])
    return len(states) == 1 and _same(states[0], attempt.state)


class _Attempt:
    """The secrets of one authorization request, fresh for each; never reused (RFC 7636 §4.1, OIDC Core
    §3.1.2.1). Not shown by `repr`. (No dataclass: loading an auth-code profile imports this module.)"""

    __slots__ = ("nonce", "state", "verifier")

    def __init__(self) -> None:
        import secrets  # at login: loading the profile does not need it

        self.verifier = secrets.token_urlsafe(_VERIFIER_BYTES)
        self.state = secrets.token_urlsafe(_STATE_BYTES)
        self.nonce = secrets.token_urlsafe(_STATE_BYTES)

    def __repr__(self) -> str:
        return "_Attempt(...)"


class _AuthCodeClient(OidcAuthClient):
    """The authorization code + PKCE login shared by the three `oidc_auth_code*` types."""

    _config: AuthCodeFlowConfig

    def login(
        self,
        *,
        allow_open_browser: bool = False,
        allow_tty_prompt: bool = False,
        requested_scopes: list[str] | None = None,
        requested_audiences: list[str] | None = None,
        extra: Mapping[str, object] | None = None,
        timeout: float = 300.0,
        **ignored: Any,
    ) -> Token:
        """Log the user in through the browser (loopback listener) or the terminal prompt.

        The browser is used when allowed and the redirect URI is a loopback one; else the prompt, if allowed.

        `requested_scopes` / `requested_audiences` replace the profile's `scopes` / `audiences`; `extra` adds
        authorization request parameters (never PKCE, state, nonce, client_id or redirect_uri); `timeout`
        bounds the wait for the browser's redirect, in seconds.
        """
        from .loopback import is_loopback_uri  # http.server: imported only for logins

        params = self._request_params(requested_scopes, requested_audiences, extra)
        if allow_open_browser and (is_loopback_uri(self._redirect_uri(local=True)) or not allow_tty_prompt):
            return self._browser_login(params, timeout=timeout, allow_tty_prompt=allow_tty_prompt)
        if allow_tty_prompt:
            return self._tty_login(params)
        raise LoginRequiredError(
            f"`{self.client_type}` logins need the browser or the terminal, and neither was allowed",
            file=self.file,
            hint="Pass `allow_open_browser=True` or `allow_tty_prompt=True`; on a machine without a browser "
            "use an `oidc_device_code` profile",
        )

    def _redirect_uri(self, *, local: bool) -> str:
        """The listener's URI (`local`: `local_redirect_uri`, else `redirect_uri`) or the one the terminal
        prompt sends (`redirect_uri`, else `local_redirect_uri`); the schema requires one of them."""
        local_uri, uri = self._config.local_redirect_uri, self._config.redirect_uri
        chosen = (local_uri or uri) if local else (uri or local_uri)
        assert chosen is not None
        return chosen

    # --- the authorization request -------------------------------------------------------------------------

    def _request_params(
        self,
        scopes: list[str] | None,
        audiences: list[str] | None,
        extra: Mapping[str, object] | None,
    ) -> dict[str, str]:
        """The attempt-independent authorization request parameters (RFC 6749 §4.1.1)."""
        params = {key: str(value) for key, value in (extra or {}).items() if value is not None}
        clash = sorted(_RESERVED & params.keys())
        if clash:
            raise AuthError(
                f"`extra` cannot set {', '.join(f'`{key}`' for key in clash)}",
                file=self.file,
                hint="These authorization request parameters are set by the login itself",
            )
        organization = self._config.organization
        if organization:
            params.setdefault("organization", str(organization))  # Auth0 organizations
        params.update(self.scope_form(scopes, audiences))
        if "offline_access" in params.get("scope", "").split():
            # OIDC Core §11: offline_access is honoured only with prompt=consent (oidc-provider enforces it).
            params.setdefault("prompt", "consent")
        return params

    def _authorize_url(self, params: Mapping[str, str], attempt: _Attempt, redirect_uri: str) -> str:
        query = {
            **params,
            "response_type": "code",
            "client_id": str(self._config.client_id),
            "redirect_uri": redirect_uri,
            "state": attempt.state,
            "nonce": attempt.nonce,
            "code_challenge": pkce_challenge(attempt.verifier),
            "code_challenge_method": "S256",
        }
        endpoint = self.endpoint("authorization_endpoint")
        return endpoint + ("&" if urlsplit(endpoint).query else "?") + urlencode(query)

    def _issuer(self) -> str:
        from .._oauth import normalize_issuer

        return normalize_issuer(str(self._config.issuer or self._config.auth_server))

    def _iss_required(self) -> bool:
        """RFC 9207 §3: the server promises `iss` in every authorization response."""
        from .._oauth import discover

        try:
            meta = discover(self._config, file=self.file)
        except DiscoveryError:
            if self._config.authorization_endpoint:
                return False  # endpoints configured by hand: the server may have no discovery document
            raise
        return meta.get("authorization_response_iss_parameter_supported") is True

    def _callback_checker(self, attempt: _Attempt, iss_required: bool) -> Callable[[str], str]:
        """`check(query)`: the code of an authorization response (RFC 6749 §4.1.2), or a typed error."""
        from .._oauth import normalize_issuer

        issuer = self._issuer()

        def check(query: str) -> str:
            if not _state_matches(query, attempt):
                raise AuthError(
                    "the authorization response's `state` does not match this login (possible CSRF); "
                    "no token was requested",
                    file=self.file,
                    hint="Start the login again from this application, and use only the browser tab it opens",
                )
            raw = parse_qs(query, keep_blank_values=True)
            repeated = sorted(key for key, values in raw.items() if len(values) > 1)
            if repeated:  # RFC 6749 §3.1: parameters must not be repeated
                raise AuthError(f"the authorization response repeats {repeated}", file=self.file)
            params = {key: values[0] for key, values in raw.items()}
            iss = params.get("iss")
            if (iss is not None or iss_required) and normalize_issuer(iss or "") != issuer:
                raise AuthError(
                    f"the authorization response came from issuer {iss!r}, expected {issuer!r} (RFC 9207)",
                    file=self.file,
                    hint="Check `auth_server` / `issuer` in the profile; another server may be interfering",
                )
            if "error" in params:
                error, description = params["error"], params.get("error_description")
                raise OAuthError(
                    f"the authorization server refused the login: {error}"
                    + (f" ({description})" if description else ""),
                    error=error,
                    error_description=description,
                    file=self.file,
                    hint="Log in again and approve the request" if error == "access_denied" else None,
                )
            code = params.get("code")
            if not code:
                raise AuthError("the authorization response has no `code`", file=self.file)
            return code

        return check

    # --- browser + loopback listener -----------------------------------------------------------------------

    def _browser_login(self, params: Mapping[str, str], *, timeout: float, allow_tty_prompt: bool) -> Token:
        from .loopback import CallbackListener, acknowledgement_page

        uri = self._redirect_uri(local=True)
        attempt = _Attempt()
        check = self._callback_checker(attempt, self._iss_required())
        key = "local_redirect_uri" if self._config.local_redirect_uri else "redirect_uri"
        page = acknowledgement_page(self._config, file=self.file)
        belongs = functools.partial(_state_matches, attempt=attempt)  # others: refused, the wait goes on
        with CallbackListener(
            uri, handle=check, belongs=belongs, page=page, key=key, file=self.file
        ) as listener:
            redirect_uri = listener.redirect_uri
            url = self._authorize_url(params, attempt, redirect_uri)
            print(
                f"Opening the browser to log in; waiting for the redirect to {redirect_uri}", file=sys.stderr
            )
            answered = self._wait_for_callback(listener, _open_browser(url), timeout)
        if answered:
            return self._exchange(listener.code(), redirect_uri, attempt)
        if allow_tty_prompt:
            log.info("no browser could be started; falling back to the terminal prompt")
            return self._tty_login(params)
        raise LoginRequiredError(
            "no browser could be started",
            file=self.file,
            hint="Set `BROWSER`, or pass `allow_tty_prompt=True` to log in by pasting the redirected URL",
        )

    def _wait_for_callback(
        self, listener: CallbackListener, opened: Callable[[], bool | None], timeout: float
    ) -> bool:
        """True once the listener answered; False when no browser could be started; raises on timeout."""
        deadline = time.monotonic() + timeout
        while not listener.wait(min(_POLL, deadline - time.monotonic())):
            if opened() is False and not listener.answered():
                return False
            if time.monotonic() >= deadline:
                raise LoginRequiredError(
                    f"no login redirect reached {listener.redirect_uri} within {timeout:g} s",
                    file=self.file,
                    hint="Log in again and finish in the browser; on a machine without a browser "
                    "use `allow_tty_prompt` or an `oidc_device_code` profile",
                )
        return True

    # --- terminal prompt -----------------------------------------------------------------------------------

    def _tty_login(self, params: Mapping[str, str]) -> Token:
        redirect_uri = self._redirect_uri(local=False)
        attempt = _Attempt()
        check = self._callback_checker(attempt, self._iss_required())
        url = self._authorize_url(params, attempt, redirect_uri)
        print(
            "Open this URL in a browser and log in:\n\n"
            f"    {url}\n\n"
            "Then paste the URL the browser was redirected to (or the code it shows) and press Enter:",
            file=sys.stderr,
            flush=True,
        )
        try:
            answer = input().strip()
        except EOFError:
            answer = ""
        if not answer:
            raise LoginRequiredError("no code or URL was entered", file=self.file, hint="Log in again")
        query = urlsplit(answer).query or answer.lstrip("?")
        if any(f"{key}=" in query for key in ("code", "state", "error")):
            code = check(query)  # the redirected URL (or its query): state, iss and error are checked
        else:
            code = answer  # a bare code: PKCE binds it to this attempt's verifier
        return self._exchange(code, redirect_uri, attempt)

    # --- the token request ---------------------------------------------------------------------------------

    def _exchange(self, code: str, redirect_uri: str, attempt: _Attempt) -> Token:
        """RFC 6749 §4.1.3 plus RFC 7636 §4.5 `code_verifier`, with the request's redirect_uri (SEC-05)."""
        token = self.token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": attempt.verifier,
            }
        )
        if token.id_token:
            self._check_id_token(token.id_token, attempt)
        return token

    def _check_id_token(self, id_token: str, attempt: _Attempt) -> None:
        """OIDC Core §3.1.3.7: `iss`, `aud` (and `azp`) and `nonce` of the token response's ID token."""
        from .._oauth import b64url_decode, normalize_issuer

        try:
            payload = id_token.split(".")[1]
            claims = json.loads(b64url_decode(payload))
        except (IndexError, ValueError):
            claims = None
        if not isinstance(claims, dict):
            raise AuthError("the token response holds a malformed `id_token`", file=self.file)
        client_id = str(self._config.client_id)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        problem = None
        if normalize_issuer(str(claims.get("iss") or "")) != self._issuer():
            problem = f"`iss` is {claims.get('iss')!r}, expected {self._issuer()!r}"
        elif client_id not in audiences:
            problem = f"`aud` does not contain the client id {client_id!r}"
        elif len(audiences) > 1 and "azp" in claims and claims["azp"] != client_id:
            problem = f"`azp` is {claims['azp']!r}, expected {client_id!r}"
        elif not isinstance(claims.get("nonce"), str) or not _same(claims["nonce"], attempt.nonce):
            problem = "`nonce` does not match this login (possible replay)"
        if problem:
            raise AuthError(f"the ID token is not for this login: {problem}", file=self.file)


def _open_browser(url: str) -> Callable[[], bool | None]:
    """Start `webbrowser.open(url)` in a thread; the result: None while running, then whether it worked.

    `webbrowser` waits for a `BROWSER` command line (`cmd %s`) to exit, and that command may be the one that
    delivers the redirect to the listener, so it must not block the wait for it.
    """
    import webbrowser

    result: list[bool] = []

    def run() -> None:
        try:
            result.append(bool(webbrowser.open(url)))
        except Exception:  # webbrowser.Error, OSError from a broken BROWSER setting
            log.debug("webbrowser.open failed", exc_info=True)
            result.append(False)

    threading.Thread(target=run, name="planet-profiles-browser", daemon=True).start()
    return lambda: result[0] if result else None


class AuthCodeAuthClient(_AuthCodeClient):
    """`oidc_auth_code`: a public client (no client authentication, PKCE only)."""

    client_type = "oidc_auth_code"
    client_auth_method = "none"


class AuthCodeWithClientSecretAuthClient(_AuthCodeClient):
    """`oidc_auth_code_secret`: a confidential client authenticated with its secret (RFC 6749 §2.3.1)."""

    client_type = "oidc_auth_code_secret"
    client_auth_method = "client_secret"


class AuthCodeWithPubKeyAuthClient(_AuthCodeClient):
    """`oidc_auth_code_pubkey`: a confidential client authenticated with private_key_jwt (RFC 7523 §2.2)."""

    client_type = "oidc_auth_code_pubkey"
    client_auth_method = "private_key_jwt"
