"""Stage "log in": the device authorization grant (RFC 8628).

The client asks the device authorization endpoint for a `device_code` and a `user_code` (§3.1, §3.2), the
user enters the code at `verification_uri` on any device (§3.3), and the client polls the token endpoint
with the device code until the user has approved (§3.4, §3.5). SECURITY DEV-01:

- the user sees `verification_uri` and `user_code`, plus `verification_uri_complete` and a QR code of it
  when there is one (QR drawn with the optional `segno` package: `pip install 'planet-profiles[qr]'`);
- polls are at least `interval` seconds apart (5 s when the server names none, §3.2), and every
  `slow_down` adds 5 s to the interval of all later polls (§3.5);
- `access_denied` and `expired_token` stop polling with `AccessDeniedError` / `ExpiredTokenError`, and
  polling stops with `.error == "expired_token"` once `expires_in` has elapsed locally;
- Ctrl-C (`KeyboardInterrupt`) simply propagates: the token is only saved by `AuthContext` after success,
  so an interrupted login leaves no token file behind.

Clock and sleep are injectable (`clock=`, `sleep=` or the `_clock` / `_sleep` attributes) for tests.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from .._clients import OidcAuthClient
from .._errors import AccessDeniedError, AuthError, ExpiredTokenError, LoginRequiredError, OAuthError
from .._names import login_command
from .._oauth import error_from
from .._terminal import inert
from .._tokens import Token, fingerprint

if TYPE_CHECKING:
    from .._config import ClientConfig

__all__ = [
    "DEVICE_CODE_GRANT",
    "DeviceCodeAuthClient",
    "DeviceCodeWithClientSecretAuthClient",
    "DeviceCodeWithPubKeyAuthClient",
    "open_verification_uri",
    "render_qr",
    "show_device_prompt",
]

log = logging.getLogger("planet_profiles.device")

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5.0  # RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
MIN_INTERVAL = 1.0  # a server's `interval: 0` would make the client hammer it
SLOW_DOWN_STEP = 5.0  # RFC 8628 §3.5: slow_down → "the interval MUST be increased by 5 seconds"
_MAX_PENDING = 32  # initiation times kept per client (device logins started but not completed)
_SHOWN = ("user_code", "verification_uri", "verification_uri_complete")  # RFC 8628 §3.3: shown to the user

def _restart_hint(file: str | None) -> str:
    return f"Start a new device login (`{login_command(file)}`, or `device_login_initiate()` again)"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _malformed_member(data: object, required: tuple[str, ...]) -> str | None:
    """The first missing or malformed member of a §3.2 answer ("" when it is no object), or None."""
    if not isinstance(data, Mapping):
        return ""
    for member in required:
        if not _nonempty_str(data.get(member)):
            return member
    expires_in = _number(data.get("expires_in"))
    if expires_in is None or expires_in <= 0:
        return "expires_in"
    interval = data.get("interval")  # optional; 5 s when absent
    seconds = _number(interval)
    if interval is not None and (seconds is None or seconds < 0):
        return "interval"
    complete = data.get("verification_uri_complete")  # optional
    if complete is not None and not _nonempty_str(complete):
        return "verification_uri_complete"
    return None


class _DeviceCodeFlow(OidcAuthClient):
    """RFC 8628 for the three `oidc_device_code*` types; they differ only in client authentication."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        file: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config, file=file)
        self._clock = clock
        self._sleep = sleep
        self._pending_lock = threading.Lock()
        self._initiated: dict[str, float] = {}  # fingerprint(device_code) -> clock() when it was issued

    # --- §3.1 / §3.2: device authorization request ----------------------------------------------------

    def device_login_initiate(
        self,
        requested_scopes: list[str] | None = None,
        requested_audiences: list[str] | None = None,
        **ignored: Any,
    ) -> dict[str, Any]:
        """Ask for a device and a user code (RFC 8628 §3.1); return the server's answer (§3.2).

        The dict holds `device_code`, `user_code`, `verification_uri` (copied from `verification_url`
        when the server uses that older name), `expires_in` and, when the server sends them,
        `verification_uri_complete` and `interval`. Show the user `verification_uri` and
        `user_code`, then pass the dict to `device_login_complete`. The members meant for the user's eyes
        (`user_code`, `verification_uri`, `verification_uri_complete`) have terminal control characters
        escaped (`_terminal.inert`), so an application may print them as they are.
        """
        form = self.scope_form(requested_scopes, requested_audiences)
        started = self._clock()
        url, resp = self.post("device_authorization_endpoint", form)
        if resp.status != 200:
            raise error_from(resp, url, file=self.file)
        try:
            answer = resp.json()
        except (ValueError, UnicodeDecodeError):
            answer = None
        if isinstance(answer, dict) and "verification_uri" not in answer and "verification_url" in answer:
            answer["verification_uri"] = answer["verification_url"]  # Google's pre-RFC name
        self._check_authorization_response(answer, url)
        assert isinstance(answer, dict)
        for member in _SHOWN:
            if isinstance(answer.get(member), str):
                answer[member] = inert(answer[member], newlines=False)
        with self._pending_lock:
            if len(self._initiated) >= _MAX_PENDING:
                self._initiated.pop(next(iter(self._initiated)))
            self._initiated[fingerprint(answer["device_code"])] = started
        return answer

    def _check_authorization_response(self, answer: object, url: str) -> None:
        member = _malformed_member(answer, ("device_code", "user_code", "verification_uri"))
        if member is None:
            return
        host = urlsplit(url).netloc
        raise OAuthError(
            f"device authorization endpoint {host} returned "
            + (f"no valid `{member}` (RFC 8628 §3.2)" if member else "no JSON object"),
            file=self.file,
            key="device_authorization_endpoint",
            hint="Check `device_authorization_endpoint` (or `auth_server`) in the profile",
        )

    # --- §3.4 / §3.5: polling the token endpoint ------------------------------------------------------

    def device_login_complete(self, initiated_login_data: Mapping[str, object]) -> Token:
        """Poll the token endpoint until the user approved the login started by `device_login_initiate`.

        Polls are at least `interval` seconds apart, counted from the previous request to the server
        (the device authorization request for the first poll when this client made it). Raises
        `OAuthError` with `.error` `access_denied` or `expired_token` (also when `expires_in` has
        elapsed locally); other refusals surface as `OAuthError` / `InvalidGrantError`.
        """
        device_code, expires_in, interval = self._parse_initiated(initiated_login_data)
        key = fingerprint(device_code)
        with self._pending_lock:
            started = self._initiated.get(key)
        last_request = started if started is not None else self._clock()
        deadline = last_request + expires_in
        polls = 0
        try:
            while True:
                now = self._clock()
                wait = max(0.0, last_request + interval - now)
                if now + wait >= deadline:
                    raise self._expired(f"the device login expired after {expires_in:.0f} s without approval")
                if wait:
                    self._sleep(wait)
                last_request = self._clock()
                polls += 1
                try:
                    token = self.token_request({"grant_type": DEVICE_CODE_GRANT, "device_code": device_code})
                except OAuthError as err:
                    if err.error == "authorization_pending":  # §3.5: keep polling
                        continue
                    if err.error == "slow_down":  # §3.5: +5 s for this and all later polls
                        interval += SLOW_DOWN_STEP
                        log.debug("device login: slow_down, polling every %.0f s now", interval)
                        continue
                    if err.error == "access_denied":
                        raise AccessDeniedError(
                            "the device login was denied by the user",
                            error="access_denied",
                            error_description=err.error_description,
                            status_code=err.status_code,
                            file=self.file,
                            hint=_restart_hint(self.file) + " and approve it",
                        ) from None
                    if err.error == "expired_token":
                        raise self._expired("the device code expired at the server", err) from None
                    raise
                log.debug("device login approved after %d poll(s)", polls)
                return token
        finally:
            with self._pending_lock:
                self._initiated.pop(key, None)

    def _parse_initiated(self, data: Mapping[str, object]) -> tuple[str, float, float]:
        member = _malformed_member(data, ("device_code",))
        if member is not None:
            raise AuthError(
                f"`initiated_login_data` has no valid `{member}`"
                if member
                else "`initiated_login_data` must be a dict",
                key=member or None,
                hint="Pass the dict returned by `device_login_initiate()` unchanged",
            )
        interval = _number(data.get("interval"))
        interval = DEFAULT_INTERVAL if interval is None else max(interval, MIN_INTERVAL)
        expires_in = _number(data.get("expires_in"))
        assert expires_in is not None  # checked by `_malformed_member`
        return str(data["device_code"]), expires_in, interval

    def _expired(self, message: str, err: OAuthError | None = None) -> ExpiredTokenError:
        return ExpiredTokenError(
            message,
            error="expired_token",
            error_description=err.error_description if err else None,
            status_code=err.status_code if err else None,
            file=self.file,
            hint=_restart_hint(self.file) + " and approve it before the code expires",
        )

    # --- interactive login ----------------------------------------------------------------------------

    def login(
        self, *, allow_open_browser: bool = False, allow_tty_prompt: bool = False, **kwargs: Any
    ) -> Token:
        """Start a device login, show the code (stderr, QR; the browser if allowed), wait for approval.

        Keyword arguments `requested_scopes` / `requested_audiences` go to `device_login_initiate`.
        """
        if not (allow_open_browser or allow_tty_prompt):
            raise LoginRequiredError(
                f"a `{self.client_type}` login needs the user, but neither a prompt nor a browser is allowed",
                file=self.file,
                hint="Pass allow_tty_prompt=True or allow_open_browser=True; an application that shows the "
                "code itself calls device_login_initiate(), then device_login_complete(info)",
            )
        info = self.device_login_initiate(**kwargs)
        show_device_prompt(info, stream=sys.stderr)
        if allow_open_browser:
            open_verification_uri(info)
        return self.device_login_complete(info)


def show_device_prompt(info: Mapping[str, object], *, stream: TextIO) -> None:
    """Tell the user where to go and which code to enter (RFC 8628 §3.3), with a QR code when possible."""
    uri = inert(str(info["verification_uri"]), newlines=False)
    complete = info.get("verification_uri_complete")
    complete = inert(str(complete), newlines=False) if complete else None
    code = inert(str(info["user_code"]), newlines=False)
    lines = [f"To log in, open {uri} and enter the code: {code}"]
    if complete:
        lines.append(f"Or open {complete} (the code is filled in).")
    qr = render_qr(str(complete or uri))
    if qr:
        lines += ["Or scan:", qr]
    minutes = max(1, round((_number(info.get("expires_in")) or 0.0) / 60))  # (a checked §3.2 answer)
    lines.append(f"Waiting for approval (the code expires in about {minutes} min; Ctrl-C cancels)...")
    print("\n".join(lines), file=stream, flush=True)


def render_qr(text: str, *, border: int = 2) -> str | None:
    """`text` as a QR code in Unicode half blocks (two modules per character), or None without `segno`.

    Like `qrencode -t UTF8`, light modules are drawn as glyphs, so the code reads right on the usual dark
    terminal background.
    """
    try:
        import segno
    except ImportError:
        return None
    rows = [list(row) for row in segno.make(text, micro=False).matrix_iter(border=border)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))  # one more light half row of quiet zone
    glyphs = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    return "\n".join(
        "".join(glyphs[bool(top), bool(bottom)] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(rows[::2], rows[1::2], strict=True)
    )


def open_verification_uri(info: Mapping[str, object]) -> None:
    """Open the device login's `verification_uri_complete` (else `verification_uri`) in the system browser
    (honours `BROWSER`); only an http(s) URL from the server is opened."""
    url = str(info.get("verification_uri_complete") or info["verification_uri"])
    if urlsplit(url).scheme not in ("http", "https"):
        log.warning("not opening a verification URI that is not http(s)")
        return
    import webbrowser

    try:
        webbrowser.open(url)
    except webbrowser.Error:
        log.debug("could not open a browser; the user can open the printed URL")


class DeviceCodeAuthClient(_DeviceCodeFlow):
    """`oidc_device_code`: device authorization grant for a public client (RFC 8628)."""

    client_type = "oidc_device_code"
    client_auth_method = "none"


class DeviceCodeWithClientSecretAuthClient(_DeviceCodeFlow):
    """`oidc_device_code_secret`: device grant for a confidential client with a client secret."""

    client_type = "oidc_device_code_secret"
    client_auth_method = "client_secret"


class DeviceCodeWithPubKeyAuthClient(_DeviceCodeFlow):
    """`oidc_device_code_pubkey`: device grant with private_key_jwt client authentication (RFC 7523)."""

    client_type = "oidc_device_code_pubkey"
    client_auth_method = "private_key_jwt"
