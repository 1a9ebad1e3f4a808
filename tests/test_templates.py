"""The copier templates (`templates/profile`, `templates/profile-repo`, the root `copier.yml`) with real
copier, real sops and real age keys.

copier runs in process through its CLI class (`copier._cli.CopierApp`, the exact `copier copy …` argument
parsing, without a Python start-up per run) for the 15-type matrix, and as a real `copier` subprocess where
the process boundary matters (no plaintext on disk, `--trust` vs. the settings file, error output).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

import planet_profiles
from planet_profiles import _copier_ext
from planet_profiles._models import CONFIG_MODELS
from planet_profiles._names import ENCRYPTED_REGEX, SECRET_KEYS
from planet_profiles._sops import Sops
from tests.conftest import REPO
from tests.fixtures_keys import AgeKey, write_sops_yaml

TEMPLATES_ROOT = REPO  # the root copier.yml; the templates are in templates/
PROFILE_TEMPLATE = REPO / "templates" / "profile"
REPO_TEMPLATE = REPO / "templates" / "profile-repo"
COPIER = str(Path(sys.executable).with_name("copier"))
AUTH = "https://login.example.com"
OIDC = {"auth_server": AUTH, "client_id": "cli"}
PINNED = {"allowed_issuer_hosts": ["login.example.com"]}
LOOPBACK = {"local_redirect_uri": "http://127.0.0.1/callback"}


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


SECRET = "cs-" + secrets.token_hex(12)
PASSWORD = "pw-" + secrets.token_hex(12)
API_KEY = "ak-" + secrets.token_hex(12)
PEM = _pem()
KEY_PASSWORD = "kp-" + secrets.token_hex(12)

# client_type -> (minimal answers, what the file holds beyond client_type and the answers)
MATRIX: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "oidc_auth_code": ({**OIDC, "scopes": ["openid", "offline_access"]}, {**LOOPBACK, **PINNED}),
    "oidc_auth_code_secret": ({**OIDC, "client_secret": SECRET}, {**LOOPBACK, **PINNED}),
    "oidc_auth_code_pubkey": (
        {**OIDC, "client_privkey": PEM, "redirect_uri": "https://app.example.com/cb"},
        {**LOOPBACK, **PINNED},
    ),
    "oidc_device_code": ({**OIDC, "audiences": ["https://api.example.com"]}, PINNED),
    "oidc_device_code_secret": ({**OIDC, "client_secret": SECRET}, PINNED),
    "oidc_device_code_pubkey": ({**OIDC, "client_privkey_file": "/etc/keys/cli.pem"}, PINNED),
    "oidc_resource_owner": ({**OIDC, "username": "alice"}, PINNED),
    "oidc_resource_owner_secret": ({**OIDC, "client_secret": SECRET, "password": PASSWORD}, PINNED),
    "oidc_resource_owner_pubkey": (
        {**OIDC, "client_privkey": PEM, "client_privkey_password": KEY_PASSWORD},
        PINNED,
    ),
    "oidc_client_credentials_secret": (
        {**OIDC, "client_secret": SECRET, "client_auth_method": "client_secret_post", "scopes": ["api.read"]},
        PINNED,
    ),
    "oidc_client_credentials_pubkey": (
        {**OIDC, "client_privkey": PEM, "token_endpoint": f"{AUTH}/oauth2/token"},
        PINNED,
    ),
    "oidc_client_validator": ({"auth_server": AUTH, "audiences": ["https://api.example.com"]}, PINNED),
    "planet_legacy": ({}, {}),
    "static_apikey": ({"api_key": API_KEY, "bearer_token_prefix": "api-key"}, {}),
    "none": ({}, {}),
}


# ---------------------------------------------------------------- helpers


@pytest.fixture
def copier_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR in `tmp_path/tmp` (for copier and its children), a git identity, and a copier settings file
    (`COPIER_SETTINGS_PATH`) that trusts nothing yet; returns the settings file."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "test@example.invalid")
    settings = tmp_path / "copier-settings.yml"
    settings.write_text("trust: []\n")
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))
    return settings


def trust(settings: Path, *sources: Path | str) -> None:
    settings.write_text(yaml.safe_dump({"trust": [str(s) for s in sources]}))


def cli_value(value: Any) -> str:
    """How a user writes an answer after `--data key=`: YAML flow style for lists."""
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return str(value)


def data_args(answers: Mapping[str, Any]) -> list[str]:
    return [arg for key, value in answers.items() for arg in ("--data", f"{key}={cli_value(value)}")]


def recipients_args(*keys: AgeKey) -> list[str]:
    return data_args({"age_recipients": [key.recipient for key in keys]})


def copier_in_process(*args: str | Path) -> int:
    """`copier ARGS…` in this process; returns the exit status."""
    from copier._cli import CopierApp

    _, status = CopierApp.run(["copier", *map(str, args)], exit=False)
    return int(status or 0)


def copier_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COPIER, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def git_repo(path: Path, *, tag: str | None = None) -> Path:
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "init")
    if tag:
        git(path, "tag", tag)
    return path


def decrypt(path: Path, key: AgeKey) -> dict[str, Any]:
    return Sops(env={"SOPS_AGE_KEY_FILE": key.identity_file}).decrypt(path)


def files_containing(roots: list[Path], needles: list[str]) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                found += [f"{path}: {n[:6]}…" for n in needles if n.encode() in data]
    return found


def expected(client_type: str) -> dict[str, Any]:
    answers, extra = MATRIX[client_type]
    return {"client_type": client_type, **answers, **extra}


def profile_answers(client_type: str, name: str = "svc") -> dict[str, Any]:
    return {"profile_name": name, "client_type": client_type, **MATRIX[client_type][0]}


# ---------------------------------------------------------------- every client type, non-interactively


@pytest.mark.integration
@pytest.mark.parametrize("how", ["data", "data-file"])
@pytest.mark.parametrize("client_type", list(MATRIX))
def test_every_client_type(
    client_type: str, how: str, tmp_path: Path, copier_env: Path, age_key: AgeKey
) -> None:
    """`copier copy --trust templates/profile DEST --defaults --data …` (or `--data-file` for the clear-text
    answers): the file is valid, secrets are encrypted and absent from the answers file."""
    dest = tmp_path / "profiles"
    write_sops_yaml(dest, [age_key.recipient])
    answers = profile_answers(client_type)
    secret_answers = {k: v for k, v in answers.items() if k in SECRET_KEYS}
    if how == "data":
        args = data_args(answers)
    else:
        data_file = tmp_path / "answers.yml"
        data_file.write_text(yaml.safe_dump({k: v for k, v in answers.items() if k not in SECRET_KEYS}))
        args = ["--data-file", str(data_file), *data_args(secret_answers)]

    status = copier_in_process("copy", "--trust", "--quiet", PROFILE_TEMPLATE, dest, "--defaults", *args)

    assert status == 0
    profile_dir = dest / "svc"
    encrypted = bool(secret_answers)
    file = profile_dir / ("auth_client.sops.json" if encrypted else "auth_client.json")
    assert sorted(p.name for p in profile_dir.iterdir()) == sorted([".copier-answers.yml", file.name])
    assert planet_profiles.validate_file(file) == []
    document = decrypt(file, age_key) if encrypted else json.loads(file.read_text())
    assert document == expected(client_type)  # no nulls, no defaults, nothing else
    planet_profiles.parse_config(document)  # the models agree (cross-field rules included)
    recorded = yaml.safe_load((profile_dir / ".copier-answers.yml").read_text())
    assert not set(recorded) & set(SECRET_KEYS)
    assert recorded["encrypted_keys"] == list(secret_answers)
    assert not files_containing([dest, Path(os.environ["TMPDIR"])], list(secret_answers.values()))


# ---------------------------------------------------------------- trust, and nothing in clear on disk


def _cc_answers() -> list[str]:
    return data_args(
        {
            "profile_name": "svc",
            "client_type": "oidc_resource_owner_secret",
            "auth_server": AUTH,
            "client_id": "cli",
            "client_secret": SECRET,
            "username": "alice",
            "password": PASSWORD,
        }
    )


@pytest.mark.integration
def test_settings_trust_no_plaintext_on_disk_and_loadable(
    tmp_path: Path, copier_env: Path, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The literal `copier copy templates/profile DEST --defaults --data …` (from the package directory),
    trusted by the settings file."""
    dest = tmp_path / "profiles"
    write_sops_yaml(dest, [age_key.recipient])
    command = ["copy", "templates/profile", dest, "--defaults", *_cc_answers()]
    untrusted = copier_cli(*command, cwd=REPO)
    assert untrusted.returncode == 4 and "--trust" in untrusted.stderr  # copier's UnsafeTemplateError
    assert not (dest / "svc").exists()

    trust(copier_env, "templates/profile")  # copier compares the source as typed (normalized, not resolved)
    result = copier_cli(*command, cwd=REPO)

    assert result.returncode == 0, result.stderr
    file = dest / "svc" / "auth_client.sops.json"
    assert planet_profiles.validate_file(file) == []
    assert files_containing([tmp_path], [SECRET, PASSWORD]) == []  # dest, TMPDIR, settings, keys
    assert SECRET not in result.stdout + result.stderr
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(dest))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    ctx = planet_profiles.open_profile("svc", save_token_file=False)
    config = ctx.auth_client().config
    assert config.client_secret.get_secret_value() == SECRET
    assert config.password.get_secret_value() == PASSWORD
    assert ctx.location is not None and ctx.location.file == file


@pytest.mark.integration
def test_trust_flag_and_explicit_recipients(
    tmp_path: Path, copier_env: Path, age_key: AgeKey, age_key2: AgeKey
) -> None:
    """`--trust`, and `age_recipients` instead of a `.sops.yaml`: both keys decrypt."""
    dest = tmp_path / "profiles"
    recipients = recipients_args(age_key, age_key2)
    result = copier_cli("copy", "--trust", PROFILE_TEMPLATE, dest, "--defaults", *_cc_answers(), *recipients)
    assert result.returncode == 0, result.stderr
    file = dest / "svc" / "auth_client.sops.json"
    assert decrypt(file, age_key)["password"] == decrypt(file, age_key2)["password"] == PASSWORD
    assert files_containing([dest, Path(os.environ["TMPDIR"])], [SECRET, PASSWORD]) == []


@pytest.mark.integration
def test_generated_profile_gets_a_token(
    devserver: Any, tmp_path: Path, copier_env: Path, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: copier → encrypted profile → `open_profile` → a token from the real OIDC server."""
    import requests

    dest = tmp_path / "profiles"
    write_sops_yaml(dest, [age_key.recipient])
    answers = {
        "profile_name": "svc",
        "client_type": "oidc_client_credentials_secret",
        "auth_server": devserver.issuer,
        "client_id": "cc-secret",
        "client_secret": devserver.clients["cc-secret"].client_secret,
        "scopes": ["api.read"],
    }
    status = copier_in_process(
        "copy", "--trust", "--quiet", PROFILE_TEMPLATE, dest, "--defaults", *data_args(answers)
    )
    assert status == 0
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(dest))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    ctx = planet_profiles.open_profile("svc", save_token_file=False)
    answer = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200 and answer.json()["client_id"] == "cc-secret"


# ---------------------------------------------------------------- invalid answers


@pytest.mark.integration
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"auth_server": "http://login.example.com"}, "`auth_server` must be an https URL"),
        ({"auth_server": "not a url"}, "`auth_server` must be an https URL"),
        ({"profile_name": "../etc"}, "invalid profile name"),
        ({"profile_name": "Bad Name"}, "invalid profile name"),
        ({"scopes": "openid"}, "`scopes` must be a list of strings"),
        ({"scopes": "[openid, 'two words']"}, "`scopes[1]` must be a single scope"),
        ({"allowed_issuer_hosts": "[other.example.com]"}, "host `login.example.com` of `auth_server`"),
        ({"token_endpoint": "https://evil.example.net/token"}, "host `evil.example.net` of `token_endpoint`"),
        ({"client_secret": ""}, "`client_secret` is required"),
        ({"client_type": "oidc_magic"}, "oidc_magic"),
        ({"age_recipients": "[age1nope]"}, "entry 0 is not an age recipient"),
        ({"age_recipients": "age1" + "q" * 58}, "must be a list of age recipients"),
        ({"client_privkey": "x"}, "unknown key `client_privkey`"),
    ],
)
def test_invalid_answers_are_rejected(
    answer: dict[str, str], message: str, tmp_path: Path, copier_env: Path, age_key: AgeKey
) -> None:
    answers = {
        "profile_name": "svc",
        "client_type": "oidc_client_credentials_secret",
        "auth_server": AUTH,
        "client_id": "cli",
        "client_secret": SECRET,
        **answer,
    }
    dest = tmp_path / "profiles"
    write_sops_yaml(dest, [age_key.recipient])
    args = ["--trust", "--quiet", PROFILE_TEMPLATE, dest, "--defaults"]
    with pytest.raises(ValueError, match="Validation error for question|Invalid choice") as error:
        copier_in_process("copy", *args, *[a for k, v in answers.items() for a in ("--data", f"{k}={v}")])
    assert message in str(error.value)
    assert SECRET not in str(error.value)
    assert not (dest / "svc").exists()


@pytest.mark.integration
def test_invalid_answer_on_the_command_line(tmp_path: Path, copier_env: Path) -> None:
    result = copier_cli(
        "copy", "--trust", PROFILE_TEMPLATE, tmp_path / "p", "--defaults", "--data", "profile_name=svc",
        "--data", "client_type=oidc_device_code", "--data", f"auth_server={AUTH}", "--data", "client_id=x",
        "--data", "scopes=openid",
    )  # fmt: skip
    assert result.returncode != 0
    assert "`scopes` must be a list of strings" in result.stderr.splitlines()[-1]


def modes(directory: Path) -> dict[str, int]:
    paths = (directory, *directory.rglob("*"))
    return {str(p.relative_to(directory)): p.stat().st_mode & 0o777 for p in paths}


@pytest.mark.integration
@pytest.mark.parametrize("root", [False, True], ids=["profile-template", "root-copier-yml"])
def test_copy_makes_the_profile_private(root: bool, tmp_path: Path, copier_env: Path) -> None:
    """The profile directory 0700 and its files 0600 (copier alone writes 0755 / 0644), whatever the
    umask; the destination itself (e.g. a team repo's `profiles/`) is left to the user."""
    source, extra = (TEMPLATES_ROOT, ["--data", "template=profile"]) if root else (PROFILE_TEMPLATE, [])
    answers = data_args({"profile_name": "svc", "client_type": "none"})
    args = ["copy", "--trust", "--quiet", source, tmp_path / "p", "--defaults", *answers, *extra]
    result = copier_cli(*args)
    assert result.returncode == 0, result.stderr
    expected = {".": 0o700, ".copier-answers.yml": 0o600, "auth_client.json": 0o600}
    assert modes(tmp_path / "p" / "svc") == expected


REFUSED_ANSWERS = [
    ({"profile_name": "a/b"}, "Validation error for question 'profile_name': invalid profile name 'a/b'"),
    ({"client_type": "oidc_client_credential_secret"}, "did you mean `oidc_client_credentials_secret`?"),
    ({"auth_server": "http://login.example.com"}, "`auth_server` must be an https URL"),
]


@pytest.mark.integration
@pytest.mark.parametrize(("answer", "message"), REFUSED_ANSWERS)
def test_refused_answer_is_one_line_without_traceback(
    answer: dict[str, str], message: str, tmp_path: Path, copier_env: Path
) -> None:
    """copier raises a refused `--data` answer as an uncaught ValueError (a 40-line traceback); the
    extension's excepthook prints copier's one line instead, with the exit status of a failure."""
    answers = {**profile_answers("oidc_client_credentials_secret"), **answer}
    result = copier_cli(
        "copy", "--trust", "--quiet", PROFILE_TEMPLATE, tmp_path / "p", "--defaults", *data_args(answers)
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert SECRET not in result.stderr and not (tmp_path / "p").exists()


@pytest.mark.integration
def test_missing_required_secret_with_defaults(tmp_path: Path, copier_env: Path) -> None:
    """copier does not validate a secret's default: the render refuses the incomplete profile instead."""
    answers = {"profile_name": "svc", "client_type": "static_apikey"}
    result = copier_cli(
        "copy", "--trust", PROFILE_TEMPLATE, tmp_path / "p", "--defaults", *data_args(answers)
    )
    assert result.returncode == 1
    assert "/api_key: missing required key `api_key`" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "p").exists()


@pytest.mark.integration
def test_no_recipients_is_a_clear_error(tmp_path: Path, copier_env: Path) -> None:
    answers = profile_answers("static_apikey")
    result = copier_cli(
        "copy", "--trust", PROFILE_TEMPLATE, tmp_path / "p", "--defaults", *data_args(answers)
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no recipients to encrypt for: no `.sops.yaml` creation rule matches this path" in result.stderr
    assert '`--data "age_recipients=[$(planet-profiles keygen -y)]"`' in result.stderr
    assert "or put a `.sops.yaml` with a creation rule" in result.stderr
    assert API_KEY not in result.stderr
    assert files_containing([tmp_path], [API_KEY]) == []


@pytest.mark.integration
def test_no_recipients_advice_works(tmp_path: Path, copier_env: Path, age_key: AgeKey) -> None:
    """Both fixes the error names make the same command succeed: `--data age_recipients=[…]`, or a
    `.sops.yaml` above the destination."""
    answers = profile_answers("static_apikey")
    args = ["copy", "--trust", "--quiet", PROFILE_TEMPLATE, tmp_path / "a", "--defaults", *data_args(answers)]
    assert copier_cli(*args).returncode == 1
    given = copier_cli(*args, *recipients_args(age_key))
    assert given.returncode == 0, given.stderr
    assert (tmp_path / "a" / "svc" / "auth_client.sops.json").is_file()
    write_sops_yaml(tmp_path / "b", [age_key.recipient])
    ruled = copier_cli("copy", "--trust", "--quiet", PROFILE_TEMPLATE, tmp_path / "b", "--defaults",
                       *data_args(answers))  # fmt: skip
    assert ruled.returncode == 0, ruled.stderr
    assert (tmp_path / "b" / "svc" / "auth_client.sops.json").is_file()


# ---------------------------------------------------------------- copier update


def _template_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "template"
    shutil.copytree(PROFILE_TEMPLATE, repo)
    return git_repo(repo, tag="v1.0.0")


def _new_template_version(repo: Path) -> None:
    answers_template = repo / "{{ _copier_conf.answers_file }}.jinja"
    answers_template.write_text(answers_template.read_text().replace("NEVER EDIT", "never edit"))
    git(repo, "commit", "-qam", "v2")
    git(repo, "tag", "v2.0.0")


@pytest.fixture
def generated(tmp_path: Path, copier_env: Path, age_key: AgeKey) -> Callable[[str], tuple[Path, Path]]:
    """`generated(client_type)`: a committed git destination holding profile `svc` from template v1.0.0,
    and the template repository (at v2.0.0: a later template version to update to)."""

    def make(client_type: str) -> tuple[Path, Path]:
        template = _template_repo(tmp_path)
        dest = tmp_path / "team"
        write_sops_yaml(dest, [age_key.recipient])
        args = data_args(profile_answers(client_type))
        assert copier_in_process("copy", "--trust", "--quiet", template, dest, "--defaults", *args) == 0
        git_repo(dest)
        _new_template_version(template)
        return dest, template

    return make


def _update(dest: Path, *data: str) -> subprocess.CompletedProcess[str]:
    """`copier update` as a user runs it (in process, copier's tasks would miss monkeypatched variables)."""
    return copier_cli("update", "--trust", "-a", "svc/.copier-answers.yml", "--defaults", *data, dest)


def _assert_clean_update(dest: Path, changed: set[str]) -> None:
    status = git(dest, "status", "--porcelain", "--ignored").splitlines()
    assert {line[3:] for line in status} == changed, status
    assert all(line.startswith(" M ") for line in status)
    for path in dest.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert b"<<<<<<<" not in path.read_bytes() and not path.name.endswith(".rej")


@pytest.mark.integration
def test_update_reencrypts_clear_text_changes(
    generated: Callable[[str], tuple[Path, Path]], age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest, _ = generated("oidc_client_credentials_secret")
    file = dest / "svc" / "auth_client.sops.json"
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)

    result = _update(dest, "--data", "scopes=[api.read, api.write]")
    assert result.returncode == 0, result.stderr

    _assert_clean_update(dest, {"svc/.copier-answers.yml", "svc/auth_client.sops.json"})
    assert decrypt(file, age_key) == {
        **expected("oidc_client_credentials_secret"),
        "scopes": ["api.read", "api.write"],
    }
    assert planet_profiles.validate_file(file) == []
    recorded = yaml.safe_load((dest / "svc" / ".copier-answers.yml").read_text())
    assert recorded["_commit"] == "v2.0.0" and recorded["scopes"] == ["api.read", "api.write"]
    assert not set(recorded) & set(SECRET_KEYS)
    assert files_containing([dest, Path(os.environ["TMPDIR"])], [SECRET]) == []
    assert modes(dest / "svc") == {".": 0o700, ".copier-answers.yml": 0o600, "auth_client.sops.json": 0o600}


@pytest.mark.integration
def test_update_keeps_unchanged_ciphertext_byte_identical(
    generated: Callable[[str], tuple[Path, Path]], age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 point 15: `copier update` changing a clear-text answer changes only that key and the MAC
    in `auth_client.sops.json` (through `sops set`): the secret's ciphertext and the data key stay
    byte-identical, so a reviewer's diff shows what changed and nothing else."""
    dest, _ = generated("oidc_client_credentials_secret")
    file = dest / "svc" / "auth_client.sops.json"
    before = json.loads(file.read_text())
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)

    result = _update(dest, "--data", "scopes=[api.read, api.write]", "--data", "client_id=svc-2")
    assert result.returncode == 0, result.stderr

    after = json.loads(file.read_text())
    assert after["client_secret"] == before["client_secret"] and after["client_secret"].startswith("ENC[")
    assert after["sops"]["age"] == before["sops"]["age"]  # the same data key, wrapped as before
    assert after["sops"]["mac"] != before["sops"]["mac"]
    assert (after["client_id"], after["scopes"]) == ("svc-2", ["api.read", "api.write"])
    assert list(after) == list(before)  # keys stay where they were
    diff = git(dest, "diff", "--unified=0", "--", "svc/auth_client.sops.json")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert not [line for line in changed if "client_secret" in line or "ENC[" in line and "mac" not in line]
    assert any('"svc-2"' in line for line in changed) and any('"api.write"' in line for line in changed)
    assert decrypt(file, age_key) == {
        **expected("oidc_client_credentials_secret"),
        "client_id": "svc-2",
        "scopes": ["api.read", "api.write"],
    }
    assert planet_profiles.validate_file(file) == []
    leftovers = [p.name for p in file.parent.iterdir() if p.name not in (file.name, ".copier-answers.yml")]
    assert leftovers == []  # sops' working copy is gone
    assert files_containing([dest, Path(os.environ["TMPDIR"])], [SECRET]) == []


@pytest.mark.integration
def test_update_without_key(generated: Callable[[str], tuple[Path, Path]], age_key: AgeKey) -> None:
    """Unchanged clear text: nothing to re-encrypt, no key needed. Changed: a clear error, ciphertext kept."""
    dest, _ = generated("oidc_client_credentials_secret")
    file = dest / "svc" / "auth_client.sops.json"
    before = file.read_bytes()

    result = _update(dest)
    assert result.returncode == 0, result.stderr
    assert file.read_bytes() == before
    _assert_clean_update(dest, {"svc/.copier-answers.yml"})
    git(dest, "commit", "-qam", "update to v2")

    result = _update(dest, "--data", "scopes=[api.admin]")
    assert result.returncode != 0
    assert "SOPS_AGE_KEY_FILE" in result.stderr
    sync_command = "python -m planet_profiles._copier_ext sync svc/auth_client.sops.json --answers-file svc/"
    assert sync_command in result.stderr
    assert file.read_bytes() == before

    # the way out the message names, with a key
    env = {**os.environ, "SOPS_AGE_KEY_FILE": age_key.identity_file}
    sync = [sys.executable, "-m", "planet_profiles._copier_ext", "sync", "svc/auth_client.sops.json"]
    subprocess.run(sync, cwd=dest, env=env, check=True, capture_output=True, timeout=60)
    assert decrypt(file, age_key) == {**expected("oidc_client_credentials_secret"), "scopes": ["api.admin"]}


# ---------------------------------------------------------------- the team repository template


@pytest.mark.integration
def test_profile_repo(tmp_path: Path, copier_env: Path, age_key: AgeKey, age_key2: AgeKey) -> None:
    """Needs no --trust; its .sops.yaml encrypts new profiles for the team, only their secret keys."""
    dest = tmp_path / "team-profiles"
    result = copier_cli("copy", REPO_TEMPLATE, dest, "--defaults", *recipients_args(age_key, age_key2))
    assert result.returncode == 0, result.stderr

    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert files == [
        ".copier-answers.yml",
        ".github/workflows/profiles.yml",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".sops.yaml",
        "README.md",
        "profiles/.gitkeep",
    ]
    rule = yaml.safe_load((dest / ".sops.yaml").read_text())["creation_rules"][0]
    assert rule == {
        "path_regex": r"auth_client\.sops\.json$",
        "encrypted_regex": ENCRYPTED_REGEX,
        "age": [age_key.recipient, age_key2.recipient],
    }
    # the hooks: `repo: local`, the installed entry points (no network), as the catalog defines them
    config_text = (dest / ".pre-commit-config.yaml").read_text()
    (local,) = yaml.safe_load(config_text)["repos"]
    catalog = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert local["repo"] == "local" and [h["id"] for h in local["hooks"]] == [h["id"] for h in catalog]
    for hook, defined in zip(local["hooks"], catalog, strict=True):
        assert hook.pop("language") == "system"
        # the team's own rule: every profile lists where its credential may go (TOK-12)
        expected_args = ["--require", "allowed_api_hosts"] if hook["id"].endswith("validate") else None
        assert hook.pop("args", None) == expected_args
        assert hook.items() <= defined.items(), hook["id"]
        assert {k: v for k, v in defined.items() if k not in hook} == {
            "description": defined["description"],
            "language": "python",
            "pass_filenames": True,  # pre-commit's defaults
            "require_serial": False,
        }
    # the pinned remote form, documented beside them, at this version's tag
    version = planet_profiles.__version__
    remote = f"#     - repo: https://github.com/planet-profiles/planet-profiles\n#       rev: v{version}\n"
    assert remote in config_text
    workflow_text = (dest / ".github/workflows/profiles.yml").read_text()
    workflow = yaml.safe_load(workflow_text)
    steps = [step.get("run") for step in workflow["jobs"]["validate"]["steps"]]
    assert f'python -m pip install pre-commit "planet-profiles=={version}"' in steps
    assert "pre-commit run --all-files --show-diff-on-failure" in steps
    assert "secrets." not in workflow_text and "SOPS_AGE_KEY" not in workflow_text
    readme = (dest / "README.md").read_text()
    for needle in (
        "copier copy --trust",
        "copier update --trust",
        "planet-profiles keygen",
        "planet-profiles new profiles",
        "planet-profiles rekey",
        "PL_AUTH_PROFILE_PATH",
        "SOPS_AGE_KEY_FILE",
    ):
        assert needle in readme
    assert "allowed_issuer_hosts" in readme
    assert "-d 'allowed_api_hosts=[https://api.example.com]'" in readme  # no api_hosts answer: an example
    recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert recorded["age_recipients"] == [age_key.recipient, age_key2.recipient]

    # the .sops.yaml works for planet_profiles.Sops and for the profile template
    target = dest / "profiles" / "by-hand" / "auth_client.sops.json"
    target.parent.mkdir()
    Sops().encrypt({"client_type": "static_apikey", "api_key": API_KEY}, target)
    assert decrypt(target, age_key2)["api_key"] == API_KEY
    assert planet_profiles.validate_file(target) == []
    args = data_args(profile_answers("oidc_client_credentials_secret"))
    assert (
        copier_in_process(
            "copy", "--trust", "--quiet", PROFILE_TEMPLATE, dest / "profiles", "--defaults", *args
        )
        == 0
    )
    profile = dest / "profiles" / "svc" / "auth_client.sops.json"
    assert decrypt(profile, age_key)["client_secret"] == decrypt(profile, age_key2)["client_secret"] == SECRET
    assert planet_profiles.validate_file(profile) == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("value", "message"),
    [("[]", "list at least one age recipient"), ("[age1nope]", "entry 0 is not an age recipient")],
)
def test_profile_repo_rejects_bad_recipients(
    value: str, message: str, tmp_path: Path, copier_env: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        copier_in_process(
            "copy",
            "--quiet",
            REPO_TEMPLATE,
            tmp_path / "r",
            "--defaults",
            "--data",
            f"age_recipients={value}",
        )


# ---------------------------------------------------------------- the root copier.yml


@pytest.fixture
def root_repo(tmp_path: Path, copier_env: Path) -> Path:
    """The versioned git copy of the templates (`planet-profiles templates --git`), tagged v0.1.0."""
    from planet_profiles._templates import versioned_copy

    return versioned_copy(tmp_path / "planet-profiles", source=TEMPLATES_ROOT, version="0.1.0")


@pytest.mark.integration
def test_root_copier_yml_offers_both_templates(
    root_repo: Path, tmp_path: Path, copier_env: Path, age_key: AgeKey
) -> None:
    """`copier copy <repo> DEST --data template=…`: `_subdirectory` follows the answer."""
    team = tmp_path / "team"
    args = ["--defaults", "--data", "template=profile-repo", *recipients_args(age_key)]
    result = copier_cli("copy", "--trust", root_repo, team, *args)
    assert result.returncode == 0, result.stderr
    assert (team / ".sops.yaml").is_file() and (team / "profiles" / ".gitkeep").is_file()
    assert not (team / "templates").exists() and not (team / "copier.yml").exists()
    recorded = yaml.safe_load((team / ".copier-answers.yml").read_text())
    assert recorded["template"] == "profile-repo" and recorded["_commit"] == "v0.1.0"
    assert "profile_name" not in recorded and "encrypted_keys" not in recorded

    trust(copier_env, root_repo)
    args = data_args({"template": "profile", **profile_answers("oidc_client_credentials_secret")})
    result = copier_cli("copy", root_repo, team / "profiles", "--defaults", *args)
    assert result.returncode == 0, result.stderr
    profile = team / "profiles" / "svc" / "auth_client.sops.json"
    assert decrypt(profile, age_key) == expected("oidc_client_credentials_secret")
    recorded = yaml.safe_load((team / "profiles" / "svc" / ".copier-answers.yml").read_text())
    assert recorded["template"] == "profile" and "team_name" not in recorded
    assert files_containing([team, Path(os.environ["TMPDIR"])], [SECRET]) == []

    # a profile without secrets, updated through the root copier.yml: copier's own merge, no task
    args = data_args({"template": "profile", **profile_answers("oidc_device_code", "pub")})
    assert copier_in_process("copy", "--quiet", root_repo, team / "profiles", "--defaults", *args) == 0
    git_repo(team)
    update = ["update", "-a", "pub/.copier-answers.yml", "--defaults", "--data", "scopes=[openid]"]
    result = copier_cli(*update, team / "profiles")
    assert result.returncode == 0, result.stderr
    _assert_clean_update(team, {"profiles/pub/.copier-answers.yml", "profiles/pub/auth_client.json"})
    plain = json.loads((team / "profiles" / "pub" / "auth_client.json").read_text())
    assert plain == {**expected("oidc_device_code"), "scopes": ["openid"]}


# ---------------------------------------------------------------- drift: the templates follow the models


def _config(path: Path) -> dict[str, Any]:
    from copier._template import load_template_config

    return load_template_config(path)


def test_client_type_choices_follow_the_models() -> None:
    choices = _config(PROFILE_TEMPLATE / "copier.yml")["client_type"]["choices"]
    assert choices == {f"{t} — {m.display_name}: {m.description}": t for t, m in CONFIG_MODELS.items()}


def test_every_template_key_is_a_question() -> None:
    questions = {k for k in _config(PROFILE_TEMPLATE / "copier.yml") if not k.startswith("_")}
    assert set(_copier_ext.TEMPLATE_KEYS) <= questions
    for client_type, model in CONFIG_MODELS.items():
        keys = set(_copier_ext.type_keys(client_type))
        assert keys <= set(model.model_fields), client_type
        assert {k for k in model.model_fields if model.model_fields[k].is_required()} - {
            "client_type"
        } <= keys


def test_root_copier_yml_repeats_the_profile_task() -> None:
    profile, root = _config(PROFILE_TEMPLATE / "copier.yml"), _config(TEMPLATES_ROOT / "copier.yml")
    assert [t["command"] for t in root["_tasks"]] == [t["command"] for t in profile["_tasks"]]
    assert root["_tasks"][0]["when"].replace("template == 'profile' and ", "") == profile["_tasks"][0]["when"]
    assert profile["_exclude"][-1] in root["_exclude"]


def test_repo_template_age_pattern_follows_the_extension() -> None:
    validator = _config(REPO_TEMPLATE / "copier.yml")["age_recipients"]["validator"]
    assert f"'^({_copier_ext.AGE_RECIPIENT_PATTERN.pattern})$'" in validator


# ---------------------------------------------------------------- the extension, directly


def test_problem_messages() -> None:
    base = {"client_type": "oidc_device_code", "auth_server": AUTH}
    assert _copier_ext.problem("auth_server", base) == ""
    assert _copier_ext.problem("client_id", {**base, "client_id": ""}).startswith("`client_id` is required")
    assert "single scope" in _copier_ext.problem("scopes", {**base, "scopes": ["a b"]})
    assert _copier_ext.problem("local_redirect_uri", {**base, "client_type": "oidc_auth_code"}).startswith(
        "at least one of `redirect_uri` and `local_redirect_uri`"
    )
    pubkey = {**base, "client_type": "oidc_client_credentials_pubkey"}
    assert _copier_ext.problem("client_privkey", pubkey).startswith("one of `client_privkey_file`")
    assert _copier_ext.problem("client_privkey", {**pubkey, "client_privkey_file": "k.pem"}) == ""
    assert _copier_ext.recipients_problem([], True) and not _copier_ext.recipients_problem([], False)


def test_build_document_leaves_out_empty_and_default_values() -> None:
    answers = {
        "client_type": "static_apikey",
        "api_key": API_KEY,
        "bearer_token_prefix": "Bearer",
        "auth_server": AUTH,  # not a key of this type
    }
    assert _copier_ext.build_document(answers, with_secrets=True) == {
        "client_type": "static_apikey",
        "api_key": API_KEY,
    }
    assert _copier_ext.build_document(answers, with_secrets=False) == {"client_type": "static_apikey"}
    legacy = {"client_type": "planet_legacy", "legacy_auth_endpoint": "https://api.planet.com/v0/auth/login"}
    assert _copier_ext.build_document(legacy, with_secrets=True) == {"client_type": "planet_legacy"}


@pytest.mark.integration
def test_sync_keeps_secrets_and_the_unchanged_file(tmp_path: Path, age_key: AgeKey) -> None:
    target = tmp_path / "svc" / "auth_client.sops.json"
    target.parent.mkdir()
    answers_file = target.parent / ".copier-answers.yml"
    answers = {"client_type": "static_apikey", "age_recipients": [age_key.recipient]}
    answers_file.write_text(yaml.safe_dump(answers))
    Sops().encrypt(
        {"client_type": "static_apikey", "api_key": API_KEY}, target, age_recipients=[age_key.recipient]
    )
    before = target.read_bytes()
    keyed = Sops(env={"SOPS_AGE_KEY_FILE": age_key.identity_file})

    assert _copier_ext.sync(target, answers_file) is False  # no key needed when nothing changes
    assert target.read_bytes() == before
    answers_file.write_text(yaml.safe_dump({**answers, "bearer_token_prefix": "api-key"}))
    assert _copier_ext.main(["sync", str(target)]) == 1  # clear text changed and no key: an error
    assert target.read_bytes() == before
    assert _copier_ext.sync(target, answers_file, sops=keyed) is True
    assert keyed.decrypt(target) == {
        "client_type": "static_apikey",
        "api_key": API_KEY,
        "bearer_token_prefix": "api-key",
    }
    assert _copier_ext.sync(tmp_path / "missing.sops.json", answers_file) is False


def test_extension_module_is_not_imported_by_the_package() -> None:
    code = (
        "import planet_profiles, sys; "
        "print('planet_profiles._copier_ext' in sys.modules, 'jinja2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
