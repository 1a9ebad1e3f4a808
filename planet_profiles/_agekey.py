"""Stage "store": age keys for sops (`planet-profiles keygen`), in the file format of `age-keygen`.

An age X25519 identity (`AGE-SECRET-KEY-1…`) is generated with `pyrage` (the `age` extra) and written to
the file sops reads by default, `$XDG_CONFIG_HOME/sops/age/keys.txt` (`~/.config/sops/age/keys.txt`; on
macOS `~/Library/Application Support/sops/age/keys.txt`), or to `SOPS_AGE_KEY_FILE` when it is set. The
file is created with mode 0600 in a 0700 directory and never overwritten. Its recipient (`age1…`, the
public key) is what a team adds to `.sops.yaml`.

`identity_recipient` derives the recipient of an identity without pyrage: RFC 7748 X25519 of the base point
and BIP 173 bech32, a few dozen lines of pure Python checked against pyrage by the tests. Every user of an
encrypted profile needs it (their tokens are encrypted to their own key, `planet_profiles._token_keys`), and
they have sops but not necessarily the `age` extra. Python integers are not constant-time; the derivation
runs in the key owner's own process, on a key that process reads from a file or variable anyway.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Any

from ._errors import StorageError

__all__ = [
    "default_key_file",
    "generate_key_file",
    "identities_in",
    "identity_recipient",
    "is_age_recipient",
    "own_age_recipients",
    "recipients_of",
]

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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise StorageError(f"cannot read the age key file: {why}", file=str(path)) from None
    found = [identity_recipient(identity) for identity in identities_in(text, file=str(path))]
    if not found:
        raise StorageError("the file holds no age identity", file=str(path))
    return found


def own_age_recipients() -> tuple[list[str], str]:
    """The recipients of the age identities sops would decrypt with, and where they came from.

    `SOPS_AGE_KEY` and/or `SOPS_AGE_KEY_FILE`; when neither is set, sops' default key file if it exists
    (`default_key_file`). `([], "")` when there is none. Plugin identities (`AGE-PLUGIN-…`) are skipped.
    """
    found: list[str] = []
    sources = []
    inline = os.environ.get("SOPS_AGE_KEY", "")
    if inline.strip():
        found += [identity_recipient(i) for i in identities_in(inline, file="SOPS_AGE_KEY")]
        sources.append("SOPS_AGE_KEY")
    path = default_key_file()
    if os.environ.get("SOPS_AGE_KEY_FILE") or (not sources and path.is_file()):
        found += recipients_of(path)
        sources.append(str(path))
    return list(dict.fromkeys(found)), " and ".join(sources)


def identities_in(text: str, *, file: str) -> list[str]:
    """The X25519 identities of an age key file's text; `StorageError` (line number, never the line) for a
    line that is neither a comment, blank, a plugin identity nor an identity."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or line.upper().startswith("AGE-PLUGIN-"):
            continue
        if _bech32_decode(line, _IDENTITY_HRP) is None:
            raise StorageError(f"line {number} is not an age identity (AGE-SECRET-KEY-1…)", file=file)
        found.append(line)
    return found


# ---------------------------------------------------------------- X25519 (RFC 7748) and bech32 (BIP 173)

_IDENTITY_HRP = "age-secret-key-"
_RECIPIENT_HRP = "age"
_P = 2**255 - 19
_A24 = 121665


def identity_recipient(identity: str) -> str:
    """The recipient (`age1…`) of an age X25519 identity (`AGE-SECRET-KEY-1…`): the bech32 of
    X25519(scalar, 9), RFC 7748 §5 and §6.1."""
    scalar = _bech32_decode(identity.strip(), _IDENTITY_HRP)
    if scalar is None:
        raise StorageError("not an age identity (AGE-SECRET-KEY-1…)")
    return _bech32_encode(_RECIPIENT_HRP, x25519_base(scalar))


def is_age_recipient(text: str) -> bool:
    """Whether `text` is a well-formed age X25519 recipient (`age1…`, 32 bytes, valid checksum)."""
    return text == text.lower() and _bech32_decode(text, _RECIPIENT_HRP) is not None


def x25519_base(scalar: bytes) -> bytes:
    """X25519(`scalar`, 9): the public key of a 32-byte private key (RFC 7748 §5, Montgomery ladder)."""
    clamped = bytearray(scalar)
    clamped[0] &= 248
    clamped[31] = (clamped[31] & 127) | 64
    k = int.from_bytes(clamped, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        if swap ^ bit:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b, c, d = x2 + z2, x2 - z2, x3 + z3, x3 - z3
        aa, bb, da, cb = a * a % _P, b * b % _P, d * a % _P, c * b % _P
        e = (aa - bb) % _P
        x3, z3 = (da + cb) ** 2 % _P, x1 * (da - cb) ** 2 % _P
        x2, z2 = aa * bb % _P, e * (aa + _A24 * e) % _P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")


_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            check ^= generator if (top >> i) & 1 else 0
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: list[int], source: int, target: int, *, pad: bool) -> list[int] | None:
    acc = bits = 0
    out = []
    for value in data:
        acc = (acc << source) | value
        bits += source
        while bits >= target:
            bits -= target
            out.append((acc >> bits) & ((1 << target) - 1))
    if pad and bits:
        out.append((acc << (target - bits)) & ((1 << target) - 1))
    elif not pad and (bits >= source or (acc << (target - bits)) & ((1 << target) - 1)):
        return None
    return out


def _bech32_encode(hrp: str, payload: bytes) -> str:
    data = _convert_bits(list(payload), 8, 5, pad=True)
    assert data is not None
    check = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ 1
    data += [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data)


def _bech32_decode(text: str, hrp: str) -> bytes | None:
    """The 32-byte payload of a bech32 string with human-readable part `hrp`, else None. age's bech32 has no
    90-character limit (BIP 173 has); mixed case is refused (BIP 173)."""
    if text not in (text.lower(), text.upper()) or not text.isascii():
        return None
    text = text.lower()
    prefix, sep, rest = text.rpartition("1")
    if not sep or prefix != hrp or len(rest) < 6 or any(c not in _CHARSET for c in rest):
        return None
    data = [_CHARSET.index(c) for c in rest]
    if _polymod(_hrp_expand(prefix) + data) != 1:
        return None
    payload = _convert_bits(data[:-6], 5, 8, pad=False)
    return bytes(payload) if payload is not None and len(payload) == 32 else None
