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

from planet_profiles import _sops_rules
from planet_profiles._hooks import main, main_encrypted, main_validate
from planet_profiles._sops_rules import file_recipients, recipient_problems, rule_recipients
from tests.fixtures_git import GIT_IDENTITY, PRE_COMMIT, commit, git, hook_config
from tests.fixtures_keys import new_age_key, write_sops_yaml

REPO = Path(__file__).resolve().parent.parent
SOPS_FIXTURE = REPO / "tests" / "data" / "cc_secret.sops.json"  # real sops output, age recipient below
FIXTURE_RECIPIENT = "age176c9yxp9u3vdjmadwed29f6xqz896l86v90r27a9pt2szwh665fselffrm"
SECRET = "S3CR3T-never-printed"
SERVER = "https://login.example.com/oauth2/default"

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

HALF = "a real sops file whose `client_secret` was replaced by plaintext"
BOTH = ("validate", "encrypted")
# The five bad files: path -> (content, what the hooks print after `path: `, the hooks that fail on it).
BAD: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "profiles/typo/auth_client.json": (
        {**CLI, "scope": ["openid"]},
        "/scope: unknown key `scope` (did you mean `scopes`?)",
        ("validate",),
    ),
    "profiles/noid/auth_client.json": (
        {k: v for k, v in CLI.items() if k != "client_id"},
        "/client_id: missing required key `client_id`",
        ("validate",),
    ),
    "profiles/leak/auth_client.json": (
        {**SVC, "client_secret": SECRET},
        "/client_secret: plaintext secret `client_secret` in auth_client.json",
        BOTH,
    ),
    "profiles/raw/auth_client.sops.json": (
        {**SVC, "client_secret": SECRET},
        "/sops: not encrypted with sops: the `sops` block is missing",
        BOTH,
    ),
    "profiles/half/auth_client.sops.json": (HALF, "/client_secret: `client_secret` is not encrypted", BOTH),
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


def run_hook(
    entry: Callable[[list[str]], int], files: list[Path], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = entry([str(f) for f in files])
    return code, capsys.readouterr().out


# ---------------------------------------------------------------- entry points, in process


@pytest.mark.parametrize("name", BAD)
def test_each_bad_file_fails_alone(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    content, expected, hooks = BAD[name]
    write(tmp_path, name, half_encrypted(SOPS_FIXTURE.read_text()) if content == HALF else content)
    monkeypatch.chdir(tmp_path)  # relative names, as pre-commit passes them
    for hook, entry in (("validate", main_validate), ("encrypted", main_encrypted)):
        code, out = run_hook(entry, [Path(name)], capsys)
        if hook in hooks:
            assert code == 1
            assert f"{name}: {expected}" in [
                line[: len(name) + 2 + len(expected)] for line in out.splitlines()
            ]
        else:
            assert (code, out) == (0, "")
        assert SECRET not in out


def test_good_files_pass_in_one_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [write(tmp_path, f"p{i}/auth_client.json", doc) for i, doc in enumerate((WEB, CLI) * 30)]
    files += [write(tmp_path, f"s{i}/auth_client.sops.json", SOPS_FIXTURE.read_text()) for i in range(30)]
    assert run_hook(main_validate, files, capsys) == (0, "")
    assert run_hook(main_encrypted, files, capsys) == (0, "")  # no .sops.yaml above: nothing to compare
    assert run_hook(main_validate, [], capsys) == (0, "")


def test_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "a/auth_client.json", WEB)
    bad = write(tmp_path, "b/auth_client.json", {**SVC, "client_secret": SECRET, "scope": "x"})
    code, out = run_hook(main_validate, [good, bad], capsys)
    assert code == 1
    assert out.splitlines() == [
        f"{bad}: /client_secret: plaintext secret `client_secret` in auth_client.json: move it to "
        "auth_client.sops.json and encrypt it with `planet-profiles encrypt`",
        f"{bad}: /scope: unknown key `scope` (did you mean `scopes`?)",
    ]


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
    files = [
        write(tmp_path, "a/auth_client.json", WEB),
        write(tmp_path, "b/auth_client.sops.json", SOPS_FIXTURE.read_text()),
    ]
    code = f"import sys; from planet_profiles._hooks import {entry}; sys.exit({entry}(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *map(str, files)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "planet_profiles" in imported
    assert not imported & set(banned)


# ---------------------------------------------------------------- rekey due: .sops.yaml creation rules


def test_recipients_that_differ_from_the_rule_fail_each_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = new_age_key(tmp_path / "keys").recipient
    write_sops_yaml(tmp_path / "repo", [FIXTURE_RECIPIENT, other])
    file = write(tmp_path / "repo", "profiles/svc/auth_client.sops.json", SOPS_FIXTURE.read_text())
    code, out = run_hook(main_encrypted, [file], capsys)
    config = tmp_path / "repo" / ".sops.yaml"
    fix = f"run `planet-profiles rekey {file}` (with a key that can decrypt it) and commit the result"
    assert (code, out) == (
        1,
        f"{file}: /sops: recipient age:{other} named by the creation rule in {config} is missing: {fix}\n",
    )
    write_sops_yaml(tmp_path / "repo", [FIXTURE_RECIPIENT])
    assert run_hook(main_encrypted, [file], capsys) == (0, "")

    # someone without a key appends their recipient to the `sops` block (not covered by the MAC)
    attacker = new_age_key(tmp_path / "keys", "attacker.txt").recipient
    doc = json.loads(SOPS_FIXTURE.read_text())
    doc["sops"]["age"].append({"recipient": attacker, "enc": doc["sops"]["age"][0]["enc"]})
    write(tmp_path / "repo", "profiles/svc/auth_client.sops.json", doc)
    code, out = run_hook(main_encrypted, [file], capsys)
    assert (code, out) == (
        1,
        f"{file}: /sops: recipient age:{attacker} is not named by the creation rule in {config}: {fix}\n",
    )


def test_rule_path_regex_is_relative_to_the_config_directory(tmp_path: Path) -> None:
    doc = json.loads(SOPS_FIXTURE.read_text())
    file = write(tmp_path / "repo", "profiles/svc/auth_client.sops.json", doc)
    (tmp_path / "repo" / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: '^other/'\n    age: age1other\n"
        f"  - path_regex: '^profiles/[^/]+/auth_client\\.sops\\.json$'\n    age: '{FIXTURE_RECIPIENT}'\n"
        "  - age: age1fallback\n"
    )
    assert recipient_problems(str(file), doc) == []
    write(
        tmp_path / "repo",
        "profiles/svc/.sops.yaml",
        "creation_rules:\n  - path_regex: '^nothing$'\n    age: x\n",
    )
    [problem] = recipient_problems(str(file), doc)  # the nearest .sops.yaml wins, as in sops
    assert "no creation rule in" in problem.message and "`auth_client.sops.json`" in problem.message
    (tmp_path / "repo" / "profiles/svc/.sops.yaml").write_text("creation_rules: [unclosed\n")
    [problem] = recipient_problems(str(file), doc)
    assert problem.message.startswith("cannot read") and str(problem).endswith(problem.message)
    assert ": /sops: cannot read" in str(problem)


def test_only_the_key_groups_differ(tmp_path: Path) -> None:
    doc = json.loads(SOPS_FIXTURE.read_text())
    doc["sops"]["age"].append({"recipient": "age1other", "enc": "x"})  # one group of two keys
    file = write(tmp_path, "auth_client.sops.json", doc)
    write(
        tmp_path,
        ".sops.yaml",
        f"creation_rules:\n  - key_groups:\n      - age: ['{FIXTURE_RECIPIENT}']\n      - age: [age1other]\n",
    )
    [problem] = recipient_problems(str(file), doc)  # two groups of one key each: both needed to decrypt
    assert problem.message.startswith("key groups differ from the creation rule in")
    assert "planet-profiles rekey" in problem.message


def test_sops_yaml_is_parsed_once_per_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_sops_yaml(tmp_path, [FIXTURE_RECIPIENT])
    files = [write(tmp_path, f"p/{i}/auth_client.sops.json", SOPS_FIXTURE.read_text()) for i in range(40)]
    parsed: list[str] = []
    real = _sops_rules._parse_config

    def counting(path: str) -> Any:
        parsed.append(path)
        return real(path)

    monkeypatch.setattr(_sops_rules, "_parse_config", counting)
    assert run_hook(main_encrypted, files, capsys) == (0, "")
    assert parsed == [str(tmp_path / ".sops.yaml")]


def test_recipients_of_rules_and_files() -> None:
    assert rule_recipients({"age": " age1a, age1b ", "pgp": "ab cd"}) == (
        frozenset({"age:age1a", "age:age1b", "pgp:ABCD"}),
    )
    assert rule_recipients({"age": ["age1a"], "kms": "arn:k1+arn:role"}) == (
        frozenset({"age:age1a", "kms:arn:k1"}),
    )
    grouped = {
        "key_groups": [
            {"age": ["age1a"], "kms": [{"arn": "arn:k1", "role": "r"}]},
            {
                "pgp": ["FFFF"],
                "gcp_kms": [{"resource_id": "projects/p/k"}],
                "hc_vault": ["https://v:8200/v1/sops/keys/k"],
            },
            {"azure_keyvault": [{"vaultUrl": "https://v.vault.azure.net", "key": "k", "version": "1"}]},
        ]
    }
    sops_block = {
        "key_groups": [
            {
                "age": [{"recipient": "age1a", "enc": "x"}],
                "kms": [{"arn": "arn:k1", "role": "r", "enc": "x"}],
            },
            {
                "pgp": [{"fp": "ffff", "enc": "x"}],
                "gcp_kms": [{"resource_id": "projects/p/k", "enc": "x"}],
                "hc_vault": [
                    {"vault_address": "https://v:8200", "engine_path": "sops", "key_name": "k", "enc": "x"}
                ],
            },
            {
                "azure_kv": [
                    {"vaultUrl": "https://v.vault.azure.net", "name": "k", "version": "1", "enc": "x"}
                ]
            },
        ]
    }
    assert sorted(map(sorted, rule_recipients(grouped))) == sorted(map(sorted, file_recipients(sops_block)))
    assert file_recipients(json.loads(SOPS_FIXTURE.read_text())["sops"]) == (
        frozenset({f"age:{FIXTURE_RECIPIENT}"}),
    )
    assert file_recipients(None) == ()


# ---------------------------------------------------------------- real pre-commit


@pytest.fixture(scope="session")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Real sops files for a first age recipient, made once; the identity files are deleted at once."""
    from planet_profiles._sops import Sops

    keys_dir = tmp_path_factory.mktemp("keys")
    first, second = new_age_key(keys_dir, "1.txt").recipient, new_age_key(keys_dir, "2.txt").recipient
    shutil.rmtree(keys_dir)  # encryption needs only the public recipients
    out = tmp_path_factory.mktemp("encrypted")
    sops = Sops()
    texts = {}
    for name, doc in {"svc": {**SVC, "client_secret": SECRET}, "apikey": APIKEY}.items():
        path = out / name / "auth_client.sops.json"
        path.parent.mkdir()
        sops.encrypt(doc, path, age_recipients=[first])
        texts[name] = path.read_text()
    return {"texts": texts, "first": first, "second": second}


def team_repo(root: Path, encrypted: Mapping[str, Any], *, bad: bool = False) -> Path:
    """A team profile repo (files staged): plaintext and encrypted profiles, `.sops.yaml`, one other JSON."""
    write_sops_yaml(root, [encrypted["first"]], path_regex=r"^profiles/.*auth_client\.sops\.json$")
    write(root, "profiles/web/auth_client.json", WEB)
    write(root, "profiles/cli/auth_client.json", CLI)
    write(root, "profiles/svc/auth_client.sops.json", encrypted["texts"]["svc"])
    write(root, "profiles/apikey/auth_client.sops.json", encrypted["texts"]["apikey"])
    write(root, "config/settings.json", {"client_secret": SECRET, "unknown": True})  # not a profile
    for name, (content, _, _) in BAD.items() if bad else ():
        write(root, name, half_encrypted(encrypted["texts"]["svc"]) if content == HALF else content)
    env = {**os.environ, **GIT_IDENTITY}
    git(root, "init", "-q", env=env)
    git(root, "add", "-A", env=env)
    return root


def hook_output(output: str, hook_id: str) -> list[str]:
    """The lines pre-commit printed for one hook (between `- hook id: <id>` and the next hook's line)."""
    lines = output.splitlines()
    start = lines.index(f"- hook id: {hook_id}")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("planet-profiles ")), len(lines)
    )
    return [line for line in lines[start + 1 : end] if line and not line.startswith("- ")]


def pre_commit(args: list[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRE_COMMIT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
def test_try_repo_passes_a_good_team_repo(
    tmp_path: Path,
    hook_repo: tuple[Path, str],
    pre_commit_env: Callable[[], dict[str, str]],
    encrypted: dict[str, Any],
) -> None:
    team = team_repo(tmp_path / "team", encrypted)
    done = pre_commit(["try-repo", str(hook_repo[0]), "--all-files"], team, pre_commit_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "planet-profiles validate....." in done.stdout and "planet-profiles encrypted...." in done.stdout
    assert "Failed" not in done.stdout and "warning" not in done.stdout


@pytest.mark.integration
def test_try_repo_fails_each_bad_file_with_file_and_pointer(
    tmp_path: Path,
    hook_repo: tuple[Path, str],
    pre_commit_env: Callable[[], dict[str, str]],
    encrypted: dict[str, Any],
) -> None:
    team = team_repo(tmp_path / "team", encrypted, bad=True)
    done = pre_commit(["try-repo", str(hook_repo[0]), "--all-files"], team, pre_commit_env())
    assert done.returncode == 1, done.stdout + done.stderr
    for hook in BOTH:
        got = hook_output(done.stdout, f"planet-profiles-{hook}")
        expected = {name: f"{name}: {line}" for name, (_, line, hooks) in BAD.items() if hook in hooks}
        for line in expected.values():
            assert any(g.startswith(line) for g in got), (hook, line, got)
        assert {g.split(":")[0] for g in got} == set(expected), got  # only the bad files
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.integration
def test_installed_hook_blocks_a_bad_commit_and_lets_a_good_one_through(
    tmp_path: Path, hooked_repo: Callable[[Path], dict[str, str]], encrypted: dict[str, Any]
) -> None:
    team = team_repo(tmp_path / "team", encrypted)
    env = hooked_repo(team)
    first = commit(team, "profiles", env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "planet-profiles validate....." in first.stdout + first.stderr  # the hook really ran

    write(team, "profiles/new/auth_client.json", {**SVC, "client_secret": SECRET})
    blocked = commit(team, "leak", env)
    assert blocked.returncode != 0
    assert (
        "profiles/new/auth_client.json: /client_secret: plaintext secret" in blocked.stdout + blocked.stderr
    )
    assert git(team, "rev-list", "--count", "HEAD") == "1"
    assert SECRET not in blocked.stdout + blocked.stderr

    write(team, "profiles/new/auth_client.json", CLI)
    good = commit(team, "fixed", env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert git(team, "rev-list", "--count", "HEAD") == "2"


@pytest.mark.integration
def test_a_rekey_due_fails_and_names_the_fix(
    tmp_path: Path,
    hook_repo: tuple[Path, str],
    pre_commit_env: Callable[[], dict[str, str]],
    encrypted: dict[str, Any],
) -> None:
    env = pre_commit_env()
    team = team_repo(tmp_path / "team", encrypted)
    write(team, ".pre-commit-config.yaml", hook_config(hook_repo))
    write_sops_yaml(team, [encrypted["first"], encrypted["second"]], path_regex=r"^profiles/")  # a new member
    git(team, "add", "-A", env=env)
    done = pre_commit(["run", "--all-files"], team, env)
    assert done.returncode == 1, done.stdout + done.stderr
    got = hook_output(done.stdout, "planet-profiles-encrypted")
    assert sorted(got) == [
        f"profiles/{name}/auth_client.sops.json: /sops: recipient age:{encrypted['second']} named by the "
        f"creation rule in .sops.yaml is missing: run `planet-profiles rekey "
        f"profiles/{name}/auth_client.sops.json` (with a key that can decrypt it) and commit the result"
        for name in ("apikey", "svc")
    ]
