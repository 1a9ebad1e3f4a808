"""A headless "system browser" for auth-code logins against the dev server, usable as `BROWSER`.

    BROWSER="/path/to/python /path/to/repo/tests/browser_driver.py %s"

Python's `webbrowser` runs that command line with the authorization URL and waits for it to exit. The driver
logs in and consents on the dev server's devInteractions pages (`devserver/headless.py`), then requests the
redirect URL, so the library's loopback listener receives the authorization response, exactly as a browser
would deliver it.

Environment (for negative tests):

- `BROWSER_DRIVER_MODE`:
  - `approve` (default): log in, consent, deliver the redirect;
  - `deny`: press Cancel on the consent page (the redirect carries `error=access_denied`);
  - `tamper-state`: deliver the redirect with another `state` value;
  - `drop-iss`: deliver the redirect without its RFC 9207 `iss` parameter;
  - `stray`: first request `/favicon.ico` and the callback path without parameters on the listener
    (both must be refused without ending the login), then deliver the redirect;
  - `forge`: first deliver what any local process could send: the redirect with another `state`, without
    `state`, and `error=access_denied` with another `state` (each must be refused without ending the
    login), then deliver the real redirect.
- `BROWSER_DRIVER_REPORT`: a file to write a JSON report to: `authorize_url`, `redirect_url` (with the
  code: test use only), `status`, `headers` and `body` of the listener's answer, and `stray` (the status
  codes of the stray or forged requests).

Exit status 0 once the redirect was delivered (whatever the listener answered, like a browser); 1 when the
provider's pages did not lead back to the client.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "devserver"))

import requests  # noqa: E402
from headless import InteractionError, complete_browser_login  # noqa: E402

MODES = ("approve", "deny", "tamper-state", "drop-iss", "stray", "forge")
FORGED_STATE = "forged-" + "x" * 32
TIMEOUT = 10.0


def _with_query(url: str, change: dict[str, str | None]) -> str:
    """`url` with query parameters replaced (or removed, for None values)."""
    parts = urlsplit(url)
    query = [
        (key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in change
    ]
    query += [(key, value) for key, value in change.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def run(authorize_url: str, mode: str) -> dict[str, object]:
    """Play the browser for one login; return the report."""
    redirect_url = complete_browser_login(authorize_url, deny=mode == "deny")
    if mode == "tamper-state":
        redirect_url = _with_query(redirect_url, {"state": FORGED_STATE})
    elif mode == "drop-iss":
        redirect_url = _with_query(redirect_url, {"iss": None})
    report: dict[str, object] = {
        "mode": mode,
        "authorize_url": authorize_url,
        "redirect_url": redirect_url,
        "stray": [],
    }
    with requests.Session() as browser:
        browser.trust_env = False  # loopback only
        if mode == "stray":
            parts = urlsplit(redirect_url)
            for stray in (parts._replace(path="/favicon.ico", query=""), parts._replace(query="")):
                answer = browser.get(urlunsplit(stray), allow_redirects=False, timeout=TIMEOUT)
                report["stray"].append(answer.status_code)  # type: ignore[attr-defined]
        if mode == "forge":
            for forged in (
                _with_query(redirect_url, {"state": FORGED_STATE}),
                _with_query(redirect_url, {"state": None}),
                _with_query(redirect_url, {"code": None, "error": "access_denied", "state": FORGED_STATE}),
            ):
                answer = browser.get(forged, allow_redirects=False, timeout=TIMEOUT)
                report["stray"].append(answer.status_code)  # type: ignore[attr-defined]
        answer = browser.get(redirect_url, allow_redirects=False, timeout=TIMEOUT)
    report.update(status=answer.status_code, body=answer.text, headers=dict(answer.headers))
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: browser_driver.py AUTHORIZATION_URL", file=sys.stderr)
        return 2
    mode = os.environ.get("BROWSER_DRIVER_MODE", "approve")
    if mode not in MODES:
        print(f"browser_driver: BROWSER_DRIVER_MODE must be one of {', '.join(MODES)}", file=sys.stderr)
        return 2
    try:
        report = run(argv[1], mode)
    except (InteractionError, requests.RequestException) as exc:
        print(f"browser_driver: {exc}", file=sys.stderr)
        return 1
    out = os.environ.get("BROWSER_DRIVER_REPORT")
    if out:
        partial = Path(out).with_suffix(".partial")
        partial.write_text(json.dumps(report))
        os.replace(partial, out)  # whole or not at all: the test may read it while this process ends
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
