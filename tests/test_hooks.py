"""The pre-commit hooks (`.pre-commit-hooks.yaml`, `planet_profiles._hooks`).

First the entry points in process (fast), then real pre-commit 4 (`try-repo`, `install` + `git commit`) on a
temporary team repo whose `auth_client.sops.json` files are encrypted by real sops for age recipients. No
test has a decryption key: the hooks must never need one.

pre-commit installs hook repos from git commits, so the hooks under test come from a temporary clone of the
working tree (uncommitted files included) committed once per session; the hook environment pre-commit
builds for it (a virtualenv with this project pip-installed) lives in a session `PRE_COMMIT_HOME` and is
reused by every `pre-commit run` / installed hook. `try-repo` always builds its own (~5 s each), so it runs
twice: once on a good repo, once on a bad one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from planet_profiles import _hooks
from planet_profiles._hooks import (
    file_recipients,
    main,
    main_encrypted,
    main_validate,
    rekey_warnings,
    rule_recipients,
)
from tests.fixtures_keys import new_age_key, write_sops_yaml

REPO = Path(__file__).resolve().parent.parent
SOPS_FIXTURE = REPO / "tests" / "data" / "cc_secret.sops.json"  # real sops output, age recipient below
FIXTURE_RECIPIENT = "age176c9yxp9u3vdjmadwed29f6xqz896l86v90r27a9pt2szwh665fselffrm"
SECRET = "S3CR3T-never-printed"
SERVER = "https://login.example.com/oauth2/default"
PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))

WEB = {
    "client_type": "oidc_auth_code",
    "auth_server": SERVER,
    "client_id": "web-cli",
    "local_redirect_uri": "http://127.0.0.1:8080/callback",
    "scopes": ["openid", "offline_access"],
}
CLI = {"client_type": "oidc_device_code", "auth_server": SERVER, "client_id": "device-cli"}
SVC = {"client_type": "oidc_client_credentials_secret", "auth_server": SERVER, "client_id": "svc"}
APIKEY = {"client_type": "static_apikey", "api_key": SECRET}

# The five bad files: (path, content, validate's lines, encrypted's lines) as `file: pointer: words`.
BAD: dict[str, tuple[Any, list[str], list[str]]] = {
    "profiles/typo/auth_client.json": (
        {**CLI, "scope": ["openid"]},
        ["profiles/typo/auth_client.json: /scope: unknown key `scope` (did you mean `scopes`?)"],
        [],
    ),
    "profiles/noid/auth_client.json": (
        {k: v for k, v in CLI.items() if k != "client_id"},
        ["profiles/noid/auth_client.json: /client_id: missing required key `client_id`"],
        [],
    ),
    "profiles/leak/auth_client.json": (
        {**SVC, "client_secret": SECRET},
        (leak := ["profiles/leak/auth_client.json: /client_secret: plaintext secret `client_secret`"]),
        leak,
    ),
    "profiles/raw/auth_client.sops.json": (
        {**SVC, "client_secret": SECRET},
        (raw := ["profiles/raw/auth_client.sops.json: /sops: not encrypted with sops: the `sops` block is missing"]),
        raw,
    ),
    "profiles/half/auth_client.sops.json": (
        "HALF",  # a real sops file whose `client_secret` was replaced by plaintext
        (half := ["profiles/half/auth_client.sops.json: /client_secret: `client_secret` is not encrypted"]),
        half,
    ),
}


def write(root: Path, name: str, content: Any) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n")
    return path


def half_encrypted(encrypted_text: str) -> str:
    doc = json.loads(encrypted_text)
    doc["client_secret"] = SECRET
    return json.dumps(doc, indent=2)


def run_hook(entry: Callable[[list[str]], int], files: list[Path], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = entry([str(f) for f in files])
    return code, capsys.readouterr().out


# ---------------------------------------------------------------- entry points, in process


@pytest.mark.parametrize("name", BAD)
def test_each_bad_file_fails_alone(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    content, validate_lines, encrypted_lines = BAD[name]
    if content == "HALF":
        content = half_encrypted(SOPS_FIXTURE.read_text())
    write(tmp_path, name, content)
    monkeypatch.chdir(tmp_path)
    for entry, lines in ((main_validate, validate_lines), (main_encrypted, encrypted_lines)):
        code, out = run_hook(entry, [Path(name)], capsys)
        assert code == (1 if lines else 0), out
        for line in lines:
            assert any(got.startswith(line) for got in out.splitlines()), (line, out)
        assert SECRET not in out


def test_good_files_pass_in_one_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [write(tmp_path, f"p{i}/auth_client.json", doc) for i, doc in enumerate((WEB, CLI) * 30)]
    files += [write(tmp_path, f"s{i}/auth_client.sops.json", SOPS_FIXTURE.read_text()) for i in range(30)]
    assert run_hook(main_validate, files, capsys) == (0, "")
    assert run_hook(main_encrypted, files, capsys) == (0, "")  # no .sops.yaml above: nothing to compare
    assert run_hook(main_validate, [], capsys) == (0, "")


def test_summary_counts_problems_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "a/auth_client.json", WEB)
    bad = write(tmp_path, "b/auth_client.json", {**SVC, "client_secret": SECRET, "scope": "x"})
    code, out = run_hook(main_validate, [good, bad], capsys)
    assert code == 1
    assert out.splitlines()[-1] == "3 problem(s) in 1 of 2 file(s)"
    assert str(good) not in out


def test_module_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "auth_client.json", {**WEB, "client_secret": SECRET})
    assert main(["encrypted", str(bad)]) == 1
    assert "/client_secret: plaintext secret" in capsys.readouterr().out
    assert main(["nope"]) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("entry", "banned"),
    [
        ("main_validate", ("pydantic", "requests", "httpx", "jwt", "cryptography")),
        ("main_encrypted", ("pydantic", "jsonschema", "requests", "httpx", "jwt", "cryptography")),
    ],
)
def test_hooks_import_light(tmp_path: Path, entry: str, banned: tuple[str, ...]) -> None:
    """As the console script does it; `-X importtime` lists every module imported."""
    write_sops_yaml(tmp_path, [FIXTURE_RECIPIENT])
    files = [write(tmp_path, "a/auth_client.json", WEB), write(tmp_path, "b/auth_client.sops.json", SOPS_FIXTURE.read_text())]
    code = f"import sys; from planet_profiles._hooks import {entry}; sys.exit({entry}(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *map(str, files)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "planet_profiles" in imported
    assert not imported & set(banned)


# ---------------------------------------------------------------- rekey due: .sops.yaml creation rules


def test_rekey_warning_when_recipients_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = new_age_key(tmp_path / "keys").recipient
    write_sops_yaml(tmp_path / "repo", [FIXTURE_RECIPIENT, other])
    file = write(tmp_path / "repo", "profiles/svc/auth_client.sops.json", SOPS_FIXTURE.read_text())
    code, out = run_hook(main_encrypted, [file], capsys)
    assert code == 0  # a warning, not a failure
    assert out == (
        f"{file}: /sops: warning: recipients differ from the creation rule in {tmp_path / 'repo' / '.sops.yaml'} "
        f"(to add: age:{other}): a rekey is due; run `planet-profiles rekey {file}`\n"
    )
    write_sops_yaml(tmp_path / "repo", [FIXTURE_RECIPIENT])
    _hooks_cache_clear()
    assert run_hook(main_encrypted, [file], capsys) == (0, "")


def _hooks_cache_clear() -> None:
    """Nothing to clear: each `main_encrypted` call reads `.sops.yaml` afresh (cached within a call only)."""


def test_rule_path_regex_is_relative_to_the_config_directory(tmp_path: Path) -> None:
    doc = json.loads(SOPS_FIXTURE.read_text())
    file = write(tmp_path / "repo", "profiles/svc/auth_client.sops.json", doc)
    (tmp_path / "repo" / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: '^other/'\n    age: age1other\n"
        f"  - path_regex: '^profiles/[^/]+/auth_client\\.sops\\.json$'\n    age: '{FIXTURE_RECIPIENT}'\n"
        "  - age: age1fallback\n"
    )
    assert rekey_warnings(str(file), doc) == []
    write(tmp_path / "repo", "profiles/svc/.sops.yaml", "creation_rules:\n  - path_regex: '^nothing$'\n    age: x\n")
    [notice] = rekey_warnings(str(file), doc)  # the nearest .sops.yaml wins, as in sops
    assert "no creation rule in" in notice.message and "`auth_client.sops.json`" in notice.message
    (tmp_path / "repo" / "profiles/svc/.sops.yaml").write_text("creation_rules: [unclosed\n")
    [notice] = rekey_warnings(str(file), doc)
    assert notice.message.startswith("cannot read") and str(notice).endswith(notice.message)
    assert ": /sops: warning: cannot read" in str(notice)


def test_sops_yaml_is_parsed_once_per_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_sops_yaml(tmp_path, [FIXTURE_RECIPIENT])
    files = [write(tmp_path, f"p/{i}/auth_client.sops.json", SOPS_FIXTURE.read_text()) for i in range(40)]
    parsed: list[str] = []
    real = _hooks._parse_config
    monkeypatch.setattr(_hooks, "_parse_config", lambda path: parsed.append(path) or real(path))
    assert run_hook(main_encrypted, files, capsys) == (0, "")
    assert parsed == [str(tmp_path / ".sops.yaml")]


def test_recipients_of_rules_and_files() -> None:
    assert rule_recipients({"age": " age1a, age1b ", "pgp": "ab cd"}) == (
        frozenset({"age:age1a", "age:age1b", "pgp:ABCD"}),
    )
    assert rule_recipients({"age": ["age1a"], "kms": "arn:k1+arn:role"}) == (frozenset({"age:age1a", "kms:arn:k1"}),)
    grouped = {
        "key_groups": [
            {"age": ["age1a"], "kms": [{"arn": "arn:k1", "role": "r"}]},
            {"pgp": ["FFFF"], "gcp_kms": [{"resource_id": "projects/p/k"}], "hc_vault": ["https://v:8200/v1/sops/keys/k"]},
            {"azure_keyvault": [{"vaultUrl": "https://v.vault.azure.net", "key": "k", "version": "1"}]},
        ]
    }
    sops_block = {
        "key_groups": [
            {"age": [{"recipient": "age1a", "enc": "x"}], "kms": [{"arn": "arn:k1", "role": "r", "enc": "x"}]},
            {
                "pgp": [{"fp": "ffff", "enc": "x"}],
                "gcp_kms": [{"resource_id": "projects/p/k", "enc": "x"}],
                "hc_vault": [{"vault_address": "https://v:8200", "engine_path": "sops", "key_name": "k", "enc": "x"}],
            },
            {"azure_kv": [{"vaultUrl": "https://v.vault.azure.net", "name": "k", "version": "1", "enc": "x"}]},
        ]
    }
    assert sorted(map(sorted, rule_recipients(grouped))) == sorted(map(sorted, file_recipients(sops_block)))
    assert file_recipients(json.loads(SOPS_FIXTURE.read_text())["sops"]) == (frozenset({f"age:{FIXTURE_RECIPIENT}"}),)
    assert file_recipients(None) == ()


# ---------------------------------------------------------------- real pre-commit


def _git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
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

SCRIPTS = (
    'planet-profiles-validate = "planet_profiles._hooks:main_validate"\n'
    'planet-profiles-encrypted = "planet_profiles._hooks:main_encrypted"\n'
)
