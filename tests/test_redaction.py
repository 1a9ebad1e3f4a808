"""Redaction through every flow (SECURITY TOK-09, TOK-08, TOK-10, JWT-03), against the real dev server.

Every logger is captured at DEBUG (the root logger, `planet_profiles`, `urllib3`, `httpx`, `httpcore`). Each
test runs one flow, collects every secret value involved and asserts that none of them shows in:

- the captured log records (message, arguments, exception text);
- `repr()` / `str()` of every object the test can reach (context, client, config, credential, token, token
  manager, store, request authenticator, `Source`, `ProfileLocation`, `ClientAuth`, `AssertionSigner`,
  `Sops`, validators);
- the errors raised (message, `repr`, `args`, `hint`, problems, and their `__cause__` / `__context__`);
- the files written under HOME, except token files, which may hold tokens (and only tokens), and only when
  the profile is not encrypted (`token.sops.json` holds no plaintext at all).

The secrets are collected where they are made: every `Token` constructed, every client assertion signed,
every `Authorization` value and form secret `ClientAuth` adds, plus the inputs (client secrets, private
keys, passphrases, passwords, API keys, age identities, device and authorization codes).

Third-party loggers at DEBUG were checked by hand as well: urllib3 logs the request line (method, path,
query), httpx the URL at INFO, httpcore the method and the *response* headers. None logs request headers,
so no `Authorization` value reaches a log; `test_third_party_debug_logs` keeps it that way.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import webbrowser
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

import planet_profiles
from planet_profiles import (
    InvalidGrantError,
    OAuthError,
    ProfileError,
    SopsNoKeyError,
    Token,
    TokenValidator,
)
from tests.fixtures_devserver import DevServer, DevServerFactory, approve_device
from tests.fixtures_keys import AgeKey, make_encrypted_profile, new_age_key
from tests.legacy_double import LegacyDouble

pytestmark = pytest.mark.integration

LOGGERS = ("", "planet_profiles", "urllib3", "httpx", "httpcore")
MARK = "SeKrit"
DRIVER = Path(__file__).resolve().with_name("browser_driver.py")
TOKEN_KINDS = ("token",)  # what a plaintext token.json may hold


class Secrets:
    """Every secret value a test has seen, by kind (`token`, `secret`, `key`, `assertion`, `header`, …)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, kind: str, *values: Any) -> None:
        for value in values:
            if isinstance(value, str) and len(value) >= 8:
                self.values.setdefault(value, kind)

    def add_pem(self, pem: str) -> None:
        """A private key: the whole text and each line of its base64 body."""
        self.add("key", pem)
        self.add("key", *(line for line in pem.splitlines() if len(line) >= 16 and "-----" not in line))

    def leaks(self, text: str, *, allowed: Iterable[str] = ()) -> list[str]:
        """The secrets found in `text`: whole, or any 20-character piece of a long one (a cut-off token)."""
        return sorted(
            f"{kind}:{value[:12]}…"
            for value, kind in self.values.items()
            if kind not in allowed and any(piece in text for piece in _pieces(value))
        )


def _pieces(value: str, size: int = 20) -> list[str]:
    """`value`, and when it is long, overlapping pieces of it. For a JWT: the whole token, its payload, and
    pieces of its signature only (header and claims such as `iss` or `iat` are shared with other JWTs)."""
    if value.startswith("eyJ") and value.count(".") == 2:
        _, payload, signature = value.split(".")
        return [value, payload, *_pieces(signature, size)]
    if len(value) <= size + 10:
        return [value]
    return [value[i : i + size] for i in range(0, len(value) - size + 1, size // 2)]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[Secrets]:
    """Capture every logger at DEBUG, and record the secrets the library makes while the test runs."""
    from planet_profiles._assertion import AssertionSigner
    from planet_profiles._oauth import ClientAuth

    secrets = Secrets()
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)

    token_init = Token.__init__

    def record_token(self: Token, data: Any, **kwargs: Any) -> None:
        if isinstance(data, dict):
            secrets.add(
                "token", *(data.get(k) for k in ("access_token", "refresh_token", "id_token", "key", "jwt"))
            )
        token_init(self, data, **kwargs)

    sign = AssertionSigner.assertion

    def record_assertion(self: AssertionSigner, audience: str) -> str:
        value = sign(self, audience)
        secrets.add("assertion", value)
        return value

    apply = ClientAuth.apply

    def record_client_auth(
        self: ClientAuth, form: dict[str, str], headers: dict[str, str], **kw: Any
    ) -> None:
        apply(self, form, headers, **kw)
        secrets.add("header", headers.get("Authorization"))
        secrets.add("secret", form.get("client_secret"), form.get("client_assertion"))

    monkeypatch.setattr(Token, "__init__", record_token)
    monkeypatch.setattr(AssertionSigner, "assertion", record_assertion)
    monkeypatch.setattr(ClientAuth, "apply", record_client_auth)
    yield secrets


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), record.exc_text or ""]
    return "\n".join(parts)


def error_text(exc: BaseException) -> str:
    """Everything an error shows, along its cause / context chain."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args)]
        if isinstance(current, ProfileError):
            parts += [str(current.hint), *(str(p) for p in getattr(current, "problems", ()))]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def reachable(ctx: Any) -> list[Any]:
    """The public objects of a loaded profile, as a user or a debugger would print them."""
    client = ctx.auth_client()
    manager = ctx.token_manager
    found: list[Any] = [ctx, client, client.config, ctx.source, ctx.location, ctx.request_authenticator()]
    if manager is not None:
        found += [manager, manager.store, manager.cached()]
    if hasattr(client, "client_auth"):
        auth = client.client_auth()
        found += [auth, getattr(auth, "_signer", None)]
    return found


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_clean(
    secrets: Secrets,
    caplog: pytest.LogCaptureFixture,
    home: Path,
    *,
    before: dict[str, bytes] | None = None,
    objects: Iterable[Any] = (),
    errors: Iterable[BaseException] = (),
) -> None:
    """No secret in logs, in the repr/str of `objects`, in `errors`, or in files written under HOME."""
    assert secrets.values, "the test collected no secrets: it checks nothing"
    leaks = secrets.leaks(log_text(caplog))
    assert not leaks, f"secrets in the DEBUG logs: {leaks}"
    for obj in objects:
        if obj is not None:
            shown = repr(obj) + "\n" + str(obj)
            assert not secrets.leaks(shown), f"secrets in repr/str of {type(obj).__name__}: {shown}"
    for exc in errors:
        assert not secrets.leaks(error_text(exc)), f"secrets in {type(exc).__name__}: {error_text(exc)}"
    for name, data in snapshot(home).items():
        if before is not None and before.get(name) == data:
            continue  # not written by the flow (e.g. the profile the test wrote)
        text = data.decode(errors="replace")
        plaintext_tokens = name.endswith("token.json") and not name.endswith(".sops.json")
        leaks = secrets.leaks(text, allowed=TOKEN_KINDS if plaintext_tokens else ())
        assert not leaks, f"secrets in {name}: {leaks}"


def hello(server: DevServer, auth: Any) -> None:
    """Call the protected API with requests and with httpx."""
    answer = requests.get(server.hello_url, auth=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    reply = httpx.get(server.hello_url, auth=auth, timeout=10)
    assert reply.status_code == 200, reply.text


def oidc_config(server: DevServer, client_id: str, client_type: str, **extra: Any) -> dict[str, Any]:
    client = server.clients[client_id]
    config: dict[str, Any] = {
        "client_type": client_type,
        "auth_server": server.issuer,
        "client_id": client_id,
    }
    if client.client_secret:
        config["client_secret"] = client.client_secret
    return {**config, **extra}


def add_client_secrets(secrets: Secrets, server: DevServer) -> None:
    """The secrets the dev server's clients hold, whether or not a test uses them."""
    for client in server.clients.values():
        secrets.add("secret", client.client_secret)
        if client.private_key_files:
            for kind in ("rsa", "ec", "rsaEncrypted"):
                secrets.add_pem(client.private_key_pem(kind))
    secrets.add("secret", server.key_passphrase)
    secrets.add("api_key", server.api_key)


# ---------------------------------------------------------------- the checker itself


def test_the_checker_finds_whole_and_cut_off_secrets(
    spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path
) -> None:
    token = "eyJ" + "x" * 10 + MARK + "-access-token-0123456789-abcdefghijklmnop"
    spy.add("token", token)
    spy.add("secret", MARK + "-client-secret")
    logging.getLogger("httpcore").debug("header %s", token[5:40])
    with pytest.raises(AssertionError, match="DEBUG logs"):
        assert_clean(spy, caplog, hermetic_env)
    caplog.clear()
    with pytest.raises(AssertionError, match="repr/str"):
        assert_clean(spy, caplog, hermetic_env, objects=[{"k": MARK + "-client-secret"}])
    with pytest.raises(AssertionError, match="OAuthError"):
        assert_clean(spy, caplog, hermetic_env, errors=[OAuthError(f"refused {token}")])
    (hermetic_env / ".planet" / "p").mkdir(parents=True)
    (hermetic_env / ".planet" / "p" / "token.json").write_text(token)  # tokens may be there
    assert_clean(spy, caplog, hermetic_env)
    (hermetic_env / ".planet" / "p" / "token.sops.json").write_text(token)  # but not in encrypted ones
    with pytest.raises(AssertionError, match="token.sops.json"):
        assert_clean(spy, caplog, hermetic_env)


# ---------------------------------------------------------------- client credentials, private_key_jwt


@pytest.mark.parametrize("client_id", ["cc-secret", "cc-secret-post"])
def test_client_credentials_with_a_secret(
    devserver: DevServer, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path, client_id: str
) -> None:
    add_client_secrets(spy, devserver)
    method = "client_secret_post" if client_id.endswith("post") else "client_secret_basic"
    config = oidc_config(
        devserver, client_id, "oidc_client_credentials_secret", scopes=["api.read"], client_auth_method=method
    )
    ctx = planet_profiles.from_config(config, profile_name="cc")
    hello(devserver, ctx.request_authenticator())
    manager = ctx.token_manager
    assert manager is not None
    manager.renew_if_current(manager.token().access_token)  # a second grant (client credentials' refresh)
    hello(devserver, ctx.request_authenticator())
    assert any(kind == "header" for kind in spy.values.values()) or method == "client_secret_post"
    assert_clean(spy, caplog, hermetic_env, objects=reachable(ctx))


@pytest.mark.parametrize("key", ["rsa-literal", "ec-file", "rsaEncrypted-file"])
def test_private_key_jwt(
    devserver: DevServer, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path, key: str
) -> None:
    from planet_profiles._assertion import AssertionSigner

    add_client_secrets(spy, devserver)
    client = devserver.clients["cc-pubkey"]
    kind, how = key.split("-")
    extra: dict[str, Any] = {"scopes": ["api.read"]}
    if how == "literal":
        extra["client_privkey"] = client.private_key_pem(kind)
    else:
        assert client.private_key_files is not None
        extra["client_privkey_file"] = str(client.private_key_files[kind])
    if kind == "rsaEncrypted":
        extra["client_privkey_password"] = devserver.key_passphrase
    ctx = planet_profiles.from_config(
        oidc_config(devserver, "cc-pubkey", "oidc_client_credentials_pubkey", **extra), profile_name="jwt"
    )
    hello(devserver, ctx.request_authenticator())
    assert any(kind == "assertion" for kind in spy.values.values())
    signer = AssertionSigner.from_config(ctx.auth_client().config)
    assert_clean(spy, caplog, hermetic_env, objects=[*reachable(ctx), signer, signer.public_jwk()])


# ---------------------------------------------------------------- resource owner, refresh, 401 retry


def test_resource_owner_refresh_and_401_retry(
    devserver: DevServer, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path
) -> None:
    # The dev server's password is the word "password": too common to look for; the flow's other secrets
    # (client secret, tokens, Basic header) are checked, and the password grant's form is never logged.
    add_client_secrets(spy, devserver)
    config = oidc_config(
        devserver, "ro-secret", "oidc_resource_owner_secret", scopes=["openid", "offline_access", "api.read"]
    )
    ctx = planet_profiles.from_config(config, profile_name="ro")
    credential = ctx.login(username=devserver.username, password=devserver.password)
    manager = ctx.token_manager
    assert manager is not None and credential.token is not None and credential.token.refresh_token
    refreshed = manager.renew_if_current(credential.token.access_token)  # refresh_token grant
    assert refreshed.refresh_token != credential.token.refresh_token
    # 401 retry: the server refuses an access token the client thinks is valid; one refresh, one retry.
    stale = MARK + "-revoked-access-token-value"
    manager.set(Token({**refreshed.data, "access_token": stale}))
    ctx.request_authenticator().reset()
    hello(devserver, ctx.request_authenticator())
    assert stale in spy.values
    assert_clean(spy, caplog, hermetic_env, objects=[*reachable(ctx), credential])


# ---------------------------------------------------------------- device code, logout, introspection


def test_device_code_userinfo_introspection_logout(
    devserver_factory: DevServerFactory, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path
) -> None:
    server = devserver_factory(device_interval=1)
    add_client_secrets(spy, server)
    config = oidc_config(
        server, "device-secret", "oidc_device_code_secret", scopes=["openid", "profile", "offline_access"]
    )
    ctx = planet_profiles.from_config(config, profile_name="dev")
    info = ctx.device_login_initiate()
    spy.add("code", info["device_code"])
    approve_device(verification_uri=info["verification_uri"], user_code=info["user_code"])
    credential = ctx.device_login_complete(info)
    shown = [credential, *reachable(ctx), ctx.userinfo(), ctx.introspect(), ctx.introspect("refresh_token")]
    token_file = ctx.token_file_path()
    assert token_file is not None and token_file.exists()
    assert_clean(spy, caplog, hermetic_env, objects=shown)
    ctx.logout()
    assert not token_file.exists()
    assert_clean(spy, caplog, hermetic_env, objects=reachable(ctx))


# ---------------------------------------------------------------- authorization code with a browser


def test_auth_code_with_the_browser(
    devserver: DevServer,
    spy: Secrets,
    caplog: pytest.LogCaptureFixture,
    hermetic_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    report = tmp_path / "browser-report.json"
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # webbrowser reads BROWSER once per process
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setenv("BROWSER_DRIVER_REPORT", str(report))
    monkeypatch.setenv("BROWSER", f"{shlex.quote(sys.executable)} {shlex.quote(str(DRIVER))} %s")
    add_client_secrets(spy, devserver)
    client = devserver.clients["auth-code-pubkey"]
    assert client.private_key_files is not None
    config = oidc_config(
        devserver,
        "auth-code-pubkey",
        "oidc_auth_code_pubkey",
        scopes=["openid", "offline_access", "api.read"],
        local_redirect_uri="http://127.0.0.1/callback",
        client_privkey_file=str(client.private_key_files["ec"]),
    )
    ctx = planet_profiles.from_config(config, profile_name="browser")
    credential = ctx.login(allow_open_browser=True)
    redirect = json.loads(report.read_text())["redirect_url"]
    spy.add("code", parse_qs(urlsplit(redirect).query)["code"][0])
    hello(devserver, ctx.request_authenticator())
    assert_clean(spy, caplog, hermetic_env, objects=[*reachable(ctx), credential])


# ---------------------------------------------------------------- Planet legacy, static API keys


def test_planet_legacy_login_and_wrong_password(
    devserver: DevServer, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path
) -> None:
    password = MARK + " legacy password 42"
    with LegacyDouble() as double:
        user = double.add_user("ada@example.com", password)
        devserver.add_api_key(user.api_key)
        spy.add("secret", password, MARK + "-wrong-password")
        spy.add("token", user.api_key)
        config = {"client_type": "planet_legacy", "legacy_auth_endpoint": double.url}
        ctx = planet_profiles.from_config(config, profile_name="legacy")
        credential = ctx.login(username=user.email, password=password)
        hello(devserver, ctx.request_authenticator())
        with pytest.raises(InvalidGrantError) as refused:
            ctx.login(username=user.email, password=MARK + "-wrong-password")
    assert_clean(spy, caplog, hermetic_env, objects=[*reachable(ctx), credential], errors=[refused.value])


def test_static_api_key_from_a_profile_and_from_pl_api_key(
    devserver: DevServer,
    spy: Secrets,
    caplog: pytest.LogCaptureFixture,
    hermetic_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_client_secrets(spy, devserver)
    spy.add("header", f"Bearer {devserver.api_key}", f"api-key {devserver.api_key}")
    config = {"client_type": "static_apikey", "api_key": devserver.api_key}
    ctx = planet_profiles.from_config(config, profile_name="static")
    hello(devserver, ctx.request_authenticator())
    monkeypatch.setenv("PL_API_KEY", devserver.api_key)
    from_env = planet_profiles.open_profile()
    hello(devserver, from_env.request_authenticator())
    selection = planet_profiles.explain_selection()
    assert_clean(
        spy, caplog, hermetic_env, objects=[*reachable(ctx), *reachable(from_env), json.dumps(selection)]
    )


# ---------------------------------------------------------------- sops: decrypt, encrypt, tokens at rest


def test_encrypted_profile_decrypts_in_memory_and_keeps_tokens_encrypted(
    devserver: DevServer,
    spy: Secrets,
    caplog: pytest.LogCaptureFixture,
    hermetic_env: Path,
    use_age_key: AgeKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from planet_profiles._sops import Sops

    add_client_secrets(spy, devserver)
    spy.add("age", use_age_key.secret)
    config = oidc_config(devserver, "cc-secret", "oidc_client_credentials_secret", scopes=["api.read"])
    directory = hermetic_env / ".planet" / "enc"
    make_encrypted_profile(directory, config, [use_age_key.recipient])
    before = snapshot(hermetic_env)
    ctx = planet_profiles.open_profile("enc")
    hello(devserver, ctx.request_authenticator())
    token_file = ctx.token_file_path()
    assert token_file is not None and token_file.name == "token.sops.json" and token_file.exists()
    sops = Sops()
    assert sops.decrypt(token_file)["access_token"] in spy.values  # encrypted, and ours
    # A key that is not a recipient: a typed error, still without secrets.
    other = new_age_key(tmp_path / "other")
    spy.add("age", other.secret)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", other.identity_file)
    with pytest.raises(SopsNoKeyError) as no_key:
        planet_profiles.open_profile("enc")
    assert_clean(
        spy,
        caplog,
        hermetic_env,
        before=before,
        objects=[*reachable(ctx), sops, ctx.location],
        errors=[no_key.value],
    )


# ---------------------------------------------------------------- failures


def test_failures_name_no_secret(
    devserver: DevServer, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path
) -> None:
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec

    add_client_secrets(spy, devserver)
    errors: list[BaseException] = []
    wrong_secret = MARK + "-not-the-client-secret"
    spy.add("secret", wrong_secret)
    config = oidc_config(devserver, "cc-secret", "oidc_client_credentials_secret", client_secret=wrong_secret)
    with pytest.raises(OAuthError) as info:
        planet_profiles.from_config(config, profile_name="bad").request_authenticator().header_value()
    errors.append(info.value)

    unregistered = ec.generate_private_key(ec.SECP256R1())
    pem = unregistered.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()).decode()
    spy.add_pem(pem)
    config = oidc_config(devserver, "cc-pubkey", "oidc_client_credentials_pubkey", client_privkey=pem)
    with pytest.raises(OAuthError) as info:
        planet_profiles.from_config(config, profile_name="bad").request_authenticator().header_value()
    errors.append(info.value)

    real = devserver.clients["cc-pubkey"].private_key_pem("rsa")
    broken = {"client_privkey": real[: len(real) // 2] + real[len(real) // 2 :].replace("A", "*", 3)}
    wrong_password = {
        "client_privkey": devserver.clients["cc-pubkey"].private_key_pem("rsaEncrypted"),
        "client_privkey_password": MARK + "-wrong-passphrase",
    }
    spy.add("secret", MARK + "-wrong-passphrase")
    for extra in (broken, wrong_password):
        config = oidc_config(devserver, "cc-pubkey", "oidc_client_credentials_pubkey", **extra)
        with pytest.raises(ProfileError) as config_error:
            planet_profiles.from_config(config, profile_name="bad").request_authenticator().header_value()
        errors.append(config_error.value)

    config = oidc_config(devserver, "ro-secret", "oidc_resource_owner_secret")
    spy.add("secret", MARK + "-wrong-user-password")
    with pytest.raises(InvalidGrantError) as info:
        planet_profiles.from_config(config, profile_name="bad").login(
            username=devserver.username, password=MARK + "-wrong-user-password"
        )
    errors.append(info.value)
    assert_clean(spy, caplog, hermetic_env, errors=errors)


# ---------------------------------------------------------------- service side, third-party loggers


def test_token_validator(
    devserver: DevServer, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path
) -> None:
    add_client_secrets(spy, devserver)
    config = oidc_config(devserver, "cc-secret", "oidc_client_credentials_secret", scopes=["api.read"])
    manager = planet_profiles.from_config(config, profile_name="svc").token_manager
    assert manager is not None
    access = manager.token().access_token
    validator = TokenValidator(devserver.issuer, [devserver.audience])
    claims = validator.validate(access)
    tampered = access[:-6] + ("AAAAAA" if not access.endswith("AAAAAA") else "BBBBBB")
    spy.add("token", tampered)
    with pytest.raises(OAuthError) as info:
        validator.validate(tampered)
    multi = planet_profiles.MultiIssuerValidator([validator])
    assert_clean(spy, caplog, hermetic_env, objects=[validator, multi, claims], errors=[info.value])


@pytest.mark.parametrize("logger", ["urllib3", "httpx", "httpcore"])
def test_third_party_debug_logs(
    devserver: DevServer, spy: Secrets, caplog: pytest.LogCaptureFixture, hermetic_env: Path, logger: str
) -> None:
    """requests/urllib3 and httpx/httpcore log no request header at DEBUG (checked per logger)."""
    config = oidc_config(devserver, "cc-secret", "oidc_client_credentials_secret", scopes=["api.read"])
    auth = planet_profiles.from_config(config, profile_name="tp").request_authenticator()
    hello(devserver, auth)
    with httpx.Client(auth=auth) as client:
        assert client.get(devserver.hello_url, timeout=10).status_code == 200
    spy.add("header", auth.header_value())
    records = [r for r in caplog.records if r.name == logger or r.name.startswith(logger + ".")]
    assert records, f"{logger} logged nothing at DEBUG: the check would be empty"
    text = "\n".join(r.getMessage() for r in records)
    assert not spy.leaks(text), f"{logger} logged secrets at DEBUG: {spy.leaks(text)}"
    assert "authorization" not in text.lower()
