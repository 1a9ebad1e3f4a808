"""Crash-safe storage (SECURITY TOK-07): writers SIGKILLed at random points never leave a broken file.

A driver process forks writers that save `token.json` (through `FileTokenStore`), the profile (through
`_locations.save_profile`) and `~/.planet.json` (through `atomic_write`) in a tight loop, and kills each
writer's process group after a random 0–30 ms. After every kill the files must load with the library's own
readers, hold the newest completed refresh token and mode `0600`; a reader process running all along must
never see a partial file. The encrypted variant does the same with `token.sops.json` (real sops, real age
key). `PLANET_PROFILES_SOAK=1` kills 1000 times instead of 200 (`make soak` does too, via `bench/soak.py`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.soak_workers import (
    PROFILE,
    crash_campaign,
    rewrite_and_count_strays,
    soak_mode,
    stray_temp_files,
    worker_env,
)

pytestmark = pytest.mark.integration

KILLS = 1000 if soak_mode() else 200
SOPS_KILLS = 100 if soak_mode() else 20  # every sops write is a ~20 ms subprocess


def check_campaign(result: dict[str, Any], kills: int, min_writes: int) -> None:
    print(f"\n{kills} kills:", {k: v for k, v in result.items() if k != "errors"})
    assert result["kills"] == kills
    assert result["writer_failures"] == 0, result["errors"]  # every writer was writing when it died
    assert result["writes_acked"] >= min_writes  # the writers got to write between the kills
    assert result["failed_kills"] == 0, result["errors"]
    for zero in ("lost_refresh_tokens", "bad_token_after_kill", "corrupt_after_kill", "bad_mode"):
        assert result[zero] == 0, (zero, result["errors"])
    assert result["reads"] > 0
    assert result["corrupt_reads"] == 0, result["errors"]


@pytest.fixture(scope="module")
def plaintext_campaign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("crash")
    return workdir, crash_campaign(workdir, kills=KILLS, max_sleep_ms=30, time_limit=300)


def test_killed_writers_never_leave_a_broken_or_stale_file(
    plaintext_campaign: tuple[Path, dict[str, Any]],
) -> None:
    check_campaign(plaintext_campaign[1], KILLS, min_writes=KILLS // 4)


def test_stray_temp_files_are_private(plaintext_campaign: tuple[Path, dict[str, Any]]) -> None:
    """What a kill inside `atomic_write` leaves behind is at least readable by the owner only."""
    workdir, _ = plaintext_campaign
    for path in stray_temp_files(workdir / "home"):
        assert path.stat().st_mode & 0o077 == 0, path.name


def test_next_write_removes_stale_temp_files(plaintext_campaign: tuple[Path, dict[str, Any]]) -> None:
    """Temp files of killed writes are stale once old: the next write of the same file removes them."""
    workdir, result = plaintext_campaign
    strays = stray_temp_files(workdir / "home")
    print(f"\n{len(strays)} stray temp files after {result['kills']} kills")
    assert rewrite_and_count_strays(workdir / "home") == 0


def test_killed_sops_writers_never_leave_a_broken_or_stale_file(tmp_path: Path) -> None:
    result = crash_campaign(tmp_path, kills=SOPS_KILLS, max_sleep_ms=100, encrypted=True, time_limit=300)
    check_campaign(result, SOPS_KILLS, min_writes=1)


# A writer killed at a known point: just before `os.replace`, with the new token complete in the temp file.
KILLED_BEFORE_REPLACE = """
import os, signal, sys
from pathlib import Path
from planet_profiles._tokens import FileTokenStore, Token
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
FileTokenStore(Path(sys.argv[1])).save(Token({"access_token": "at-new", "refresh_token": sys.argv[2]}))
"""


def kill_before_replace(token_file: Path, refresh_token: str) -> None:
    from planet_profiles._tokens import FileTokenStore, Token

    FileTokenStore(token_file).save(Token({"access_token": "at-old", "refresh_token": "rt-old"}))
    args = [sys.executable, "-c", KILLED_BEFORE_REPLACE, str(token_file), refresh_token]
    killed = subprocess.run(args, env=worker_env(Path.home()), capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr


def holding(directory: Path, secret: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_file() and secret.encode() in p.read_bytes())


def test_kill_before_replace_keeps_the_old_token(hermetic_env: Path) -> None:
    from planet_profiles._tokens import FileTokenStore

    token_file = hermetic_env / ".planet" / PROFILE / "token.json"
    kill_before_replace(token_file, "rt-new-never-installed")
    token = FileTokenStore(token_file).load()
    assert token is not None and token.refresh_token == "rt-old"
    (left,) = holding(token_file.parent, "rt-new-never-installed")  # the killed write's temp file stays,
    assert left.startswith(".token.json.") and left.endswith(".tmp")
    assert (token_file.parent / left).stat().st_mode & 0o777 == 0o600  # private; the next write or a
    # logout removes it (test_next_write_removes_stale_temp_files, test_logout_leaves_no_copy_…)


def test_logout_leaves_no_copy_of_a_refresh_token(hermetic_env: Path) -> None:
    """`logout` ends in `store.delete()`: no refresh token may stay behind in a killed write's temp file."""
    from planet_profiles._tokens import FileTokenStore

    token_file = hermetic_env / ".planet" / PROFILE / "token.json"
    kill_before_replace(token_file, "rt-left-in-a-temp-file")
    FileTokenStore(token_file).delete()
    assert holding(token_file.parent, "rt-left-in-a-temp-file") == []
