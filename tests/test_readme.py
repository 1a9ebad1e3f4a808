"""The README cannot rot: every shell command of its user sections (everything before "## Contributing") and
every Python snippet of its Quickstart run here, in document order, as one bash script.

As a new user would: a fresh venv where the README's own `pip install 'planet-profiles[all]'` installs the
built wheel (offline: `PIP_NO_INDEX`, the wheel and the wheelhouse of `make wheel-venvs` as find-links), a
fresh HOME, and the settings the README documents (`AUTH_SERVER`, `CLIENT_ID`, `CLIENT_SECRET`, `API_URL`)
pointing at the local OIDC dev server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_devserver import DevServer
from tests.fixtures_git import GIT_IDENTITY

pytestmark = [pytest.mark.integration, pytest.mark.wheel]

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def user_sections() -> str:
    text = README.read_text(encoding="utf-8")
    return text[: text.index("\n## Contributing\n")]


def script() -> tuple[str, int, int]:
    """The bash script: sh blocks as they are, the Quickstart's python blocks through `python -`."""
    text = user_sections()
    quickstart = (text.index("\n## Quickstart\n"), text.index("\n## ", text.index("\n## Quickstart\n") + 1))
    parts, shells, pythons = [], 0, 0
    for match in FENCE.finditer(text):
        kind, body = match.group(1), match.group(2)
        if kind == "sh":
            shells += 1
            parts.append(body)
        elif kind == "python" and quickstart[0] < match.start() < quickstart[1]:
            pythons += 1
            parts.append(f"python - <<'README_PYTHON'\n{body}README_PYTHON\n")
    return "".join(f"echo '=== block {i}'\n{part}" for i, part in enumerate(parts)), shells, pythons


def test_every_user_command_is_in_a_runnable_block() -> None:
    """No shell prompts or placeholders that a script could not run; the blocks are really there."""
    text, shells, pythons = script()
    assert shells >= 8 and pythons >= 3, (shells, pythons)
    blocks = [m.group(2) for m in FENCE.finditer(user_sections()) if m.group(1) in ("sh", "python")]
    for block in blocks:
        assert not any(line.startswith("$ ") for line in block.splitlines()), block
        for placeholder in ("<your", "age1…", "NAME", "..."):
            assert placeholder not in block, (placeholder, block)


def test_readme_runs(tmp_path: Path, devserver: DevServer) -> None:
    wheels = sorted((REPO / "dist").glob("planet_profiles-*.whl"))
    if len(wheels) != 1 or not (REPO / ".wheelhouse" / ".stamp").exists():
        pytest.fail("the wheel or the wheelhouse is missing: `make test` (`make wheel-venvs`) builds them")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    home = tmp_path / "readme-home"  # (the autouse fixture's tmp_path/home is the test process's HOME)
    home.mkdir()
    client = devserver.clients["cc-secret"]
    assert client.client_secret
    env = {
        "HOME": str(home),
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": f"{REPO / 'dist'} {REPO / '.wheelhouse'}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **{name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"),
        **GIT_IDENTITY,
        # the settings the README asks for
        "AUTH_SERVER": devserver.issuer,
        "CLIENT_ID": client.client_id,
        "CLIENT_SECRET": client.client_secret,
        "API_URL": devserver.hello_url,
    }
    text, _, _ = script()
    (tmp_path / "readme.sh").write_text(text)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", str(tmp_path / "readme.sh")],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert done.stdout.count("=== block") == text.count("echo '=== block")  # every block ran
    assert '"client_id":"cc-secret"' in done.stdout  # curl with the token from `planet-profiles token`
    assert "{'ok': True, 'sub': 'cc-secret', 'client_id': 'cc-secret'" in done.stdout  # requests
    assert done.stdout.count("\n200\n") >= 3  # httpx, the planet_auth_utils facade, Planet's SDK
    assert "plaintext secret `api_key`" in out  # the hooks refused the leak
    assert "auth_client.json" in done.stdout  # `git diff --stat` after copier update
    assert client.client_secret not in done.stdout
    secret = client.client_secret.encode()
    assert [p for p in home.rglob("*") if p.is_file() and secret in p.read_bytes()] == []
