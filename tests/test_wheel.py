"""From the wheel alone (issue 9): a fresh venv with the built wheel (`[all]`) and pre-commit, installed
offline from the wheelhouse (`make wheel-venvs`: `.venv-wheel/`), a fresh HOME, no checkout on any path and
no network (`PIP_NO_INDEX`, proxies pointing at a closed port).

`keygen`, `new --repo` (the team repository), `new` (an encrypted profile), `validate`, `show`, a commit
through the repository's pre-commit hooks (`repo: local`: they run the installed entry points), and a
plaintext secret refused by them; `templates` points into the installed package; the seed's in-memory
example runs verbatim on the facade (no planet-auth in that venv).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures_git import GIT_IDENTITY

pytestmark = [pytest.mark.integration, pytest.mark.wheel]

REPO = Path(__file__).resolve().parent.parent
WHEEL_VENV = REPO / ".venv-wheel"
SECRET = "s3cr3t-from-the-smoke-test"
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, any attempt fails at once


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    if not (WHEEL_VENV / ".stamp").exists():
        pytest.fail(f"{WHEEL_VENV} is missing: `make test` (or `make wheel-venvs`) creates it", pytrace=False)
    return WHEEL_VENV / "bin"


@pytest.fixture
def sh(tmp_path: Path, bin_dir: Path):  # type: ignore[no-untyped-def]
    home = tmp_path / "fresh-home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        **{name: NOWHERE for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")},
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        **GIT_IDENTITY,
    }

    def run(*command: str, cwd: Path = home, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
        )
        if ok:
            assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"
        return done

    run.home = home  # type: ignore[attr-defined]
    return run


def test_from_the_wheel_alone(sh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home: Path = sh.home
    site = sh("python", "-c", "import planet_profiles, os; print(os.path.dirname(planet_profiles.__file__))")
    assert site.stdout.strip().startswith(str(WHEEL_VENV / "lib")), site.stdout  # the wheel, not the checkout
    templates = sh("planet-profiles", "templates").stdout.strip()
    assert templates == os.path.join(site.stdout.strip(), "_data")

    recipient = sh("planet-profiles", "keygen").stdout.strip()
    assert recipient.startswith("age1")
    assert (home / ".config" / "sops" / "age" / "keys.txt").stat().st_mode & 0o777 == 0o600

    sh("planet-profiles", "new", "team", "--repo", "--defaults", "-d", f"age_recipients=[{recipient}]")
    team = home / "team"
    assert "repo: local" in (team / ".pre-commit-config.yaml").read_text()
    sh("git", "init", "-q", cwd=team)
    sh("pre-commit", "install", cwd=team)

    created = sh(
        "planet-profiles", "new", "profiles", "--defaults",
        "-d", "profile_name=billing", "-d", "client_type=oidc_client_credentials_secret",
        "-d", "auth_server=https://login.example.com", "-d", "client_id=billing",
        "-d", "scopes=[api.read]", "-d", f"client_secret={SECRET}",
        cwd=team,
    )  # fmt: skip
    assert "Created profiles/billing" in created.stdout
    encrypted = team / "profiles" / "billing" / "auth_client.sops.json"
    assert json.loads(encrypted.read_text())["client_secret"].startswith("ENC[AES256_GCM")
    assert "1 file(s) OK" in sh("planet-profiles", "validate", "profiles", cwd=team).stderr

    shown = sh(
        "env", f"PL_AUTH_PROFILE_PATH={team / 'profiles'}", "planet-profiles", "show", "billing"
    ).stdout
    assert "(encrypted)" in shown and recipient in shown and "client_credentials_secret" in shown
    assert SECRET not in shown

    sh("git", "add", "-A", cwd=team)
    commit = sh("git", "commit", "-m", "Add billing", cwd=team)
    output = commit.stdout + commit.stderr  # git shows the hooks' output on stderr
    hooks = [line for line in output.splitlines() if line.startswith("planet-profiles ")]
    assert len(hooks) == 2 and all(line.endswith("Passed") for line in hooks), output

    leak = team / "profiles" / "leak" / "auth_client.json"
    leak.parent.mkdir()
    leak.write_text(json.dumps({**_plain(), "client_secret": SECRET}))
    sh("git", "add", "-A", cwd=team)
    refused = sh("git", "commit", "-m", "Add leak", cwd=team, ok=False)
    assert refused.returncode != 0
    assert (
        "profiles/leak/auth_client.json: /client_secret: plaintext secret" in refused.stdout + refused.stderr
    )
    assert sh("git", "log", "--oneline", cwd=team).stdout.count("\n") == 1  # only the first commit

    # Nowhere else on disk in clear: not in the encrypted profile, the answers, copier's or git's files.
    leak.unlink()
    found = [p for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert found == [], found


def _plain() -> dict[str, object]:
    return {
        "client_type": "oidc_client_credentials_secret",
        "auth_server": "https://login.example.com",
        "client_id": "leak",
        "scopes": ["api.read"],
    }


def test_the_seed_example_runs_on_the_facade(sh) -> None:  # type: ignore[no-untyped-def]
    example = REPO / "examples" / "client" / "initialize_client_lib_in_memory.py"
    result = sh("python", str(example))
    assert "Auth client class: AuthCodeAuthClient" in result.stdout
    where = sh("python", "-c", "import planet_auth_utils as m; print(m.PlanetAuthFactory.__module__)")
    assert where.stdout.strip() == "planet_profiles._facade"
