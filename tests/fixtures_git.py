"""pytest plugin: git and pre-commit for tests of the GitOps workflow.

- `git(cwd, *args, env=None)`: run git, assert success, return stdout.
- `hook_repo` (session): a git repo holding this working tree (tracked and new files) in one commit, so
  pre-commit can install the hooks as they are now: `(path, rev)`.
- `pre_commit_env` (session): a function returning the environment of every pre-commit call (one session
  `PRE_COMMIT_HOME` and pip cache, so hook environments are built once per session).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repo holding this working tree (tracked and new files) in one commit: (path, rev)."""
    dest = tmp_path_factory.mktemp("hook-repo") / "planet-profiles"
    listing = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listing.split("\0")):
        if (REPO / name).is_file():  # listed but deleted in the working tree: skip
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    env = {**os.environ, **GIT_IDENTITY}
    git(dest, "init", "-q", env=env)
    git(dest, "add", "-A", env=env)
    git(dest, "commit", "-q", "--no-verify", "-m", "hooks under test", env=env)
    return dest, git(dest, "rev-parse", "HEAD")


@pytest.fixture(scope="session")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], dict[str, str]]:
    """The environment of every pre-commit call: one session `PRE_COMMIT_HOME`, pip and virtualenv caches."""
    base = tmp_path_factory.mktemp("pre-commit")
    extra = {
        "PRE_COMMIT_HOME": str(base / "home"),
        "PIP_CACHE_DIR": str(base / "pip-cache"),
        "VIRTUALENV_OVERRIDE_APP_DATA": str(base / "virtualenv"),
        "PRE_COMMIT_COLOR": "never",
        **GIT_IDENTITY,
    }

    def env() -> dict[str, str]:  # called inside a test: the hermetic HOME, no SOPS_* variable
        assert not any(name.startswith("SOPS_AGE") for name in os.environ)
        return {**os.environ, **extra}

    return env


