"""Storage: atomic, private file writes (SECURITY.md TOK-07).

`atomic_write` never leaves a half-written file behind: the data goes to a temp file in the same
directory, created with its final mode before any byte is written, is fsync'ed, and then `os.replace`s
the target in one step. On any failure the temp file is removed and the old target is untouched.
A process killed mid-write (SIGKILL, power loss) cannot remove its temp file: the next write of the same
file removes such leftovers once they are older than a minute (no live write takes that long), and
`remove_temp_files` removes them all when the target itself is deleted (a token file at logout), so no
copy of a secret outlives it. `ensure_private_dir` creates missing directories as `0700`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from pathlib import Path

from ._errors import StorageError

__all__ = ["atomic_write", "ensure_private_dir", "remove_temp_files"]

STALE_TEMP_AGE = 60.0  # seconds; a temp file this old belongs to a write that was killed
_TEMP_SUFFIX = r"\.[0-9a-f]{12}\.tmp\Z"  # compiled on first use (by `re`'s cache), not at import
_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically; the new file has exactly `mode` (default `0600`).

    Raises `StorageError` (naming the file, never the data) when the write fails; the previous
    content of `path`, if any, is then still in place.
    """
    target = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(target)
    import secrets  # here: only writers need it (`secrets` is not on a load's import path)

    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, _FLAGS, mode)
    except OSError as exc:
        raise StorageError(f"cannot create a file in {directory}: {exc.strerror}", file=target) from exc
    try:
        with os.fdopen(fd, "wb") as stream:
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), mode)  # exact mode whatever the umask, before any data
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StorageError(f"cannot write file: {exc.strerror or exc}", file=target) from exc
        raise
    remove_temp_files(target, older_than=STALE_TEMP_AGE)
    _fsync_dir(directory)


def remove_temp_files(path: str | os.PathLike[str], *, older_than: float = 0.0) -> None:
    """Remove the temp files `atomic_write` left beside `path` (`.NAME.HEX.tmp`) that are older than
    `older_than` seconds; best effort, errors are ignored."""
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    prefix, now, suffix = f".{name}", time.time(), re.compile(_TEMP_SUFFIX)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and suffix.fullmatch(entry.name, len(prefix))):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat(follow_symlinks=False).st_mtime >= older_than:
                os.unlink(entry.path)


def _fsync_dir(directory: str) -> None:
    """Make the rename durable. Skipped where directories cannot be opened or fsync'ed (Windows, some FS)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise StorageError(f"cannot sync directory: {exc.strerror}", file=directory) from exc
    finally:
        os.close(fd)


def ensure_private_dir(path: str | os.PathLike[str], *, tighten: bool = False) -> Path:
    """Create `path` and its missing parents with mode `0700` (`mkdir -p`); existing ones stay as they are,
    except `path` itself with `tighten`: then an existing `path` open to group or others is brought to 0700
    (a token directory such as `~/.planet/NAME`, made by hand or by another tool).

    Returns the directory as a `Path`. Raises `StorageError` when it cannot be created or tightened.
    """
    directory = Path(os.path.abspath(os.fspath(path)))
    if tighten and os.path.isdir(directory):
        _tighten(directory)
    missing = [p for p in (directory, *directory.parents) if not os.path.isdir(p)]
    for part in reversed(missing):
        try:
            part.mkdir(mode=0o700)
        except FileExistsError:
            if not part.is_dir():
                raise StorageError("exists and is not a directory", file=str(part)) from None
            continue  # created concurrently by someone else: not ours to chmod
        except OSError as exc:
            raise StorageError(f"cannot create directory: {exc.strerror}", file=str(part)) from exc
        part.chmod(0o700)  # mkdir's mode is masked by the umask
    return directory


def _tighten(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise StorageError(f"cannot open directory: {exc.strerror}", file=str(directory)) from exc
    mode = 0
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, 0o700)
    except OSError as exc:
        raise StorageError(
            f"directory is open to group or others (mode {mode & 0o7777:04o}) and cannot be made private: "
            f"{exc.strerror}",
            file=str(directory),
            hint=f"Run `chmod 700 {directory}`",
        ) from exc
    finally:
        os.close(fd)
