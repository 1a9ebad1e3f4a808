"""Headless drivers for the dev server's browser pages (oidc-provider 9 `devInteractions` and device flow).

They play the user's browser in integration tests: a `requests.Session` keeps the provider's cookies,
HTML forms are read with `html.parser` and submitted the way a browser would. Any login is accepted.

- `complete_browser_login(authorize_url)` -> the redirect URL (with `code` or `error`) the provider sends the
  browser to, without requesting it.
- `follow_browser_login(authorize_url)` -> the same, then requests that URL, so a loopback listener (the
  client's `redirect_uri`) receives it; returns the listener's response. A stand-in for `webbrowser.open`.
- `approve_device(verification_uri_complete)` or `approve_device(verification_uri=..., user_code=...)`: enter
  and confirm the user code, log in and consent (RFC 8628 §3.3); `deny=True` presses Abort instead, so the
  device's next poll gets `access_denied`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

DEFAULT_USERNAME = "test-user"
DEFAULT_PASSWORD = "password"  # devInteractions accept any; the dev server's password grant wants this one
MAX_STEPS = 20
TIMEOUT = 10.0


class InteractionError(RuntimeError):
    """A provider page was not what the driver expected (the message shows the status and the page)."""

    def __init__(self, what: str, response: requests.Response) -> None:
        super().__init__(f"{what}: HTTP {response.status_code} {response.url}\n{response.text[:2000]}")
        self.response = response


@dataclass
class Form:
    """One HTML form: where it posts and the fields a browser would send (buttons excluded)."""

    action: str
    method: str
    form_id: str | None
    fields: dict[str, str] = field(default_factory=dict)


class _PageParser(HTMLParser):
    """Collect the forms (including inputs tied to a form by its `form` attribute) and the links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._open: Form | None = None
        self._orphans: list[tuple[str, str, str]] = []  # (form id, name, value) of inputs outside their form

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(attr.get("action", ""), attr.get("method", "get").lower(), attr.get("id"))
            self.forms.append(self._open)
        elif tag == "input" and "name" in attr and attr.get("type", "text") not in ("submit", "button"):
            if "form" in attr:
                self._orphans.append((attr["form"], attr["name"], attr.get("value", "")))
            elif self._open is not None:
                self._open.fields[attr["name"]] = attr.get("value", "")
        elif tag == "a" and attr.get("href"):
            self.links.append(attr["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None

    def close(self) -> None:
        super().close()
        by_id = {form.form_id: form for form in self.forms if form.form_id}
        for form_id, name, value in self._orphans:
            if form_id in by_id:
                by_id[form_id].fields[name] = value


def _parse(response: requests.Response) -> _PageParser:
    parser = _PageParser()
    parser.feed(response.text)
    parser.close()
    return parser


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@contextlib.contextmanager
def _browser(session: requests.Session | None) -> Iterator[requests.Session]:
    """The caller's session, or a fresh one (closed afterwards) that never goes through a proxy."""
    if session is not None:
        yield session
        return
    with requests.Session() as fresh:
        fresh.trust_env = False
        yield fresh


def _submit(
    session: requests.Session, response: requests.Response, form: Form, **fields: str
) -> requests.Response:
    data = {**form.fields, **fields}
    url = urljoin(response.url, form.action)
    if form.method == "post":
        return session.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)
    return session.get(url, params=data, allow_redirects=False, timeout=TIMEOUT)


def _drive(
    session: requests.Session,
    response: requests.Response,
    *,
    username: str,
    password: str,
    deny: bool,
) -> requests.Response:
    """Follow the provider's redirects and answer its login and consent pages.

    Returns the first response that is neither: a redirect leaving the provider's origin (to the client's
    `redirect_uri`), or a page without a login/consent form (an error, or the device flow's result page).
    With `deny`, the login or consent page's Cancel link is followed (the provider answers `access_denied`).
    """
    provider = _origin(response.url)
    for _ in range(MAX_STEPS):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["location"])
            if _origin(location) != provider:
                return response
            response = session.get(location, allow_redirects=False, timeout=TIMEOUT)
            continue

        page = _parse(response)
        prompt_form = next(
            (form for form in page.forms if form.fields.get("prompt") in ("login", "consent")), None
        )
        if prompt_form is None:
            return response
        if deny:
            abort = next((link for link in page.links if link.rstrip("/").endswith("/abort")), None)
            if abort is None:
                raise InteractionError("no Cancel link on the interaction page", response)
            response = session.get(urljoin(response.url, abort), allow_redirects=False, timeout=TIMEOUT)
        elif prompt_form.fields["prompt"] == "login":
            response = _submit(session, response, prompt_form, login=username, password=password)
        else:
            response = _submit(session, response, prompt_form)
    raise InteractionError(f"no result after {MAX_STEPS} steps", response)


def complete_browser_login(
    authorize_url: str,
    *,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    deny: bool = False,
    session: requests.Session | None = None,
) -> str:
    """Open `authorize_url`, log in and consent (or cancel, with `deny`); return the redirect URL.

    The returned URL is the client's `redirect_uri` with `code` and `state` (or `error=access_denied`); it is
    not requested. Raises `InteractionError` when the provider shows an error instead of redirecting.
    """
    with _browser(session) as browser:
        first = browser.get(authorize_url, allow_redirects=False, timeout=TIMEOUT)
        final = _drive(browser, first, username=username, password=password, deny=deny)
    if not final.is_redirect:
        raise InteractionError("the provider did not redirect back to the client", final)
    return urljoin(final.url, final.headers["location"])


def follow_browser_login(
    authorize_url: str,
    *,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    deny: bool = False,
    session: requests.Session | None = None,
) -> requests.Response:
    """Like `complete_browser_login`, then request the redirect URL; return the listener's response."""
    redirect_url = complete_browser_login(
        authorize_url, username=username, password=password, deny=deny, session=session
    )
    with _browser(session) as browser:
        return browser.get(redirect_url, allow_redirects=False, timeout=TIMEOUT)


def approve_device(
    verification_uri_complete: str | None = None,
    *,
    verification_uri: str | None = None,
    user_code: str | None = None,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    deny: bool = False,
    session: requests.Session | None = None,
) -> None:
    """Approve (or, with `deny`, abort) a device authorization on the provider's verification pages.

    Pass `verification_uri_complete`, or `verification_uri` and `user_code` (the user types the code).
    Raises `InteractionError` when a page is not the expected one (e.g. an unknown or used code).
    """
    if verification_uri_complete is None and not (verification_uri and user_code):
        raise ValueError("pass verification_uri_complete, or verification_uri and user_code")
    with _browser(session) as browser:
        if verification_uri_complete is not None:
            # The page auto-submits a hidden form (JavaScript) holding the code and an anti-CSRF token.
            response = browser.get(verification_uri_complete, allow_redirects=False, timeout=TIMEOUT)
            response = _submit(browser, response, _only_form(response))
        else:
            assert verification_uri is not None and user_code is not None
            response = browser.get(verification_uri, allow_redirects=False, timeout=TIMEOUT)
            response = _submit(
                browser, response, _only_form(response, "op.deviceInputForm"), user_code=user_code
            )

        confirm = _only_form(response, "op.deviceConfirmForm")
        if deny:
            # The Abort button posts the confirm form's fields with abort=yes instead of confirm=yes.
            fields = {name: value for name, value in confirm.fields.items() if name != "confirm"}
            response = _submit(
                browser, response, Form(confirm.action, confirm.method, confirm.form_id, fields), abort="yes"
            )
            if "interrupted" not in response.text:
                raise InteractionError("the device authorization was not aborted", response)
            return

        response = _submit(browser, response, confirm)
        final = _drive(browser, response, username=username, password=password, deny=False)
        if final.status_code != 200 or "Sign-in Success" not in final.text:
            raise InteractionError("the device authorization did not succeed", final)


def _only_form(response: requests.Response, form_id: str | None = None) -> Form:
    """The page's form `form_id` (or its only form); InteractionError when absent (e.g. an error page)."""
    forms = [form for form in _parse(response).forms if form_id is None or form.form_id == form_id]
    if response.status_code != 200 or len(forms) != 1:
        raise InteractionError(f"expected the form {form_id or '(any)'}", response)
    return forms[0]
