"""Service-side token validation (SECURITY JWV-01..04) against tokens minted by the real dev server.

Key-set behaviour is observed from outside: the validator fetches the issuer's JWKS through a small
counting loopback server (`JwksServer`) that forwards to the dev server, or serves a fixed set, or fails.
Attackers' keys and tokens are made here with `cryptography` + PyJWT; nothing of the validator is mocked.
Time is injected (`clock` for claims, `monotonic` for the key cache), except in one real-expiry test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from planet_profiles import ConfigError, OAuthError, UnsupportedOperationError, from_config
from planet_profiles._http import RetryPolicy
from planet_profiles._token_validation import ID_TOKEN_CLAIMS, MultiIssuerValidator, TokenValidator, scopes_of
from tests.fixtures_devserver import DevServer, DevServerFactory
from tests.test_flows_authcode import browser  # noqa: F401 - the headless browser fixture
from tests.test_flows_authcode import context as authcode_context

pytestmark = pytest.mark.integration

NO_RETRY = RetryPolicy(attempts=1, sleep=lambda _s: None)


# ---------------------------------------------------------------- helpers


class JwksServer:
    """A loopback JWKS endpoint that counts GETs: forwards to `upstream`, serves `static`, or fails."""

    def __init__(self, upstream: str | None = None, static: dict[str, Any] | None = None) -> None:
        self.upstream = upstream
        self.static = static
        self.fail_status: int | None = None
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits += 1
                if outer.fail_status is not None:
                    status, body = outer.fail_status, b'{"error": "unavailable"}'
                elif outer.static is not None:
                    status, body = 200, json.dumps(outer.static).encode()
                else:
                    assert outer.upstream is not None
                    upstream = requests.get(outer.upstream, timeout=10)
                    status, body = upstream.status_code, upstream.content
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/jwks"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def cc_token(server: DevServer, scope: str = "api.read") -> str:
    """A JWT access token from the real server (client credentials, `aud` = the API's audience)."""
    client = server.clients["cc-secret"]
    resp = requests.post(
        server.token_endpoint,
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )
    resp.raise_for_status()
    token: str = resp.json()["access_token"]
    return token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture(scope="module")
def attacker_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_proxy(devserver: DevServer) -> Iterator[JwksServer]:
    server = JwksServer(upstream=devserver.jwks_uri)
    yield server
    server.close()


@pytest.fixture
def token(devserver: DevServer) -> str:
    return cc_token(devserver)


def validator_for(server: DevServer, **kwargs: Any) -> TokenValidator:
    return TokenValidator(server.issuer, [server.audience], **kwargs)


def expect_invalid(validator: TokenValidator | MultiIssuerValidator, token: str, words: str) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        validator.validate(token)
    err = caught.value
    assert err.error == "invalid_token" and err.status_code == 401
    assert words in str(err), str(err)
    if len(token) > 8:
        assert token not in str(err) and token not in repr(err)
    return err


# ---------------------------------------------------------------- valid tokens, claims


def test_valid_token_gives_claims_via_discovery(devserver: DevServer, token: str) -> None:
    validator = validator_for(devserver)
    claims = validator.validate(token)
    assert claims["iss"] == devserver.issuer and claims["aud"] == devserver.audience
    assert claims["client_id"] == "cc-secret" and scopes_of(claims) == {"api.read"}
    assert validator.jwks.uri == devserver.jwks_uri  # discovered, not configured
    assert validator.validate(token) == claims  # the cached key set serves the second call


def test_profile_validator_from_config(devserver: DevServer, token: str) -> None:
    ctx = from_config(
        {
            "client_type": "oidc_client_validator",
            "auth_server": devserver.issuer,
            "audiences": [devserver.audience],
            "jwks_endpoint": devserver.jwks_uri,
        },
        profile_name="my-service",
        save_token_file=False,
    )
    client: Any = ctx.auth_client()
    assert type(client).__name__ == "OidcClientValidatorAuthClient"
    assert client.validate_access_token(token, required_scopes=["api.read"])["sub"] == "cc-secret"
    assert client.validator() is client.validator()
    for attempt in (ctx.login, client.grant):
        with pytest.raises(UnsupportedOperationError, match="a validator profile cannot log in"):
            attempt()
    assert ctx.token_manager is None


def test_profile_without_audiences_is_a_config_error(devserver: DevServer) -> None:
    ctx = from_config(
        {"client_type": "oidc_client_validator", "auth_server": devserver.issuer},
        profile_name="no-aud",
        save_token_file=False,
    )
    with pytest.raises(ConfigError) as caught:
        ctx.auth_client().validator()  # type: ignore[attr-defined]
    assert caught.value.key == "audiences" and "<in-memory profile no-aud>" in str(caught.value)


def test_wrong_audience_is_rejected(devserver: DevServer, token: str) -> None:
    validator = TokenValidator(devserver.issuer, ["https://other-service.example/"])
    expect_invalid(validator, token, "audience")


def test_wrong_issuer_is_rejected(devserver: DevServer, token: str) -> None:
    # Same keys (jwks_uri of the real server), but the service expects another issuer.
    validator = TokenValidator("https://issuer.example", [devserver.audience], jwks_uri=devserver.jwks_uri)
    expect_invalid(validator, token, "issuer")


def test_expired_and_future_tokens_with_injected_clock(devserver: DevServer, token: str) -> None:
    _, claims = unverified(token)
    at = FakeClock(claims["exp"] + 31)
    expect_invalid(validator_for(devserver, clock=at), token, "expired")
    at.now = claims["exp"] + 29  # inside the 30 s leeway
    assert validator_for(devserver, clock=at).validate(token)
    at.now = claims["exp"] + 1
    expect_invalid(validator_for(devserver, clock=at, leeway=0), token, "expired")
    at.now = claims["iat"] - 60  # the token claims to be issued a minute from now
    expect_invalid(validator_for(devserver, clock=at), token, "issued in the future")


def test_really_expired_token(devserver_factory: DevServerFactory) -> None:
    """A real token of a real server, past its real `exp` (the clock logic itself: the test above)."""
    short = devserver_factory(access_ttl=2)  # (the short-token server other modules use too)
    token = cc_token(short)
    _, claims = unverified(token)
    assert validator_for(short, clock=FakeClock(claims["iat"]), leeway=0).validate(token)  # valid as issued
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.05)
    expect_invalid(validator_for(short, leeway=0), token, "expired")


def test_required_scopes_any_of(devserver: DevServer, token: str) -> None:
    validator = validator_for(devserver)
    assert validator.validate(token, required_scopes=["api.write", "api.read"])
    assert validator.validate(token, required_scopes=[])  # nothing required
    with pytest.raises(OAuthError) as caught:
        validator.validate(token, required_scopes=["api.write"])
    assert caught.value.error == "insufficient_scope" and caught.value.status_code == 403
    both = cc_token(devserver, scope="api.read api.write")
    assert scopes_of(validator.validate(both, required_scopes=["api.write"])) == {"api.read", "api.write"}


def test_scp_list_and_scope_string() -> None:
    assert scopes_of({"scp": ["a", "b", 3]}) == {"a", "b"}
    assert scopes_of({"scope": "a  b"}) == {"a", "b"}
    assert scopes_of({"scope": "a", "scp": ["b"]}) == {"a"}
    assert scopes_of({}) == frozenset()


# ---------------------------------------------------------------- forged tokens (JWV-01, JWV-03)


def test_alg_none_is_rejected(devserver: DevServer, token: str) -> None:
    header, claims = unverified(token)
    forged = f"{b64(json.dumps({**header, 'alg': 'none'}).encode())}.{b64(json.dumps(claims).encode())}."
    expect_invalid(validator_for(devserver), forged, "not allowed")
    forged_upper = forged.replace(forged.split(".")[0], b64(json.dumps({**header, "alg": "None"}).encode()))
    expect_invalid(validator_for(devserver), forged_upper, "not allowed")


def test_hs256_signed_with_the_public_key_is_rejected(devserver: DevServer, token: str) -> None:
    header, claims = unverified(token)
    jwks = requests.get(devserver.jwks_uri, timeout=10).json()["keys"]
    rsa_jwk = next(k for k in jwks if k["kid"] == header["kid"])
    pem = (
        jwt.algorithms.RSAAlgorithm.from_jwk(rsa_jwk).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )  # type: ignore[union-attr]
    )
    for secret in (pem, json.dumps(rsa_jwk).encode(), rsa_jwk["n"].encode()):
        signing_input = (
            f"{b64(json.dumps({**header, 'alg': 'HS256'}).encode())}.{b64(json.dumps(claims).encode())}"
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        expect_invalid(validator_for(devserver), f"{signing_input}.{b64(signature)}", "not allowed")


def test_symmetric_algorithms_cannot_be_configured(devserver: DevServer) -> None:
    for algorithms in (("HS256",), ("RS256", "none"), ()):
        with pytest.raises(ConfigError) as caught:
            validator_for(devserver, algorithms=algorithms)
        assert caught.value.key == "algorithms"


def test_jku_x5u_and_embedded_jwk_headers_are_ignored(
    devserver: DevServer, token: str, attacker_rsa: rsa.RSAPrivateKey, jwks_proxy: JwksServer
) -> None:
    _, claims = unverified(token)
    real_kid = unverified(token)[0]["kid"]
    attacker_jwks = JwksServer(static={"keys": [public_jwk(attacker_rsa, "attacker-1", "RS256")]})
    try:
        validator = validator_for(devserver, jwks_uri=jwks_proxy.url)
        assert validator.validate(token)
        for kid in ("attacker-1", real_kid):
            for extra in (
                {"jku": attacker_jwks.url},
                {"x5u": attacker_jwks.url},
                {"jwk": public_jwk(attacker_rsa, kid, "RS256")},
            ):
                forged = jwt.encode(claims, attacker_rsa, algorithm="RS256", headers={"kid": kid, **extra})
                expect_invalid(validator, forged, "signature" if kid == real_kid else "no such signing key")
        assert attacker_jwks.hits == 0  # never contacted
    finally:
        attacker_jwks.close()


def test_crit_header_and_garbage_are_rejected(devserver: DevServer, token: str) -> None:
    header, claims = unverified(token)
    signing_input = (
        f"{b64(json.dumps({**header, 'crit': ['exp']}).encode())}.{b64(json.dumps(claims).encode())}"
    )
    expect_invalid(validator_for(devserver), f"{signing_input}.{token.split('.')[2]}", "header")
    for garbage in ("", "abc", "a.b.c", token.split(".")[0]):
        expect_invalid(validator_for(devserver), garbage, "")


def test_tampered_payload_is_rejected(devserver: DevServer, token: str) -> None:
    header_b64, _, signature = token.split(".")
    claims = {**unverified(token)[1], "scope": "api.read api.write"}
    expect_invalid(
        validator_for(devserver), f"{header_b64}.{b64(json.dumps(claims).encode())}.{signature}", "signature"
    )


# ---------------------------------------------------------------- an issuer of our own (claims edge cases)


@pytest.fixture
def own_issuer(attacker_rsa: rsa.RSAPrivateKey) -> Iterator[tuple[JwksServer, Any]]:
    """An issuer whose keys we hold: `(jwks server, ec key)`; keys `rsa-1` (RS256) and `ec-1` (ES256)."""
    ec_key = ec.generate_private_key(ec.SECP256R1())
    server = JwksServer(
        static={
            "keys": [
                public_jwk(attacker_rsa, "rsa-1", "RS256"),
                public_jwk(ec_key, "ec-1", "ES256"),
                {"kty": "oct", "kid": "shared", "k": b64(b"s3cret" * 8)},  # dropped: never a verification key
            ]
        }
    )
    yield server, ec_key
    server.close()


ISS = "https://issuer.test"
AUD = "https://api.test/"


def own_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "sub": "svc", "scp": ["read"]}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_own_issuer_claim_checks(own_issuer: tuple[JwksServer, Any], attacker_rsa: rsa.RSAPrivateKey) -> None:
    server, ec_key = own_issuer
    validator = TokenValidator(ISS + "/", [AUD, "other"], jwks_uri=server.url)  # trailing slash: same issuer
    good = jwt.encode(own_claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert validator.validate(good, required_scopes=["read"])["sub"] == "svc"
    assert validator.validate(
        jwt.encode(own_claims(aud=["x", "other"]), ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    )
    ps = jwt.encode(own_claims(), attacker_rsa, algorithm="PS256", headers={"kid": "rsa-1"})
    expect_invalid(validator, ps, "no such signing key")  # rsa-1 is published for RS256 only
    assert TokenValidator(ISS, [AUD], jwks_uri=server.url, algorithms=["RS256"]).validate(
        jwt.encode(own_claims(), attacker_rsa, algorithm="RS256")  # no kid: the one RS256 key
    )
    for claims, words in (
        (own_claims(exp=None), "`exp`"),
        (own_claims(iat=None), "`iat`"),
        (own_claims(aud=None), "`aud`"),
        (own_claims(exp="soon"), "not a number"),
        (own_claims(nbf=int(time.time()) + 120), "not valid yet"),
        (own_claims(iss="https://evil.test"), "issuer"),
    ):
        expect_invalid(
            validator, jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "ec-1"}), words
        )
    assert "keys=2" in repr(validator.jwks)  # the `oct` key was dropped when the set was read
    hs = jwt.encode(own_claims(), "s3cret" * 8, algorithm="HS256", headers={"kid": "shared"})
    expect_invalid(validator, hs, "not allowed")


# ---------------------------------------------------------------- the key cache (JWV-04)


def test_unknown_kid_refetches_once_per_cooldown(
    devserver: DevServer, token: str, attacker_rsa: rsa.RSAPrivateKey, jwks_proxy: JwksServer
) -> None:
    tick = FakeClock()
    validator = validator_for(devserver, jwks_uri=jwks_proxy.url, monotonic=tick, refetch_cooldown=30)
    assert validator.validate(token)
    assert jwks_proxy.hits == 1
    forged = jwt.encode(unverified(token)[1], attacker_rsa, algorithm="RS256", headers={"kid": "rotated?"})
    expect_invalid(validator, forged, "no such signing key")  # fetched 0 s ago: no refetch yet
    assert jwks_proxy.hits == 1
    tick.now += 30
    for _ in range(20):  # a burst of forged kids: one refetch for the whole burst
        expect_invalid(validator, forged, "no such signing key")
    assert jwks_proxy.hits == 2
    tick.now += 29
    expect_invalid(validator, forged, "no such signing key")
    assert jwks_proxy.hits == 2
    tick.now += 1
    expect_invalid(validator, forged, "no such signing key")
    assert jwks_proxy.hits == 3 and validator.jwks.fetches == 3
    assert validator.validate(token) and jwks_proxy.hits == 3  # known kid: no fetch


def test_key_rotation_is_picked_up_by_refetch(
    devserver: DevServer, token: str, attacker_rsa: rsa.RSAPrivateKey
) -> None:
    old_set = {"keys": [public_jwk(attacker_rsa, "old-key", "RS256")]}
    server = JwksServer(upstream=devserver.jwks_uri, static=old_set)
    try:
        tick = FakeClock()
        validator = validator_for(devserver, jwks_uri=server.url, monotonic=tick, refetch_cooldown=5)
        expect_invalid(validator, token, "no such signing key")
        server.static = None  # the issuer rotated: now the real keys
        tick.now += 5
        assert validator.validate(token)
        assert server.hits == 2
    finally:
        server.close()


def test_ttl_expiry_refetches_and_keeps_the_last_good_set(
    devserver: DevServer, token: str, jwks_proxy: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    tick = FakeClock()
    validator = validator_for(
        devserver,
        jwks_uri=jwks_proxy.url,
        monotonic=tick,
        jwks_ttl=600,
        refetch_cooldown=30,
        http_policy=NO_RETRY,
    )
    assert validator.validate(token) and jwks_proxy.hits == 1
    tick.now += 599
    assert validator.validate(token) and jwks_proxy.hits == 1
    tick.now += 1
    jwks_proxy.fail_status = 503  # the issuer's JWKS endpoint is down when the TTL runs out
    with caplog.at_level(logging.WARNING, logger="planet_profiles.validator"):
        assert validator.validate(token)  # served from the last good set
    assert jwks_proxy.hits == 2 and "keeping the cached signing keys" in caplog.text
    tick.now += 10
    assert validator.validate(token) and jwks_proxy.hits == 2  # no hammering within the cool-down
    tick.now += 20
    jwks_proxy.fail_status = None
    assert validator.validate(token) and jwks_proxy.hits == 3  # retried after the cool-down, recovered
    tick.now += 599
    assert validator.validate(token) and jwks_proxy.hits == 3  # fresh TTL from the recovery


def test_jwks_down_from_the_start_fails_fast(
    devserver: DevServer, token: str, jwks_proxy: JwksServer
) -> None:
    from planet_profiles import DiscoveryError

    tick = FakeClock()
    jwks_proxy.fail_status = 503
    validator = validator_for(devserver, jwks_uri=jwks_proxy.url, monotonic=tick, http_policy=NO_RETRY)
    for _ in range(3):
        with pytest.raises(DiscoveryError) as caught:
            validator.validate(token)
        assert caught.value.key == "jwks_endpoint" and "HTTP 503" in str(caught.value)
    assert jwks_proxy.hits == 1
    jwks_proxy.fail_status = None
    tick.now += 30
    assert validator.validate(token) and jwks_proxy.hits == 2


# ---------------------------------------------------------------- several issuers


def test_multi_issuer(
    devserver: DevServer, devserver_factory: DevServerFactory, own_issuer: tuple[JwksServer, Any]
) -> None:
    other = devserver_factory(access_ttl=299)
    assert other.issuer != devserver.issuer
    multi = MultiIssuerValidator(
        [validator_for(devserver), TokenValidator(other.issuer, [other.audience], jwks_uri=other.jwks_uri)]
    )
    token_a, token_b = cc_token(devserver), cc_token(other)
    assert multi.validate(token_a)["iss"] == devserver.issuer
    assert multi.validate(token_b, required_scopes=["api.read"])["iss"] == other.issuer
    assert multi.validator_for(token_b).issuer == other.issuer
    expect_invalid(validator_for(devserver), token_b, "")  # one issuer's validator refuses the other's tokens
    # An issuer that is not trusted is refused before any of its keys are looked at.
    server, ec_key = own_issuer
    stranger = jwt.encode(own_claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1", "jku": server.url})
    expect_invalid(multi, stranger, "not trusted")
    assert server.hits == 0
    # A token claiming issuer B but signed by A's key: routed to B, whose keys do not verify it.
    header, claims = unverified(token_a)
    expect_invalid(
        multi,
        ".".join(
            [
                b64(json.dumps(header).encode()),
                b64(json.dumps({**claims, "iss": other.issuer}).encode()),
                token_a.split(".")[2],
            ]
        ),
        "",
    )
    with pytest.raises(ConfigError):
        MultiIssuerValidator([validator_for(devserver), validator_for(devserver)])
    with pytest.raises(ConfigError):
        MultiIssuerValidator([])


def test_validator_repr_and_errors_hold_no_token(devserver: DevServer, token: str) -> None:
    validator = validator_for(devserver)
    assert devserver.issuer in repr(validator) and "JwksCache" in repr(validator.jwks)
    err = expect_invalid(TokenValidator(devserver.issuer, ["nope"]), token, "audience")
    assert err.error_description == "wrong audience"


# ---------------------------------------------------------------- access tokens, not ID tokens (JWV-05)


def id_token_of_a_login(server: DevServer) -> str:
    """A real ID token: the dev server's, from a login of `native-public` (its `aud`) in the headless browser
    (the `browser` fixture)."""
    token = authcode_context(server).auth_client().login(allow_open_browser=True)
    assert token.id_token
    return token.id_token


@pytest.mark.usefixtures("browser")
def test_an_id_token_is_refused_as_an_access_token(devserver: DevServer, token: str) -> None:
    """The dev server's ID token (same issuer and keys, `aud` = the client id) is no access token for a
    service whose audience is that client id; real access tokens still pass."""
    id_token = id_token_of_a_login(devserver)
    header, claims = unverified(id_token)
    assert "typ" not in header and claims["aud"] == "native-public" and "nonce" in claims
    for typ_check in ("auto", "at+jwt"):
        validator = TokenValidator(devserver.issuer, ["native-public"], typ_check=typ_check)
        err = expect_invalid(validator, id_token, "not an access token")
        assert "nonce" in str(err) if typ_check == "auto" else "at+jwt" in str(err)
        assert unverified(token)[0]["typ"] == "at+jwt"  # the server's access tokens: RFC 9068
        assert validator_for(devserver, typ_check=typ_check).validate(token)["client_id"] == "cc-secret"
    lenient = TokenValidator(devserver.issuer, ["native-public"], typ_check="any")
    assert lenient.validate(id_token)["nonce"] == claims["nonce"]  # the documented escape hatch


def test_typ_checks_on_tokens_of_our_own(own_issuer: tuple[JwksServer, Any]) -> None:
    server, ec_key = own_issuer

    def signed(typ: str | None, **claims: Any) -> str:
        headers = {"kid": "ec-1", **({"typ": typ} if typ else {})}
        return jwt.encode(own_claims(**claims), ec_key, algorithm="ES256", headers=headers)

    auto = TokenValidator(ISS, [AUD], jwks_uri=server.url)
    assert auto.validate(signed("JWT"))["sub"] == "svc"  # a plain JWT access token (Auth0, Entra ID, …)
    assert auto.validate(signed(None))["sub"] == "svc"
    for claim in sorted(ID_TOKEN_CLAIMS):
        expect_invalid(auto, signed("JWT", **{claim: "x"}), claim)
    expect_invalid(auto, signed("id_token+jwt"), "not an access token")
    expect_invalid(auto, signed("logout+jwt"), "not an access token")
    assert auto.validate(signed("application/AT+JWT", nonce="n"))["nonce"] == "n"  # the server's word
    expect_invalid(auto, signed("JWT"), "not `at+jwt`")  # learned: this issuer issues at+jwt
    strict = TokenValidator(ISS, [AUD], jwks_uri=server.url, typ_check="at+jwt")
    assert strict.validate(signed("at+jwt"))
    expect_invalid(strict, signed(None), "not `at+jwt` (RFC 9068 §4)")
    lenient = TokenValidator(ISS, [AUD], jwks_uri=server.url, typ_check="any")
    assert lenient.validate(signed("id_token+jwt", nonce="n"))
    with pytest.raises(ConfigError) as bad:
        TokenValidator(ISS, [AUD], jwks_uri=server.url, typ_check="strict")
    assert bad.value.key == "typ_check"


def test_typ_check_is_a_key_of_validator_profiles(own_issuer: tuple[JwksServer, Any]) -> None:
    """`typ_check` set in the profile reaches its `TokenValidator` (default `auto`); a value that is not one
    of the three is a `ConfigError` naming the key and the choices, when the profile is loaded."""
    server, ec_key = own_issuer
    id_like = jwt.encode(
        own_claims(nonce="n"), ec_key, algorithm="ES256", headers={"kid": "ec-1", "typ": "id_token+jwt"}
    )

    def client(**extra: str) -> Any:
        config = {"client_type": "oidc_client_validator", "auth_server": ISS, "audiences": [AUD]}
        config |= {"jwks_endpoint": server.url, **extra}
        return from_config(config, profile_name="svc", save_token_file=False).auth_client()

    assert client().validator().typ_check == "auto"
    expect_invalid(client().validator(), id_like, "not an access token")
    lenient = client(typ_check="any").validator()
    assert lenient.typ_check == "any" and lenient.validate(id_like)["nonce"] == "n"
    assert client(typ_check="at+jwt").validator().typ_check == "at+jwt"
    with pytest.raises(ConfigError) as bad:
        client(typ_check="strict")
    assert bad.value.key == "typ_check"
    assert all(choice in str(bad.value) for choice in ("auto", "at+jwt", "any"))

