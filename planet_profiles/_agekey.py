"""Stage "store": age keys for sops (`planet-profiles keygen`), in the file format of `age-keygen`.

An age X25519 identity (`AGE-SECRET-KEY-1…`) is generated with `pyrage` (the `age` extra) and written to
the file sops reads by default, `$XDG_CONFIG_HOME/sops/age/keys.txt` (`~/.config/sops/age/keys.txt`; on
macOS `~/Library/Application Support/sops/age/keys.txt`), or to `SOPS_AGE_KEY_FILE` when it is set. The
file is created with mode 0600 in a 0700 directory and never overwritten. Its recipient (`age1…`, the
public key) is what a team adds to `.sops.yaml`.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Any

from ._errors import StorageError

__all__ = ["default_key_file", "generate_key_file", "recipients_of"]

_EXTRA_HINT = "pip install 'planet-profiles[age]' (or make a key with `age-keygen -o FILE`)"


def default_key_file() -> Path:
    """The age key file sops uses when `SOPS_AGE_KEY_FILE` / `SOPS_AGE_KEY` are not set."""
    explicit = os.environ.get("SOPS_AGE_KEY_FILE")
    if explicit:
        return Path(explicit).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME")
    if config:
        base = Path(config)
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path.home() / ".config"
    return base / "sops" / "age" / "keys.txt"


def _x25519() -> Any:
    try:
        from pyrage import x25519  # type: ignore[import-untyped]
    except ImportError:
        raise StorageError("making an age key needs pyrage", hint=_EXTRA_HINT) from None
    return x25519


def generate_key_file(path: Path) -> str:
    """Write a new age identity to `path` (which must not exist); returns its recipient (`age1…`)."""
    identity = _x25519().Identity.generate()
    recipient = str(identity.to_public())
    created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    text = f"# created: {created}\n# public key: {recipient}\n{identity}\n"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise StorageError(
            "an age key file already exists here; it was left as it is",
            file=str(path),
            hint="Show its recipient with `planet-profiles keygen -y`, or choose another file with -o",
        ) from None
    except OSError as exc:
        raise StorageError(f"cannot create the key file: {exc.strerror}", file=str(path)) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return recipient


def recipients_of(path: Path) -> list[str]:
    """The recipients (`age1…`) of every identity in an age key file (as `age-keygen -y` prints them)."""
    x25519 = _x25519()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StorageError(f"cannot read the age key file: {exc.strerror}", file=str(path)) from None
    found = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append(str(x25519.Identity.from_str(line).to_public()))
        except Exception:  # noqa: BLE001 - pyrage raises its own error type; the line is never shown
            raise StorageError(
                f"line {number} is not an age identity (AGE-SECRET-KEY-1…)", file=str(path)
            ) from None
    if not found:
        raise StorageError("the file holds no age identity", file=str(path))
    return found
