"""Tokens are encrypted to their owner's key only (TOK-11), never to the recipients a profile file lists.

The recipient of an age identity is derived in pure Python (`_agekey.identity_recipient`: RFC 7748 X25519 +
BIP 173 bech32); pyrage is the oracle. Token files are written and read by the real sops with real age keys
and, for PGP users, a real GnuPG key.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyrage import x25519  # type: ignore[import-untyped]

import planet_profiles
from planet_profiles import SopsNoKeyError, StorageError, Token
from planet_profiles._agekey import (
    _bech32_encode,
    identities_in,
    identity_recipient,
    is_age_recipient,
    own_age_recipients,
    x25519_base,
)
from planet_profiles._sops import Sops
from planet_profiles._token_keys import TOKEN_RECIPIENTS_ENV, own_recipients
from planet_profiles._tokens import SopsTokenStore, token_store
from tests.fixtures_devserver import DevServer
from tests.fixtures_git import commit, git
from tests.fixtures_keys import AgeKey, make_encrypted_profile, new_age_key, write_sops_yaml

TOKEN = {"access_token": "at-VICTIM-1f2e", "refresh_token": "rt-VICTIM-3d4c", "expires_in": 300}


# ---------------------------------------------------------------- X25519 and bech32 against RFC 7748 / pyrage


def test_x25519_public_keys_of_rfc7748_section_6_1() -> None:
    alice = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    assert x25519_base(alice).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert x25519_base(bob).hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"


def test_recipients_of_generated_identities_match_pyrage() -> None:
    for _ in range(50):
        identity = x25519.Identity.generate()
        assert identity_recipient(str(identity)) == str(identity.to_public())
        assert identity_recipient(str(identity).lower()) == str(identity.to_public())  # bech32: one case


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_any_scalar_encodes_as_pyrage_reads_it(scalar: bytes) -> None:
    encoded = _bech32_encode("age-secret-key-", scalar).upper()
    oracle = x25519.Identity.from_str(encoded)  # pyrage accepts our bech32
    assert identity_recipient(encoded) == str(oracle.to_public())
    assert is_age_recipient(str(oracle.to_public()))


GOOD = "age1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5z5tpwxqergd3c8g7rusqmwn7f2"  # bech32 of bytes 1..32


@pytest.mark.parametrize(
    "text",
    [
        "age1qqqq",  # too short
        GOOD.upper(),  # age recipients are lower case
        "Age" + GOOD[3:],  # mixed case (BIP 173)
        GOOD[:-1] + ("q" if GOOD[-1] != "q" else "p"),  # checksum
        "agx" + GOOD[3:],  # human-readable part
        GOOD[:-6] + "bogus!",  # charset
        _bech32_encode("age", bytes(31)),  # 31 bytes
    ],
)
def test_malformed_recipients_are_refused(text: str) -> None:
    assert _bech32_encode("age", bytes(range(1, 33))) == GOOD and is_age_recipient(GOOD)
    assert str(x25519.Recipient.from_str(GOOD)) == GOOD  # pyrage agrees it is well-formed
    assert not is_age_recipient(text)


def test_key_file_lines_are_checked_without_showing_them(age_key: AgeKey) -> None:
    text = f"# comment\n\nAGE-PLUGIN-YUBIKEY-1QQQQQQ\n{age_key.secret}\n"
    assert identities_in(text, file="k.txt") == [age_key.secret]
    broken = age_key.secret[:-1] + ("Q" if age_key.secret[-1] != "Q" else "P")
    with pytest.raises(StorageError) as caught:
        identities_in(f"{age_key.secret}\n{broken}\n", file="k.txt")
    assert "line 2" in str(caught.value) and broken not in str(caught.value) + repr(caught.value)


# ---------------------------------------------------------------- whose key: the order of sources


def test_own_age_recipients_follow_the_sources_sops_reads(
    age_key: AgeKey, age_key2: AgeKey, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert own_age_recipients() == ([], "")
    default = hermetic_env / ".config" / "sops" / "age" / "keys.txt"  # XDG_CONFIG_HOME of the hermetic env
    default.parent.mkdir(parents=True)
    default.write_text(Path(age_key.identity_file).read_text())
    assert own_age_recipients() == ([age_key.recipient], str(default))
    monkeypatch.setenv("SOPS_AGE_KEY", age_key2.secret)
    assert own_age_recipients() == ([age_key2.recipient], "SOPS_AGE_KEY")  # default file only as "else"
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    assert own_age_recipients() == (
        [age_key2.recipient, age_key.recipient],
        f"SOPS_AGE_KEY and {age_key.identity_file}",
    )
    monkeypatch.delenv("SOPS_AGE_KEY")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(hermetic_env / "missing.txt"))
    with pytest.raises(StorageError, match="cannot read the age key file"):
        own_age_recipients()


def test_configured_recipients_win_and_are_checked(
    age_key: AgeKey, use_age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = new_age_key(Path(age_key.identity_file).parent, "other.txt").recipient
    fingerprint = "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setenv(TOKEN_RECIPIENTS_ENV, f" {other}, {fingerprint}\n")
    assert own_recipients() == ([other], [fingerprint.upper()], TOKEN_RECIPIENTS_ENV)
    monkeypatch.setenv(TOKEN_RECIPIENTS_ENV, f"{other},age1nope")
    with pytest.raises(StorageError) as caught:
        own_recipients(file="/t/token.sops.json")
    assert caught.value.key == TOKEN_RECIPIENTS_ENV and "'age1nope'" in str(caught.value)
    monkeypatch.delenv(TOKEN_RECIPIENTS_ENV)
    assert own_recipients().age == [use_age_key.recipient]


@pytest.mark.integration
def test_pgp_users_encrypt_to_the_profiles_fingerprints_they_hold_a_secret_key_for(
    gpg_key: str, tmp_path: Path
) -> None:
    stranger = "0123456789ABCDEF0123456789ABCDEF01234567"
    mine = own_recipients([stranger, gpg_key.lower()])
    assert mine == ([], [gpg_key.upper()], "GnuPG secret keys")
    with pytest.raises(StorageError, match="no key of your own"):
        own_recipients([stranger])

    profile = tmp_path / "p" / "auth_client.sops.json"
    profile.parent.mkdir()
    Sops().encrypt({"client_type": "none"}, profile, pgp_fingerprints=[gpg_key])
    store = SopsTokenStore(tmp_path / "home" / "p" / "token.sops.json", profile_file=profile)
    store.save(Token(TOKEN))
    assert store.load() == Token(TOKEN)
    meta = json.loads((tmp_path / "home" / "p" / "token.sops.json").read_text())["sops"]
    assert [e["fp"] for e in meta["pgp"]] == [gpg_key] and not meta.get("age")


# ---------------------------------------------------------------- token files: owner only, migration


def _token_recipients(path: Path) -> list[str]:
    return [entry["recipient"] for entry in json.loads(path.read_text())["sops"].get("age") or []]


@pytest.mark.integration
def test_a_token_is_encrypted_to_its_owner_not_to_the_profile_recipients(
    tmp_path: Path, use_age_key: AgeKey, age_key2: AgeKey
) -> None:
    profile = make_encrypted_profile(
        tmp_path / "team" / "p", {"client_type": "none"}, [use_age_key.recipient, age_key2.recipient]
    )
    store = token_store("p", save_token_file=True, profile_file=profile)
    assert isinstance(store, SopsTokenStore) and store.path is not None
    store.save(Token(TOKEN))

    assert _token_recipients(store.path) == [use_age_key.recipient]
    assert store.load() == Token(TOKEN)
    with pytest.raises(SopsNoKeyError):  # a teammate, recipient of the profile, cannot read it
        Sops(env={"SOPS_AGE_KEY_FILE": age_key2.identity_file}).decrypt(store.path)


@pytest.mark.integration
def test_old_token_files_migrate_on_the_next_write(
    tmp_path: Path, use_age_key: AgeKey, age_key2: AgeKey, caplog: pytest.LogCaptureFixture
) -> None:
    profile = make_encrypted_profile(
        tmp_path / "team" / "p", {"client_type": "none"}, [use_age_key.recipient]
    )
    path = tmp_path / "home" / ".planet" / "p" / "token.sops.json"
    path.parent.mkdir(parents=True, mode=0o700)
    # as earlier versions wrote it: to every recipient of the profile
    Sops().encrypt(TOKEN, path, age_recipients=[use_age_key.recipient, age_key2.recipient])
    store = SopsTokenStore(path, profile_file=profile)
    assert store.load() == Token(TOKEN)
    store.save(Token({**TOKEN, "access_token": "at-NEXT"}))
    assert _token_recipients(path) == [use_age_key.recipient]
    with pytest.raises(SopsNoKeyError):
        Sops(env={"SOPS_AGE_KEY_FILE": age_key2.identity_file}).decrypt(path)

    # a token file this key cannot decrypt: no token (a cache miss) with the reason, replaced on the next
    # write (what the TokenManager makes of it: tests/test_key_rotation.py)
    Sops().encrypt(TOKEN, path, age_recipients=[age_key2.recipient])
    with caplog.at_level(logging.DEBUG, logger="planet_profiles.tokens"):
        assert store.load() is None
    assert store.unreadable == "cannot decrypt the data key: your key is not one of its recipients"
    assert str(path) in caplog.text and "VICTIM" not in caplog.text
    store.save(Token(TOKEN))
    assert store.load() == Token(TOKEN) and _token_recipients(path) == [use_age_key.recipient]
    assert store.unreadable is None


@pytest.mark.integration
def test_the_loader_warns_only_about_the_sops_yaml_of_the_checkout_it_found_the_profile_in(
    tmp_path: Path,
    use_age_key: AgeKey,
    age_key2: AgeKey,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outside = tmp_path / "outside"
    checkout = outside / "team"
    profile = {"client_type": "static_apikey", "api_key": "k-1f2e"}
    make_encrypted_profile(checkout / "profiles" / "p", profile, [use_age_key.recipient])
    write_sops_yaml(outside, [age_key2.recipient], path_regex="")  # above the search-path root, no checkout
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(checkout / "profiles"))
    with caplog.at_level(logging.WARNING, logger="planet_profiles.loader"):
        planet_profiles.open_profile("p")
    assert caplog.text == ""

    (checkout / ".git").mkdir()  # now the team repo is a checkout: its top bounds the search, not the root
    with caplog.at_level(logging.WARNING, logger="planet_profiles.loader"):
        planet_profiles.open_profile("p")
    assert caplog.text == ""
    write_sops_yaml(checkout, [use_age_key.recipient, age_key2.recipient], path_regex=r"^profiles/")
    with caplog.at_level(logging.WARNING, logger="planet_profiles.loader"):
        ctx = planet_profiles.open_profile("p")  # a warning, never an error
    assert ctx.profile_name() == "p"
    assert f"recipient age:{age_key2.recipient} named by the creation rule in" in caplog.text
    assert "planet-profiles rekey" in caplog.text and "k-1f2e" not in caplog.text


# ---------------------------------------------------------------- the attack of issue 12, end to end


@pytest.mark.integration
def test_an_appended_recipient_is_refused_and_never_gets_the_victims_tokens(
    tmp_path: Path,
    hermetic_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    devserver: DevServer,
    hooked_repo: Callable[[Path], dict[str, str]],
) -> None:
    keys = tmp_path / "keys"
    victim, teammate, attacker = (
        new_age_key(keys, f"{who}.txt") for who in ("victim", "teammate", "attacker")
    )
    team = tmp_path / "team"
    write_sops_yaml(team, [victim.recipient, teammate.recipient], path_regex=r"^profiles/")
    profile = devserver.profile(
        "oidc_resource_owner_secret", "ro-secret", scopes=["openid", "offline_access"]
    )
    path = make_encrypted_profile(team / "profiles" / "ro", profile, [victim.recipient, teammate.recipient])
    env = hooked_repo(team)
    first = commit(team, "team profile", env)
    assert first.returncode == 0, first.stdout + first.stderr

    # the attacker has push access but no key: they append their recipient to the unauthenticated block
    doc = json.loads(path.read_text())
    doc["sops"]["age"].append({"recipient": attacker.recipient, "enc": doc["sops"]["age"][0]["enc"]})
    path.write_text(json.dumps(doc, indent=4))
    assert Sops(env={"SOPS_AGE_KEY_FILE": victim.identity_file}).decrypt(path) == profile  # still decrypts
    blocked = commit(team, "innocent change", env)
    assert blocked.returncode != 0
    assert (
        f"profiles/ro/auth_client.sops.json: /sops: recipient age:{attacker.recipient} is not named by the "
        "creation rule in .sops.yaml: run `planet-profiles rekey profiles/ro/auth_client.sops.json`"
    ) in blocked.stdout + blocked.stderr
    assert git(team, "rev-list", "--count", "HEAD") == "1"

    # had it landed anyway: the victim's loader warns, and the victim's tokens go to the victim only
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", victim.identity_file)
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(team / "profiles"))
    with caplog.at_level(logging.WARNING, logger="planet_profiles.loader"):
        ctx = planet_profiles.open_profile("ro")
    assert f"recipient age:{attacker.recipient} is not named by the creation rule" in caplog.text
    ctx.login(username=devserver.username, password=devserver.password)
    token_file = hermetic_env / ".planet" / "ro" / "token.sops.json"
    assert ctx.token_file_path() == token_file
    refresh = Sops().decrypt(token_file)["refresh_token"]
    assert refresh and refresh == ctx.token_manager.cached().refresh_token  # type: ignore[union-attr]
    for other in (attacker, teammate):
        with pytest.raises(SopsNoKeyError):
            Sops(env={"SOPS_AGE_KEY_FILE": other.identity_file}).decrypt(token_file)
    done = subprocess.run(  # and with the sops CLI itself, as the attacker would run it
        [Sops().binary, "decrypt", str(token_file)],
        env={**os.environ, "SOPS_AGE_KEY_FILE": attacker.identity_file},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 128 and refresh not in done.stdout
