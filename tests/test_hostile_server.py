"""A hostile server's text reaches the terminal inert (issue 12 point 4, SECURITY TERM-01).

The real dev server answers through the fault relay, which rewrites its answers (`Fault.patch`) to carry
terminal control sequences: an OSC 8 hyperlink that shows one address and opens another, cursor movement,
a carriage return that overwrites the line, a C1 CSI, a bidi override. Whatever reaches the CLI's output or
an exception's `str()` must hold none of those characters, only their visible `\\uXXXX` escapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import planet_profiles
from planet_profiles import _oauth
from planet_profiles._errors import AccessDeniedError, OAuthError
from planet_profiles._terminal import inert
from tests.fault_proxy import Fault, FaultProxy
from tests.fixtures_devserver import DevServer
from tests.test_cli import run, write_profile

pytestmark = pytest.mark.integration

TOKEN = "/token"  # noqa: S105 - a path
HOSTILE = (
    "\x1b]8;;http://evil.example/\x07click here\x1b]8;;\x07"  # an OSC 8 link
    "\r\x1b[2A\x1b[2Koverwritten\x9b31m\u202eedoc\x7f"  # CR, cursor up, erase line, C1 CSI, bidi, DEL
)
# The characters a terminal acts on; none may be printed raw.
CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\x7f")


def assert_inert(text: str) -> None:
    assert not any(c in text for c in CONTROLS), repr(text)
    assert "\\u001b]8;;http://evil.example/\\u0007click" in text, text  # shown, as text


@pytest.fixture
def relay(devserver: DevServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    monkeypatch.setattr(_oauth, "_cache", {})
    with FaultProxy(devserver.issuer, rehost=True) as proxy:
        yield proxy


def via(server: DevServer, relay: FaultProxy, client_type: str, client_id: str) -> dict[str, Any]:
    return {**server.profile(client_type, client_id), "auth_server": relay.url, "issuer": server.issuer}


def refusal(error: str = "access_denied") -> Fault:
    return Fault.patch(lambda _: {"error": error, "error_description": HOSTILE}, status=400)


def test_inert_escapes_controls_and_keeps_text() -> None:
    assert inert("plain ascii, é, 漢字\nnext") == "plain ascii, é, 漢字\nnext"
    assert inert("a\nb", newlines=False) == "a\\u000ab"
    assert inert("\x1b[31m\t\x00\x85\u2028\u2066") == "\\u001b[31m\\u0009\\u0000\\u0085\\u2028\\u2066"
    assert inert(inert(HOSTILE)) == inert(HOSTILE)  # idempotent
    assert_inert(inert(HOSTILE))
    document = json.dumps({"v": HOSTILE}, ensure_ascii=False)
    assert json.loads(inert(document)) == {"v": HOSTILE}  # still the same JSON


def test_error_description_is_inert_in_the_exception(devserver: DevServer, relay: FaultProxy) -> None:
    relay.inject(TOKEN, refusal())
    config = via(devserver, relay, "oidc_client_credentials_secret", "cc-secret")
    ctx = planet_profiles.from_config(config, profile_name="hostile", save_token_file=False)
    with pytest.raises(AccessDeniedError) as info:
        ctx.login()
    assert_inert(str(info.value))
    assert not any(c in repr(info.value) for c in CONTROLS)
    assert info.value.error_description is not None
    assert_inert(info.value.error_description)


def test_device_prompt_and_error_print_inert_in_the_cli(
    devserver: DevServer, relay: FaultProxy, hermetic_env: Path
) -> None:
    def hostile_codes(payload: dict[str, Any]) -> dict[str, Any]:
        return {
            **payload,
            "user_code": "ABCD\r\x1b[1A" + HOSTILE,
            "verification_uri": payload["verification_uri"] + "#" + HOSTILE,
            "verification_uri_complete": payload["verification_uri_complete"] + HOSTILE,
            "interval": 1,
        }

    relay.inject("/device/auth", Fault.patch(hostile_codes))
    relay.inject(TOKEN, refusal("invalid_request"), times=None)  # the poll: refused, a hostile description
    write_profile(hermetic_env / ".planet", "dev", via(devserver, relay, "oidc_device_code", "device-public"))
    result = run("login", "dev", "--device", "--no-browser")
    assert result.exit_code == 1
    assert "To log in, open" in result.stderr and "Error:" in result.stderr
    assert_inert(result.stdout + result.stderr)
    prompt, error = result.stderr.split("Error:", 1)
    assert "\\u001b]8;;http://evil.example/" in prompt and "\\u001b]8;;http://evil.example/" in error

    ctx = planet_profiles.from_config(
        via(devserver, relay, "oidc_device_code", "device-public"), profile_name="d", save_token_file=False
    )
    relay.inject("/device/auth", Fault.patch(hostile_codes))
    info = ctx.device_login_initiate()  # what an application prints itself
    for member in ("user_code", "verification_uri", "verification_uri_complete"):
        assert_inert(info[member])


def test_status_shows_granted_scopes_inert(
    devserver: DevServer, relay: FaultProxy, hermetic_env: Path
) -> None:
    relay.inject(TOKEN, Fault.patch(lambda payload: {**payload, "scope": "api.read " + HOSTILE}))
    write_profile(
        hermetic_env / ".planet", "cc", via(devserver, relay, "oidc_client_credentials_secret", "cc-secret")
    )
    assert run("token", "cc").exit_code == 0
    shown = run("status", "cc")
    assert shown.exit_code == 0 and "scopes    api.read" in shown.stdout
    assert_inert(shown.stdout + shown.stderr)
    as_json = run("status", "cc", "--json")
    assert_inert(as_json.stdout)
    assert json.loads(as_json.stdout)["scopes"][1].startswith("\x1b]8;;")  # JSON keeps the value, escaped


def test_oauth_error_attributes_are_inert() -> None:
    exc = OAuthError("refused: " + HOSTILE, error="bad\x1b[2J", error_description=HOSTILE, hint=HOSTILE)
    assert_inert(str(exc))
    assert_inert(exc.error_description or "")
    assert exc.error == "bad\\u001b[2J"
