"""The CLI's file commands with real sops and age keys: `validate`, `encrypt`, `rekey`, `schema`, `new`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

import planet_profiles
from planet_profiles import SopsNoKeyError
from tests.fixtures_keys import AgeKey, make_encrypted_profile, write_sops_yaml
from tests.test_cli import SECRET, assert_one_error, cc, run, sh, write_profile

pytestmark = pytest.mark.integration


def files_containing(needle: str, root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


# ---------------------------------------------------------------- validate


def test_validate_reports_every_problem_as_file_pointer_message(tmp_path: Path, age_key: AgeKey) -> None:
    repo = tmp_path / "repo"
    good = write_profile(repo / "profiles", "good", {"client_type": "none"})
    make_encrypted_profile(repo / "profiles" / "enc", cc(), [age_key.recipient])  # checked without a key
    bad = write_profile(repo / "profiles", "bad", cc(scopes="api.read"))  # + a plaintext secret
    write_profile(repo / ".git", "ignored", "{broken")
    result = run("validate", str(repo))
    line = assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert line == "Error: 2 problem(s) in 1 of 3 file(s)"
    lines = result.stdout.splitlines()
    assert [line.split(": ")[:2] for line in lines] == [[str(bad), "/client_secret"], [str(bad), "/scopes"]]
    assert "plaintext secret `client_secret`" in lines[0] and "`scopes` must be a list" in lines[1], lines
    assert SECRET not in result.output
    data = json.loads(run("validate", "--json", str(bad)).stdout)
    assert data["ok"] is False and {p["pointer"] for p in data["problems"]} == {"/client_secret", "/scopes"}
    ok = run("validate", str(good), str(repo / "profiles" / "enc"))
    assert ok.exit_code == 0 and ok.stdout == "" and "2 file(s) OK" in ok.stderr


def test_validate_fails_when_recipients_differ_from_sops_yaml(
    tmp_path: Path, age_key: AgeKey, age_key2: AgeKey
) -> None:
    repo = tmp_path / "repo"
    write_sops_yaml(repo, [age_key.recipient], path_regex=r"^profiles/")
    enc = make_encrypted_profile(repo / "profiles" / "enc", cc(), [age_key.recipient, age_key2.recipient])
    result = run("validate", str(repo))
    assert assert_one_error(result.stderr, result.stdout, result.exit_code) == (
        "Error: 1 problem(s) in 1 of 1 file(s)"
    )
    assert result.stdout.startswith(
        f"{enc}: /sops: recipient age:{age_key2.recipient} is not named by the creation rule in "
    )
    assert f"run `planet-profiles rekey {enc}`" in result.stdout
    write_sops_yaml(repo, [age_key.recipient, age_key2.recipient], path_regex=r"^profiles/")
    assert run("validate", str(repo)).exit_code == 0


def test_validate_invalid_json_and_missing_path(tmp_path: Path) -> None:
    broken = write_profile(tmp_path, "x", '{"client_type": ')
    result = run("validate", str(broken))
    assert result.exit_code == 1 and result.stdout.startswith(f"{broken}: /: invalid JSON")
    missing = run("validate", str(tmp_path / "nope"))
    assert_one_error(missing.stderr, missing.stdout, missing.exit_code, expected=2)


def test_validate_picks_profile_files_as_the_hooks_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PATHS in a checkout: the hooks' file rule (not `schema/auth_client.schema.json`), no build
    output, virtualenv or git-ignored copy; a profile named `build` and a file named explicitly count."""
    repo = tmp_path / "repo"
    good = write_profile(repo / "profiles", "good", {"client_type": "none"})
    named_build = write_profile(repo / "profiles", "build", {"client_type": "none"})
    broken = '{"client_type": "nope"}'
    for where in ("build/lib/pkg/_data/profiles", "dist/x", "site/x", ".venv-sdk/lib", "out", "x.egg-info"):
        write_profile(repo / where, "copy", broken)
    write_profile(repo, "schema", broken, file="auth_client.schema.json")
    (repo / ".gitignore").write_text("out/\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=60)
    monkeypatch.chdir(repo)
    result = run("validate", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == [str(Path("profiles/build/auth_client.json")),
                                                  str(Path("profiles/good/auth_client.json"))]  # fmt: skip
    assert good.is_file() and named_build.is_file()
    explicit = run("validate", "out/copy/auth_client.json")  # named on the command line: checked
    assert explicit.exit_code == 1
    assert explicit.stdout.startswith("out/copy/auth_client.json: /client_type: unknown client_type `nope`")


def test_validate_fails_when_nothing_was_checked(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "schema").mkdir(parents=True)
    (empty / "schema" / "auth_client.schema.json").write_text("{}")
    for args in (["validate", str(empty)], ["validate", "--json", str(empty)]):
        result = run(*args)
        line = assert_one_error(result.stderr, result.stdout, result.exit_code)
        expected = f"no auth_client.json or auth_client.sops.json found in {empty} (nothing was checked)"
        assert line == f"Error: {expected}"
    data = json.loads(run("validate", "--json", str(empty)).stdout)
    assert data == {"ok": False, "files": [], "problems": []}


def test_the_hooks_and_validate_share_one_file_rule() -> None:
    from planet_profiles._names import PROFILE_FILE_REGEX, is_profile_file

    root = Path(planet_profiles.__file__).parent.parent
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert {hook["files"] for hook in hooks} == {PROFILE_FILE_REGEX}
    template = (root / "templates" / "profile-repo" / ".pre-commit-config.yaml.jinja").read_text()
    rules = {line.split("files:", 1)[1].strip() for line in template.splitlines() if "files:" in line}
    assert rules == {PROFILE_FILE_REGEX}
    assert is_profile_file("p/auth_client.json") and is_profile_file("auth_client.sops.json")
    assert not is_profile_file("schema/auth_client.schema.json") and not is_profile_file("xauth_client.json")


# ---------------------------------------------------------------- encrypt


def test_encrypt_round_trip_leaves_no_plaintext(
    tmp_path: Path, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    write_sops_yaml(repo, [age_key.recipient])
    plain = write_profile(repo / "profiles", "svc", cc())
    result = run("encrypt", str(plain.parent))
    assert result.exit_code == 0, result.output
    target = plain.with_name("auth_client.sops.json")
    assert not plain.exists() and target.exists()
    assert f"Encrypted client_secret into {target} (not decrypted back: no key for it here)" in result.stdout
    assert files_containing(SECRET, tmp_path) == []
    stored = json.loads(target.read_text())
    assert stored["client_secret"].startswith("ENC[AES256_GCM,") and stored["client_id"] == "svc"
    assert stored["sops"]["age"][0]["recipient"] == age_key.recipient
    assert run("validate", str(target)).exit_code == 0
    with pytest.raises(SopsNoKeyError):
        planet_profiles.load_config(target)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    assert planet_profiles.load_config(target).client_secret.get_secret_value() == SECRET
    again = run("encrypt", str(target))
    assert "already encrypted" in assert_one_error(again.stderr, again.stdout, again.exit_code)


def test_encrypt_a_plaintext_sops_file_in_place_with_age_recipients(
    tmp_path: Path, use_age_key: AgeKey, age_key2: AgeKey
) -> None:
    target = write_profile(tmp_path, "svc", cc(), file="auth_client.sops.json")  # no .sops.yaml anywhere
    result = run("encrypt", str(target), "--age", use_age_key.recipient, "--age", age_key2.recipient)
    assert result.exit_code == 0, result.output
    assert "decrypts back to the same content" in result.stdout
    assert files_containing(SECRET, tmp_path) == []
    assert {e["recipient"] for e in json.loads(target.read_text())["sops"]["age"]} == {
        use_age_key.recipient,
        age_key2.recipient,
    }


def test_encrypt_failures_lose_nothing(tmp_path: Path, age_key: AgeKey) -> None:
    plain = write_profile(tmp_path / "norule", "svc", cc())  # no .sops.yaml, no --age
    before = plain.read_bytes()
    result = run("encrypt", str(plain))
    assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert plain.read_bytes() == before and not plain.with_name("auth_client.sops.json").exists()
    invalid = write_profile(tmp_path / "invalid", "svc", cc(client_idd="typo"))
    result = run("encrypt", str(invalid), "--age", age_key.recipient)
    assert "client_idd" in assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert invalid.exists() and not invalid.with_name("auth_client.sops.json").exists()
    nothing = write_profile(tmp_path / "nosecret", "n", {"client_type": "none"})
    result = run("encrypt", str(nothing), "--age", age_key.recipient)
    assert result.exit_code == 0 and "nothing to encrypt" in result.stderr and nothing.exists()
    wrong = tmp_path / "other.json"
    wrong.write_text("{}")
    result = run("encrypt", str(wrong))
    assert "auth_client.json" in assert_one_error(result.stderr, result.stdout, result.exit_code)


# ---------------------------------------------------------------- rekey


def test_rekey_lets_a_new_recipient_decrypt(
    tmp_path: Path, age_key: AgeKey, age_key2: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    write_sops_yaml(repo, [age_key.recipient])
    files = [write_profile(repo / "profiles", name, cc()) for name in ("a", "b")]
    for file in files:
        assert run("encrypt", str(file)).exit_code == 0
    encrypted = [f.with_name("auth_client.sops.json") for f in files]
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key2.identity_file)
    with pytest.raises(SopsNoKeyError):
        planet_profiles.load_config(encrypted[0])
    write_sops_yaml(repo, [age_key.recipient, age_key2.recipient])  # a new team member
    denied = run("rekey", str(repo))  # key2 cannot decrypt the data key yet
    assert "2 of 2 file(s) could not be rekeyed" in assert_one_error(
        denied.stderr, denied.stdout, denied.exit_code
    )
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    old_macs = [json.loads(f.read_text())["sops"]["mac"] for f in encrypted]
    result = run("rekey", str(repo))
    assert result.exit_code == 0 and "Rekeyed 2 of 2 file(s), data keys rotated." in result.stdout, (
        result.output
    )
    assert [json.loads(f.read_text())["sops"]["mac"] for f in encrypted] != old_macs  # rotated
    progress = [line for line in result.stderr.splitlines() if line.startswith("rekeying ")]
    assert progress == [f"rekeying {n} of 2: {file}" for n, file in enumerate(sorted(encrypted), 1)], (
        result.stderr
    )
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key2.identity_file)
    for file in encrypted:
        assert planet_profiles.load_config(file).client_secret.get_secret_value() == SECRET
    assert files_containing(SECRET, tmp_path) == []


# ---------------------------------------------------------------- schema


def test_schema_check_passes_on_the_repository(tmp_path: Path) -> None:
    result = run("schema", "--check")
    assert result.exit_code == 0 and "up to date" in result.stdout
    empty = run("schema", "--check", str(tmp_path / "schema"))
    assert "differ from the models" in assert_one_error(empty.stderr, empty.stdout, empty.exit_code)
    written = run("schema", str(tmp_path / "schema"))
    assert written.exit_code == 0 and written.stdout.count("wrote ") == 16
    assert run("schema", "--check", str(tmp_path / "schema")).exit_code == 0


def test_schema_writes_only_into_a_directory_it_is_given() -> None:
    """Issue 14 point 13: `planet-profiles schema` without a directory wrote into the installed package."""
    from planet_profiles._schema import schema_dir

    before = {p.name: p.stat().st_mtime_ns for p in schema_dir().iterdir()}
    result = sh("schema")
    line = assert_one_error(result.stderr, result.stdout, result.returncode, expected=2)
    assert "give the DIRECTORY to write the schema files into" in line
    assert {p.name: p.stat().st_mtime_ns for p in schema_dir().iterdir()} == before


# ---------------------------------------------------------------- new


def test_new_scaffolds_into_planet_by_default(hermetic_env: Path) -> None:
    result = run("new", "--defaults", "-d", "profile_name=mine", "-d", "client_type=none")
    assert result.exit_code == 0, result.output
    assert (hermetic_env / ".planet" / "mine" / "auth_client.json").is_file()
    assert json.loads(run("list", "--json").stdout)[0]["name"] == "mine"
    # the modes the README documents (copier alone writes 0755 / 0644)
    planet = hermetic_env / ".planet"
    assert {str(p.relative_to(planet)): p.stat().st_mode & 0o777 for p in (planet, *planet.rglob("*"))} == {
        ".": 0o700, "mine": 0o700, "mine/auth_client.json": 0o600, "mine/.copier-answers.yml": 0o600,
    }  # fmt: skip


def test_new_with_a_secret_writes_an_encrypted_profile(tmp_path: Path, age_key: AgeKey) -> None:
    dest = tmp_path / "profiles"
    result = run(
        "new", str(dest), "--defaults",
        "-d", "profile_name=svc",
        "-d", "client_type=oidc_client_credentials_secret",
        "-d", "auth_server=https://login.example.com",
        "-d", "client_id=svc",
        "-d", f"client_secret={SECRET}",
        "-d", f"age_recipients=[{age_key.recipient}]",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (dest / "svc" / "auth_client.sops.json").is_file() and files_containing(SECRET, tmp_path) == []
    assert run("validate", str(dest)).exit_code == 0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("profile_name=a/b", "Error: Validation error for question 'profile_name': invalid profile name"),
        ("client_type=nonee", "Error: Invalid choice for 'client_type': 'nonee': did you mean `none`?"),
        ("auth_server=http://login.example.com", "`auth_server` must be an https URL"),
    ],
)
def test_new_reports_template_errors_in_one_line(tmp_path: Path, answer: str, message: str) -> None:
    answers = ["profile_name=svc", "client_type=oidc_client_credentials_secret", "client_id=x",
               "auth_server=https://login.example.com", f"client_secret={SECRET}", answer]  # fmt: skip
    result = run("new", str(tmp_path / "x"), "--defaults", *[a for pair in answers for a in ("-d", pair)])
    line = assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert line.startswith(message) or message in line, line
    assert SECRET not in result.output and not (tmp_path / "x").exists()


def test_new_without_recipients_says_how_to_give_them(hermetic_env: Path) -> None:
    """A real process: copier leaves scandir iterators open when a render fails (pytest would flag them)."""
    result = sh("new", "--defaults", "-d", "profile_name=svc", "-d", "client_type=static_apikey",
                "-d", f"api_key={SECRET}")  # fmt: skip
    line = assert_one_error(result.stderr, result.stdout, result.returncode)
    assert line.startswith(f"Error: {hermetic_env}/.planet/svc/auth_client.sops.json: no recipients"), line
    assert "age_recipients=[$(planet-profiles keygen -y)]" in line and "`.sops.yaml`" in line
    assert SECRET not in result.stdout + result.stderr


# ---------------------------------------------------------------- keygen, templates


def test_keygen_makes_a_key_sops_uses_and_never_overwrites_it(hermetic_env: Path, tmp_path: Path) -> None:
    from pyrage import x25519

    from planet_profiles import Sops

    made = run("keygen")
    assert made.exit_code == 0, made.output
    key_file = hermetic_env / ".config" / "sops" / "age" / "keys.txt"  # sops' default (XDG_CONFIG_HOME)
    recipient = made.stdout.strip()
    assert key_file.stat().st_mode & 0o777 == 0o600 and key_file.parent.stat().st_mode & 0o777 == 0o700
    secret_line = key_file.read_text().splitlines()[-1]
    assert str(x25519.Identity.from_str(secret_line).to_public()) == recipient
    assert run("keygen", "-y").stdout.strip() == recipient
    before = key_file.read_bytes()
    again = run("keygen")
    assert "an age key file already exists here" in assert_one_error(
        again.stderr, again.stdout, again.exit_code
    )
    assert key_file.read_bytes() == before

    # sops finds the key where keygen put it, with no SOPS_AGE_KEY_FILE
    target = tmp_path / "p" / "auth_client.sops.json"
    target.parent.mkdir()
    Sops().encrypt(cc(), target, age_recipients=[recipient])
    assert Sops().decrypt(target)["client_secret"] == SECRET

    other = run("keygen", "-o", str(tmp_path / "other.txt"))
    assert other.stdout.strip() != recipient
    broken = tmp_path / "broken.txt"
    broken.write_text("# a comment\nnot-a-key\n")
    bad = run("keygen", "-y", "-o", str(broken))
    assert "line 2 is not an age identity" in assert_one_error(bad.stderr, bad.stdout, bad.exit_code)
    assert "not-a-key" not in bad.output


def test_templates_paths_and_the_versioned_copy(hermetic_env: Path, tmp_path: Path) -> None:
    import subprocess

    from planet_profiles._templates import versioned_copy

    root = Path(run("templates").stdout.strip())
    assert (root / "copier.yml").is_file() and root == Path(planet_profiles.__file__).parent.parent
    assert Path(run("templates", "profile-repo").stdout.strip()) == root / "templates" / "profile-repo"
    assert run("templates", "--git").stdout.strip() == "~/.local/share/planet-profiles/templates"
    repo = hermetic_env / ".local" / "share" / "planet-profiles" / "templates"

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout

    assert git("tag").split() == [f"v{planet_profiles.__version__}"]
    profile_yml = Path("templates") / "profile" / "copier.yml"
    assert (repo / profile_yml).read_bytes() == (root / profile_yml).read_bytes()
    assert sorted(p.name for p in repo.iterdir()) == [".git", "copier.yml", "templates"]  # no schema, tests…
    run("templates", "--git")  # a version already tagged: nothing changes
    assert len(git("log", "--oneline").splitlines()) == 1

    newer = tmp_path / "newer"  # what a later release installs
    (newer / "templates" / "profile").mkdir(parents=True)
    (newer / "copier.yml").write_text("template: {type: str}\n")
    versioned_copy(repo, source=newer, version="9.9.9")
    assert git("tag").split() == [f"v{planet_profiles.__version__}", "v9.9.9"]
    assert not (repo / "templates" / "profile-repo").exists()  # the new release's tree: files removed too
    old_release = f"v{planet_profiles.__version__}"
    assert git("show", f"{old_release}:templates/profile-repo/copier.yml")  # history keeps the old one
