"""Hypothesis strategies for `tests/test_fuzz.py`: what planet-profiles reads, well-formed and broken.

- profile documents (`profile_docs`, `profile_bytes`): valid profiles of every `client_type`, profiles with
  their own keys set to well- or ill-typed values, any key set to anything, damaged bytes;
- sops-shaped documents (`sops_docs`) and tampered copies of a real encrypted profile (`tampered`);
- token files (`token_bytes`): planet-auth token JSON with wrong types, out-of-range numbers, truncated,
  not UTF-8;
- environment values and `~/.planet.json` contents (`environments`, `user_config_bytes`), and built-in
  profile providers (`PROVIDERS`: only specs that are safe to import and call).

Every generated secret contains `MARK`, so a leak is easy to find. URLs that a loaded profile could call
point at `DEAD_SERVER`, where nothing listens.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import planet_profiles
from planet_profiles._names import ENDPOINT_KEYS, SECRET_KEYS

MARK = "SeKrit"  # every generated secret contains it, so a leak is easy to spot
DEAD_SERVER = "http://127.0.0.1:9"  # nothing listens there: any HTTP call fails at once


def write(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)


# ---------------------------------------------------------------- key material (made once per process)


@cache
def pems() -> dict[str, str]:
    """PEM variants for `client_privkey`: good, encrypted, too weak, of the wrong kind, broken."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    def private(key: Any, encryption: Any = None) -> str:
        return str(
            key.private_bytes(
                ser.Encoding.PEM, ser.PrivateFormat.PKCS8, encryption or ser.NoEncryption()
            ).decode()
        )

    ec_key = ec.generate_private_key(ec.SECP256R1())
    good = private(ec_key)
    lines = good.splitlines()
    return {
        "ec": good,
        "ec-encrypted": private(ec_key, ser.BestAvailableEncryption(KEY_PASSWORD.encode())),
        "ec-escaped": good.replace("\n", "\\n"),
        "ec-p384": private(ec.generate_private_key(ec.SECP384R1())),
        "ed25519": private(ed25519.Ed25519PrivateKey.generate()),
        "rsa-1024": private(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        "public": ec_key.public_key()
        .public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        "truncated": good[: len(good) // 2],
        "bad-base64": "\n".join([lines[0], "!!" + lines[1][2:], *lines[2:]]),
        "no-footer": "\n".join(lines[:-1]),
    }


KEY_PASSWORD = MARK + "-key-password"


def pem_secrets(pem: str) -> list[str]:
    """The lines of a private key that must never be shown (its base64 body)."""
    if "PRIVATE KEY" not in pem:
        return []
    return [line for line in pem.replace("\\n", "\n").splitlines() if len(line) >= 16 and "-----" not in line]


# ---------------------------------------------------------------- strategies: values and profile documents

WEIRD_TEXT = [
    "",
    " ",
    "\n",
    "\x00",
    "\ud800",  # a lone surrogate: valid in JSON (`"\\ud800"`), not encodable as UTF-8
    "null",
    "../../etc/passwd",
    "~nosuchuser-fz/x",
    "ENC[AES256_GCM,data:,iv:,tag:,type:str]",
    "-----BEGIN PRIVATE KEY-----",
    "é" * 300,
    "A" * 70_000,
]
URLS = [
    "https://login.example.com",
    "https://login.example.com/oauth2/default/",
    DEAD_SERVER,
    "http://localhost:8080/callback",
    "http://[::1]/callback",
    "http://127.0.0.1/callback",
    "http://example.com",
    "ftp://login.example.com",
    "https://",
    "https://user:pw@login.example.com",
    "https://[::1",
    "https://exa mple.com",
    "https://login.example.com:99999/x",
    "https://évil.example",
    "urn:ietf:wg:oauth:2.0:oob",
]
SCOPES = ["openid", "offline_access", "api.read", "profile", "a b", "", '"q"', "\\", "é"]
HOSTS = ["login.example.com", "127.0.0.1", "[::1]", "evil.example", "", "https://login.example.com", "é.x"]
URL_KEYS = {
    "auth_server",
    "issuer",
    *ENDPOINT_KEYS,
    "legacy_auth_endpoint",
    "redirect_uri",
    "local_redirect_uri",
    "jwt_assertion_audience",
}
PATHS = ["key.pem", "~/key.pem", "junk.pem", "keydir", "~", "missing.pem", "~nosuchuser-fz/k.pem", ""]
CHOICES = {
    "client_auth_method": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none", ""],
    "jwt_signing_alg": ["RS256", "PS256", "ES256", "HS256", "none", "rs256"],
    "bearer_token_prefix": ["Bearer", "api-key", "", "two words", "é"],
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(WEIRD_TEXT)
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
secret_text = st.builds(
    lambda n, tail: f"{MARK}{n:06d}{tail}", st.integers(0, 999_999), st.text("abcXYZ019+/=:%", max_size=8)
)


@cache
def all_keys() -> tuple[str, ...]:
    from planet_profiles._models import CONFIG_MODELS

    keys = {f.alias or n for m in CONFIG_MODELS.values() for n, f in m.model_fields.items()}
    return (*sorted(keys), "scope", "clientId", "client-secret", "sops", "Client_Type", "")


def good_value(key: str) -> st.SearchStrategy[Any]:
    if key == "client_type":
        return st.sampled_from(planet_profiles.CLIENT_TYPES)
    if key == "client_privkey":
        return st.sampled_from(sorted(pems())).map(lambda name: pems()[name])
    if key == "client_privkey_password":
        return st.sampled_from([KEY_PASSWORD, MARK + "-wrong-password"]) | secret_text
    if key in SECRET_KEYS:
        return secret_text
    if key in URL_KEYS:
        return st.sampled_from(URLS)
    if key in ("scopes", "audiences"):
        return st.lists(st.sampled_from(SCOPES), max_size=4)
    if key == "allowed_issuer_hosts":
        return st.lists(st.sampled_from(HOSTS), max_size=3)
    if key in ("client_privkey_file", "authorization_callback_acknowledgement_file"):
        return st.sampled_from(PATHS)
    if key in CHOICES:
        return st.sampled_from(CHOICES[key])
    return st.text(max_size=30)


def value_for(key: str) -> st.SearchStrategy[Any]:
    good = good_value(key)
    return st.one_of(good, good, junk)  # mostly well-typed values, often not


def minimal_profile(client_type: str, secret: str) -> dict[str, Any]:
    """A small valid profile of `client_type` (no network is needed to load it)."""
    doc: dict[str, Any] = {"client_type": client_type}
    if client_type.startswith("oidc_"):
        doc["auth_server"] = DEAD_SERVER
        if client_type != "oidc_client_validator":
            doc["client_id"] = "fuzz-client"
    if client_type.endswith("_secret"):
        doc["client_secret"] = secret
    if client_type.endswith("_pubkey"):
        doc["client_privkey"] = pems()["ec"]
    if client_type.startswith("oidc_auth_code"):
        doc["local_redirect_uri"] = "http://127.0.0.1/callback"
    if client_type == "static_apikey":
        doc["api_key"] = secret
    return doc


@cache
def own_keys(client_type: str) -> tuple[str, ...]:
    from planet_profiles._models import CONFIG_MODELS

    return tuple(sorted(f.alias or n for n, f in CONFIG_MODELS[client_type].model_fields.items()))


@st.composite
def profile_docs(draw: st.DrawFn) -> Any:
    """A valid profile, one with its own keys set to well-typed values, one with any key set to anything,
    or not even an object."""
    kind = draw(st.sampled_from(["valid", "valid", "own-keys", "own-keys", "any-keys", "bare", "junk"]))
    if kind == "junk":
        return draw(junk)
    client_type = draw(st.sampled_from(planet_profiles.CLIENT_TYPES))
    if kind == "bare":
        doc: dict[str, Any] = {"client_type": draw(st.sampled_from(planet_profiles.CLIENT_TYPES) | junk)}
        keys = draw(st.lists(st.sampled_from(all_keys()), max_size=5, unique=True))
    else:
        doc = minimal_profile(client_type, draw(secret_text))
        pool = all_keys() if kind == "any-keys" else own_keys(client_type)
        keys = draw(st.lists(st.sampled_from(pool), max_size=3 if kind == "valid" else 5, unique=True))
    for key in keys:
        doc[key] = draw(good_value(key) if kind == "valid" else value_for(key))
    for key in draw(st.lists(st.sampled_from(sorted(doc)), max_size=2, unique=True)):
        if kind != "valid" and draw(st.integers(0, 3)) == 0:
            del doc[key]
    return doc


def secrets_of(doc: Any) -> list[str]:
    """The values that must never be shown: strings under secret keys that carry `MARK`, key lines."""
    if not isinstance(doc, Mapping):
        return []
    found: list[str] = []
    for key in SECRET_KEYS:
        for text in strings_in(doc.get(key)):
            found += pem_secrets(text) if key == "client_privkey" else [text] if MARK in text else []
    return found


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, indent=1).encode()


@st.composite
def profile_bytes(draw: st.DrawFn) -> tuple[Any, bytes]:
    """(document, the bytes written): JSON of a document, or damaged bytes."""
    doc = draw(profile_docs())
    raw = dumps(doc)
    kind = draw(st.sampled_from(["json"] * 6 + ["truncated", "bom", "latin1", "binary", "dup"]))
    if kind == "truncated":
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    elif kind == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif kind == "latin1":
        raw = raw.replace(b"{", b'{"x\xe9": 1, ', 1) if raw.startswith(b"{") else b"\xe9" + raw
    elif kind == "binary":
        raw = draw(st.binary(max_size=64))
    elif kind == "dup" and isinstance(doc, dict) and doc:
        first = next(iter(doc))
        raw = raw.replace(b"{", b"{" + json.dumps(first).encode() + b": 1, ", 1)
    return doc, raw


def files_for(home: Path, profile_dir: Path, junk_pem: bytes) -> None:
    """The files the `PATHS` of generated profiles may name."""
    write(home / "key.pem", pems()["ec"].encode())
    write(profile_dir / "key.pem", pems()["ec"].encode())
    write(profile_dir / "junk.pem", junk_pem)
    (profile_dir / "keydir").mkdir(exist_ok=True)


# ---------------------------------------------------------------- sops-shaped documents

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
AGE_ARMOR = (
    "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n-----END AGE ENCRYPTED FILE-----\n"
)

enc_strings = st.one_of(
    st.builds(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]".format,
        st.text(B64, max_size=24),
        st.text(B64, max_size=24),
        st.text(B64, max_size=24),
        st.sampled_from(["str", "int", "float", "bool", "bytes", "", "STR"]),
    ),
    st.sampled_from(["ENC[", "ENC[]", "ENC[AES256_GCM]", "ENC[AES256_GCM,data:abc]", "enc[AES256_GCM,x]"]),
    st.text(max_size=30).map(lambda t: f"ENC[{t}]"),
)
recipient = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "recipient": st.sampled_from(["age1qqqq", ""]) | st.text(max_size=10),
            "enc": st.sampled_from([AGE_ARMOR, "", AGE_ARMOR.replace("YWdl", "!!")]) | junk,
            "fp": st.text("0123456789ABCDEF", max_size=40),
        },
    ),
    junk,
)
sops_blocks = st.fixed_dictionaries(
    {},
    optional={
        "mac": enc_strings | junk,
        "lastmodified": st.sampled_from(["2024-01-01T00:00:00Z", ""]) | junk,
        "version": st.sampled_from(["3.11.0", "3.7.3", "99"]) | junk,
        "age": st.lists(recipient, max_size=2) | junk,
        "pgp": st.lists(recipient, max_size=1),
        "key_groups": st.lists(
            st.fixed_dictionaries({"age": st.lists(recipient, max_size=2)}) | junk, max_size=2
        ),
        "encrypted_regex": st.sampled_from(["^(client_secret|api_key)$", "^(.*)$", "("]) | junk,
        "unencrypted_suffix": st.sampled_from(["_unencrypted"]) | junk,
    },
)


@st.composite
def sops_docs(draw: st.DrawFn) -> Any:
    """A profile whose secret values are (mostly) `ENC[...]` strings, with a `sops` block of any shape."""
    doc = draw(profile_docs())
    if not isinstance(doc, dict):
        return doc
    for key in [k for k in doc if k in SECRET_KEYS or draw(st.integers(0, 9)) == 0]:
        if draw(st.integers(0, 4)):
            doc[key] = draw(enc_strings)
    block = draw(st.sampled_from(["block", "block", "block", "junk", "none"]))
    if block != "none":
        doc["sops"] = draw(sops_blocks if block == "block" else junk)
    return doc


TAMPER = ["secret-ciphertext", "clear-value", "sops-key", "mac", "age-enc", "new-key", "bytes", "none"]


@st.composite
def tampered(draw: st.DrawFn, original: bytes) -> bytes:
    """A real encrypted profile changed the way a careless edit, a bad merge or an attacker would."""
    doc = json.loads(original)
    how = draw(st.sampled_from(TAMPER))
    if how == "secret-ciphertext":
        value = doc["client_secret"]
        at = draw(st.integers(len("ENC[AES256_GCM,data:"), len(value) - 2))
        doc["client_secret"] = value[:at] + draw(st.sampled_from("AZaz09+/=,]")) + value[at + 1 :]
    elif how == "clear-value":
        doc[draw(st.sampled_from(["auth_server", "client_id", "scopes"]))] = draw(junk)
    elif how == "sops-key":
        del doc["sops"][draw(st.sampled_from(sorted(doc["sops"])))]
    elif how == "mac":
        doc["sops"]["mac"] = draw(enc_strings | junk)
    elif how == "age-enc":
        doc["sops"]["age"][0][draw(st.sampled_from(["enc", "recipient"]))] = draw(st.text(max_size=60) | junk)
    elif how == "new-key":
        doc[draw(st.sampled_from([*all_keys(), "client_secret"]))] = draw(junk)
    raw = dumps(doc)
    if how == "bytes":
        at = draw(st.integers(0, len(original) - 1))
        raw = original[:at] + draw(st.binary(min_size=0, max_size=3)) + original[at + 1 :]
    return raw


# ---------------------------------------------------------------- token files

numbers = st.one_of(
    st.builds(lambda d: int(time.time()) + d, st.integers(-100_000, 100_000)),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    junk,
)
token_docs = st.fixed_dictionaries(
    {},
    optional={
        "access_token": secret_text | secret_text | junk,
        "refresh_token": secret_text | junk,
        "id_token": secret_text,
        "key": secret_text | junk,
        "jwt": secret_text,
        "_iat": numbers,
        "_exp": numbers,
        "expires_in": numbers,
        "scope": st.sampled_from(["openid offline_access", ""]) | junk,
        "token_type": st.sampled_from(["Bearer", "DPoP", "mac"]) | junk,
    },
)


@st.composite
def token_bytes(draw: st.DrawFn) -> tuple[Any, bytes]:
    doc = draw(token_docs | junk)
    raw = json.dumps(doc).encode()
    kind = draw(st.sampled_from(["json"] * 5 + ["truncated", "latin1", "binary", "empty"]))
    if kind == "truncated":
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    elif kind == "latin1":
        raw = raw[:1] + b"\xff\xfe" + raw[1:]
    elif kind == "binary":
        raw = draw(st.binary(max_size=64))
    elif kind == "empty":
        raw = b""
    return doc, raw


TOKEN_PROFILES: dict[str, dict[str, Any]] = {
    "oidc_device_code": {"client_type": "oidc_device_code", "auth_server": DEAD_SERVER, "client_id": "dev"},
    "oidc_client_credentials_pubkey": {
        "client_type": "oidc_client_credentials_pubkey",
        "auth_server": DEAD_SERVER,
        "client_id": "m2m",
        "client_privkey_file": "~/key.pem",
    },
    "planet_legacy": {"client_type": "planet_legacy", "legacy_auth_endpoint": DEAD_SERVER + "/login"},
}


# ---------------------------------------------------------------- environment and ~/.planet.json


class FuzzProvider:
    """A well-behaved built-in provider (loaded through `PL_AUTH_BUILTIN_CONFIG_PROVIDER`)."""

    def builtin_client_authclient_config_dicts(self) -> dict[str, dict[str, Any]]:
        return {
            "fz-m2m": minimal_profile("oidc_client_credentials_secret", MARK + "-builtin-secret"),
            "fz-broken": {"client_type": "oidc_auth_code", "scopes": "openid"},
        }

    def builtin_client_profile_aliases(self) -> dict[str, str]:
        return {"fz-default": "fz-m2m", "fz-dangling": "fz-nowhere"}

    def builtin_default_profile_by_client_type(self) -> dict[str, str]:
        return {"oidc_client_credentials_secret": "fz-m2m"}

    def builtin_default_profile(self) -> str:
        return "fz-default"


class EmptyProvider:
    """A provider with none of the methods."""


PROVIDERS = [
    "",
    "tests.fuzz_strategies.FuzzProvider",
    "tests.fuzz_strategies:FuzzProvider",
    "tests.fuzz_strategies.EmptyProvider",
    "tests.fuzz_strategies.NoSuchProvider",
    "planet_profiles_fuzz_missing.Provider",
    "tests",
    "NoDots",
    "a..b",
    ".",
    ":",
    ".x",
    "builtins.int",
    "os.path.join",
    "json.JSONDecodeError",
]
env_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
names = st.sampled_from(
    ["good", "bad", "team", "none", "ghost", "fz-m2m", "fz-default", "fz-broken", "fz-dangling"]
    + ["Good", "../good", "a/b", ".hidden", "-x", "a" * 300, "", " ", "good "]
) | env_text.filter(lambda s: "\x00" not in s)
path_entries = st.lists(
    st.sampled_from(["{home}/team", "{home}/missing", "~", "~nosuchuser-fz/x", "a" * 300, "rel", ""])
    | env_text,
    max_size=3,
).map(os.pathsep.join)
user_config = st.fixed_dictionaries(
    {},
    optional={
        "PL_AUTH_PROFILE": names | junk,
        "PL_AUTH_CLIENT_ID": env_text | junk,
        "PL_AUTH_CLIENT_SECRET": secret_text | junk,
        "PL_API_KEY": secret_text | junk,
    },
)
user_config_bytes = st.one_of(
    user_config.map(dumps),
    user_config.map(dumps),
    st.sampled_from([b"", b"[]", b"null", b"{", b"\xff\xfe{}", b'{"PL_AUTH_PROFILE": "good"}']),
    st.binary(max_size=32),
    st.none(),  # no file
)
environments = st.fixed_dictionaries(
    {},
    optional={
        "PL_AUTH_PROFILE": names,
        "PL_AUTH_PROFILE_PATH": path_entries,
        "PL_API_KEY": secret_text | env_text,
        "PL_AUTH_CLIENT_ID": st.sampled_from(["cc-client"]) | env_text,
        "PL_AUTH_CLIENT_SECRET": secret_text,
        "PL_AUTH_BUILTIN_CONFIG_PROVIDER": st.sampled_from(PROVIDERS),
    },
)


def seed_home(home: Path, api_key: str) -> None:
    """Profiles every environment example can select: good, broken, one in a team checkout."""
    write(home / ".planet" / "good" / "auth_client.json", dumps(minimal_profile("static_apikey", api_key)))
    write(home / ".planet" / "bad" / "auth_client.json", b'{"client_type": "oidc_auth_code",')
    team = minimal_profile("oidc_device_code", "")
    write(home / "team" / "team" / "auth_client.json", dumps(team), 0o644)
    write(home / "team" / "good" / "auth_client.json", dumps({"client_type": "none"}), 0o644)
