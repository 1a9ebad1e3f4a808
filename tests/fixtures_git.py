"""pytest plugin: git and pre-commit for tests of the GitOps workflow.

- `git(cwd, *args, env=None)`: run git, assert success, return stdout.
- `hook_repo` (session): a git repo holding this working tree (tracked and new files) in one commit, so
  pre-commit can install the hooks as they are now: `(path, rev)`.
- `pre_commit_env` (session): a function returning the environment of every pre-commit call (one session
  `PRE_COMMIT_HOME` and pip cache, so hook environments are built once per session).
- `hooked_repo`: `hooked_repo(root)` turns `root` (files already written) into a team repo whose commits run
  this tree's hooks: `.pre-commit-config.yaml` naming `hook_repo`, `git init`, `pre-commit install`; returns
  the environment to run git and pre-commit with. `commit(repo, message, env)` then runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))


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


def hook_config(hook_repo: tuple[Path, str]) -> str:
    """A `.pre-commit-config.yaml` running both hooks of `hook_repo` at its commit."""
    return (
        "repos:\n"
        f"  - repo: {hook_repo[0]}\n"
        f"    rev: {hook_repo[1]}\n"
        "    hooks:\n"
        "      - id: planet-profiles-validate\n"
        "      - id: planet-profiles-encrypted\n"
    )


def commit(repo: Path, message: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`git add -A` and `git commit` (which runs the installed pre-commit hook)."""
    git(repo, "add", "-A", env=env)
    return subprocess.run(["git", "commit", "-m", message], cwd=repo, env=env, capture_output=True, text=True)


@pytest.fixture
def hooked_repo(
    hook_repo: tuple[Path, str], pre_commit_env: Callable[[], dict[str, str]]
) -> Callable[[Path], dict[str, str]]:
    """`hooked_repo(root)`: the hooks of this tree configured and installed in a new git repo at `root`."""

    def make(root: Path) -> dict[str, str]:
        env = pre_commit_env()
        root.mkdir(parents=True, exist_ok=True)
        (root / ".pre-commit-config.yaml").write_text(hook_config(hook_repo))
        git(root, "init", "-q", env=env)
        done = subprocess.run([PRE_COMMIT, "install"], cwd=root, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return env

    return make
