"""Fixtures for real keys: age identities (pyrage, in process), a GnuPG key, `.sops.yaml` files.

Loaded as a pytest plugin from `tests/conftest.py`. Everything lives under `tmp_path` (or a short
`/tmp/g…` directory for GnuPG, whose agent socket path has a length limit) and is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from planet_profiles._names import ENCRYPTED_REGEX
from planet_profiles._sops import Sops

PROFILE_FILE = "auth_client.sops.json"


@dataclass(frozen=True)
class AgeKey:
    """An age X25519 identity: its key file (0600), public recipient and secret string."""

    identity_file: str
    recipient: str
    secret: str

    def __repr__(self) -> str:
        return f"AgeKey(recipient={self.recipient!r}, identity_file={self.identity_file!r})"


def new_age_key(directory: Path, name: str = "age-key.txt") -> AgeKey:
    """Generate an age identity and write it to `directory/name` with mode 0600."""
    from pyrage import x25519  # type: ignore[import-untyped]

    identity = x25519.Identity.generate()
    secret, recipient = str(identity), str(identity.to_public())
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(f"# public key: {recipient}\n{secret}\n")
    return AgeKey(identity_file=str(path), recipient=recipient, secret=secret)


@pytest.fixture
def age_key(tmp_path: Path) -> AgeKey:
    """A fresh age identity in `tmp_path/keys/age-key.txt`."""
    return new_age_key(tmp_path / "keys")


@pytest.fixture
def age_key2(tmp_path: Path) -> AgeKey:
    """A second, unrelated age identity (for "wrong key" and multi-recipient tests)."""
    return new_age_key(tmp_path / "keys", "age-key2.txt")


@pytest.fixture
def use_age_key(age_key: AgeKey, monkeypatch: pytest.MonkeyPatch) -> AgeKey:
    """`age_key`, made the decryption key of sops through `SOPS_AGE_KEY_FILE`."""
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    return age_key


@pytest.fixture
def gpg_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A passphrase-less GnuPG key in a private, short `GNUPGHOME`; yields its fingerprint."""
    gpg = shutil.which("gpg")
    if gpg is None:
        pytest.skip("gpg is not installed")
    home = tempfile.mkdtemp(prefix="g", dir="/tmp")  # agent socket paths must stay short
    os.chmod(home, 0o700)
    monkeypatch.setenv("GNUPGHOME", home)
    env = {**os.environ, "GNUPGHOME": home}
    try:
        subprocess.run(
            [
                gpg,
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "Test <test@example.invalid>",
                "default",
                "default",
                "never",
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        listing = subprocess.run(
            [gpg, "--batch", "--with-colons", "--list-secret-keys"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        yield next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def write_sops_yaml(
    directory: Path,
    recipients: Sequence[str],
    *,
    path_regex: str = r"auth_client\.sops\.json$",
    encrypted_regex: str = ENCRYPTED_REGEX,
) -> Path:
    """Write `directory/.sops.yaml` with one creation rule for `recipients` (age); return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".sops.yaml"
    path.write_text(
        "creation_rules:\n"
        f"  - path_regex: '{path_regex}'\n"
        f"    encrypted_regex: '{encrypted_regex}'\n"
        f"    age: '{','.join(recipients)}'\n"
    )
    return path


@pytest.fixture
def sops_yaml(age_key: AgeKey) -> Callable[..., Path]:
    """Factory: `sops_yaml(directory, recipients=None, **rule)` writes a `.sops.yaml` (default: `age_key`)."""

    def make(directory: Path, recipients: Sequence[str] | None = None, **rule: str) -> Path:
        return write_sops_yaml(directory, recipients or [age_key.recipient], **rule)

    return make


def make_encrypted_profile(
    directory: Path, data: Mapping[str, Any], recipients: Sequence[str], *, sops: Sops | None = None
) -> Path:
    """Encrypt `data` for the age `recipients` into `directory/auth_client.sops.json`; return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PROFILE_FILE
    (sops or Sops()).encrypt(data, path, age_recipients=recipients)
    return path
