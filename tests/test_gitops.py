"""The GitOps story end to end (issue 4): examples/gitops/walkthrough.sh against the real OIDC server, with
real copier, sops, age keys, git and pre-commit (the team repo's `repo: local` hooks: the installed entry
points of this venv)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures_devserver import DevServer

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parent.parent


def test_gitops_walkthrough(
    tmp_path: Path,
    devserver: DevServer,
    pre_commit_env: Callable[[], dict[str, str]],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    client = devserver.clients["cc-secret"]
    assert client.client_secret
    env = {
        **pre_commit_env(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "WORK": str(work),
        "AUTH_SERVER": devserver.issuer,
        "PUBLIC_CLIENT_ID": "native-public",
        "CC_CLIENT_ID": client.client_id,
        "CC_CLIENT_SECRET": client.client_secret,
        "API_URL": devserver.hello_url,
        "BROWSER": f"{sys.executable} {REPO / 'tests' / 'browser_driver.py'} %s",
    }
    result = subprocess.run(
        ["bash", str(REPO / "examples" / "gitops" / "walkthrough.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "== done" in result.stdout
    assert out.count("billing: HTTP 200") == 2 and "web: HTTP 200" in out  # alice twice-over, then bob
    assert '"client_secret": "ENC[AES256_GCM' in result.stdout
    # Both hooks ran and passed three times: first commit, keyless clone (CI), the rekey commit.
    hook_lines = [
        line
        for line in out.splitlines()
        if line.startswith(("planet-profiles validate", "planet-profiles encrypted"))
    ]
    assert len(hook_lines) == 6 and all(line.endswith("Passed") for line in hook_lines), hook_lines
    # The secret is nowhere on disk in clear: not in the repo, its clone, the hook envs, HOME.
    leaks = [
        p for p in tmp_path.rglob("*") if p.is_file() and client.client_secret.encode() in p.read_bytes()
    ]
    assert leaks == []
    # Tokens stayed out of the checkout; the commit history holds exactly the two commits.
    assert not list((work / "checkout").rglob("token*"))
