"""Stage "find": where profiles and tokens live on disk (search path, names, `~/.planet.json`).

A profile is a directory named after the profile holding `auth_client.sops.json` (preferred) or
`auth_client.json`. Directories are searched in order: `~/.planet`, then each entry of
`PL_AUTH_PROFILE_PATH` (`os.pathsep`-separated, e.g. a read-only checkout of a team repo's `profiles/`).
Tokens always live under `~/.planet/<name>/`, never in a profile repo checkout.

Which profile a process uses is decided in `_selection` (explicit name, environment, `~/.planet.json`, …).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import ProfileNameError, ProfileNotFoundError, StorageError
from ._names import ENCRYPTED_FILE, PLAIN_FILE, SECRET_KEYS, Record, public

if TYPE_CHECKING:
    from ._config import ClientConfig
    from ._sops import Sops

__all__ = [
    "ENCRYPTED_FILE",
    "PLAIN_FILE",
    "ProfileLocation",
    "check_profile_name",
    "find_profile",
    "list_profiles",
    "profile_relative_path",
    "read_user_config",
    "save_profile",
    "search_path",
    "token_path",
    "user_config_path",
    "user_profiles_dir",
]

ENV_PROFILE = "PL_AUTH_PROFILE"
ENV_PROFILE_PATH = "PL_AUTH_PROFILE_PATH"

log = logging.getLogger("planet_profiles.locations")

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_NAME_CHARS = _NAME_START | frozenset(".-")


def _plain_name(name: str) -> bool:
    """Whether `name` is a plain profile name, `[a-z0-9_][a-z0-9._-]*` (ASCII; checked with sets: a regex
    would be compiled at every cold start)."""
    return name[:1] in _NAME_START and _NAME_CHARS.issuperset(name)


@public
class ProfileLocation(Record):
    """A profile found on disk: its `file`, the search-path `root` it came from, and that root's origin."""

    __slots__ = ()

    name: str
    file: Path
    root: Path
    origin: str  # "~/.planet" or "PL_AUTH_PROFILE_PATH"

    @property
    def encrypted(self) -> bool:
        return self.file.name == ENCRYPTED_FILE


def user_profiles_dir() -> Path:
    """`~/.planet`: the user's own profiles and every profile's tokens."""
    return Path.home() / ".planet"


def user_config_path() -> Path:
    """`~/.planet.json`: planet-auth's user config file (selected profile, ad-hoc client settings)."""
    return Path.home() / ".planet.json"


def check_profile_name(name: object, *, source: str | None = None) -> str:
    """The normalized (lower-case) profile name of `name`, or `ProfileNameError`.

    Allowed: letters, digits, `-`, `_`, `.`; not starting with `.` or `-`. Upper case is accepted and
    lower-cased, as planet-auth and the planet SDK do (`P1` loads `p1`). Never a path, so a name cannot
    escape `~/.planet` (planet-auth accepts `..`).
    """
    normalized = name.lower() if isinstance(name, str) else name
    if not isinstance(normalized, str) or not _plain_name(normalized):
        shown = name if isinstance(name, str) and len(name) <= 80 else type(name).__name__
        key = _key(source)
        raise ProfileNameError(
            f"{shown!r} is invalid" if key == _NAME_KEY else f"invalid profile name {shown!r}",
            key=key,
            hint="Use letters, digits, '-', '_', '.', not starting with '.' or '-' (no '/', '..'); "
            "names are looked up in lower case",
        )
    return normalized


_NAME_KEY = "profile name"


def _key(source: str | None) -> str | None:
    """The `key` of an error about a profile name: the variable or file key it came from (`PL_AUTH_PROFILE`),
    or `profile name` for a name the caller passed (rather than the jargon `argument`)."""
    return _NAME_KEY if source == "argument" else source


def _expanduser(path: Path) -> Path:
    """`~` and `~user` expanded; left as it is when that user is unknown (then nothing is found there)."""
    try:
        return path.expanduser()
    except RuntimeError:
        return path


_warned_missing: set[str] = set()


def search_path() -> list[tuple[Path, str]]:
    """The profile directories to search, in order, each with the name of its origin.

    A `PL_AUTH_PROFILE_PATH` entry that is not a directory is searched all the same (it may appear), but
    warned about, once a process: a typo there would otherwise hide a team's profiles without a word."""
    roots = [(user_profiles_dir(), "~/.planet")]
    for entry in os.environ.get(ENV_PROFILE_PATH, "").split(os.pathsep):
        if entry.strip():
            root = _expanduser(Path(entry))
            roots.append((root, ENV_PROFILE_PATH))
            if entry not in _warned_missing and not os.path.isdir(root):
                _warned_missing.add(entry)
                log.warning(
                    "%s entry %s is not a directory: no profile is found there", ENV_PROFILE_PATH, root
                )
    return roots


def _profile_in(root: Path, name: str, origin: str) -> ProfileLocation | None:
    for filename in (ENCRYPTED_FILE, PLAIN_FILE):
        candidate = root / name / filename
        if os.path.isfile(candidate):  # False, not OSError, for names too long for the file system
            return ProfileLocation(name=name, file=candidate, root=root, origin=origin)
    return None


def find_profile(name: str, *, source: str | None = None) -> ProfileLocation:
    """Find profile `name` on the search path (first hit wins), or raise `ProfileNotFoundError`."""
    name = check_profile_name(name, source=source)
    roots = search_path()
    for root, origin in roots:
        found = _profile_in(root, name, origin)
        if found is not None:
            return found
    first, *others = (str(root / name) for root, _ in roots)
    also = f" (nor in {', '.join(others)})" if others else ""
    raise ProfileNotFoundError(
        f"profile `{name}` not found{also}",
        file=first,
        key=None if source == "argument" else source,
        hint=f"Create it with `planet-profiles new -d profile_name={name}`, or add its parent directory "
        f"to {ENV_PROFILE_PATH}",
    )


def list_profiles() -> list[ProfileLocation]:
    """Every profile on the search path, first occurrence of each name only, sorted by name."""
    seen: dict[str, ProfileLocation] = {}
    for root, origin in search_path():
        try:
            children = sorted(root.iterdir())
        except OSError:  # missing, not a directory, unreadable, name too long
            continue
        for child in children:
            if child.name in seen or not _plain_name(child.name):
                continue
            found = _profile_in(root, child.name, origin)
            if found is not None:
                seen[child.name] = found
    return [seen[name] for name in sorted(seen)]


def read_user_config() -> dict[str, object]:
    """Read `~/.planet.json` (an empty dict when absent); a broken file is a `StorageError`."""
    path = user_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # no such file, or a HOME that is not a directory
        return {}
    except UnicodeDecodeError:
        raise StorageError(
            "is not UTF-8 text", file=str(path), hint="Save it as UTF-8, or delete it"
        ) from None
    except OSError as exc:
        raise StorageError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise StorageError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            file=str(path),
            hint="Fix the JSON or delete the file",
        ) from None
    if not isinstance(data, dict):
        raise StorageError("must hold a JSON object", file=str(path), hint="Fix the file or delete it")
    return data


def profile_relative_path(raw: str, profile_file: str | None) -> Path:
    """A path named in a profile (a key file, a page): `~` expanded; a relative path is relative to the
    profile file's directory, or to the working directory for in-memory profiles."""
    path = _expanduser(Path(raw))
    if path.is_absolute():
        return path
    if profile_file and not profile_file.startswith("<") and Path(profile_file).parent.is_dir():
        return Path(profile_file).parent / path
    return Path.cwd() / path


def token_path(name: str, *, encrypted: bool = False) -> Path:
    """`~/.planet/<name>/token.json` (or `token.sops.json` when tokens are kept encrypted at rest)."""
    name = check_profile_name(name)
    return user_profiles_dir() / name / ("token.sops.json" if encrypted else "token.json")


def save_profile(name: str, config: ClientConfig, *, sops: Sops | None = None) -> Path:
    """Write a config model to `~/.planet/<name>/`: `auth_client.json` when it holds no secret, else
    `auth_client.sops.json` encrypted from memory by sops (recipients from the `.sops.yaml` found from that
    directory upwards, or `SOPS_AGE_RECIPIENTS`). Returns the file written."""
    from ._atomic import atomic_write, ensure_private_dir  # writes only: a load does not import it

    name = check_profile_name(name)
    document = config.to_dict(reveal_secrets=True)
    directory = user_profiles_dir() / name
    ensure_private_dir(directory)
    if any(key in document for key in SECRET_KEYS):
        from ._sops import default_sops

        target = directory / ENCRYPTED_FILE
        (sops or default_sops()).encrypt(document, target)
        return target
    target = directory / PLAIN_FILE
    atomic_write(target, json.dumps(document, indent=2).encode() + b"\n", mode=0o600)
    return target
