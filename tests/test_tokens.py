"""Token object and token files: planet-auth format, 0600/0700, atomic, redacted, typed errors."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from planet_profiles import Token, TokenFileError
from planet_profiles._tokens import FileTokenStore, MemoryTokenStore

RESPONSE = {
    "access_token": "at-SECRET-1",
    "refresh_token": "rt-SECRET-1",
    "expires_in": 300,
    "token_type": "Bearer",
}


def test_from_response_stamps_iat_and_exp() -> None:
    token = Token.from_response(RESPONSE, now=1000)
    assert token.data == {**RESPONSE, "_iat": 1000, "_exp": 1300}
    assert token.expires_at == 1300 and token.issued_at == 1000
    no_exp = Token.from_response({"access_token": "a"}, now=5)
    assert no_exp.expires_at is None and no_exp.data == {"access_token": "a", "_iat": 5}


def test_repr_is_redacted() -> None:
    token = Token.from_response(RESPONSE, now=0)
    for text in (repr(token), str(token)):
        assert "SECRET" not in text
        assert "sha256:" in text


def test_refresh_response_without_refresh_token_keeps_old() -> None:
    old = Token.from_response(RESPONSE, now=0)
    new = Token.from_response({"access_token": "at-2", "expires_in": 60}, now=10).with_refresh_token_of(old)
    assert new.refresh_token == "rt-SECRET-1" and new.access_token == "at-2"
    rotated = Token.from_response(
        {"access_token": "at-3", "refresh_token": "rt-3"}, now=10
    ).with_refresh_token_of(old)
    assert rotated.refresh_token == "rt-3"


def test_file_store_round_trip_and_modes(hermetic_env: Path) -> None:
    path = hermetic_env / ".planet" / "p" / "token.json"
    store = FileTokenStore(path)
    assert store.load() is None
    token = Token.from_response(RESPONSE, now=100)
    store.save(token)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == token.data  # planet-auth compatible: response + _iat/_exp
    assert store.load() == token
    store.delete()
    assert not path.exists()
    store.delete()  # idempotent


def test_group_readable_token_file_refused_with_chmod_hint(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"access_token": "x"}))
    os.chmod(path, 0o644)
    with pytest.raises(TokenFileError) as info:
        FileTokenStore(path).load()
    assert f"chmod 600 {path}" in str(info.value)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("{broken", None),
        ("[]", None),
        (json.dumps({"refresh_token": "r"}), "access_token"),
        (json.dumps({"access_token": "a", "_exp": "soon"}), "_exp"),
        (json.dumps({"access_token": "a", "refresh_token": 5}), "refresh_token"),
    ],
)
def test_corrupt_token_files_are_typed_errors(tmp_path: Path, content: str, key: str | None) -> None:
    path = tmp_path / "token.json"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(TokenFileError) as info:
        FileTokenStore(path).load()
    assert info.value.file == str(path)
    assert info.value.key == key
    assert path.read_text() == content  # never rewritten or deleted behind the user's back


def test_memory_store() -> None:
    token = Token.from_response(RESPONSE, now=0)
    store = MemoryTokenStore(token)
    assert store.path is None and store.load() == token
    store.delete()
    assert store.load() is None
