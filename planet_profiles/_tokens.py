"""Stage "store tokens": the token object and where it is kept.

The file format stays planet-auth compatible: the raw token response of the server (RFC 6749 §5.1) plus
`_iat` and `_exp`, epoch seconds computed on receipt. Files are written atomically with mode 0600 in a
0700 directory (SECURITY TOK-07); a token file readable by group or others is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from . import _locations
from ._documents import parse_json, read_limited
from ._errors import SopsNoKeyError, TokenFileError
from ._names import CACHE_URL_ENV, env_flag, is_encrypted_name, public

if TYPE_CHECKING:
    from ._sops import Sops

__all__ = [
    "FileTokenStore",
    "MemoryTokenStore",
    "SopsTokenStore",
    "Token",
    "TokenStore",
    "fingerprint",
    "read_token_data",
    "recipients_of",
    "token_store",
    "unwritable_reason",
]

log = logging.getLogger("planet_profiles.tokens")

TOKEN_ENCRYPTED_REGEX = "^(access_token|refresh_token|id_token|key|jwt)$"  # noqa: S105 - key names, not a secret


def fingerprint(secret: str) -> str:
    """A short, non-reversible tag for a secret, safe to show in `repr` and logs."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def _finite_number(value: object) -> bool:
    """A JSON number usable as seconds: not a bool, not NaN or ±Infinity, within the range of a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


@public
class Token:
    """An immutable token response: `access_token`, optional `refresh_token`, `expires_at` (epoch s).

    `repr` shows only fingerprints. `data` is the planet-auth compatible dict (response + `_iat`/`_exp`).
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, object], *, file: str | None = None) -> None:
        if "access_token" not in data and isinstance(data.get("key"), str):
            data = {**data, "access_token": data["key"]}  # planet-auth's legacy API key file: {"key", "jwt"}
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise TokenFileError(
                "token data has no `access_token` string",
                file=file,
                key="access_token",
                hint="Delete the token file and log in again",
            )
        for key in ("_iat", "_exp", "expires_in"):
            value = data.get(key)
            if value is not None and not _finite_number(value):
                raise TokenFileError(
                    f"`{key}` must be a finite number of seconds",
                    file=file,
                    key=key,
                    hint="Delete the token file and log in again",
                )
        refresh = data.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str):
            raise TokenFileError(
                "`refresh_token` must be a string",
                file=file,
                key="refresh_token",
                hint="Delete the token file and log in again",
            )
        self._data = dict(data)

    @classmethod
    def from_response(cls, response: Mapping[str, object], *, now: float | None = None) -> Token:
        """Stamp a token-endpoint response with `_iat`/`_exp` (no `_exp` when it has no `expires_in`)."""
        issued = int(now if now is not None else time.time())
        data = dict(response)
        data["_iat"] = issued
        expires_in = response.get("expires_in")
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            data["_exp"] = issued + int(expires_in)
        return cls(data)

    @property
    def data(self) -> dict[str, Any]:
        return dict(self._data)

    @property
    def access_token(self) -> str:
        return str(self._data["access_token"])

    @property
    def refresh_token(self) -> str | None:
        value = self._data.get("refresh_token")
        return value if isinstance(value, str) else None

    @property
    def id_token(self) -> str | None:
        value = self._data.get("id_token")
        return value if isinstance(value, str) else None

    @property
    def scope(self) -> str | None:
        value = self._data.get("scope")
        return value if isinstance(value, str) else None

    @property
    def issued_at(self) -> float | None:
        value = self._data.get("_iat")
        return float(value) if isinstance(value, (int, float)) else None  # (a finite number, or absent)

    @property
    def expires_at(self) -> float | None:
        value = self._data.get("_exp")
        return float(value) if isinstance(value, (int, float)) else None  # (a finite number, or absent)

    def with_refresh_token_of(self, previous: Token | None) -> Token:
        """RFC 6749 §6: a refresh response may omit `refresh_token`; then the previous one stays valid. A
        response without `scope` granted the scope asked for (§5.1): the refresh asked for the same."""
        if previous is None:
            return self
        kept = {
            key: value
            for key, value in (("refresh_token", previous.refresh_token), ("scope", previous.scope))
            if value is not None and not isinstance(self._data.get(key), str)
        }
        return Token({**self._data, **kept}) if kept else self

    def __repr__(self) -> str:
        parts = [f"access_token={fingerprint(self.access_token)}"]
        if self.refresh_token:
            parts.append(f"refresh_token={fingerprint(self.refresh_token)}")
        if self.expires_at is not None:
            parts.append(f"expires_at={int(self.expires_at)}")
        return f"Token({', '.join(parts)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._data == self._data

    __hash__ = None  # type: ignore[assignment]


class TokenStore(Protocol):
    """Where a profile's token is kept. `path` is None for memory-only stores.

    `unreadable` says why the last `load` found a token it cannot decrypt with the current key (a cache
    miss, e.g. after a rotation of keys), else None; the `TokenManager` then gets a new token (client
    credentials) or asks for a login, and the next `save` writes for the current key."""

    @property
    def path(self) -> Path | None: ...

    @property
    def unreadable(self) -> str | None: ...

    def load(self) -> Token | None: ...

    def save(self, token: Token) -> None: ...

    def delete(self) -> None: ...


class MemoryTokenStore:
    """Keeps the token in memory only (`save_token_file=False`, or no writable HOME)."""

    unreadable: str | None = None

    def __init__(self, initial: Token | None = None) -> None:
        self._token = initial

    @property
    def path(self) -> Path | None:
        return None

    def load(self) -> Token | None:
        return self._token

    def save(self, token: Token) -> None:
        self._token = token

    def delete(self) -> None:
        self._token = None

    def __repr__(self) -> str:
        return "MemoryTokenStore()"


MAX_TOKEN_BYTES = 64 << 10
"""A token file larger than this (64 KiB) is refused; real ones hold a few kB of JWTs."""


def _read_private(path: Path) -> bytes | None:
    """The bytes of a token file, None when absent; refused when group/world accessible (TOK-07) or larger
    than `MAX_TOKEN_BYTES`."""
    file = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TokenFileError(f"cannot read: {exc.strerror}", file=file) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # a directory opens too, and then fails to read with IsADirectoryError
        os.close(fd)
        raise TokenFileError("is not a regular file", file=file, hint=f"Delete {file} and log in again")
    with os.fdopen(fd, "rb") as handle:
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise TokenFileError(
                f"token file is readable by others (mode {stat.S_IMODE(mode):04o})",
                file=file,
                hint=f"Run `chmod 600 {file}`",
            )
        raw = read_limited(handle.fileno(), MAX_TOKEN_BYTES)
    if raw is None:
        raise TokenFileError(
            f"token file is larger than {MAX_TOKEN_BYTES // 1024} KiB",
            file=file,
            hint="Delete the token file and log in again",
        )
    return raw


def read_token_data(path: Path) -> dict[str, object] | None:
    """The JSON object of a plaintext token file as stored, None when absent; `TokenFileError` when it is not
    private (TOK-07), too large, nested too deep, not JSON or not an object."""
    file = str(path)
    raw = _read_private(path)
    if raw is None:
        return None
    data, problems = parse_json(raw, file=file)
    if problems or not isinstance(data, dict):
        why = problems[0].message if problems else "must hold a JSON object"
        raise TokenFileError(why, file=file, hint="Delete the token file and log in again")
    return data


class FileTokenStore:
    """A plaintext planet-auth compatible `token.json` (0600 in a 0700 directory, atomic writes)."""

    unreadable: str | None = None

    def __init__(self, path: Path) -> None:
        self._path = Path(path)

    @property
    def path(self) -> Path | None:
        return self._path

    def load(self) -> Token | None:
        data = read_token_data(self._path)
        return None if data is None else Token(data, file=str(self._path))

    def save(self, token: Token) -> None:
        from ._atomic import atomic_write, ensure_private_dir  # writes only: a load does not import it

        ensure_private_dir(self._path.parent, tighten=True)
        atomic_write(
            self._path, json.dumps(token.data, indent=2, sort_keys=True).encode() + b"\n", mode=0o600
        )

    def delete(self) -> None:
        try:
            self._path.unlink()
        except FileNotFoundError:
            pass
        from ._atomic import remove_temp_files

        remove_temp_files(self._path)  # copies left by killed writes

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._path)!r})"


def recipients_of(path: Path) -> tuple[list[str], list[str]]:
    """The age recipients and PGP fingerprints an encrypted profile was encrypted for (its `sops` block)."""
    try:
        meta = json.loads(path.read_bytes()).get("sops", {})
    except (OSError, ValueError, AttributeError):
        meta = {}
    age = [str(e["recipient"]) for e in meta.get("age") or [] if isinstance(e, dict) and e.get("recipient")]
    pgp = [str(e["fp"]) for e in meta.get("pgp") or [] if isinstance(e, dict) and e.get("fp")]
    return age, pgp


class SopsTokenStore(FileTokenStore):
    """`token.sops.json`: the token file of an encrypted profile, encrypted at rest (SECURITY TOK-10) to the
    key of its owner only (TOK-11, `planet_profiles._token_keys.own_recipients`), never to recipients read
    from the profile file. Tokens are decrypted in memory and encrypted from memory (TOK-08).

    A token file the current key cannot decrypt (written for a key since rotated away, or for the
    profile's recipients by an earlier version) is a cache miss, never an outage: `load` returns None and
    sets `unreadable` to the reason (the `TokenManager` logs it and gets a new token, or asks for a login);
    the next `save` replaces the file, encrypted to the current key.
    """

    def __init__(self, path: Path, *, profile_file: Path, sops: Sops | None = None) -> None:
        super().__init__(path)
        self._profile_file = Path(profile_file)
        self._sops = sops

    def _tool(self) -> Sops:
        from ._sops import default_sops

        return self._sops or default_sops()

    def load(self) -> Token | None:
        self.unreadable = None
        if _read_private(self._path) is None:
            return None
        try:
            data = self._tool().decrypt(self._path)
        except SopsNoKeyError as exc:  # the message names the file and the reason, never a value
            self.unreadable = exc.message
            log.debug("token file unreadable with the current key, a cache miss: %s", exc)
            return None
        return Token(data, file=str(self._path))

    def save(self, token: Token) -> None:
        from ._token_keys import own_recipients

        own = own_recipients(recipients_of(self._profile_file)[1], file=str(self._path))
        log.debug(
            "encrypting %s to %d age / %d PGP recipient(s) of %s",
            self._path,
            len(own.age),
            len(own.pgp),
            own.source,
        )
        from ._atomic import ensure_private_dir

        ensure_private_dir(self._path.parent, tighten=True)
        self._tool().encrypt(
            token.data,
            self._path,
            age_recipients=own.age,
            pgp_fingerprints=own.pgp,
            encrypted_regex=TOKEN_ENCRYPTED_REGEX,
        )


PLAINTEXT_TOKENS_ENV = "PL_AUTH_PLAINTEXT_TOKENS"
_told_memory_only: list[str] = []  # the one log line per process about an unwritable HOME


def unwritable_reason(directory: Path) -> str | None:
    """Why tokens cannot be saved in `directory` (created when missing), or None: its nearest existing
    ancestor is not a directory, or this process may not write it (`os.access`, which also answers no on a
    read-only file system). Nothing is created here."""
    probe = Path(os.path.abspath(directory))
    while not os.path.lexists(probe) and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def token_store(
    name: str,
    *,
    save_token_file: bool,
    initial: Token | None = None,
    profile_file: Path | None = None,
    sops: Sops | None = None,
) -> TokenStore:
    """Memory-only, `token.sops.json` for encrypted profiles (unless `PL_AUTH_PLAINTEXT_TOKENS=1`), else
    `token.json`. Without a writable HOME (a container's read-only root file system, a random uid), tokens
    are kept in memory (and shared through the token cache of `_token_cache`, if one is set), said once per
    process in one log line."""
    if not save_token_file:
        return MemoryTokenStore(initial)
    encrypted = profile_file is not None and is_encrypted_name(profile_file)
    if encrypted and env_flag(PLAINTEXT_TOKENS_ENV):
        encrypted = False
    path = _locations.token_path(name, encrypted=encrypted)
    why = unwritable_reason(path.parent)
    if why is not None:
        if not _told_memory_only:
            _told_memory_only.append(why)
            log.warning(
                "no writable HOME (%s): tokens are kept in memory, not in token files, so processes share "
                "them only through %s (Redis) if it is set; to share them through files, point HOME "
                "(now %s) at a writable directory, e.g. an emptyDir volume",
                why,
                CACHE_URL_ENV,
                Path.home(),
            )
        return MemoryTokenStore(initial)
    if encrypted:
        assert profile_file is not None
        return SopsTokenStore(path, profile_file=profile_file, sops=sops)
    return FileTokenStore(path)
