"""`_atomic`: atomic 0600 writes and 0700 directories (SECURITY.md TOK-07)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from planet_profiles._atomic import atomic_write, ensure_private_dir
from planet_profiles._errors import StorageError


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty directory of its own (`tmp_path` also holds the hermetic HOME)."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


def test_writes_new_file_0600(work: Path) -> None:
    target = work / "token.json"
    atomic_write(target, b'{"a": 1}')
    assert target.read_bytes() == b'{"a": 1}'
    assert mode_of(target) == 0o600
    assert os.listdir(work) == ["token.json"]  # no temp file left


def test_replaces_existing_file_and_its_mode(work: Path) -> None:
    target = work / "token.json"
    target.write_bytes(b"old")
    target.chmod(0o644)
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode_of(target) == 0o600


def test_mode_is_exact_whatever_the_umask(work: Path) -> None:
    old = os.umask(0o077)
    try:
        atomic_write(work / "a", b"x", mode=0o644)
    finally:
        os.umask(old)
    assert mode_of(work / "a") == 0o644


def test_mode_is_set_before_data_is_written(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, bytes]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            temp = next(p for p in work.iterdir() if p.name.endswith(".tmp"))
            seen.append((stat.S_IMODE(info.st_mode), temp.read_bytes()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(work / "secret.json", b"data")
    assert seen == [(0o600, b"data")]


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_failure_keeps_old_file_and_removes_temp(
    work: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    target = work / "token.json"
    target.write_bytes(b"old content")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch, pytest.raises(StorageError) as info:
        patch.setattr(os, broken, fail)
        atomic_write(target, b"new secret content")
    assert str(target) in str(info.value)
    assert "No space left" in str(info.value)
    assert "new secret content" not in str(info.value)
    assert target.read_bytes() == b"old content"
    assert os.listdir(work) == ["token.json"]


def test_interrupt_keeps_old_file(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = work / "token.json"
    target.write_bytes(b"old")

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(os, "replace", interrupt)
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(work) == ["token.json"]


def test_missing_directory_is_a_storage_error(work: Path) -> None:
    target = work / "nope" / "token.json"
    with pytest.raises(StorageError, match="nope"):
        atomic_write(target, b"x")
    assert not (work / "nope").exists()


def test_ensure_private_dir_creates_missing_parents_0700(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    created = ensure_private_dir(tmp_path / "a" / "b" / "c")
    assert created == tmp_path / "a" / "b" / "c"
    for part in ("a", "a/b", "a/b/c"):
        assert mode_of(tmp_path / part) == 0o700
    assert mode_of(tmp_path) == 0o755  # existing directories are not touched


def test_ensure_private_dir_ignores_umask_and_is_idempotent(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        ensure_private_dir(tmp_path / "d")
        (tmp_path / "d").chmod(0o750)
        ensure_private_dir(tmp_path / "d")
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "d") == 0o750  # we did not create it the second time: left alone


def test_ensure_private_dir_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError, match="f"):
        ensure_private_dir(tmp_path / "f" / "sub")


def test_a_young_temp_file_of_another_write_survives(tmp_path: Path) -> None:
    """Leftovers of killed writes are removed only once they are older than a live write can be."""
    import os
    import time

    from planet_profiles._atomic import STALE_TEMP_AGE, atomic_write

    target = tmp_path / "token.json"
    young = tmp_path / ".token.json.0123456789ab.tmp"
    old = tmp_path / ".token.json.ba9876543210.tmp"
    for leftover in (young, old):
        leftover.write_bytes(b"{}")
    past = time.time() - STALE_TEMP_AGE - 5
    os.utime(old, (past, past))
    atomic_write(target, b"{}")
    assert young.exists() and not old.exists()
