"""Stage "read": one profile file from disk into a JSON document, the same way for every caller.

The loader (`open_profile`), the CLI (`list`, `show`, `validate`, …), `validate_file` and the pre-commit hooks
all read profile files through `read_profile`, so a file gets one answer, with one wording, wherever it is
read:

1. Trust (as ssh does for its keys, SECURITY TOK-07): the file's directory is opened first and the file
   relative to it, and the mode and owner of both are taken from the open handles (`os.fstat`), i.e. of what
   is actually read, not of whatever a path names a moment later. Neither may be writable by group or
   others, and each must belong to the user or root (`trust_problem`). The file may be a symlink: the
   checks apply to the file it points to. One exception, only with the opt-in
   `PL_AUTH_ALLOW_SHARED_MODES=1`: the root of a Kubernetes Secret volume, a sticky (`1777`, or `3777`
   with `fsGroup`) root-owned directory, where nobody but an entry's owner can replace it; the entry itself
   (the `auth_client*.json` symlink into `..data/`) must then belong to root or the user. The same opt-in
   lets a plaintext secret be read from a file group or others may read (`exposed`: a Secret's `0644`, or
   `0440` with `fsGroup`). Nothing writable by group or others is ever read.
2. Size: at most `MAX_PROFILE_BYTES` are read.
3. Text: UTF-8, not empty, nested no deeper than `MAX_DEPTH` (checked before parsing: a nested-JSON bomb
   is a problem, never a `RecursionError`), valid JSON, and no key twice in an object (a reviewer reads the
   first value, a JSON parser keeps the last).

`read_profile` never raises: it returns a `Document` with every problem found. `load_profile` raises
`StorageError` (the file could not be read or is not trusted) or `ConfigError` (its content is not a JSON
object), with the problem's message.
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any

from ._errors import ConfigError, Problem, StorageError
from ._names import Record, env_flag
from ._problems import describe, pointer

__all__ = [
    "MAX_DEPTH",
    "MAX_PROFILE_BYTES",
    "SHARED_MODES_ENV",
    "Document",
    "exposed",
    "load_profile",
    "nesting_problem",
    "parse_json",
    "read_limited",
    "read_profile",
    "shared_modes_allowed",
    "trust_problem",
]

SHARED_MODES_ENV = "PL_AUTH_ALLOW_SHARED_MODES"

MAX_PROFILE_BYTES = 1 << 20
"""A profile file larger than this (1 MiB) is refused; real ones are a few kB."""

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a JSON document (a profile needs 5, for `sops`)."""

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO never blocks
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_STRING = r'"(?:[^"\\]|\\.)*"'  # with re.DOTALL; compiled on first use (by `re`'s cache), not at import
_BRACKET = r"[\[\]{}]"
_TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels"


class Document(Record):
    """A profile file as read: its JSON `data` (None when unusable), every `problem`, the file's `mode` and
    `raw` bytes (None when it was not read). `refused` says the problems are about access (missing,
    unreadable, not trusted), not about the content."""

    __slots__ = ()

    file: str
    data: Any
    problems: list[Problem]
    mode: int | None = None
    raw: bytes | None = None
    refused: bool = False


def shared_modes_allowed() -> bool:
    """`PL_AUTH_ALLOW_SHARED_MODES=1`: profiles come from a platform's secret mount (a Kubernetes Secret
    volume), whose modes the platform sets: readable by a group or others, under a sticky root-owned
    directory. Never anything writable by group or others."""
    return env_flag(SHARED_MODES_ENV)


def exposed(mode: int) -> bool:
    """A file of `mode` may be read by group or others, and the shared-modes opt-in does not allow that."""
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO)) and not shared_modes_allowed()


def _sticky_root_dir(st: os.stat_result) -> bool:
    """A root-owned sticky directory, as the root of a Kubernetes Secret volume is (a tmpfs, `1777`, or
    `3777` with `fsGroup`): anyone may add entries, only an entry's owner may replace or remove it."""
    return stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and bool(st.st_mode & stat.S_ISVTX)


def trust_problem(st: os.stat_result, path: str, *, what: str = "the file") -> str | None:
    """Why a profile file or directory with status `st` cannot be trusted, or None.

    ssh's rule for keys: writable by nobody but its owner, and owned by the user or root. Anyone else who
    can write a profile can point its auth server (and so the client secret) anywhere. With
    `PL_AUTH_ALLOW_SHARED_MODES=1` a root-owned sticky directory (a Secret volume's root) is trusted too.
    """
    if os.name != "posix":
        return None  # Windows: ACLs, not modes; not checked here
    uid = os.getuid()
    if st.st_uid not in (uid, 0):
        return (
            f"{what} {path} belongs to another user (uid {st.st_uid}), so it cannot be trusted; "
            f"keep profiles in files and directories you own (`chown {uid} {path}`)"
        )
    if not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    fix = f"run `chmod go-w {path}`"
    if _sticky_root_dir(st):
        if shared_modes_allowed():
            return None
        fix = f"if it is a Kubernetes Secret volume, set {SHARED_MODES_ENV}=1"
    return (
        f"{what} {path} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}), so it "
        f"cannot be trusted; {fix}"
    )


def _entry_problem(name: str, dir_fd: int, dir_stat: os.stat_result, path: str) -> str | None:
    """The directory entry `name` itself: in a shared sticky directory it must belong to root or the user
    (anyone may add entries there, only their owner may replace them); a symlink's target directory obeys
    the directory rule too (e.g. a Secret volume's `..2024_…` directory)."""
    entry = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if dir_stat.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and entry.st_uid not in (os.getuid(), 0):
        return (
            f"{path} was put into a shared directory by another user (uid {entry.st_uid}), so it cannot be "
            "trusted; remove it"
        )
    if not stat.S_ISLNK(entry.st_mode):
        return None
    target_dir = os.path.dirname(os.path.realpath(path))
    return trust_problem(os.stat(target_dir), target_dir, what="the directory")


def read_limited(fd: int, limit: int) -> bytes | None:
    """Up to `limit` bytes of the open file `fd`; None when it holds more."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, min(1 << 16, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None


def _read_trusted(path: str) -> tuple[bytes | None, int | None, list[Problem]]:
    """The bytes and mode of a trusted file, or the problem why not (one `Problem` at the document)."""
    directory, name = os.path.split(os.path.abspath(path))

    def refused(message: str) -> tuple[None, None, list[Problem]]:
        return None, None, [Problem(path, "", message)]

    dir_fd: int | None = None
    fd: int | None = None
    try:
        if os.open in os.supports_dir_fd:
            dir_fd = os.open(directory, _DIR_FLAGS)
            dir_stat = os.fstat(dir_fd)
            fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
        else:
            fd = os.open(path, _OPEN_FLAGS | getattr(os, "O_BINARY", 0))
            dir_stat = os.stat(directory)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return refused("cannot read the file: not a regular file")
        why = trust_problem(dir_stat, directory, what="the directory") or trust_problem(st, path)
        if not why and dir_fd is not None:
            why = _entry_problem(name, dir_fd, dir_stat, path)
        if why:
            return refused(why)
        raw = read_limited(fd, MAX_PROFILE_BYTES)
    except OSError as exc:
        return refused(f"cannot read the file: {exc.strerror or exc}")
    finally:
        for handle in (fd, dir_fd):
            if handle is not None:
                os.close(handle)
    if raw is None:
        return refused(f"the file is larger than {MAX_PROFILE_BYTES // 1024} KiB; a profile is a few kB")
    return raw, st.st_mode, []


def read_profile(path: str | os.PathLike[str]) -> Document:
    """Read and parse one profile file (see the module docstring); never raises."""
    file = os.fspath(path)
    raw, mode, problems = _read_trusted(file)
    if raw is None:
        return Document(file, None, problems, refused=True)
    data, problems = parse_json(raw, file=file)
    return Document(file, data, problems, mode, raw)


def load_profile(path: str | os.PathLike[str]) -> Document:
    """A profile file whose `data` is a JSON object, as stored (nothing is decrypted).

    Raises `StorageError` when the file cannot be read or trusted, `ConfigError` (every problem) when its
    content is not a JSON object.
    """
    doc = read_profile(path)
    if doc.refused:
        raise StorageError(doc.problems[0].message, file=doc.file)
    if doc.problems:
        raise ConfigError.from_problems(doc.problems)
    if not isinstance(doc.data, dict):
        raise ConfigError.from_problems(
            [Problem(doc.file, "", f"a profile must be a JSON object; got {describe(doc.data)}")]
        )
    return doc


def nesting_problem(text: str) -> str | None:
    """A message when the JSON `text` nests arrays and objects deeper than `MAX_DEPTH`, else None.

    Counted without parsing (strings removed first), so a nested-JSON bomb costs linear time and no stack.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None  # the common case: too few brackets to nest that deep
    depth = 0
    for bracket in re.findall(_BRACKET, re.sub(_STRING, "", text, flags=re.DOTALL)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            return _TOO_DEEP
    return None


def parse_json(data: bytes | str, *, file: str) -> tuple[object, list[Problem]]:
    """Parse one JSON document; problems (not exceptions) for empty input, bad UTF-8, too deep nesting,
    invalid JSON and duplicate keys."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, [Problem(file, "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
    if not text.strip():
        return None, [
            Problem(file, "", "the file is empty; a profile is a JSON object with at least `client_type`")
        ]
    too_deep = nesting_problem(text)
    if too_deep:
        return None, [Problem(file, "", too_deep)]
    duplicates: list[Problem] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(Problem(file, pointer([key]), f"duplicate key `{key}`; keep only one"))
            seen[key] = value
        return seen

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return None, [Problem(file, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
    except RecursionError:  # not reachable after the depth check; kept as a typed answer all the same
        return None, [Problem(file, "", _TOO_DEEP)]
    return doc, duplicates
