"""What the profile commands share: which profile a command is about, and what its token looks like.

Nothing here decrypts: a profile's `client_type` and the `_iat` / `_exp` / `scope` members of a token file
are clear text even in `auth_client.sops.json` / `token.sops.json` (only the secret keys and the token
strings are encrypted), so `list`, `status` and `show` work without any key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import ProfileError

if TYPE_CHECKING:
    from .._locations import ProfileLocation
    from .._selection import Source

__all__ = [
    "Target",
    "TokenState",
    "find_files",
    "human_duration",
    "read_raw",
    "read_token_state",
    "resolve_target",
    "token_file",
]

NONE, VALID, EXPIRED, REFRESHABLE, UNREADABLE = "none", "valid", "expired", "refreshable", "unreadable"


@dataclass(frozen=True)
class Target:
    """The profile a command works on: its name, the source that selected it, and where it lives.

    `location` is None for built-in profiles and ad-hoc credentials (`PL_AUTH_CLIENT_ID`, `PL_API_KEY`).
    """

    name: str
    source: Source
    location: ProfileLocation | None

    @property
    def origin(self) -> str:
        if self.location is not None:
            return f"{self.location.root} ({self.location.origin})"
        return "built-in" if self.source.kind == "profile" else f"ad-hoc ({self.source.origin})"

    def token_file(self) -> Path | None:
        """Where the loader keeps this profile's token (None for types without tokens)."""
        from .._clients import client_class_for

        if self.source.kind == "api_key":
            return None
        client_type = self.client_type()
        try:
            uses_tokens = client_class_for(client_type).uses_tokens if client_type else True
        except KeyError:  # an unknown client_type: say where its token would be
            uses_tokens = True
        return token_file(self.name, self.location) if uses_tokens else None

    def client_type(self) -> str | None:
        """The profile's `client_type`, read without decrypting (None when the file has none)."""
        if self.location is not None:
            value = read_raw(self.location.file).get("client_type")
            return value if isinstance(value, str) else None
        if self.source.kind == "profile":
            from .._builtins import builtin_config

            return str((builtin_config(self.name) or {}).get("client_type"))
        return "static_apikey" if self.source.kind == "api_key" else "oidc_client_credentials_secret"


def token_file(name: str, location: ProfileLocation | None) -> Path | None:
    """Where the loader keeps the token of profile `name` (`~/.planet/<name>/token[.sops].json`)."""
    from .._tokens import token_store

    profile_file = location.file if location else None
    return token_store(name, save_token_file=True, profile_file=profile_file).path


def resolve_target(name: str | None) -> Target:
    """`name`, or the selected source (PL_AUTH_PROFILE, ~/.planet.json, …) when None, located as the loader
    locates it (`_selection.locate`); a missing profile is an error unless it is built in."""
    from .._selection import locate, resolve_source

    located = locate(resolve_source(name))
    return Target(located.name, located.source, located.location)


def read_raw(file: Path) -> dict[str, object]:
    """The JSON object of a profile file as stored (an encrypted file is NOT decrypted), read as the loader
    reads it (`planet_profiles._documents.load_profile`)."""
    from .._documents import load_profile

    data: dict[str, object] = load_profile(file).data
    return data


@dataclass(frozen=True)
class TokenState:
    """A token file as seen without decrypting it: `state` is none / valid / expired / refreshable /
    unreadable (then `problem` says why)."""

    state: str
    path: Path | None
    expires_at: float | None = None
    issued_at: float | None = None
    scopes: tuple[str, ...] | None = None
    refresh_token: bool = False
    problem: str | None = None

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.state == NONE:
            return "no token" if self.path else "no token (this profile type uses none)"
        if self.state == UNREADABLE:
            return f"unreadable: {self.problem}"
        if self.expires_at is None:
            when = "no expiry"
        elif self.expires_at > now:
            when = f"expires in {human_duration(self.expires_at - now)}"
        else:
            when = f"expired {human_duration(now - self.expires_at)} ago"
        refresh = ", can be refreshed" if self.refresh_token and self.state != VALID else ""
        return f"{self.state} ({when}{refresh})"

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "file": str(self.path) if self.path else None,
            "expires_at": int(self.expires_at) if self.expires_at is not None else None,
            "issued_at": int(self.issued_at) if self.issued_at is not None else None,
            "scopes": list(self.scopes) if self.scopes is not None else None,
            "refresh_token": self.refresh_token,
            "problem": self.problem,
        }


def read_token_state(path: Path | None, *, now: float | None = None) -> TokenState:
    """The state of the token file `path` (plain or sops-encrypted), without decrypting it."""
    from .._token_manager import still_valid
    from .._tokens import Token, read_token_data

    if path is None:
        return TokenState(NONE, None)
    try:
        data = read_token_data(path)  # also of `token.sops.json`: its `_exp` and `scope` are clear text
        if data is None:
            return TokenState(NONE, path)
        token = Token(data, file=str(path))
    except ProfileError as exc:
        return TokenState(UNREADABLE, path, problem=exc.message)
    now = time.time() if now is None else now
    if still_valid(token, now):
        state = VALID
    else:
        state = REFRESHABLE if token.refresh_token else EXPIRED
    return TokenState(
        state,
        path,
        expires_at=token.expires_at,
        issued_at=token.issued_at,
        scopes=tuple(token.scope.split()) if token.scope is not None else None,
        refresh_token=token.refresh_token is not None,
    )


def human_duration(seconds: float) -> str:
    """`42 s`, `4 min 12 s`, `3 h 5 min`, `2 days 3 h`."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    if minutes:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    return f"{secs} s"


_TOOL_DIRS = frozenset({".git", ".hg", ".svn", ".tox", ".nox", ".eggs", "node_modules", "__pycache__"})
_BUILD_DIRS = frozenset({"build", "dist", "site"})  # build output: copies of package data, not sources


def _skipped(directory: Path, match: Callable[[str], bool]) -> bool:
    """Directories a search for profile files does not enter: VCS and tool directories, virtualenvs
    (`.venv*`, `*.egg-info`), and build output (`build/`, `dist/`, `site/`) unless the directory is itself
    a profile (holds a matching file: a profile may be named `build`)."""
    name = directory.name
    if name in _TOOL_DIRS or name.startswith((".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache")):
        return True
    if name.endswith(".egg-info"):
        return True
    if name in _BUILD_DIRS:
        try:
            return not any(entry.is_file() and match(entry.name) for entry in directory.iterdir())
        except OSError:
            return True
    return False


def _git_ignored(root: Path, files: Sequence[Path]) -> set[Path]:
    """The `files` (below `root`) that git ignores (`.gitignore`, `.git/info/exclude`); none outside a git
    work tree or without git. Tracked files are never reported as ignored."""
    if not files or not _in_git_work_tree(root) or shutil.which("git") is None:
        return set()
    names = "\0".join(os.path.relpath(f, root) for f in files)
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-z", "--stdin"],
            input=names.encode(),
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if done.returncode != 0:  # 1: nothing ignored; 128: not a git work tree
        return set()
    return {Path(root, name) for name in done.stdout.decode(errors="replace").split("\0") if name}


def _in_git_work_tree(directory: Path) -> bool:
    """A `.git` (directory or file, for worktrees) in `directory` or above: only then is git asked."""
    here = directory.resolve()
    return any((folder / ".git").exists() for folder in (here, *here.parents))


def find_files(paths: Sequence[Path], match: Callable[[str], bool]) -> list[Path]:
    """Files named on the command line, plus the files below named directories whose name is a `match`,
    except in skipped directories (`_skipped`) and files git ignores. Sorted, without duplicates."""
    found: dict[Path, None] = {}
    for path in paths:
        if not path.is_dir():
            found[path] = None
            continue
        below: list[Path] = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _skipped(Path(root, d), match))
            below += [Path(root, name) for name in sorted(files) if match(name)]
        ignored = _git_ignored(path, below)
        found.update((file, None) for file in below if file not in ignored)
    return sorted(found)
