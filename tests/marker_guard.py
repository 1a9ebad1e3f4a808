"""pytest plugin: a test that needs a real part beside it carries the marker saying so.

`make test-unit` runs `pytest -m "not integration and not wheel"`, so a test that starts a server or a tool
without its marker would slow that run down or break it on a machine without `make test`'s venvs. Two checks
keep the markers (declared in pyproject.toml) right, both failing (never skipping) the test that lacks one:

- at collection: a test that asks for a fixture of a real part (`devserver`, `hook_repo`, …) without the
  marker of that part is a usage error, named with its fixture;
- while it runs: every process a test (or a fixture it set up) starts is seen through the `subprocess.Popen`
  audit event (PEP 578); a dev server, sops, copier, git, pre-commit or GnuPG process in a test without
  `integration`, or a program of the wheel venvs without `wheel`, fails the test in its teardown.

  Processes started by a child process are not seen that way; for sops, the one such program a test without
  `integration` could reach unawares (through copier's tasks or a `planet-profiles` subprocess), such a test
  gets `PL_SOPS_BINARY` pointing at a script that notes the call and runs the real sops.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

# fixture -> the marker a test using it must carry
FIXTURES = {
    "devserver": "integration",
    "devserver_factory": "integration",
    "hook_repo": "integration",
    "pre_commit_env": "integration",
    "gpg_key": "integration",
    "redis_server": "integration",
}

# program (file name) -> marker
PROGRAMS = {
    name: "integration"
    for name in (
        "node", "npm", "sops", "copier", "git", "pre-commit", "gpg", "gpgconf", "gpg-agent", "redis-server"
    )
}
WHEEL_PATHS = tuple(
    str(REPO / part)
    for part in (".venv-wheel", ".venv-sdk", "bench/.venv-planet-auth", ".wheelhouse", "dist")
)

_seen: list[tuple[str, str]] | None = None  # (marker, program) of the running test, None between tests
_doubles = "/nonexistent/"  # pytest's base temp dir: a `sops` written there by a test is a test double


def _required(executable: Any, argv: Any) -> tuple[str, str] | None:
    if isinstance(argv, (str, bytes, os.PathLike)):
        argv = [argv]
    words = [os.fsdecode(word) for word in [executable, *(argv or ())] if word is not None]
    if not words:
        return None
    program = os.path.basename(words[0])
    if words[0].startswith(_doubles):
        return None
    if any(word.startswith(WHEEL_PATHS) for word in words):
        return "wheel", program
    if program in PROGRAMS:
        return PROGRAMS[program], program
    return None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen" and _seen is not None:
        need = _required(args[0], args[1])
        if need is not None:
            _seen.append(need)


sys.addaudithook(_audit)


def pytest_sessionstart(session: pytest.Session) -> None:
    global _doubles
    _doubles = os.path.join(session.config._tmp_path_factory.getbasetemp(), "")  # type: ignore[attr-defined]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        missing: dict[str, str] = {}
        for name in fixtures:
            if name in FIXTURES:
                missing.setdefault(FIXTURES[name], name)
        wrong += [
            f"{item.nodeid} uses the fixture `{fixture}` but is not marked `{marker}`"
            for marker, fixture in missing.items()
            if item.get_closest_marker(marker) is None
        ]
    if wrong:
        raise pytest.UsageError("marker_guard:\n  " + "\n  ".join(wrong))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _seen
    _seen = []


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    global _seen
    seen, _seen = _seen or [], None
    missing = sorted(
        {(marker, program) for marker, program in seen if item.get_closest_marker(marker) is None}
    )
    if missing:
        pytest.fail(
            "marker_guard: this test started "
            + ", ".join(f"`{program}` (needs the marker `{marker}`)" for marker, program in missing),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _sops_tripwire(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Outside `integration`: sops, also when a child process runs it, is noted and fails the test."""
    if request.node.get_closest_marker("integration") is not None:
        yield
        return
    request.getfixturevalue("hermetic_env")  # first: it clears every PL_* variable of the outer environment
    from planet_profiles._sops import Sops, default_sops

    where = tmp_path_factory.mktemp("sops-tripwire")  # beside the test's tmp_path, not in it
    calls, script = where / "calls.log", where / "sops"
    script.write_text(
        f'#!/bin/sh\necho "$$" >> {shlex.quote(str(calls))}\nexec {shlex.quote(Sops().binary)} "$@"\n'
    )
    script.chmod(0o700)
    monkeypatch.setenv("PL_SOPS_BINARY", str(script))
    default_sops.cache_clear()  # the shared instance resolves the binary anew, in this test and after it
    yield
    default_sops.cache_clear()
    if calls.name in os.listdir(where) and _seen is not None:  # (not `exists()`: a test may fake os.stat)
        _seen.append(("integration", "sops"))
