"""Profiles mounted from a Kubernetes Secret volume, in a container with a read-only HOME.

The layout is the kubelet's (its atomic writer): the volume root is a root-owned sticky tmpfs directory
(`1777`; `3777` and group `fsGroup` with an `fsGroup`) holding `..data -> ..2024_01_01_00_00_00.123` and one
symlink per key, `auth_client.sops.json -> ..data/auth_client.sops.json`; the files are root's, `0644` by
default or `0440` with group `fsGroup`. It is built here under /tmp by root, and the loader runs in a child
process as a random non-root uid (with the `fsGroup` as a supplementary group, as a pod has it) and a HOME
that uid cannot write, so "cannot write" is the kernel's answer, not a simulation. The mount itself is not
read-only here (that needs a mount namespace): the sticky bit is what the trust check relies on.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from planet_profiles._documents import read_profile
from planet_profiles._locations import read_user_config
from planet_profiles._tokens import MemoryTokenStore, token_store
from tests.fixtures_devserver import DevServer

REPO = Path(__file__).resolve().parent.parent
POD_UID = 1000870000  # an OpenShift-style random uid, in no passwd file
FS_GROUP = 2000
STAMP = "..2024_01_01_00_00_00.123"

needs_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0,
    reason="building a root-owned Secret volume and running as another uid needs root (CI runs as root)",
)


def secret_volume(root: Path, files: dict[str, bytes], *, mode: int, group: int | None = None) -> Path:
    """A Secret volume at `root` as the kubelet lays it out; `group` is the pod's `fsGroup`, if any."""
    gid = 0 if group is None else group
    root.mkdir(parents=True)
    data = root / STAMP
    data.mkdir()
    for name, content in files.items():
        (data / name).write_bytes(content)
        os.chown(data / name, 0, gid)
        os.chmod(data / name, mode)
    (root / "..data").symlink_to(STAMP)
    for name in files:
        (root / name).symlink_to(f"..data/{name}")
    for directory, perm in ((data, 0o755), (root, 0o1777)):
        os.chown(directory, 0, gid)
        os.chmod(directory, perm | (stat.S_ISGID if group is not None else 0))
    return root


@pytest.fixture
def pod_dir() -> Iterator[Path]:
    """A directory the pod's uid can traverse (pytest's own temp dirs are root's, 0700)."""
    path = Path(tempfile.mkdtemp(prefix="pp-pod-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


# ---------------------------------------------------------------- the trust rules, in process


def _plain_profile(root: Path) -> Path:
    return (
        secret_volume(root, {"auth_client.json": b'{"client_type": "none"}'}, mode=0o644) / "auth_client.json"
    )


@needs_root
def test_a_secret_volume_root_is_trusted_only_with_the_opt_in(
    pod_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = _plain_profile(pod_dir / "p")
    refused = read_profile(file)
    assert refused.refused and "writable by group or others (mode 1777)" in refused.problems[0].message
    assert "set PL_AUTH_ALLOW_SHARED_MODES=1" in refused.problems[0].message
    monkeypatch.setenv("PL_AUTH_ALLOW_SHARED_MODES", "1")
    assert read_profile(file).data == {"client_type": "none"}


@needs_root
def test_writable_files_and_planted_entries_stay_refused_with_the_opt_in(
    pod_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PL_AUTH_ALLOW_SHARED_MODES", "1")
    file = _plain_profile(pod_dir / "p")
    os.chmod(file.resolve(), 0o664)  # a group-writable file
    assert "writable by group or others (mode 0664)" in read_profile(file).problems[0].message
    os.chmod(file.resolve(), 0o644)
    os.chmod(file.resolve().parent, 0o775)  # a group-writable directory that is not sticky
    assert "writable by group or others (mode 0775)" in read_profile(file).problems[0].message
    os.chmod(file.resolve().parent, 0o755)
    assert not read_profile(file).problems

    # another user adds an entry to the sticky root (anyone may): never trusted, even if it points to root's
    planted = file.with_name("auth_client.sops.json")
    planted.symlink_to(f"..data/{file.name}")
    os.lchown(planted, POD_UID + 1, POD_UID + 1)
    assert "put into a shared directory by another user" in read_profile(planted).problems[0].message
    other = pod_dir / "other"  # a sticky directory that is not root's is no Secret volume
    other.mkdir(mode=0o1777)
    os.chmod(other, 0o1777)
    (other / "auth_client.json").write_text("{}")
    os.chown(other, POD_UID, POD_UID)
    assert "belongs to another user" in read_profile(other / "auth_client.json").problems[0].message


def test_a_home_that_cannot_be_written_keeps_tokens_in_memory_with_one_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("HOME", str(blocker / "home"))  # HOME under a file: not creatable, even for root
    monkeypatch.setattr("planet_profiles._tokens._told_memory_only", [])
    with caplog.at_level(logging.WARNING, logger="planet_profiles.tokens"):
        stores = [token_store(name, save_token_file=True) for name in ("a", "b", "a")]
    assert all(isinstance(store, MemoryTokenStore) for store in stores)
    assert len(caplog.records) == 1, caplog.text
    assert f"{blocker} is not a directory" in caplog.text
    assert "kept in memory, not in token files" in caplog.text
    assert read_user_config() == {}  # ~/.planet.json under a file: absent, not "cannot read: Not a directory"
    monkeypatch.setenv("HOME", str(tmp_path / "fresh-home"))  # missing, but creatable: a file store
    assert (
        token_store("a", save_token_file=True).path
        == tmp_path / "fresh-home" / ".planet" / "a" / "token.json"
    )


# ---------------------------------------------------------------- the whole pod, in a child process

POD_SCRIPT = """
import sys, requests, planet_profiles
ctx = planet_profiles.open_profile()
print("store", type(ctx.token_manager.store).__name__)
with requests.Session() as session:
    for _ in range(3):
        print("HTTP", session.get(sys.argv[1], auth=ctx.request_authenticator(), timeout=30).status_code)
"""


def _as_pod(argv: list[str], *, group: int | None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd="/",
        user=POD_UID,
        group=group if group is not None else POD_UID,
        extra_groups=[group] if group is not None else [],
        timeout=120,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


@functools.cache
def _pod_python() -> str:
    """A Python of this version that the pod's uid may run: this one, unless it lives in a private
    directory (pyenv under /root, 0700); then the system's `python3.X`. The test's venv packages come
    through PYTHONPATH."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for candidate in (sys.executable, f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        try:
            probe = _as_pod([candidate, "-c", "import sys; print(sys.version_info[:2])"], group=None)
        except OSError:
            continue
        if probe.returncode == 0 and probe.stdout.strip() == str(sys.version_info[:2]):
            return candidate
    pytest.skip(f"no Python {version} that another uid may run (this one is in a private directory)")


def _run_in_pod(
    pod: Path, profiles: Path, api_url: str, *, group: int | None, opt_in: bool
) -> subprocess.CompletedProcess[str]:
    from planet_profiles._sops import Sops

    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(pod / "home"),
        "PYTHONPATH": os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"]]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PL_AUTH_PROFILE_PATH": str(profiles),
        "PL_AUTH_PROFILE": "billing",
        "PL_SOPS_BINARY": Sops().binary,  # resolved (and made executable) by root beforehand
        "SOPS_AGE_KEY_FILE": str(pod / "age-key" / "age-key.txt"),
        "SOPS_DISABLE_VERSION_CHECK": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if opt_in:
        env["PL_AUTH_ALLOW_SHARED_MODES"] = "1"
    _skip_unless_the_pod_reads(env["PYTHONPATH"])
    return _as_pod([_pod_python(), "-c", POD_SCRIPT, api_url], group=group, env=env)


@functools.cache
def _skip_unless_the_pod_reads(pythonpath: str) -> None:
    """The pod's uid imports this checkout and the venv's packages through PYTHONPATH: a clone inside a
    private directory (e.g. `mktemp -d`, 0700) is out of its reach, which says nothing about the loader."""
    probe = _as_pod(
        [_pod_python(), "-c", "import requests, planet_profiles"],
        group=None,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": pythonpath, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr:
        pytest.skip(f"uid {POD_UID} cannot import from {pythonpath} (a private parent directory?)")
    assert probe.returncode == 0, probe.stderr  # anything else is a failure of the test's setup, not a skip


@needs_root
@pytest.mark.integration
@pytest.mark.parametrize(
    ("mode", "group", "encrypted"),
    [(0o644, None, True), (0o440, FS_GROUP, True), (0o440, FS_GROUP, False)],
    ids=["0644-encrypted", "0440-fsGroup-encrypted", "0440-fsGroup-plaintext"],
)
def test_a_pod_loads_a_secret_mounted_profile_with_the_opt_in_only(
    pod_dir: Path, devserver: DevServer, mode: int, group: int | None, encrypted: bool
) -> None:
    from planet_profiles._sops import Sops
    from tests.fixtures_keys import new_age_key

    key = new_age_key(pod_dir / "keygen")
    profile = devserver.profile("oidc_client_credentials_secret", "cc-secret")
    if encrypted:
        target = pod_dir / "keygen" / "auth_client.sops.json"
        Sops().encrypt(profile, target, age_recipients=[key.recipient])
        files = {"auth_client.sops.json": target.read_bytes()}
    else:
        files = {"auth_client.json": json.dumps(profile).encode()}
    profiles = pod_dir / "profiles"
    secret_volume(profiles / "billing", files, mode=mode, group=group)
    secret_volume(
        pod_dir / "age-key", {"age-key.txt": Path(key.identity_file).read_bytes()}, mode=mode, group=group
    )
    shutil.rmtree(pod_dir / "keygen")
    home = pod_dir / "home"
    home.mkdir(mode=0o555)  # root's: the pod's uid cannot write it (as on a read-only root file system)
    os.chmod(home, 0o555)

    devserver.reset_stats()
    refused = _run_in_pod(pod_dir, profiles, devserver.hello_url, group=group, opt_in=False)
    assert refused.returncode != 0 and "HTTP" not in refused.stdout
    assert "is writable by group or others (mode " in refused.stderr, refused.stderr
    assert "PL_AUTH_ALLOW_SHARED_MODES=1" in refused.stderr
    assert devserver.stats()["token_requests"] == 0

    loaded = _run_in_pod(pod_dir, profiles, devserver.hello_url, group=group, opt_in=True)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert loaded.stdout.splitlines() == ["store MemoryTokenStore", "HTTP 200", "HTTP 200", "HTTP 200"]
    lines = [line for line in loaded.stderr.splitlines() if line.strip()]
    memory = [line for line in lines if "tokens are kept in memory, not in token files" in line]
    assert len(memory) == 1 and f"{home} is not writable" in memory[0], loaded.stderr
    plaintext = [
        line for line in lines if "holds plaintext secret(s)" in line
    ]  # an unencrypted profile says so
    assert len(plaintext) == (0 if encrypted else 1) and len(lines) == 1 + len(plaintext), loaded.stderr
    assert devserver.stats()["token_requests"] == 1
    assert list(home.iterdir()) == []
