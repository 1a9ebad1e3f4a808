"""Stage "create": where the copier templates are, and a git repository of them for `copier update`.

The templates are `templates/profile/` (one profile) and `templates/profile-repo/` (a team GitOps repository)
of the package data (`_schema.data_root()`: the checkout's root, or `planet_profiles/_data/` in a wheel),
with the root `copier.yml`, which asks which of the two to render (`--data template=profile|profile-repo`).
Each template is also usable on its own:
`copier copy --trust "$(planet-profiles templates profile)" ~/.planet`.

copier updates a project only from a git repository of its template: it renders the version recorded in
the answers file and the newest tag, and merges the difference. An installed package is no git repository,
so `versioned_copy()` keeps one for it: `~/.local/share/planet-profiles/templates` (under `XDG_DATA_HOME`
when set), with one commit and tag `v<version>` per installed version of planet-profiles, added the first
time that version is asked for it. `planet-profiles new` creates projects from it, so they record that path
(`~/…`, the same for every member of a team) and the version: `copier update` brings them to the newest
version installed on the machine. (A machine lacks the tags of versions it never had installed.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from . import __version__
from ._errors import StorageError
from ._schema import data_root

__all__ = ["TEMPLATES", "home_relative", "template_dir", "templates_root", "versioned_copy"]

TEMPLATES = ("profile", "profile-repo")
_GIT_IDENTITY = ("-c", "user.name=planet-profiles", "-c", "user.email=planet-profiles@localhost")


def templates_root() -> Path:
    """The directory of the root `copier.yml`, which asks which of `TEMPLATES` to render."""
    root = data_root()
    if not (root / "copier.yml").is_file() or not (root / "templates").is_dir():
        raise StorageError(
            f"the copier templates are missing from this installation ({root})",
            hint="Reinstall planet-profiles from its wheel: pip install --force-reinstall planet-profiles",
        )
    return root


def template_dir(name: str) -> Path:
    """`templates/<name>` of `templates_root()`, one of `TEMPLATES`."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}: one of {', '.join(TEMPLATES)}")
    return templates_root() / "templates" / name


def default_versioned_path() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "planet-profiles" / "templates"


def versioned_copy(
    dest: Path | None = None, *, source: Path | None = None, version: str = __version__
) -> Path:
    """A git repository at `dest` holding the templates of each installed version, tagged `v<version>`.

    A version already tagged is left as it is (a release's templates never change); the repository is
    created on first use. `source` and `version` default to this installation's.
    """
    dest = dest or default_versioned_path()
    source = source or templates_root()
    tag = f"v{version}"
    try:
        if not (dest / ".git").is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            _git(dest, "init", "--quiet")
        if _git(dest, "tag", "--list", tag).strip():
            return dest
        for entry in dest.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.copy2(source / "copier.yml", dest / "copier.yml")
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(source / "templates", dest / "templates", ignore=skip)
        _git(dest, "add", "--all")
        _git(dest, *_GIT_IDENTITY, "commit", "--quiet", "--allow-empty", "-m", f"planet-profiles {version}")
        _git(dest, *_GIT_IDENTITY, "tag", "-a", "-m", f"planet-profiles {version}", tag)
    except OSError as exc:
        raise StorageError(f"cannot write the template repository: {exc}", file=str(dest)) from None
    return dest


def _git(cwd: Path, *args: str) -> str:
    if shutil.which("git") is None:
        raise StorageError("git is not installed", hint="copier needs git to update projects: install git")
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        raise StorageError(f"git {args[0]} failed: {done.stderr.strip()}", file=str(cwd))
    return done.stdout


def home_relative(path: Path) -> str:
    """`~/…` for a path below HOME (copier expands it): answers files then record the same template path for
    every member of a team, whatever their HOME."""
    home = Path.home()
    return f"~/{path.relative_to(home).as_posix()}" if path.is_relative_to(home) else str(path)
