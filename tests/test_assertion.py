"""private_key_jwt client authentication (RFC 7523 §2.2, §3; SECURITY JWT-01..03): `AssertionSigner`.

Integration tests use the dev server's `cc-pubkey` client and its real keys; unit tests generate keys.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

import planet_profiles
from planet_profiles import ConfigError, OAuthError
from planet_profiles._assertion import AssertionSigner
from planet_profiles._oauth import JWT_BEARER_ASSERTION, ClientAuth, endpoint, parse_token, post_form
from tests.fixtures_devserver import DevServer

CC = "oidc_client_credentials_pubkey"


# --- helpers ------------------------------------------------------------------------------------------------


def pem_of(key: PrivateKeyTypes, password: str | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def body_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM: none of them may show up in a message."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def assert_no_key_material(err: BaseException, *pems: str, secrets: tuple[str, ...] = ()) -> None:
    texts = [str(err), repr(err), *(str(p) for p in getattr(err, "problems", ()))]
    for text in texts:
        for pem in pems:
            for line in body_lines(pem):
                assert line[:24] not in text
        for secret in secrets:
            assert secret not in text


def cc_config(server: DevServer, **keys: Any) -> dict[str, Any]:
    return {
        "client_type": CC,
        "auth_server": server.issuer,
        "client_id": "cc-pubkey",
        "scopes": ["api.read"],
        **keys,
    }


def signer_of(data: dict[str, Any], file: str | None = None) -> AssertionSigner:
    return AssertionSigner.from_config(planet_profiles.parse_config(data, file=file), file=file)


def decode(assertion: str, key: PrivateKeyTypes, audience: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        assertion,
        key.public_key(),  # type: ignore[arg-type]
        algorithms=["RS256", "PS256", "ES256"],
        audience=audience,
        options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]},
    )
    return claims


def unit_config(**keys: Any) -> dict[str, Any]:
    return {"client_type": CC, "auth_server": "https://login.example.com", "client_id": "svc", **keys}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# --- against the dev server ---------------------------------------------------------------------------------


def api_call(ctx: Any, server: DevServer) -> dict[str, Any]:
    answer = requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.mark.integration
@pytest.mark.parametrize(
    ("kind", "alg"),
    [("rsa", None), ("rsa", "RS256"), ("rsa", "PS256"), ("ec", None), ("ec", "ES256")],
)
def test_pem_literal_gets_a_token_for_the_api(devserver: DevServer, kind: str, alg: str | None) -> None:
    pem = devserver.clients["cc-pubkey"].private_key_pem(kind)
    data = cc_config(devserver, client_privkey=pem, **({"jwt_signing_alg": alg} if alg else {}))
    ctx = planet_profiles.from_config(data, profile_name="cc", save_token_file=False)
    devserver.reset_stats()
    answer = api_call(ctx, devserver)
    assert answer["client_id"] == "cc-pubkey" and answer["scope"] == "api.read"
    assert devserver.stats()["by_grant"] == {"client_credentials": 1}


@pytest.mark.integration
def test_key_file_relative_to_the_profile_file(devserver: DevServer, hermetic_env: Path) -> None:
    """ES256 from `client_privkey_file`, a path relative to the profile's own directory."""
    profile_dir = hermetic_env / ".planet" / "svc-ec"
    profile_dir.mkdir(parents=True)
    shutil.copy(devserver.clients["cc-pubkey"].private_key_files["ec"], profile_dir / "client-ec.pem")
    (profile_dir / "auth_client.json").write_text(
        json.dumps(cc_config(devserver, client_privkey_file="client-ec.pem"))
    )
    ctx = planet_profiles.open_profile("svc-ec", save_token_file=False)
    assert api_call(ctx, devserver)["client_id"] == "cc-pubkey"
    assert "ES256" in repr(AssertionSigner.from_config(ctx.auth_client().config, file=ctx.auth_client().file))


@pytest.mark.integration
def test_key_file_with_tilde(devserver: DevServer, hermetic_env: Path) -> None:
    shutil.copy(devserver.clients["cc-pubkey"].private_key_files["rsa"], hermetic_env / "key.pem")
    ctx = planet_profiles.from_config(
        cc_config(devserver, client_privkey_file="~/key.pem"), profile_name="cc", save_token_file=False
    )
    assert api_call(ctx, devserver)["client_id"] == "cc-pubkey"


@pytest.mark.integration
@pytest.mark.parametrize("source", ["file", "literal"])
def test_passphrase_protected_key(devserver: DevServer, source: str) -> None:
    client = devserver.clients["cc-pubkey"]
    key = (
        {"client_privkey_file": str(client.private_key_files["rsaEncrypted"])}
        if source == "file"
        else {"client_privkey": client.private_key_pem("rsaEncrypted")}
    )
    data = cc_config(devserver, client_privkey_password=devserver.key_passphrase, **key)
    ctx = planet_profiles.from_config(data, profile_name="cc", save_token_file=False)
    assert api_call(ctx, devserver)["client_id"] == "cc-pubkey"


@pytest.mark.integration
def test_kid_header_must_match_the_registered_kid(devserver: DevServer) -> None:
    """Why no `kid` is sent by default: the server matches it exactly against its registered JWKs.

    The dev server registers the keys as `client-rsa` / `client-ec`; the RFC 7638 thumbprint is unknown to it.
    """
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    config = planet_profiles.parse_config(cc_config(devserver, client_privkey="x"))
    key = load_pem_private_key(devserver.clients["cc-pubkey"].private_key_pem("rsa").encode(), None)
    form = {"grant_type": "client_credentials", "scope": "api.read"}

    def grant(kid: str | None) -> Any:
        signer = AssertionSigner(key, client_id="cc-pubkey", kid=kid)
        url = endpoint(config, "token_endpoint")
        return parse_token(
            post_form(url, form, ClientAuth("cc-pubkey", "private_key_jwt", signer=signer)), url, form
        )

    assert grant("client-rsa").access_token
    assert grant(None).access_token
    with pytest.raises(OAuthError) as caught:
        grant(AssertionSigner(key, client_id="cc-pubkey").thumbprint)
    assert caught.value.error == "invalid_client"


@pytest.mark.integration
def test_no_key_material_or_assertion_in_debug_logs(
    devserver: DevServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem = devserver.clients["cc-pubkey"].private_key_pem("rsa")
    seen: list[str] = []
    original = AssertionSigner.assertion

    def spy(self: AssertionSigner, audience: str) -> str:
        seen.append(original(self, audience))
        return seen[-1]

    monkeypatch.setattr(AssertionSigner, "assertion", spy)
    caplog.set_level(logging.DEBUG, logger="planet_profiles")
    ctx = planet_profiles.from_config(
        cc_config(devserver, client_privkey=pem), profile_name="cc", save_token_file=False
    )
    api_call(ctx, devserver)
    assert len(seen) == 1
    for line in body_lines(pem):
        assert line[:24] not in caplog.text
    assert seen[0] not in caplog.text and seen[0].split(".")[2] not in caplog.text


# --- claims and headers -------------------------------------------------------------------------------------


def test_claims_per_rfc_7523(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = signer_of(unit_config(client_privkey=pem_of(rsa_key)))
    aud = "https://login.example.com/oauth2/v1/token"
    first, second = signer.assertion(aud), signer.assertion(aud)
    claims = decode(first, rsa_key, aud)
    assert claims["iss"] == claims["sub"] == "svc"
    assert claims["aud"] == aud
    assert 60 <= claims["exp"] - claims["iat"] <= 300
    assert "nbf" not in claims
    assert claims["jti"] != decode(second, rsa_key, aud)["jti"]
    assert len(claims["jti"]) >= 22  # ≥ 128 bits from `secrets`
    header = jwt.get_unverified_header(first)
    assert header["alg"] == "RS256" and "kid" not in header


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_rsa_signatures_verify(rsa_key: rsa.RSAPrivateKey, alg: str) -> None:
    signer = signer_of(unit_config(client_privkey=pem_of(rsa_key), jwt_signing_alg=alg))
    token = signer.assertion("aud")
    assert jwt.get_unverified_header(token)["alg"] == alg
    jwt.decode(token, rsa_key.public_key(), algorithms=[alg], audience="aud")
    # The signature really is PKCS#1 v1.5 (RS256) or PSS with a 32-byte salt (PS256, RFC 7518 §3.5).
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input, _, signature = token.rpartition(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    pad = (
        padding.PKCS1v15()
        if alg == "RS256"
        else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    )
    rsa_key.public_key().verify(raw, signing_input.encode(), pad, hashes.SHA256())


def test_es256_is_inferred_for_p256(ec_key: ec.EllipticCurvePrivateKey) -> None:
    signer = signer_of(unit_config(client_privkey=pem_of(ec_key)))
    assert signer.alg == "ES256"
    assert decode(signer.assertion("a"), ec_key, "a")["iss"] == "svc"


def test_injected_clock_lifetime_nbf_and_kid(ec_key: ec.EllipticCurvePrivateKey) -> None:
    signer = AssertionSigner(
        ec_key, client_id="svc", kid="my-kid", lifetime=300, not_before=True, clock=lambda: 1_000_000.5
    )
    token = signer.assertion("a")
    claims = jwt.decode(
        token,
        ec_key.public_key(),
        algorithms=["ES256"],
        audience="a",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (1_000_000, 1_000_000, 1_000_300)
    assert jwt.get_unverified_header(token)["kid"] == "my-kid"
    for bad in (30, 301):
        with pytest.raises(ValueError, match="lifetime"):
            AssertionSigner(ec_key, client_id="svc", lifetime=bad)


def test_client_auth_signs_a_new_assertion_per_request(rsa_key: rsa.RSAPrivateKey) -> None:
    """SECURITY JWT-01/03 through `ClientAuth.apply`; `aud` is the endpoint unless configured."""
    signer = signer_of(unit_config(client_privkey=pem_of(rsa_key)))
    auth = ClientAuth("svc", "private_key_jwt", signer=signer)
    forms = []
    for _ in range(2):
        form: dict[str, str] = {}
        auth.apply(form, {}, endpoint_url="https://login.example.com/token")
        forms.append(form)
    assert forms[0]["client_assertion_type"] == JWT_BEARER_ASSERTION
    jtis = {decode(f["client_assertion"], rsa_key, "https://login.example.com/token")["jti"] for f in forms}
    assert len(jtis) == 2
    fixed = signer_of(unit_config(client_privkey=pem_of(rsa_key), jwt_assertion_audience="https://issuer"))
    form = {}
    ClientAuth("svc", "private_key_jwt", signer=fixed).apply(form, {}, endpoint_url="https://x/token")
    assert decode(form["client_assertion"], rsa_key, "https://issuer")["aud"] == "https://issuer"


def test_repr_shows_only_alg_and_fingerprint(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = pem_of(rsa_key)
    signer = signer_of(unit_config(client_privkey=pem))
    text = repr(signer)
    assert text == f"AssertionSigner(alg='RS256', key=jwk-sha256:{signer.thumbprint[:8]})"
    for line in body_lines(pem):
        assert line[:24] not in text


def test_thumbprint_is_rfc_7638(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> None:
    """Cross-check with PyJWT's JWK export: required members only, sorted, no whitespace, SHA-256."""
    import hashlib

    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    cases: list[tuple[Any, Any, tuple[str, ...]]] = [
        (rsa_key, RSAAlgorithm, ("e", "kty", "n")),
        (ec_key, ECAlgorithm, ("crv", "kty", "x", "y")),
    ]
    for key, algo, members in cases:
        jwk = json.loads(algo.to_jwk(key.public_key()))
        canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
        expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
        signer = AssertionSigner(key, client_id="svc")
        assert signer.thumbprint == expected
        assert signer.public_jwk()["kid"] == expected and "d" not in signer.public_jwk()


def test_escaped_newlines_in_a_pasted_pem(ec_key: ec.EllipticCurvePrivateKey) -> None:
    pasted = pem_of(ec_key).strip().replace("\n", "\\n")
    assert signer_of(unit_config(client_privkey=pasted)).alg == "ES256"


def test_relative_key_file_without_a_profile_file_is_relative_to_cwd(
    ec_key: ec.EllipticCurvePrivateKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "k.pem").write_text(pem_of(ec_key))
    monkeypatch.chdir(tmp_path)
    assert signer_of(unit_config(client_privkey_file="k.pem")).alg == "ES256"
    profile = tmp_path / "profiles" / "p" / "auth_client.json"
    profile.parent.mkdir(parents=True)
    with pytest.raises(ConfigError) as caught:  # relative to the profile's directory, not the CWD
        signer_of(unit_config(client_privkey_file="k.pem"), file=str(profile))
    assert str(profile.parent / "k.pem") in str(caught.value)


# --- bad keys and algorithms --------------------------------------------------------------------------------


BadCase = Callable[[Path, rsa.RSAPrivateKey], tuple[dict[str, Any], str, str]]


def _malformed(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    pem = pem_of(key)
    broken = pem.replace(body_lines(pem)[3], body_lines(pem)[3][::-1])
    return {"client_privkey": broken}, "client_privkey", "not a valid PEM private key"


def _not_pem(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    return {"client_privkey": "hunter2-not-a-key"}, "client_privkey", "not a PEM private key"


def _public_key(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp / "pub.pem").write_bytes(public)
    return {"client_privkey_file": str(tmp / "pub.pem")}, "client_privkey_file", "holds a public key"


def _wrong_password(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    data = {"client_privkey": pem_of(key, "right-pass"), "client_privkey_password": "wrong-pass-42"}
    return data, "client_privkey_password", "wrong password"


def _no_password(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    return (
        {"client_privkey": pem_of(key, "right-pass")},
        "client_privkey_password",
        "encrypted but no password",
    )


def _needless_password(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    data = {"client_privkey": pem_of(key), "client_privkey_password": "wrong-pass-42"}
    return data, "client_privkey_password", "not encrypted"


def _missing_file(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    return {"client_privkey_file": str(tmp / "nope.pem")}, "client_privkey_file", "does not exist"


def _unreadable_file(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    (tmp / "dir.pem").mkdir()  # a directory: unreadable as a file, even for root
    return {"client_privkey_file": str(tmp / "dir.pem")}, "client_privkey_file", "cannot read"


def _small_rsa(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return {"client_privkey": pem_of(small)}, "client_privkey", "at least 2048"


def _ed25519(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    return (
        {"client_privkey": pem_of(ed25519.Ed25519PrivateKey.generate())},
        "client_privkey",
        "unsupported key",
    )


def _p384(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    p384 = ec.generate_private_key(ec.SECP384R1())
    return {"client_privkey": pem_of(p384)}, "client_privkey", "unsupported key type EC secp384r1"


def _alg_mismatch(tmp: Path, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], str, str]:
    data = {"client_privkey": pem_of(key), "jwt_signing_alg": "ES256"}
    return data, "jwt_signing_alg", "does not fit the RSA key in `client_privkey`"


@pytest.mark.parametrize(
    "case",
    [
        _malformed,
        _not_pem,
        _public_key,
        _wrong_password,
        _no_password,
        _needless_password,
        _missing_file,
        _unreadable_file,
        _small_rsa,
        _ed25519,
        _p384,
        _alg_mismatch,
    ],
)
def test_bad_keys_are_config_errors_naming_file_and_key(
    case: BadCase, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    keys, config_key, words = case(tmp_path, rsa_key)
    profile = str(tmp_path / "auth_client.sops.json")
    with pytest.raises(ConfigError) as caught:
        signer_of(unit_config(**keys), file=profile)
    err = caught.value
    assert err.file == profile and err.key == config_key
    assert words in err.message
    assert err.hint  # says how to fix it
    assert err.problems and err.problems[0].pointer == f"/{config_key}"
    pems = [v for v in keys.values() if isinstance(v, str) and "-----BEGIN" in v]
    passwords = tuple(v for k, v in keys.items() if k == "client_privkey_password")
    assert_no_key_material(err, *pems, pem_of(rsa_key), secrets=(*passwords, "hunter2"))


def test_in_memory_profile_errors_name_the_config(rsa_key: rsa.RSAPrivateKey) -> None:
    ctx = planet_profiles.from_config(
        unit_config(client_privkey="garbage"), profile_name="mem", save_token_file=False
    )
    with pytest.raises(ConfigError) as caught:
        ctx.auth_client().client_auth()  # type: ignore[attr-defined]
    assert caught.value.file == "<in-memory profile mem>" and caught.value.key == "client_privkey"


@pytest.mark.parametrize("alg", ["HS256", "none", "RS512", "EdDSA"])
def test_disallowed_algorithms_are_rejected_by_model_and_signer(alg: str, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError) as caught:
        planet_profiles.parse_config(unit_config(client_privkey=pem_of(rsa_key), jwt_signing_alg=alg))
    assert caught.value.key == "jwt_signing_alg"
    with pytest.raises(ConfigError) as caught:
        AssertionSigner(rsa_key, client_id="svc", alg=alg, file="f.json")
    assert caught.value.key == "jwt_signing_alg" and "not allowed" in caught.value.message


def test_group_readable_key_file_is_warned_about(
    ec_key: ec.EllipticCurvePrivateKey, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "k.pem"
    key_file.write_text(pem_of(ec_key))
    os.chmod(key_file, 0o644)
    caplog.set_level(logging.WARNING, logger="planet_profiles.assertion")
    signer_of(unit_config(client_privkey_file=str(key_file)))
    assert "readable by others" in caplog.text and str(key_file) in caplog.text
